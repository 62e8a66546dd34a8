"""The OpenAPI document declares every answer an operation can give, in the one error shape, and
the docs page (/api/v1/docs) is Swagger UI served by the app itself: no CDN, so it works on an
intranet and tells no third party who reads it.

What each operation answers on success is declared next to its handler, `@bp.doc(responses=
answer(Schema))`, with the schemas of app/api/outputs.py (documentation only: answers are not
serialised through them). The errors are decided here, centrally, from what the operation is (a body
or a query to validate, a path id, a signed-in caller, a write), plus two short tables for what the
handlers decide: which creations answer 201, which calls are rate-limited (429).
tests/api/test_schemathesis.py fails when the app answers a status the document does not declare;
tests/api/test_answers_match_schema.py when a real answer does not match its declared schema.
"""
import importlib.util
import os
import re

from apiflask import APIBlueprint

from app.api.inputs import ID_MAX

# Endpoints whose success is 201 Created (and never 200).
CREATED = {"bindings.create", "consultations.create", "consultations.sign", "consultations.enter_paper"}
# Endpoints that refuse with 429 when called too often.
RATE_LIMITED = {"bindings.create"}
# Answers particular to one endpoint.
EXTRA = {"health.healthz": {503}}

DESCRIPTIONS = {
    400: "请求内容不是有效的 JSON（格式错误或嵌套过深）",
    401: "未登录或会话已过期",
    403: "无权进行此操作",
    404: "未找到该对象，或不在您的范围内",
    409: "与对象的当前状态冲突",
    413: "请求内容过大",
    422: "请求参数有误（details 按位置和字段列出原因）",
    429: "操作过于频繁，请稍后再试",
    503: "服务暂不可用",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "机器可读的错误代码"},
                "message": {"type": "string", "description": "给人看的中文说明"},
                "details": {"type": "object", "description": "按字段列出的原因等补充信息"},
            },
        }
    },
}

_WRITES = {"post", "put", "patch", "delete"}


def _operations_by_endpoint(app):
    """{(OpenAPI path, method): endpoint} for every route, as APIFlask writes paths."""
    found = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<([^<:]+:)?", "{", rule.rule).replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found[(path, method.lower())] = rule.endpoint
    return found


def statuses_of(operation, method, endpoint):
    """The error statuses an operation can answer, from its shape."""
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    has_query = any(p["in"] == "query" for p in params)
    path_params = [p for p in params if p["in"] == "path"]
    signed_in = bool(operation.get("security"))
    statuses = set(EXTRA.get(endpoint, ()))
    if has_body or has_query:
        statuses |= {400, 404, 413, 422}  # JSON, ids in the input, size, validation
    if path_params:
        statuses.add(404)
        if any(p["schema"].get("type") == "integer" for p in path_params):
            statuses.add(422)  # an id out of range (app.api.inputs.IdConverter)
    if signed_in:
        statuses |= {401, 403, 404, 409}  # roles and scopes are decided per object and per state
    if method in _WRITES:
        statuses.add(409)  # a unique key taken meanwhile (IntegrityError) is a 409 anywhere
    if endpoint in RATE_LIMITED:
        statuses.add(429)
    return statuses


def declare_answers(app, spec):
    """The spec processor: every operation's answers, every error in the one shape."""
    endpoints = _operations_by_endpoint(app)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            endpoint = endpoints.get((path, method))
            responses = operation.setdefault("responses", {})
            for param in operation.get("parameters", []):
                if param["in"] == "path" and param["schema"].get("type") == "integer":
                    param["schema"].update(minimum=1, maximum=ID_MAX)
            if endpoint in CREATED and "200" in responses:
                created = responses.pop("200")
                created["description"] = "已创建"
                responses["201"] = created
            for status in statuses_of(operation, method, endpoint) | {int(s) for s in responses if s[0] in "45"}:
                responses[str(status)] = {"description": DESCRIPTIONS.get(status, "请求失败"), "content": error_content}
    for name in ("HTTPError", "ValidationError"):  # APIFlask's own error shapes, no longer referred to
        schemas.pop(name, None)
    return spec


# ---------------------------------------------------------------- the docs page, served locally

_SWAGGER_UI = os.path.join(importlib.util.find_spec("flask_swagger_ui").submodule_search_locations[0], "dist")

bp = APIBlueprint("docs_assets", __name__, static_folder=_SWAGGER_UI,
                  static_url_path="/static/swagger-ui", enable_openapi=False)


@bp.record_once
def _setup(state):
    app = state.app
    app.config.update(
        SWAGGER_UI_CSS="/static/swagger-ui/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS="/static/swagger-ui/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS="/static/swagger-ui/swagger-ui-standalone-preset.js",
        DOCS_FAVICON="/static/swagger-ui/favicon-32x32.png",
        # No badge fetched from validator.swagger.io.
        SWAGGER_UI_CONFIG={"validatorUrl": "none", **(app.config.get("SWAGGER_UI_CONFIG") or {})},
    )
    app.spec_processor(lambda spec: declare_answers(app, spec))
