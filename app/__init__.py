"""The 共建 application factory."""
import os

from config import INSTANCE_DIR, get_config


def create_app(config=None):
    """Build an application for a config name ("development", "testing", ...) or class."""
    from apiflask import APIFlask

    app = APIFlask(
        __name__,
        title="共建 API",
        version="1",
        spec_path="/api/v1/openapi.json",
        docs_path="/api/v1/docs",
    )
    cfg = _configure(app, config)
    app.json.ensure_ascii = False  # Chinese stays readable in every answer and in curl
    os.makedirs(INSTANCE_DIR, exist_ok=True)
    register_extensions(app)
    register_blueprints(app)
    register_console(app, cfg)
    register_errorhandlers(app)
    register_commands(app)
    return app


def job_app(config=None):
    """An application for a background job's own process (app/jobrunner.py): the settings and the
    database, and nothing a job does not use (no API, console, CLI, migrations or WeChat client
    until a job asks for one), so that the process is as small as the job lets it be."""
    from flask import Flask

    app = Flask(__name__)
    _configure(app, config)
    _bind_database(app)
    return app


def _configure(app, config):
    """The settings of a config name or class, checked; the class."""
    cfg = get_config(config) if config is None or isinstance(config, str) else config
    app.config.from_object(cfg)
    app.config["CONFIG_CLASS"] = cfg  # a job's process (app/services/background.py) is given its name
    check_settings(app, cfg)
    return cfg


class SettingsError(RuntimeError):
    """The settings do not allow this application to start; the message says what to set."""


def check_settings(app, cfg):
    """Refuse to start where a setting is missing, or, in production, still a development value."""
    problems = cfg.problems(app.config) if hasattr(cfg, "problems") else []
    if not app.config.get("SQLALCHEMY_DATABASE_URI") and not problems:
        problems = ["DATABASE_URL 未设置 / DATABASE_URL is not set"]
    if problems:
        raise SettingsError("无法启动，请先设置 / cannot start until these are set:\n  " + "\n  ".join(problems))


def register_extensions(app):
    """Bind the database and migrations to this application."""
    from flask_migrate import Migrate

    from app.extensions import db

    _bind_database(app)
    Migrate(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
            render_as_batch=True, compare_type=True)


def _bind_database(app):
    from app.extensions import db
    from app import models  # noqa: F401  (every table is known to metadata and to Alembic)

    db.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine)
        _reset_only_open_transactions(db.engine)


def register_blueprints(app):
    """Mount every API blueprint under /api/v1, and /healthz."""
    from app.api import BLUEPRINTS

    for bp in BLUEPRINTS:
        app.register_blueprint(bp)


def register_console(app, cfg):
    """The staff console at /console: its cookies (Secure in production) and CSRF on its forms."""
    from app.console import init_app
    from config import ProductionConfig

    init_app(app, production=isinstance(cfg, type) and issubclass(cfg, ProductionConfig))


def register_errorhandlers(app):
    """Every error leaves as {"error": {"code", "message", "details"}}."""
    from app.api.errors import register

    register(app)


def register_commands(app):
    """flask roster / demo / ... commands."""
    from app.cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)


def _reset_only_open_transactions(engine):
    """A connection going back to the pool is rolled back only if the database says a transaction
    is still open (the engine is made with pool_reset_on_return=None, see config.engine_options).
    The pool's own reset rolled back after every commit too: one round trip more per write."""
    from sqlalchemy import event

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection, _record, _state):
        if _in_transaction(dbapi_connection):
            dbapi_connection.rollback()


def _in_transaction(dbapi_connection):
    """What the driver knows of the server's transaction state; True when it cannot tell."""
    if hasattr(dbapi_connection, "in_transaction"):  # sqlite3
        return dbapi_connection.in_transaction
    status = getattr(dbapi_connection, "server_status", None)  # PyMySQL: flags of the last OK/EOF packet
    if status is None:
        return True
    from pymysql.constants.SERVER_STATUS import SERVER_STATUS_IN_TRANS

    return bool(status & SERVER_STATUS_IN_TRANS)


def _tune_sqlite(engine):
    """SQLite (the default for development): enforce foreign keys as MariaDB does, and write ahead
    so the API workers, the scheduler and the CLI read while one of them writes. Commits stay
    synchronous=FULL: a ballot that got a receipt survives a power cut."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
