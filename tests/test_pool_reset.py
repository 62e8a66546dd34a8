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
