"""Roster sheets checked or imported by a worker thread (app/services/background.py), so that a
sheet of thousands of rows never holds a web worker: the console stores the upload with its job,
answers at once, and the page polls the job until it shows the report or every error by row and
column. The import itself is app/services/roster.py's, in one transaction: all rows or none.

Progress (rows read) and a heartbeat are written through a connection of their own as the rows go
by, on MySQL/MariaDB; SQLite holds one writer at a time and the import is that writer until it
commits, so there the page shows the job running without a row count. A job whose heartbeat is older
than ROSTER_JOB_STALE_SECONDS (its process stopped) is marked failed by whoever looks at it next."""
import logging
import os
import tempfile
from datetime import timedelta

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Compound
from app.models.jobs import JOB_STATUSES, RosterJob
from app.models.places import utcnow
from app.services import background

log = logging.getLogger("gongjian.roster")

STALE_SECONDS = 600
PROGRESS_EVERY = 500  # rows
STALE_MESSAGE = "导入中断：处理名册的进程已停止，未写入任何数据，请重新上传"
FAILED_MESSAGE = "处理名册时出错，未写入任何数据；请重新上传，如仍失败请联系管理员"
BUSY_MESSAGE = "该小区已有一份名册正在检查或导入，请等它完成后再上传"


def _stale_cutoff():
    return utcnow() - timedelta(seconds=int(current_app.config.get("ROSTER_JOB_STALE_SECONDS", STALE_SECONDS)))


def _expire_stale(where):
    gone = db.session.execute(
        db.update(RosterJob).where(where, RosterJob.status.in_(("queued", "running")),
                                   db.func.coalesce(RosterJob.heartbeat_at, RosterJob.created_at) < _stale_cutoff())
        .values(status="failed", sheet=None, outcome={"message": STALE_MESSAGE, "errors": []}, finished_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return gone


def create(user, compound, filename, data, dry_run):
    """A queued job for the sheet, started in a worker thread; 409 while another job of the same
    compound is queued or running (two imports of one roster at once would race)."""
    _expire_stale(RosterJob.compound_id == compound.id)
    busy = db.session.scalar(db.select(RosterJob.id).where(RosterJob.compound_id == compound.id,
                                                           RosterJob.status.in_(("queued", "running"))).limit(1))
    if busy is not None:
        raise ApiError(409, "roster_busy", BUSY_MESSAGE, {"job_id": busy})
    job = RosterJob(compound_id=compound.id, requested_by_id=user.id, filename=(filename or "")[:200],
                    dry_run=dry_run, status="queued", sheet=data, heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    log.info("roster job %s: %s of compound %s by user %s", job.id, "check" if dry_run else "import",
             compound.id, user.id)
    background.start(f"roster-{job.id}", run, job.id)
    return job


def get(user, job_id):
    """The job, for the staff member who asked for it (the sheet holds owners' names and numbers):
    404 for anyone else."""
    _expire_stale(RosterJob.id == job_id)
    job = db.session.get(RosterJob, job_id)
    if job is None or job.requested_by_id != user.id:
        raise ApiError(404, "not_found", "没有找到该名册任务")
    db.session.refresh(job)
    return job


def run(job_id):
    """Claim the job (queued → running, once), check or import its sheet in one transaction, store
    the outcome, forget the sheet. Returns the final status, or None if someone else claimed it."""
    from app.services.roster import RosterError, import_rows, read_sheet

    claimed = db.session.execute(
        db.update(RosterJob).where(RosterJob.id == job_id, RosterJob.status == "queued")
        .values(status="running", heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return None
    job = db.session.get(RosterJob, job_id)
    compound = db.session.get(Compound, job.compound_id)
    community, street = compound.community, compound.community.street
    suffix = os.path.splitext(job.filename)[1].lower()[:8] or ".csv"
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="roster-job-")
    count = {"rows": 0}
    progress_rows = db.engine.dialect.name != "sqlite"

    def progress(n):
        count["rows"] += n
        if progress_rows and count["rows"] % PROGRESS_EVERY == 0:
            with db.engine.begin() as conn:  # its own connection: the import's transaction stays open
                conn.execute(db.update(RosterJob).where(RosterJob.id == job_id, RosterJob.status == "running")
                             .values(rows_read=count["rows"], heartbeat_at=utcnow()))

    try:
        with os.fdopen(fd, "wb") as out:
            out.write(job.sheet)
        dry_run = job.dry_run
        report = import_rows(read_sheet(path), compound.name, community=community.name, street=street.name,
                             district=street.district.name if street.district_id else None, dry_run=dry_run,
                             progress=progress)
        outcome = {"summary": report.summary(), "report": {
            k: getattr(report, k) for k in ("rows", "flats_created", "flats_updated", "flats_unchanged",
                                            "owners_created", "buildings_moved", "bindings_ended")}}
        if dry_run:
            db.session.rollback()
        status = "done"
    except RosterError as exc:
        db.session.rollback()
        outcome = {"message": str(exc), "errors": [{"row": e.row or "—", "column": e.column, "message": e.message}
                                                    for e in exc.errors]}
        status = "done"
    except Exception:  # noqa: BLE001 - whatever broke, nothing was written and the job says so
        log.exception("roster job %s failed", job_id)
        db.session.rollback()
        outcome, status = {"message": FAILED_MESSAGE, "errors": []}, "failed"
    finally:
        os.unlink(path)
    # The import (if any) and the job's end in one commit: a job never says done for rows not written.
    ended = db.session.execute(
        db.update(RosterJob).where(RosterJob.id == job_id, RosterJob.status == "running")
        .values(status=status, outcome=outcome, sheet=None, rows_read=count["rows"], heartbeat_at=utcnow(),
                finished_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not ended:  # marked failed (stale) meanwhile: what it did is thrown away
        db.session.rollback()
        return "failed"
    db.session.commit()
    if status == "done" and "summary" in outcome and not job.dry_run:
        log.info("roster of compound %s imported (job %s)", compound.id, job_id)
    return status


def view(job):
    return {"id": job.id, "status": job.status, "status_name": JOB_STATUSES[job.status],
            "dry_run": job.dry_run, "filename": job.filename, "rows_read": job.rows_read,
            "outcome": job.outcome, "created_at": job.created_at, "finished_at": job.finished_at}
