"""What every handler shares: the success envelope and Chinese validation messages."""
from marshmallow import fields

# marshmallow speaks English; residents read Chinese (DESIGN.md §6).
fields.Field.default_error_messages.update(
    required="必填项",
    null="不能为空",
    validator_failed="取值无效",
)
fields.String.default_error_messages.update(invalid="应为文本")
fields.Integer.default_error_messages.update(invalid="应为整数")
fields.Number.default_error_messages.update(invalid="应为数字", too_large="数值过大")
fields.Boolean.default_error_messages.update(invalid="应为 true 或 false")
fields.List.default_error_messages.update(invalid="应为列表")
fields.Nested.default_error_messages.update(type="应为对象")
fields.DateTime.default_error_messages.update(invalid="时间格式无效（应为 ISO 8601）")


def ok(data, status=200):
    """The success envelope: {"data": ...}."""
    return {"data": data}, status


# ---------------------------------------------------------------- who is asking

from apiflask import HTTPTokenAuth  # noqa: E402

from app.errors import ApiError  # noqa: E402

auth = HTTPTokenAuth(scheme="Bearer", description="POST /auth/login 返回的会话令牌")


@auth.verify_token
def _verify(token):
    from app.services.auth import user_id_for_token

    return user_id_for_token(token)


def current_user_id():
    return auth.current_user


def current_user():
    """The signed-in user, loaded on first use; the session's identity map keeps it for the request."""
    from app.extensions import db
    from app.models import User

    user_id = auth.current_user
    return db.session.get(User, user_id) if user_id is not None else None


def require_staff(*roles):
    """403 unless the signed-in user holds one of these roles somewhere; scope is checked per object."""
    from app.services.scopes import roles_of

    if not roles_of(current_user(), *roles):
        raise ApiError(403, "forbidden", "仅限工作人员操作")
