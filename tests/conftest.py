"""Fixtures: app → db → client. The schema comes from the migrations, on SQLite or on
TEST_DATABASE_URL (MariaDB in CI), and every test starts with empty tables."""
import itertools
import logging

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import create_app
from app.extensions import db as _db


@pytest.fixture(scope="session")
def emulator():
    """The project's WeChat API emulator on a free loopback port, for the whole session."""
    from app.wechat.emulator import start_in_thread
    from config import TestingConfig

    server, base_url = start_in_thread(TestingConfig.WECHAT_APPID, TestingConfig.WECHAT_SECRET)
    yield base_url
    server.shutdown()


class Captured(logging.Handler):
    """Every answer body and log line the application produced during one test."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts = []

    def emit(self, record):
        self.texts.append(self.format(record))


def capture_everything(app):
    """Every answer body and every log line at any level, for the no_secrets_leak guard."""
    captured = app.extensions["test_captured"] = Captured()
    logging.getLogger().addHandler(captured)
    logging.getLogger().setLevel(logging.DEBUG)  # libraries' debug lines too (urllib3 logs URLs)
    app.logger.addHandler(captured)
    app.logger.setLevel(logging.DEBUG)

    @app.after_request
    def capture(response):
        if response.mimetype.startswith(("application/json", "text/")) and not response.direct_passthrough:
            captured.texts.append(response.get_data(as_text=True))
        return response


@pytest.fixture(scope="session")
def app(emulator):
    app = create_app("testing")
    app.config["WECHAT_API_BASE"] = emulator
    with app.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()  # (Alembic's logging set-up replaces the root logger's handlers: capture after it)
        capture_everything(app)
        yield app
        _db.session.remove()


@pytest.fixture(autouse=True)
def no_secrets_leak(request):
    """After every test that touched the database: no answer and no log line it produced holds
    the AppSecret, our keys, a WeChat session_key or access token, or a full phone number."""
    if "db" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    request.getfixturevalue("db")
    captured = app.extensions["test_captured"]
    captured.texts.clear()
    yield
    secrets = {app.config[k] for k in ("WECHAT_SECRET", "SECRET_KEY", "OWNER_KEY_SECRET", "AUDIT_KEY")}
    for table, column in (("wechat_token", "token"),
                          ("owner", "phone"), ("user", "phone")):
        if table in _db.metadata.tables:
            t = _db.metadata.tables[table]
            secrets.update(v for (v,) in _db.session.execute(select(t.c[column])) if v)
    _db.session.rollback()
    leaks = sorted({s[:4] + "…" for s in secrets for text in captured.texts if s in text})
    assert not leaks, f"secrets or full phone numbers appeared in an answer or a log line: {leaks}"


@pytest.fixture()
def db(app):
    yield _db
    _db.session.rollback()
    _db.session.remove()
    with _db.engine.begin() as conn:
        for table in _db.metadata.sorted_tables:  # the cycles (a project and its linked surveys) broken first
            cyclic = {fk.parent.name: None for fk in table.foreign_keys if fk.use_alter}
            if cyclic:
                conn.execute(table.update().values(**cyclic))
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def cli(app, db):
    """Run a flask command as an operator would, in this test's database."""
    runner = app.test_cli_runner()

    def invoke(*args):
        result = runner.invoke(args=list(args), catch_exceptions=False)
        _db.session.remove()
        return result

    return invoke


_codes = itertools.count(1)


@pytest.fixture()
def login(client):
    """Sign in through the emulator as dev-<name>; returns the Authorization header (and .data)."""

    def sign_in(name):
        resp = client.post("/api/v1/auth/login", json={"code": f"dev-{name}.{next(_codes)}"})
        assert resp.status_code == 200, resp.json
        headers = {"Authorization": "Bearer " + resp.json["data"]["token"]}
        return headers

    return sign_in
