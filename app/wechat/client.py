"""The one WeChat client the product uses: wechatpy 1.8.18 pointed at WECHAT_API_BASE, one shared token.

The access token comes from `cgi-bin/stable_token` (same token while valid, so several processes
asking at once do not cancel each other) and is kept where every process sees it: Redis when
REDIS_URL is set, otherwise the `wechat_token` table, written in its own short transaction so the
request's session is never touched. Every WeChat failure leaves as WeChatError(errcode, errmsg);
nothing here logs or puts in a message the AppSecret, a session_key or an access token.
"""
import json
import logging
import re
import time
from datetime import datetime, timezone

import requests
from flask import current_app
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, select, update
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

logger = logging.getLogger(__name__)

# Refresh a token when less than this many seconds remain (stable_token renews in its last 5 minutes).
REFRESH_MARGIN = 300
# Answers meaning "the token you sent is no good": fetch the current one and try once more.
TOKEN_ERRORS = (40001, 40014, 42001)
_TOKEN_SUFFIX = "_access_token"
# Query parameters that are credentials; urllib3 logs request URLs at DEBUG.
_SECRET_PARAMS = re.compile(r"\b(secret|access_token|js_code)=[^&\s\"]+")


class WeChatError(Exception):
    """Any WeChat failure: `errcode` is WeChat's code (an int), -1 when WeChat could not be reached."""

    NETWORK = -1
    INVALID_CODE = 40029
    NO_QUOTA = 43101  # the user refused or has no quota left for this template: never retry
    BAD_DATA = 47003
    RATE_LIMITED = 45011
    HIGH_RISK_USER = 40226

    def __init__(self, errcode, errmsg):
        self.errcode = int(errcode)
        self.errmsg = str(errmsg)
        super().__init__(f"WeChat error {self.errcode}: {self.errmsg}")


# --- token stores: wechatpy session storages that also say when the token expires --------------

class MemoryTokenStore(SessionStorage):
    """One process only: for scripts and tests that build a WeChat by hand."""

    def __init__(self):
        self._items = {}

    def get_with_expiry(self, key):
        return self._items.get(key, (None, 0.0))

    def get(self, key, default=None):
        value, expires_at = self.get_with_expiry(key)
        return value if value is not None and expires_at > time.time() else default

    def set(self, key, value, ttl=None):
        self._items[key] = (value, time.time() + (ttl if ttl is not None else 7200))

    def delete(self, key):
        self._items.pop(key, None)


class RedisTokenStore(RedisStorage):
    """wechatpy's RedisStorage (key `wechatpy:<appid>_access_token` with a TTL), plus the expiry.

    If Redis is unreachable the token is kept for this instance, and stable_token (which hands
    out the same token while it is valid) keeps the processes in agreement meanwhile.
    """

    def __init__(self, redis, prefix="wechatpy"):
        super().__init__(redis, prefix)
        self._memory = MemoryTokenStore()

    def get_with_expiry(self, key):
        import redis

        name = self.key_name(key)
        try:
            pipe = self.redis.pipeline()
            pipe.get(name)
            pipe.ttl(name)
            raw, ttl = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("wechat token: reading Redis failed (%s)", type(exc).__name__)
            return self._memory.get_with_expiry(key)
        if raw is None or ttl is None or ttl < 0:
            return self._memory.get_with_expiry(key)
        return json.loads(raw), time.time() + ttl

    def get(self, key, default=None):
        value, expires_at = self.get_with_expiry(key)
        return value if value is not None and expires_at > time.time() else default

    def set(self, key, value, ttl=None):
        import redis

        self._memory.set(key, value, ttl)
        try:
            super().set(key, value, ttl)
        except redis.RedisError as exc:
            logger.warning("wechat token: writing Redis failed (%s); kept in memory", type(exc).__name__)


class DatabaseTokenStore(SessionStorage):
    """The `wechat_token` table, in transactions of its own on `engine`, apart from any request.

    If the row cannot be written (SQLite locked by a request's own pending write), the token is
    still kept for this instance, and the table catches up at the next refresh.
    """

    SQLITE_BUSY_MS = 200

    def __init__(self, engine):
        from app.models.wechat import WechatToken

        self.engine = engine
        self.table = WechatToken.__table__
        self._memory = MemoryTokenStore()

    @staticmethod
    def _appid(key):
        return key[: -len(_TOKEN_SUFFIX)] if key.endswith(_TOKEN_SUFFIX) else None

    def get_with_expiry(self, key):
        local = self._memory.get_with_expiry(key)
        appid = self._appid(key)
        if appid is None:
            return local
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(self.table.c.token, self.table.c.expires_at).where(self.table.c.appid == appid)
                ).first()
        except sa_exc.SQLAlchemyError as exc:
            logger.warning("wechat token: reading the table failed (%s)", type(exc).__name__)
            return local
        if row is None:
            return local
        stored = (row.token, row.expires_at.replace(tzinfo=timezone.utc).timestamp())
        # Whichever is newer: another process's refresh, or ours that could not be written.
        return stored if stored[1] >= local[1] else local

    def get(self, key, default=None):
        value, expires_at = self.get_with_expiry(key)
        return value if value is not None and expires_at > time.time() else default

    def set(self, key, value, ttl=None):
        self._memory.set(key, value, ttl)
        appid = self._appid(key)
        if appid is None:
            return
        expires_at = datetime.fromtimestamp(self._memory.get_with_expiry(key)[1], timezone.utc).replace(tzinfo=None)
        values = {"token": value, "expires_at": expires_at.replace(microsecond=0)}
        try:
            with self.engine.begin() as conn:
                busy = self._short_busy_timeout(conn)
                try:
                    where = self.table.c.appid == appid
                    if not conn.execute(update(self.table).where(where).values(**values)).rowcount:
                        conn.execute(insert(self.table).values(appid=appid, **values))
                finally:
                    if busy is not None:
                        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(busy)}")
        except sa_exc.IntegrityError:
            # Another process inserted the row first; its token is as good as ours.
            pass
        except sa_exc.SQLAlchemyError as exc:
            logger.warning("wechat token: writing the table failed (%s); kept in memory", type(exc).__name__)

    def _short_busy_timeout(self, conn):
        """On SQLite, wait briefly rather than seconds for a lock a request may hold itself."""
        if conn.dialect.name != "sqlite":
            return None
        previous = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {self.SQLITE_BUSY_MS}")
        return previous

    def delete(self, key):
        self._memory.delete(key)
        appid = self._appid(key)
        if appid is not None:
            with self.engine.begin() as conn:
                conn.execute(self.table.delete().where(self.table.c.appid == appid))


class _RedactSecrets(logging.Filter):
    """Blank credentials in the URLs urllib3 logs, whatever the log level is set to."""

    def filter(self, record):
        message = record.getMessage()
        redacted = _SECRET_PARAMS.sub(r"\1=***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _redact_http_logs():
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactSecrets) for f in pool_logger.filters):
        pool_logger.addFilter(_RedactSecrets())


# --- the wechatpy client, re-based -------------------------------------------------------------

class _Client(WeChatClient):
    """WeChatClient at our base URL, with its token from stable_token in a shared store."""

    def __init__(self, appid, secret, api_base, session, timeout):
        # auto_retry off: wechatpy's own retry recurses without limit; WeChat._call retries once.
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        self.api_base = api_base.rstrip("/")
        self.API_BASE_URL = self.api_base + "/cgi-bin/"
        self.wxa.API_BASE_URL = self.api_base + "/"

    @property
    def access_token(self):
        token, expires_at = self.session.get_with_expiry(self.access_token_key)
        if token and expires_at - time.time() > REFRESH_MARGIN:
            return token
        return self.fetch_access_token()["access_token"]

    def fetch_access_token(self, force_refresh=False):
        """POST cgi-bin/stable_token at our base and store the token with its lifetime."""
        res = self._http.post(
            self.api_base + "/cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                  "force_refresh": bool(force_refresh)},
            timeout=self.timeout,
        )
        try:
            res.raise_for_status()
        except requests.RequestException as reqe:
            raise WeChatClientException(None, f"HTTP {res.status_code}", client=self,
                                        request=reqe.request, response=reqe.response) from None
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self,
                                        request=res.request, response=res)
        expires_in = int(result.get("expires_in") or 7200)
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result


# --- what the product calls ---------------------------------------------------------------------

class WeChat:
    """Mini-program calls the product makes. Cheap to build: no network until a call needs it."""

    NO_QUOTA = WeChatError.NO_QUOTA

    def __init__(self, appid, secret, api_base, store=None, timeout=10, miniprogram_state=None):
        _redact_http_logs()
        self.appid = appid
        self.miniprogram_state = miniprogram_state
        self._client = _Client(appid, secret, api_base, store if store is not None else MemoryTokenStore(), timeout)

    def __repr__(self):
        return f"<WeChat {self.appid} at {self._client.api_base}>"

    @classmethod
    def for_app(cls, app):
        """Built from the app's config: token in Redis when REDIS_URL is set, else in the database."""
        config = app.config
        if config.get("REDIS_URL"):
            store = RedisTokenStore(_redis_for(app))
        else:
            from app.extensions import db

            store = DatabaseTokenStore(db.engine)
        return cls(
            config["WECHAT_APPID"], config["WECHAT_SECRET"], config["WECHAT_API_BASE"], store,
            timeout=config.get("WECHAT_TIMEOUT", 10),
            miniprogram_state=config.get("WECHAT_MINIPROGRAM_STATE"),
        )

    # --- the calls ---------------------------------------------------------------------------
    def code_to_session(self, code):
        """wx.login code -> {"openid", "session_key", "unionid" or None}.

        jscode2session needs no access token; wechatpy would fetch one first, so a token outage
        would block every login. `access_token: None` keeps it out of the query.
        """
        result = self._call(
            self._client.get, "sns/jscode2session", api_base_url=self._client.wxa.API_BASE_URL,
            params={"appid": self.appid, "secret": self._client.secret, "js_code": code,
                    "grant_type": "authorization_code", "access_token": None},
        )
        return {"openid": result["openid"], "session_key": result["session_key"], "unionid": result.get("unionid")}

    def phone_number(self, code):
        """getPhoneNumber button code -> the number without country code, e.g. "13800001234"."""
        result = self._call(self._client.post, "wxa/business/getuserphonenumber",
                            api_base_url=self._client.wxa.API_BASE_URL, data={"code": code})
        return result["phone_info"]["purePhoneNumber"]

    def send_subscribe(self, openid, template_id, data, page=None):
        """Send one subscribe message (spends one of the user's acceptances); returns WeChat's msgid.

        `data` maps keys such as "thing1" to strings. WeChatError.NO_QUOTA (43101) is final.
        """
        body = {"touser": openid, "template_id": template_id,
                "data": {key: {"value": value} for key, value in data.items()}, "lang": "zh_CN"}
        if page:
            body["page"] = page
        if self.miniprogram_state:
            body["miniprogram_state"] = self.miniprogram_state
        result = self._call(self._client.post, "cgi-bin/message/subscribe/send",
                            api_base_url=self._client.wxa.API_BASE_URL, data=body)
        return result.get("msgid")

    def wxacode_unlimited(self, scene, page=None, width=430, env_version="release", check_path=None):
        """PNG bytes of a mini-program code opening `page` with `scene`.

        check_path defaults to True for release only: trial and develop pages are not published.
        """
        body = {"scene": scene, "width": width, "env_version": env_version,
                "check_path": env_version == "release" if check_path is None else bool(check_path)}
        if page:
            body["page"] = page
        res = self._call(self._client.post, "wxa/getwxacodeunlimit",
                         api_base_url=self._client.wxa.API_BASE_URL, data=body)
        if isinstance(res, dict) or not res.headers.get("Content-Type", "").startswith("image/"):
            raise WeChatError(-1, "getwxacodeunlimit answered without an image")
        return res.content

    def msg_sec_check(self, openid, content, scene=2):
        """msgSecCheck v2 -> {"suggest": "pass"|"review"|"risky", "label": int, "trace_id": str}."""
        result = self._call(self._client.post, "wxa/msg_sec_check", api_base_url=self._client.wxa.API_BASE_URL,
                            data={"content": content, "version": 2, "scene": scene, "openid": openid})
        verdict = result.get("result") or {}
        return {"suggest": verdict.get("suggest"), "label": int(verdict.get("label", 0)),
                "trace_id": result.get("trace_id")}

    # --- plumbing ----------------------------------------------------------------------------
    def _call(self, method, *args, **kwargs):
        """Run a wechatpy call; on a stale token fetch the current one and try once more."""
        for attempt in (1, 2):
            try:
                return method(*args, **kwargs)
            except WeChatClientException as exc:
                if attempt == 1 and exc.errcode in TOKEN_ERRORS and "access_token" not in kwargs.get("params", {}):
                    try:
                        self._client.fetch_access_token()
                    except WeChatClientException as fetch_exc:
                        raise _wrap(fetch_exc) from None
                    except requests.RequestException as net_exc:
                        raise _network(net_exc) from None
                    continue
                raise _wrap(exc) from None
            except requests.RequestException as exc:
                raise _network(exc) from None


def _wrap(exc):
    if exc.errcode is None:
        return WeChatError(WeChatError.NETWORK, exc.errmsg or "bad HTTP answer")
    return WeChatError(exc.errcode, exc.errmsg)


def _network(exc):
    # The exception's own text holds the URL, and so the token or the secret: name the kind only.
    return WeChatError(WeChatError.NETWORK, f"WeChat unreachable ({type(exc).__name__})")


def _redis_for(app):
    """One Redis client (and connection pool) per app."""
    client = app.extensions.get("wechat_redis")
    if client is None:
        import redis

        client = app.extensions["wechat_redis"] = redis.Redis.from_url(app.config["REDIS_URL"])
    return client


def get_wechat():
    """The WeChat client for the current app."""
    return WeChat.for_app(current_app._get_current_object())
