"""Does the API answer in its one shape: {"data"} on success, {"error": {code, message, details}}?"""
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
