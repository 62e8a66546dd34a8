"""Work that must not hold a web worker: run in a thread of the process that took the request.

JOB_RUNNER=thread (the default) starts the thread; JOB_RUNNER=none leaves the job queued for
whoever calls its run() (tests that want to watch each step). A job records a heartbeat as it goes;
one whose heartbeat stopped (its process was restarted or killed) is marked failed by whoever looks
at it next, and can be asked for again."""
import threading
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.models.places import utcnow

LIVE = ("queued", "running")


def start(name, target, *args):
    """target(*args) in a daemon thread with the app's context and its own database session."""
    if current_app.config.get("JOB_RUNNER", "thread") != "thread":
        return None
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                target(*args)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return thread


def fail_stale(model, where, seconds, **values):
    """Mark the queued or running jobs of `model` that `where` finds, and whose heartbeat (or, before
    the first, creation) is older than `seconds`, as failed with `values`; committed at once (on
    SQLite even an UPDATE of no row holds the write lock until then). Returns how many."""
    cutoff = utcnow() - timedelta(seconds=seconds)
    failed = db.session.execute(
        db.update(model).where(where, model.status.in_(LIVE), db.func.coalesce(model.heartbeat_at, model.created_at) < cutoff)
        .values(status="failed", finished_at=utcnow(), **values).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return failed
