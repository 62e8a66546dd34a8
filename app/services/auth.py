"""Signing in with WeChat: code → openid → our own expiring session token."""
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import AuthSession, User
from app.models.places import utcnow
from app.wechat.client import WeChatError, get_wechat

# WeChat's answers to a bad login, as residents should read them.
LOGIN_ERRORS = {
    40029: (400, "invalid_code", "登录凭证无效或已使用，请重新打开小程序"),
    40163: (400, "invalid_code", "登录凭证已使用，请重新打开小程序"),
    45011: (429, "too_many_requests", "登录过于频繁，请一分钟后再试"),
    40226: (403, "risky_user", "微信判定该账号存在风险，暂时无法登录"),
}


def wechat_failure(exc, errors):
    """A WeChat error turned into ours; unknown ones are WeChat's trouble, not the resident's."""
    status, code, message = errors.get(exc.errcode, (502, "wechat_unavailable", "微信服务暂时不可用，请稍后再试"))
    current_app.logger.warning("wechat error %s", exc.errcode)
    return ApiError(status, code, message, {"errcode": exc.errcode})


def _hash(token):
    """How a session token is stored: keyed with SECRET_KEY, so the table alone opens no session."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), token.encode(), hashlib.sha256).hexdigest()


def login(code):
    """Exchange a wx.login code for a user and a new session token (returned once, stored hashed)."""
    try:
        info = get_wechat().code_to_session(code)
    except WeChatError as exc:
        raise wechat_failure(exc, LOGIN_ERRORS)
    user = db.session.scalar(db.select(User).filter_by(openid=info["openid"]))
    if user is None:
        user = User(openid=info["openid"], unionid=info.get("unionid"))
        db.session.add(user)
        db.session.flush()
    token, expires_at = new_session(user)
    return user, token, expires_at


def new_session(user, seconds=None):
    """A new session of the user: the token (returned once, stored hashed) and its expiry. The
    mini-program's login and the staff console's sign-in (app/console) both start one here."""
    token = secrets.token_urlsafe(32)
    ttl = timedelta(seconds=seconds or current_app.config["SESSION_TTL_SECONDS"])
    session = AuthSession(user=user, token_hash=_hash(token), expires_at=utcnow() + ttl)
    db.session.add(session)
    db.session.flush()
    return token, session.expires_at


# Built once: the token check runs on every request. One narrow read of the session: its user and
# its expiry; the user itself is loaded only by a handler that needs more than the id.
_SESSION = (
    db.select(AuthSession.user_id, AuthSession.expires_at)
    .where(AuthSession.token_hash == db.bindparam("token_hash"))
)


def live(user_id, expires_at):
    """The user id of a session read as (user id, expiry), when it is live now; None for no session
    (None, None) or one past its expiry. The one rule for every way a session is read."""
    if user_id is None or expires_at is None or expires_at <= utcnow():
        return None
    return user_id


def user_id_for_token(token):
    """The id of the user of a live session, or None."""
    if not token:
        return None
    row = db.session.connection().execute(_SESSION, {"token_hash": _hash(token)}).first()
    return live(*row) if row is not None else None


class SessionRefused(Exception):
    """Raised by PendingSession.settle for a token that opens no live session: the route's
    app.api.common.auth_deferred answers it with the 401 every route gives."""


class PendingSession:
    """The bearer token of a request to a route under app.api.common.auth_deferred (the sign route,
    issue 13), not checked yet: the route's own first statement reads the session by token_hash, in the
    same round trip as its other checks, and settles it. Until settled it has no user id: asking for
    one raises, so nothing can be done in the name of an unchecked token."""

    __slots__ = ("token", "_user_id")

    def __init__(self, token):
        self.token, self._user_id = token, None

    @property
    def token_hash(self):
        return _hash(self.token)

    @property
    def settled(self):
        return self._user_id is not None

    @property
    def user_id(self):
        if self._user_id is None:
            raise RuntimeError("the session of this request was not checked (PendingSession.settle)")
        return self._user_id

    def settle(self, user_id, expires_at):
        """The session as the route's statement read it (None, None: no such token): its user id,
        or SessionRefused (a 401) when it is not live."""
        self._user_id = live(user_id, expires_at)
        if self._user_id is None:
            raise SessionRefused()
        return self._user_id

    def look_up(self):
        """Settle by a lookup of its own (an error path, before the route's statement settled it):
        is the session live?"""
        self._user_id = user_id_for_token(self.token)
        return self._user_id is not None


def logout(user_id, token, everywhere=False):
    """End this session, or (everywhere) every session of the user: a lost phone, a shared account.
    Returns how many sessions ended."""
    where = AuthSession.user_id == user_id if everywhere else AuthSession.token_hash == _hash(token)
    return db.session.execute(db.delete(AuthSession).where(where)).rowcount


PHONE_ERRORS = {40029: (400, "invalid_code", "手机号授权已失效，请重新点击授权")}


def verify_phone(user, code):
    """Store the phone number WeChat vouches for; binding compares it with the roster."""
    try:
        user.phone = get_wechat().phone_number(code)
    except WeChatError as exc:
        raise wechat_failure(exc, PHONE_ERRORS)
    db.session.flush()
    return user.phone
