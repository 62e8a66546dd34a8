"""The one JSON error shape: {"error": {"code", "message", "details"}} with the right HTTP status."""
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db, is_transient

DEFAULTS = {
    400: ("bad_request", "请求有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "未找到该对象"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "数据冲突，请刷新后重试"),
    413: ("too_large", "上传内容过大"),
    415: ("unsupported_media_type", "请以 JSON 格式提交"),
    422: ("validation_error", "请求参数有误，请检查后重试"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    503: ("unavailable", "服务暂不可用，请稍后再试"),
}


def error_body(status, code, message, details=None):
    return {"error": {"code": code, "message": message, "details": details or {}}}


def register(app):
    from app.api.inputs import InvalidPathId
    from app.errors import ApiError

    @app.error_processor
    def shape(error):
        # Whatever went wrong, nothing of this request is kept: a handler that failed half-way
        # (a 404 after a flush, a 409 after an insert) leaves no partial write for a later commit.
        # A service that must keep something across its own error commits it before raising.
        db.session.rollback()
        default_code, default_message = DEFAULTS.get(
            error.status_code, ("http_%d" % error.status_code, "请求失败")
        )
        code = error.extra_data.get("code") or default_code
        # Werkzeug and validation errors carry English names; only our own ApiError carries Chinese.
        message = error.message if "code" in error.extra_data else default_message
        return error_body(error.status_code, code, message, error.detail), error.status_code, error.headers

    @app.errorhandler(InvalidPathId)
    def invalid_path_id(exc):
        return app.error_callback(ApiError(422, "validation_error", exc.message, {"path": [exc.message]}))

    @app.errorhandler(IntegrityError)
    def integrity(exc):
        db.session.rollback()
        return error_body(409, *DEFAULTS[409]), 409

    @app.errorhandler(OperationalError)
    def operational(exc):
        """A deadlock or lock-wait timeout (MySQL 1213 / 1205, SQLite "database is locked") undid
        nothing but this request: the client may send it again. Anything else is a real 500."""
        db.session.rollback()
        code = getattr(exc.orig, "args", (None,))[0]
        if is_transient(exc):
            app.logger.warning("database busy (%s), request undone", code)
            return error_body(503, "busy", "系统繁忙，本次操作未生效，请稍后重试"), 503, {"Retry-After": "1"}
        raise exc
