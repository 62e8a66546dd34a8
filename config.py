"""Settings per environment; every value can come from the environment of the process."""
import os

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.path.join(BASE_DIR, "instance")


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def engine_options(url):
    """Engine options for a database URL. On MySQL/MariaDB: READ COMMITTED, not InnoDB's default
    REPEATABLE READ, whose snapshot is taken at a request's first plain SELECT (the session check):
    a row committed while the request then waited for a lock stayed invisible to its later plain
    SELECTs, so a close counted without the ballots it had waited for, and a re-sign did not see
    (nor supersede) the ballot its vote-slot lock had waited for. (Binary logging, if on, must be
    ROW or MIXED, the defaults of MySQL 8 and MariaDB.)

    No pool_pre_ping: it costs a round trip on every checkout, i.e. on every request. Connections
    are instead replaced after an hour (pool_recycle), well inside the server's idle timeout
    (wait_timeout, 8 hours by default); one that died anyway (server restart) fails its request and
    is discarded by the pool."""
    options = {"pool_recycle": 3600, "pool_reset_on_return": None}  # app._reset_only_open_transactions resets
    if (url or "").startswith("mysql"):
        options["isolation_level"] = "READ COMMITTED"
    return options


class _EngineOptionsOf:
    """SQLALCHEMY_ENGINE_OPTIONS computed from the class's own SQLALCHEMY_DATABASE_URI, so that every
    subclass (a bench's or a test's with another URL) gets the options of its own database."""

    def __get__(self, instance, owner):
        return engine_options(owner.SQLALCHEMY_DATABASE_URI)


# Development values of the keys: fine on a laptop, refused in production (ProductionConfig.check).
DEV_SECRETS = {
    "SECRET_KEY": "dev-secret-change-me",
    "OWNER_KEY_SECRET": "dev-owner-key-change-me",
    "AUDIT_KEY": "dev-audit-key-change-me",
}
DEV_WECHAT_APPID = "wxdev0000000000000"
# Subscribe-message template ids the emulator takes; production refuses them (WECHAT_TPL_<NAME>).
DEV_TEMPLATE_PREFIX = "TPL-dev-"


class Config:
    # Keys the hash under which session tokens are stored: changing it ends every session.
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRETS["SECRET_KEY"])
    # Keyed hash for owner ID numbers: only the HMAC is stored, never the number itself.
    OWNER_KEY_SECRET = _env("OWNER_KEY_SECRET", DEV_SECRETS["OWNER_KEY_SECRET"])
    # Key of the HMAC that seals every audit entry. Kept outside the database, so that someone with
    # the database alone cannot rewrite a chain that `flask audit verify` accepts. Never change it.
    AUDIT_KEY = _env("AUDIT_KEY", DEV_SECRETS["AUDIT_KEY"])
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "gongjian.db")
    )
    SQLALCHEMY_ENGINE_OPTIONS = _EngineOptionsOf()
    # APIFlask: the OpenAPI document and the docs page live under the API prefix.
    INFO = {"description": "共建 · 老旧小区改造居民共建平台 API"}
    # The document names no host: it is the same wherever it is served (and its committed copy,
    # miniprogram/tests/openapi.json, does not depend on who asked for it first).
    AUTO_SERVERS = False
    VALIDATION_ERROR_STATUS_CODE = 422
    # The largest body: a 3 MB paper-ballot photo as base64 (4 MB) with room to spare; more is a 413.
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # WeChat: with no real AppID the local emulator is used.
    WECHAT_APPID = _env("WECHAT_APPID", DEV_WECHAT_APPID)
    WECHAT_SECRET = _env("WECHAT_SECRET", "dev-app-secret")
    WECHAT_API_BASE = _env("WECHAT_API_BASE", "http://127.0.0.1:8090")  # the emulator
    WECHAT_TIMEOUT = float(_env("WECHAT_TIMEOUT", 10))
    WECHAT_MINIPROGRAM_STATE = _env("WECHAT_MINIPROGRAM_STATE")  # developer | trial | formal
    WECHAT_ENV_VERSION = _env("WECHAT_ENV_VERSION", "release")  # which mini-program the codes open
    # Subscribe-message templates by the name the code uses: the WeChat template id (from the
    # environment in production, WECHAT_TPL_<NAME>; a development id for the emulator otherwise),
    # a title for people, and the template's fields {key: kind}. Kinds: thing (≤ 20 characters),
    # phrase (≤ 5 Chinese characters), name (≤ 10), number, character_string (≤ 32), time, date;
    # app/services/outbox.py fits every value to its kind before sending.
    SUBSCRIBE_TEMPLATES = {
        "ballot_reminder": {
            "id": _env("WECHAT_TPL_BALLOT_REMINDER", "TPL-dev-ballot-reminder"), "title": "表决提醒",
            "fields": {"thing1": "thing", "time2": "time", "thing3": "thing"},
        },
        "result_published": {
            "id": _env("WECHAT_TPL_RESULT_PUBLISHED", "TPL-dev-result-published"), "title": "结果公布",
            "fields": {"thing1": "thing", "phrase2": "phrase", "time3": "time"},
        },
        "notice": {
            "id": _env("WECHAT_TPL_NOTICE", "TPL-dev-notice"), "title": "通知公告",
            "fields": {"thing1": "thing", "name2": "name", "time3": "time"},
        },
        "plan_deadline": {
            "id": _env("WECHAT_TPL_PLAN_DEADLINE", "TPL-dev-plan-deadline"), "title": "方案截止提醒",
            "fields": {"thing1": "thing", "date2": "date", "thing3": "thing"},
        },
        "report_answered": {
            "id": _env("WECHAT_TPL_REPORT_ANSWERED", "TPL-dev-report-answered"), "title": "反馈回复",
            "fields": {"character_string1": "character_string", "phrase2": "phrase", "thing3": "thing",
                       "time4": "time"},
        },
        # To the committee and community staff: an open consultation's live count first met its rule
        # (达到) or can no longer meet it (无法达到); app/services/alerts.py.
        "threshold_reached": {
            "id": _env("WECHAT_TPL_THRESHOLD_REACHED", "TPL-dev-threshold-reached"), "title": "表决门槛提醒",
            "fields": {"thing1": "thing", "phrase2": "phrase", "time3": "time"},
        },
    }
    # No subscribe message goes out between these times (Asia/Shanghai), "HH:MM-HH:MM"; held until the
    # end. QUIET_HOURS=off sends at any hour.
    QUIET_HOURS = (None if (_env("QUIET_HOURS", "21:30-08:00") or "").lower() in ("off", "none", "-")
                   else tuple(_env("QUIET_HOURS", "21:30-08:00").split("-", 1)))
    # The outbox: a send WeChat could not take (-1, 45009, HTTP 5xx) is tried again after
    # OUTBOX_BACKOFF_SECONDS, then twice as long each time, OUTBOX_MAX_ATTEMPTS times in all.
    OUTBOX_MAX_ATTEMPTS = int(_env("OUTBOX_MAX_ATTEMPTS", 5))
    OUTBOX_BACKOFF_SECONDS = int(_env("OUTBOX_BACKOFF_SECONDS", 60))
    # Residents of flats that have not answered are reminded this many hours before the deadline.
    REMINDER_HOURS_BEFORE = tuple(int(h) for h in _env("REMINDER_HOURS_BEFORE", "72,24").split(","))
    # Written proxies (委托书) one user may hold at once covering one consultation (standing ones
    # included; unconfirmed paper ones too): nobody collects votes (issue 15).
    PROXY_MAX_PER_CONSULTATION = int(_env("PROXY_MAX_PER_CONSULTATION", 3))
    SESSION_TTL_SECONDS = int(_env("SESSION_TTL_SECONDS", 7 * 24 * 3600))
    QR_MODE = _env("QR_MODE", "wxacode")  # wxacode | url
    QR_URL_BASE = _env("QR_URL_BASE", "https://gongjian.example.cn/s/")
    REDIS_URL = _env("REDIS_URL")


class DevelopmentConfig(Config):
    DEBUG = False


class ProductionConfig(Config):
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")

    @classmethod
    def problems(cls, config):
        """What keeps a production deployment from starting, in Chinese and English; [] when none."""
        found = []
        for name, dev_value in DEV_SECRETS.items():
            value = config.get(name)
            if not value or value == dev_value:
                found.append(f"{name} 未设置或仍为开发用的值 / {name} is unset or the development value")
            elif len(value) < 32:
                found.append(f"{name} 太短（至少 32 个字符）/ {name} is shorter than 32 characters")
        if not config.get("WECHAT_APPID") or config.get("WECHAT_APPID") == DEV_WECHAT_APPID:
            found.append("WECHAT_APPID 未设置 / WECHAT_APPID (the mini-program's AppID) is not set")
        if not config.get("WECHAT_SECRET") or config.get("WECHAT_SECRET") == "dev-app-secret":
            found.append("WECHAT_SECRET 未设置 / WECHAT_SECRET is not set")
        base = config.get("WECHAT_API_BASE") or ""
        if not base.startswith("https://"):
            found.append(f"WECHAT_API_BASE 应为微信的 https 地址，而非模拟器 {base} / WECHAT_API_BASE points at "
                         "the emulator, not https://api.weixin.qq.com")
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            found.append("DATABASE_URL 未设置 / DATABASE_URL is not set")
        for name, spec in sorted((config.get("SUBSCRIBE_TEMPLATES") or {}).items()):
            template_id = (spec or {}).get("id") or ""
            if not template_id or template_id.startswith(DEV_TEMPLATE_PREFIX):
                setting = f"WECHAT_TPL_{name.upper()}"
                found.append(f"{setting} 未设置（订阅消息模板 {name} 仍为开发用的编号）/ {setting} (the WeChat "
                             f"template id of {name}) is unset or a development id")
        return found


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env(
        "TEST_DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "test.db")
    )


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def get_config(name=None):
    return CONFIGS[name or _env("APP_ENV", "development")]
