"""What every handler shares: the success envelope and Chinese validation messages."""
from marshmallow import Schema as _MarshmallowSchema
from apiflask import fields as _apiflask_fields
from marshmallow import fields, validate
from webargs import fields as _webargs_fields

# marshmallow speaks English; residents read Chinese (DESIGN.md §6). Every message a field, a
# validator or a schema can produce is set here, once, before any schema is defined (validators
# format their messages when they are made). tests/api/test_hostile_input.py checks that none is
# left in English.
_FIELD_MESSAGES = {
    fields.Field: dict(required="必填项", null="不能为空", validator_failed="取值无效"),
    fields.Nested: dict(type="应为对象"),
    fields.List: dict(invalid="应为列表"),
    fields.Tuple: dict(invalid="应为数组"),
    fields.String: dict(invalid="应为文本", invalid_utf8="不是有效的 UTF-8 文本"),
    fields.UUID: dict(invalid_uuid="不是有效的 UUID"),
    fields.Number: dict(invalid="应为数字", too_large="数值过大"),
    fields.Integer: dict(invalid="应为整数"),
    fields.Float: dict(special="不允许 NaN 或无穷大"),
    fields.Decimal: dict(special="不允许 NaN 或无穷大"),
    fields.Boolean: dict(invalid="应为 true 或 false"),
    fields._TemporalField: dict(invalid="时间格式无效", invalid_awareness="时间格式无效（时区）", format="无法格式化为时间"),
    fields.DateTime: dict(invalid="时间格式无效（应为 ISO 8601，例如 2030-01-01T12:00:00+08:00）",
                          invalid_awareness="时间须带时区"),
    fields.AwareDateTime: dict(invalid_awareness="时间须带时区"),
    fields.NaiveDateTime: dict(invalid_awareness="时间不能带时区"),
    fields.Date: dict(invalid="日期格式无效（应为 2030-01-01）", format="无法格式化为日期"),
    fields.Time: dict(invalid="时刻格式无效（应为 12:00:00）"),
    fields.TimeDelta: dict(invalid="时长无效", format="无法格式化为时长"),
    fields.Mapping: dict(invalid="应为对象"),
    fields.Url: dict(invalid="不是有效的网址"),
    fields.Email: dict(invalid="不是有效的电子邮箱"),
    fields.IP: dict(invalid_ip="不是有效的 IP 地址"),
    fields.IPv4: dict(invalid_ip="不是有效的 IPv4 地址"),
    fields.IPv6: dict(invalid_ip="不是有效的 IPv6 地址"),
    fields.IPInterface: dict(invalid_ip_interface="不是有效的 IP 网段"),
    fields.IPv4Interface: dict(invalid_ip_interface="不是有效的 IPv4 网段"),
    fields.IPv6Interface: dict(invalid_ip_interface="不是有效的 IPv6 网段"),
    fields.Enum: dict(unknown="应为以下之一：{choices}"),
    _webargs_fields.DelimitedList: dict(invalid="应为以逗号分隔的列表"),
    _webargs_fields.DelimitedTuple: dict(invalid="应为以逗号分隔的数组"),
    _apiflask_fields.File: dict(invalid="应为上传的文件"),
}
for _cls, _messages in _FIELD_MESSAGES.items():
    # Assigned, not updated: a class without a dict of its own would otherwise change its parent's.
    _cls.default_error_messages = {**_cls.__dict__.get("default_error_messages", {}), **_messages}

_MarshmallowSchema._default_error_messages = {"type": "应为 JSON 对象", "unknown": "不认识的字段"}

validate.Length.message_min = "长度至少为 {min}"
validate.Length.message_max = "长度不能超过 {max}"
validate.Length.message_all = "长度应在 {min} 到 {max} 之间"
validate.Length.message_equal = "长度应为 {equal}"
validate.Range.message_min = "应{min_op} {{min}}"
validate.Range.message_max = "应{max_op} {{max}}"
validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
validate.Range.message_gte = "大于或等于"
validate.Range.message_gt = "大于"
validate.Range.message_lte = "小于或等于"
validate.Range.message_lt = "小于"
validate.OneOf.default_message = "应为以下之一：{choices}"
validate.NoneOf.default_message = "不能是以下之一：{values}"
validate.ContainsOnly.default_message = "只能包含以下各项：{choices}"
validate.ContainsNoneOf.default_message = "不能包含以下各项：{values}"
validate.Regexp.default_message = "格式无效"
validate.Equal.default_message = "应等于 {other}"
validate.Predicate.default_message = "取值无效"
validate.URL.default_message = "不是有效的网址"
validate.Email.default_message = "不是有效的电子邮箱"


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


# ---------------------------------------------------------------- a route that checks its token itself

from functools import wraps  # noqa: E402

from apiflask.scaffold import _annotate  # noqa: E402

_deferred = HTTPTokenAuth(scheme="Bearer")


@_deferred.verify_token
def _pending(token):
    from app.services.auth import PendingSession

    return PendingSession(token)  # a token is there (a missing one is the usual 401); checked later


def auth_deferred(view):
    """In place of @bp.auth_required(auth), for one hot route (signing a ballot, issue 13): the route's
    first statement reads the session by its token hash along with its other checks, so the token
    costs no round trip of its own. The route gets the request's auth.PendingSession (pending_session())
    and settles it from that statement; it has no user id until then.

    Every other outcome sees the token checked first: a missing token is refused before the view (as
    for every route); an error raised before the session was settled (validation, a bad image, a 404,
    a 409, anything) becomes the same 401 when the token opens no live session, by a lookup of its
    own, and is raised as it was otherwise; an answer returned without settling is checked the same
    way. Only a route decorated so is deferred: every other route's `auth` looks the token up before
    its view runs. The OpenAPI document describes the route as any other under `auth`."""

    @wraps(view)
    def settling(*args, **kwargs):
        from app.extensions import db
        from app.services.auth import SessionRefused

        pending = _deferred.current_user
        if db.engine.dialect.name == "sqlite" and not pending.look_up():
            # SQLite: a statement costs no round trip, and the checks' statement takes the write
            # lock; a token is looked up first, as on every route, so a stranger never takes it.
            return _refused()
        try:
            answer = view(*args, **kwargs)
        except SessionRefused:
            return _refused()
        except Exception:
            if not pending.settled:
                db.session.rollback()  # nothing was written in the name of an unchecked token
                if not pending.look_up():
                    return _refused()
            raise
        if not pending.settled and not pending.look_up():
            return _refused()
        return answer

    settling.auth_deferred = True  # the mark tests/api/test_ballot_token.py finds the deferred routes by
    _annotate(settling, auth=auth, roles=[])  # documented as every route under `auth`
    return _deferred.login_required(settling)


def _refused():
    """The 401 flask_httpauth gives a request whose token opens no session."""
    from app.extensions import db

    db.session.rollback()
    return _deferred.auth_error_callback(401)


def pending_session():
    """The request's token under auth_deferred, to be settled by the route's statement."""
    return _deferred.current_user


def current_user_id():
    """The signed-in user's id; under auth_deferred, once the route has settled the session (asking
    before raises: nothing is done in the name of an unchecked token)."""
    user = auth.current_user
    from app.services.auth import PendingSession

    return user.user_id if isinstance(user, PendingSession) else user


def current_user():
    """The signed-in user, loaded on first use; the session's identity map keeps it for the request."""
    from app.extensions import db
    from app.models import User

    user_id = current_user_id()
    return db.session.get(User, user_id) if user_id is not None else None


def require_staff(*roles):
    """403 unless the signed-in user holds one of these roles somewhere; scope is checked per object."""
    from app.services.scopes import roles_of

    if not roles_of(current_user(), *roles):
        raise ApiError(403, "forbidden", "仅限工作人员操作")
