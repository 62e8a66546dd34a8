"""Fixtures: app → db → client. The schema comes from the migrations, on SQLite or on
TEST_DATABASE_URL (MariaDB in CI), and every test starts with empty tables."""
import pytest
from flask_migrate import upgrade
from sqlalchemy import text

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


@pytest.fixture(scope="session")
def app(emulator):
    app = create_app("testing")
    app.config["WECHAT_API_BASE"] = emulator
    with app.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        yield app
        _db.session.remove()


@pytest.fixture()
def db(app):
    yield _db
    _db.session.rollback()
    _db.session.remove()
    with _db.engine.begin() as conn:
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
