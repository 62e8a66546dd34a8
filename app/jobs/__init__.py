"""Scheduled work, in its own process (never inside web workers): `python -m app.jobs` or `flask scheduler`.

Every job is idempotent in the database (a consultation opens and closes once: each takes the row
lock and refuses one no longer in the state it expects), so two schedulers running by mistake do no harm.
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


def close_due_plans(app):
    """Close every contribution plan past its frozen deadline and store its outcome (funded or not)."""
    from app.services.plans import close_due

    with app.app_context():
        closed = close_due()
        if closed:
            log.info("closed plans %s", closed)
        return closed


def close_due_surveys(app):
    """Close every open survey past its deadline; residents of its scope may then read the results."""
    from app.services.surveys import close_due

    with app.app_context():
        closed = close_due()
        if closed:
            log.info("closed surveys %s", closed)
        return closed


def open_due_consultations(app):
    """Open drafts whose opens_at has come: the roll is frozen then."""
    from app.services.consultations import open_due

    with app.app_context():
        opened = open_due()
        if opened:
            log.info("opened consultations %s", opened)
        return opened


def seal_open_consultations(app):
    """Seal the person chains of open consultations into their consultation's chain."""
    from app.services.consultations import seal_open

    with app.app_context():
        sealed = seal_open()
        if any(sealed.values()):
            log.info("sealed person chains %s", {k: v for k, v in sealed.items() if v})
        return sealed


def dispatch_outbox(app):
    """Send the subscribe messages that are due (quiet hours, quotas, retries: app/services/outbox.py)."""
    from app.services.outbox import dispatch_due

    with app.app_context():
        counts = dispatch_due()
        if counts:
            log.info("outbox %s", dict(counts))
        return dict(counts)


SEAL_EVERY_SECONDS = 600  # a ballot rolled back behind the application's back is caught within 10 minutes

def plan_reminders(app):
    """Plan the reminders due before each open consultation's and contribution plan's deadline (REMINDER_HOURS_BEFORE)."""
    from app.services.reminders import plan

    with app.app_context():
        planned = plan()
        if any(planned.values()):
            log.info("planned reminders %s", {k: v for k, v in planned.items() if v})
        return planned


def alert_thresholds(app):
    """Tell committee and community staff once when an open consultation passes or can no longer pass."""
    from app.services.alerts import check_thresholds

    with app.app_context():
        planned = check_thresholds()
        if any(planned.values()):
            log.info("threshold alerts %s", {k: v for k, v in planned.items() if v})
        return planned


def daily_door_visits(app):
    """Each grid worker's door-visit list, once a day from 08:00 Beijing time (run hourly; once by its dedupe key)."""
    from app.services.alerts import door_visit_lists

    with app.app_context():
        written = door_visit_lists()
        if written:
            log.info("door-visit lists for %d grid workers", len(written))
        return written


def end_publicities(app):
    """Record the end of every 公示 whose period is over, with the number of flats that objected."""
    from app.services.notices import end_due

    with app.app_context():
        ended = end_due()
        if ended:
            log.info("ended publicities %s", ended)
        return ended


def make_thumbnails(app):
    """Make the evidence thumbnails of signatures signed since the last run (off the ballot's path)."""
    from app.services.thumbnails import make_missing

    with app.app_context():
        made = make_missing()
        if made:
            log.info("made %d evidence thumbnails", made)
        return made


def purge_console_tickets(app):
    """Delete the staff console's sign-in tickets that ended more than a day ago."""
    from app.extensions import db
    from app.services.console_tickets import purge

    with app.app_context():
        purged = purge()
        db.session.commit()
        if purged:
            log.info("purged %d console tickets", purged)
        return purged


JOBS = [
    # (function, seconds between runs)
    (open_due_consultations, 60),
    (close_due_consultations, 60),
    (close_due_plans, 60),
    (close_due_surveys, 60),
    (seal_open_consultations, SEAL_EVERY_SECONDS),
    (plan_reminders, 600),
    (dispatch_outbox, 30),
    (end_publicities, 60),
    (alert_thresholds, 300),
    (make_thumbnails, 60),
    (purge_console_tickets, 3600),
    (daily_door_visits, 3600),  # acts from 08:00 Asia/Shanghai on, once a day (dedupe key daily:<user>:<date>)
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
