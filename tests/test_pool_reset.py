"""Does a connection go back to the pool clean, without a ROLLBACK after every commit?"""
from sqlalchemy import func, select

from app import _in_transaction
from app.extensions import db as _db
from app.models import Street


def test_the_driver_says_when_a_transaction_is_open(db):
    """Is a transaction open after a read, and none after the commit (so no rollback is sent)?"""
    raw = _db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT COUNT(*) FROM street")
        cursor.fetchall()
        cursor.execute("INSERT INTO street (name) VALUES ('开着的事务')")
        assert _in_transaction(raw.dbapi_connection) is True
        raw.commit()
        assert _in_transaction(raw.dbapi_connection) is False
    finally:
        raw.close()


def test_a_connection_returned_mid_transaction_is_rolled_back(db):
    """Is a write left uncommitted when its connection goes back to the pool undone, not committed by the next user?"""
    raw = _db.engine.raw_connection()
    raw.cursor().execute("INSERT INTO street (name) VALUES ('未提交的街道')")
    raw.close()  # back to the pool with the INSERT still open
    again = _db.engine.raw_connection()  # very likely the same connection: commit whatever it still holds
    again.commit()
    again.close()
    with _db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Street).where(Street.name == "未提交的街道")) == 0


def test_a_transient_database_error_is_run_again_and_another_is_not(app):
    """retrying(): a deadlock (1213) or lock timeout (1205) is rolled back and the work run again;
    any other database error, or one more than the attempts allow, reaches the caller."""
    import pymysql
    import pytest
    from sqlalchemy.exc import OperationalError

    from app.extensions import retrying

    calls = []

    def flaky(code, fail_times):
        def work():
            calls.append(code)
            if len(calls) <= fail_times:
                raise OperationalError("UPDATE x", {}, pymysql.err.OperationalError(code, "boom"))
            return "done"
        return work

    with app.app_context():
        assert retrying(flaky(1213, 2), pause=0) == "done" and len(calls) == 3
        calls.clear()
        assert retrying(flaky(1205, 1), pause=0) == "done" and len(calls) == 2
        calls.clear()
        with pytest.raises(OperationalError):
            retrying(flaky(2003, 1), pause=0)
        assert len(calls) == 1
        calls.clear()
        with pytest.raises(OperationalError):
            retrying(flaky(1213, 9), attempts=3, pause=0)
        assert len(calls) == 3
