"""Work that must not hold a web worker: export and console jobs, run away from the request.

JOB_RUNNER says where:
- process (the default): a process of its own (python -m app.jobrunner <kind> <id>), which loads
  only what the job needs (app.job_app) and gives all its memory back when it ends; a web worker
  neither grows with a 20,000-ballot PDF nor keeps the heap it leaves;
- thread: a daemon thread of the process that took the request;
- none: the job stays queued for whoever calls its run() (tests that want to watch each step).
A job records a heartbeat as it goes; one whose heartbeat stopped (its process was restarted or
killed) is marked failed by whoever looks at it next, and can be asked for again."""
import importlib
import json
import logging
import os
import subprocess
import sys
import threading
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.models.places import utcnow

LIVE = ("queued", "running")
# Each kind of job and the function that runs one, given its id (the one import a job's process does).
KINDS = {"export": "app.services.exports:run", "console": "app.services.console_jobs:run"}
# Settings a job's process takes from the application that started it rather than from its own
# environment: what tests, benches and ./scripts/run give the application object directly.
PASSED_ON = ("SQLALCHEMY_DATABASE_URI", "WECHAT_API_BASE")
ENV_SETTINGS = "GONGJIAN_JOB_SETTINGS"  # JSON of PASSED_ON and the config's name, for app.jobrunner

log = logging.getLogger(__name__)


def target(kind):
    """The function that runs a job of this kind."""
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def start(kind, job_id):
    """Run job `job_id` of `kind` as JOB_RUNNER says; the thread or process started, or None."""
    runner = current_app.config.get("JOB_RUNNER", "process")
    if runner == "process" and _shareable(current_app.config["SQLALCHEMY_DATABASE_URI"]):
        return _spawn(kind, job_id)
    if runner in ("process", "thread"):
        return _thread(kind, job_id)
    return None


def _shareable(url):
    """Can another process open this database? Not an in-memory SQLite one."""
    return not (url.startswith("sqlite") and (url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url))


def _thread(kind, job_id):
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                target(kind)(job_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"{kind}-job-{job_id}", daemon=True)
    thread.start()
    return thread


def _spawn(kind, job_id):
    """python -m app.jobrunner kind job_id, in its own session (a restarted web worker does not take
    it down), its output on ours; a thread of ours waits for it, so that it leaves no zombie."""
    config = current_app.config
    settings = {"config": config_name(), **{key: config.get(key) for key in PASSED_ON if config.get(key)}}
    env = {**os.environ, ENV_SETTINGS: json.dumps(settings)}
    root = os.path.dirname(current_app.root_path)
    proc = subprocess.Popen([sys.executable, "-m", "app.jobrunner", kind, str(int(job_id))], cwd=root, env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log.info("%s job %s: process %s", kind, job_id, proc.pid)
    threading.Thread(target=proc.wait, name=f"wait-{kind}-job-{job_id}", daemon=True).start()
    return proc


def config_name():
    """The name in config.CONFIGS of the application's settings (a subclass counts as its base)."""
    from config import CONFIGS

    cls = current_app.config.get("CONFIG_CLASS")
    for name, base in CONFIGS.items():
        if cls is not None and issubclass(cls, base):
            return name
    return os.environ.get("APP_ENV", "development")


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
