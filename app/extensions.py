"""Flask extensions, created unbound so that tests can build many applications (Flask-Migrate is
made by create_app: a job's process does without Alembic)."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

# Named constraints so that migrations can alter them on SQLite (batch mode) and MariaDB alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def written(model, ident, **values):
    """After a Core UPDATE of a row: the session's copy of it, if it holds one, says what was written
    (no SQL; the hot paths write with Core and must not leave a loaded object stale)."""
    loaded = db.session.identity_map.get(identity_key(model, ident))
    if loaded is not None:
        for key, value in values.items():
            set_committed_value(loaded, key, value)


def is_transient(exc):
    """Is this database error one that undid the transaction and may succeed if run again: a
    deadlock (MySQL 1213), a lock-wait timeout (1205), SQLite's "database is locked"?"""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "args", (None,))[0] if getattr(orig, "args", None) else None
    return code in (1205, 1213) or "database is locked" in str(orig)


def retrying(work, attempts=4, pause=0.05):
    """Run work() (a whole transaction that commits) again after a transient database error, rolled
    back, up to `attempts` times: what jobs do instead of failing on a deadlock another worker caused."""
    import time

    from sqlalchemy.exc import OperationalError

    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            db.session.rollback()
            if attempt == attempts or not is_transient(exc):
                raise
            time.sleep(pause * attempt)
