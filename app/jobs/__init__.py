"""Scheduled work, in its own process (never inside web workers): `python -m app.jobs` or `flask scheduler`.

Every job is idempotent in the database (a consultation closes once: the close takes the row lock
and refuses one that is no longer open), so two schedulers running by mistake do no harm.
"""
import logging

from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger("gongjian.jobs")


def close_due_consultations(app):
    """Close and count every consultation past its deadline."""
    from app.services.consultations import close_due

    with app.app_context():
        closed = close_due()
        if closed:
            log.info("closed consultations %s", closed)
        return closed


JOBS = [
    # (function, seconds between runs)
    (close_due_consultations, 60),
]


def build_scheduler(app):
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job, seconds in JOBS:
        scheduler.add_job(job, "interval", seconds=seconds, args=[app], id=job.__name__, next_run_time=_now())
    return scheduler


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def run(app):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    log.info("scheduler started: %s", ", ".join(f"{j.__name__} every {s}s" for j, s in JOBS))
    build_scheduler(app).start()
