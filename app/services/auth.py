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


def user_id_for_token(token):
    """The id of the user of a live session, or None."""
    if not token:
        return None
    row = db.session.connection().execute(_SESSION, {"token_hash": _hash(token)}).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return row.user_id


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
