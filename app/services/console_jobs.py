"""The staff console's long work as jobs run away from the request (app/services/background.py: in
a process of its own by default), so that it never holds a web worker: a roster sheet checked or
imported (thousands of rows), a compound's posters drawn (a WeChat code fetched per building). The page answers at once with the
job and polls it until it shows the outcome: the report or every error by row and column, or the
file to download.

A roster import is app/services/roster.py's, in one transaction: all rows or none. Progress and a
heartbeat are written through a connection of their own as the rows go by, on MySQL/MariaDB; SQLite
holds one writer at a time and the import is that writer until it commits, so there the page shows
the job running without a row count. A job whose heartbeat is older than CONSOLE_JOB_STALE_SECONDS
(its process stopped) is marked failed by whoever looks at it next, and can be asked for again."""
import logging
import os
import tempfile
from datetime import timedelta

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Building, Compound
from app.models.jobs import JOB_KINDS, JOB_STATUSES, ConsoleJob
from app.models.places import utcnow
from app.services import background

log = logging.getLogger("gongjian.console")

STALE_SECONDS = 600
PROGRESS_EVERY = 500  # rows
KEEP = timedelta(days=1)  # finished jobs (and their files) are deleted after a day
STALE_MESSAGE = "任务中断：处理它的进程已停止，未写入任何数据，请重新操作"
FAILED_MESSAGE = "处理时出错，未写入任何数据；请重试，如仍失败请联系管理员"
BUSY = {"roster": "该小区已有一份名册正在检查或导入，请等它完成后再上传",
        "posters": "该小区的海报正在生成，请等它完成"}


def _expire_stale(where):
    seconds = int(current_app.config.get("CONSOLE_JOB_STALE_SECONDS", STALE_SECONDS))
    return background.fail_stale(ConsoleJob, where, seconds, data=None,
                                 outcome={"message": STALE_MESSAGE, "errors": []})


def _create(user, compound, kind, filename, data=None, params=None, total=None):
    """A queued job, started away from the request (background.start); 409 while a job of the same sort runs for the compound."""
    family = ("roster_check", "roster_import") if kind.startswith("roster") else (kind,)
    same = (ConsoleJob.compound_id == compound.id) & ConsoleJob.kind.in_(family)
    _expire_stale(same)
    busy = db.session.scalar(db.select(ConsoleJob.id).where(same, ConsoleJob.status.in_(background.LIVE)).limit(1))
    if busy is not None:
        raise ApiError(409, "job_busy", BUSY[family[0].split("_")[0]], {"job_id": busy})
    db.session.execute(db.delete(ConsoleJob).where(ConsoleJob.finished_at < utcnow() - KEEP))
    job = ConsoleJob(kind=kind, compound_id=compound.id, requested_by_id=user.id, filename=(filename or "")[:200],
                     params=params or {}, status="queued", data=data, total=total, heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    log.info("console job %s: %s of compound %s for user %s", job.id, kind, compound.id, user.id)
    background.start("console", job.id)
    return job


def roster(user, compound, filename, data, dry_run):
    """Check (dry_run) or import a roster sheet for the compound."""
    return _create(user, compound, "roster_check" if dry_run else "roster_import", filename, data=data)


def posters(user, compound, buildings):
    """The posters of these buildings of the compound (those the user may see), a page each."""
    return _create(user, compound, "posters", f"{compound.name}-楼栋海报.pdf",
                   params={"buildings": [b.id for b in buildings]}, total=len(buildings))


def get(user, job_id):
    """The job, for the staff member who asked for it (a sheet names owners): 404 for anyone else."""
    _expire_stale(ConsoleJob.id == job_id)
    job = db.session.get(ConsoleJob, job_id)
    if job is None or job.requested_by_id != user.id:
        raise ApiError(404, "not_found", "没有找到该任务")
    db.session.refresh(job)
    return job


def run(job_id):
    """Claim the job (queued → running, once) and do it. Returns the final status, or None if it was
    not there to claim."""
    claimed = db.session.execute(
        db.update(ConsoleJob).where(ConsoleJob.id == job_id, ConsoleJob.status == "queued")
        .values(status="running", heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return None
    job = db.session.get(ConsoleJob, job_id)
    kind = job.kind
    try:
        status, outcome, data, done = (_posters(job) if kind == "posters" else _roster(job))
    except Exception:  # noqa: BLE001 - whatever broke, nothing was written and the job says so
        log.exception("console job %s (%s) failed", job_id, kind)
        db.session.rollback()
        status, outcome, data, done = "failed", {"message": FAILED_MESSAGE, "errors": []}, None, None
    values = dict(status=status, outcome=outcome, data=data, heartbeat_at=utcnow(), finished_at=utcnow())
    if done is not None:
        values["done"] = done
    # The import (if any) and the job's end in one commit: a job never says done for rows not written.
    ended = db.session.execute(db.update(ConsoleJob).where(ConsoleJob.id == job_id, ConsoleJob.status == "running")
                               .values(**values).execution_options(synchronize_session=False)).rowcount
    if not ended:  # failed meanwhile (stale): what it did is thrown away
        db.session.rollback()
        return "failed"
    db.session.commit()
    return status


def _beat(job_id, done, conn=None):
    update = (db.update(ConsoleJob).where(ConsoleJob.id == job_id, ConsoleJob.status == "running")
              .values(done=done, heartbeat_at=utcnow()))
    if conn is None:
        db.session.execute(update)
        db.session.commit()
    else:
        conn.execute(update)


def _roster(job):
    from app.services.roster import RosterError, import_rows, read_sheet

    job_id, dry_run = job.id, job.kind == "roster_check"
    compound = db.session.get(Compound, job.compound_id)
    community, street = compound.community, compound.community.street
    fd, path = tempfile.mkstemp(suffix=os.path.splitext(job.filename)[1].lower()[:8] or ".csv", prefix="roster-job-")
    count = {"rows": 0}
    own_connection = db.engine.dialect.name != "sqlite"

    def progress(n):
        count["rows"] += n
        if own_connection and count["rows"] % PROGRESS_EVERY == 0:
            with db.engine.begin() as conn:  # its own connection: the import's transaction stays open
                _beat(job_id, count["rows"], conn)

    try:
        with os.fdopen(fd, "wb") as out:
            out.write(job.data)
        report = import_rows(read_sheet(path), compound.name, community=community.name, street=street.name,
                             district=street.district.name if street.district_id else None, dry_run=dry_run,
                             progress=progress)
        outcome = {"summary": report.summary(), "report": {
            k: getattr(report, k) for k in ("rows", "flats_created", "flats_updated", "flats_unchanged",
                                            "owners_created", "buildings_moved", "bindings_ended")}}
        if dry_run:
            db.session.rollback()
        else:
            log.info("roster of compound %s imported (console job %s)", compound.id, job_id)
    except RosterError as exc:
        db.session.rollback()
        outcome = {"message": str(exc), "errors": [{"row": e.row or "—", "column": e.column, "message": e.message}
                                                    for e in exc.errors]}
    finally:
        os.unlink(path)
    return "done", outcome, None, count["rows"]


def _posters(job):
    from app.services import qrcodes
    from app.services.posters import posters_pdf

    compound = db.session.get(Compound, job.compound_id)
    ids = job.params["buildings"]
    buildings = {b.id: b for b in db.session.scalars(db.select(Building).where(Building.id.in_(ids)))}
    pages = []
    for n, building_id in enumerate(ids, 1):
        building = buildings[building_id]
        pages.append((compound.name, building.name, qrcodes.code_png(building)))  # a WeChat call each
        _beat(job.id, n)  # commits the scene a new code may have written too
    data = posters_pdf(pages, community_name=compound.community.name)
    return "done", {"summary": f"已生成 {len(pages)} 栋楼的海报", "size": len(data)}, data, len(pages)


def view(job):
    return {"id": job.id, "kind": job.kind, "kind_name": JOB_KINDS[job.kind], "status": job.status,
            "status_name": JOB_STATUSES[job.status], "dry_run": job.kind == "roster_check",
            "filename": job.filename, "done": job.done, "total": job.total, "outcome": job.outcome,
            "has_file": job.kind == "posters" and job.status == "done",
            "created_at": job.created_at, "finished_at": job.finished_at}
