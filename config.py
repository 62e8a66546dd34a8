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


class Config:
    SECRET_KEY = _env("SECRET_KEY", "dev-secret-change-me")
    # Keyed hash for owner ID numbers: only the HMAC is stored, never the number itself.
    OWNER_KEY_SECRET = _env("OWNER_KEY_SECRET", "dev-owner-key-change-me")
    SQLALCHEMY_DATABASE_URI = _env(
        "DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "gongjian.db")
    )
    SQLALCHEMY_ENGINE_OPTIONS = _EngineOptionsOf()
    # APIFlask: the OpenAPI document and the docs page live under the API prefix.
    INFO = {"description": "共建 · 老旧小区改造居民共建平台 API"}
    VALIDATION_ERROR_STATUS_CODE = 422
    # The largest body: a 3 MB paper-ballot photo as base64 (4 MB) with room to spare; more is a 413.
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # WeChat: with no real AppID the local emulator is used.
    WECHAT_APPID = _env("WECHAT_APPID", "wxdev0000000000000")
    WECHAT_SECRET = _env("WECHAT_SECRET", "dev-app-secret")
    WECHAT_API_BASE = _env("WECHAT_API_BASE", "http://127.0.0.1:8090")
    WECHAT_TIMEOUT = float(_env("WECHAT_TIMEOUT", 10))
    WECHAT_MINIPROGRAM_STATE = _env("WECHAT_MINIPROGRAM_STATE")  # developer | trial | formal
    WECHAT_ENV_VERSION = _env("WECHAT_ENV_VERSION", "release")  # which mini-program the codes open
    SESSION_TTL_SECONDS = int(_env("SESSION_TTL_SECONDS", 7 * 24 * 3600))
    QR_MODE = _env("QR_MODE", "wxacode")  # wxacode | url
    QR_URL_BASE = _env("QR_URL_BASE", "https://gongjian.example.cn/s/")
    REDIS_URL = _env("REDIS_URL")


class DevelopmentConfig(Config):
    DEBUG = False


class ProductionConfig(Config):
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")


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
