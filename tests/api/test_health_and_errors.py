"""Does the API answer in its one shape: {"data"} on success, {"error": {code, message, details}}?"""
import re

from apiflask import APIBlueprint, Schema
from apiflask.fields import Integer, String

import app.api  # noqa: F401  (schemas defined here get the API's Chinese messages)


def test_healthz_checks_database(client):
    """/healthz answers 200 and names the database it reached."""
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["data"]["status"] == "ok"
    assert resp.json["data"]["database"] in ("sqlite", "mysql")


def test_unknown_path_is_json_404_in_chinese(client):
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.json["error"]["code"] == "not_found"
    assert resp.json["error"]["message"] == "未找到该对象"


def test_wrong_method_is_json_405(client):
    resp = client.delete("/healthz")
    assert resp.status_code == 405
    assert resp.json["error"]["code"] == "method_not_allowed"


def test_openapi_document_is_served(client):
    """The OpenAPI document lives at /api/v1/openapi.json and lists /healthz."""
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.json["openapi"].startswith("3.")
    assert "/healthz" in resp.json["paths"]


class _Echo(Schema):
    name = String(required=True)
    count = Integer(required=True)


def test_validation_errors_name_fields_in_chinese():
    """A typed schema rejects bad input with 422, the field names and Chinese reasons."""
    from app import create_app

    app = create_app("testing")
    bp = APIBlueprint("echo", __name__)

    @bp.post("/echo")
    @bp.input(_Echo, arg_name="body")
    def echo(body):
        return {"data": body}

    app.register_blueprint(bp)
    client = app.test_client()
    resp = client.post("/echo", json={"count": "many"})
    assert resp.status_code == 422
    err = resp.json["error"]
    assert err["code"] == "validation_error"
    assert err["message"] == "请求参数有误，请检查后重试"
    assert err["details"]["json"]["name"] == ["必填项"]
    assert err["details"]["json"]["count"] == ["应为整数"]
    assert client.post("/echo", json={"name": "a", "count": 2}).json == {"data": {"name": "a", "count": 2}}


# ---------------------------------------------------------------- the OpenAPI document and its page

def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_openapi_declares_every_answer_in_the_one_error_shape(client):
    """Each operation lists the statuses it can answer: 400/413/422 with a body or a query, 401 when
    signed in, 404 and 422 with a path id, 201 for creations, 429 where attempts are limited."""
    spec = client.get("/api/v1/openapi.json").json
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details"]
    checked = 0
    for path, method, op in _operations(spec):
        answers = set(op["responses"])
        params = op.get("parameters", [])
        if "requestBody" in op or any(p["in"] == "query" for p in params):
            assert {"400", "413", "422"} <= answers, (method, path, answers)
        if op.get("security"):
            assert {"401", "403"} <= answers, (method, path, answers)
        for p in params:
            if p["in"] == "path":
                assert "404" in answers, (method, path, answers)
                if p["schema"]["type"] == "integer":
                    assert p["schema"]["minimum"] == 1 and p["schema"]["maximum"] == 2**31 - 1
                    assert "422" in answers, (method, path, answers)
        for status, response in op["responses"].items():
            if status[0] in "45":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
                assert re.search("[\u4e00-\u9fff]", response["description"])
        checked += 1
    assert checked >= 25
    paths = spec["paths"]
    assert set(paths["/api/v1/bindings"]["post"]["responses"]) >= {"201", "409", "429"}
    assert "200" not in paths["/api/v1/bindings"]["post"]["responses"]
    assert "201" in paths["/api/v1/consultations/{consultation_id}/ballots"]["post"]["responses"]
    assert "503" in paths["/healthz"]["get"]["responses"]
    assert "HTTPError" not in spec["components"]["schemas"]


def test_docs_page_loads_nothing_from_another_host(client):
    """/api/v1/docs is Swagger UI from the app itself: every script, style and icon it loads is
    served by the app, and no http(s) address outside comments points elsewhere."""
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "SwaggerUIBundle" in html
    code = "\n".join(line for line in html.splitlines() if not line.strip().startswith("//"))
    assert not re.findall(r"(?:https?:)?//[\w.-]+\.\w+", code), re.findall(r"(?:https?:)?//[\w.-]+", code)
    loaded = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert len(loaded) >= 4  # the stylesheet, the icon, the bundle and the preset
    for url in loaded:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.data) > 500, url
    assert '"validatorUrl": "none"' in html  # no badge fetched from validator.swagger.io


def test_a_deadlock_is_a_retryable_503_in_the_one_shape(emulator):
    """A MariaDB deadlock (1213) undoes the request: the client is told, in Chinese, to send it again."""
    import pymysql
    from sqlalchemy.exc import OperationalError

    from app import create_app

    app = create_app("testing")  # a fresh app: routes cannot be added to one that has served

    def deadlocked():
        raise OperationalError("UPDATE x", {}, pymysql.err.OperationalError(1213, "Deadlock found"))

    def broken():
        raise OperationalError("SELECT x", {}, pymysql.err.OperationalError(2003, "Can't connect"))

    app.add_url_rule("/__test__/deadlock", "deadlock", deadlocked)
    app.add_url_rule("/__test__/broken", "broken", broken)
    client = app.test_client()
    resp = client.get("/__test__/deadlock")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert resp.json["error"]["code"] == "busy" and "重试" in resp.json["error"]["message"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    other = client.get("/__test__/broken")
    assert other.status_code == 500 and other.json["error"]["code"] == "internal_error"
