"""Evidence files built outside the request, and built once when they can no longer change.

- A small export (at most EVIDENCE_INLINE_MAX ballots, 1,000 by default: about 1 s for the xlsx
  and 3 s for the PDF on 2 cores) is built in the request and answered 200.
- A larger one is an export job (202 with its URL): a process of its own (app/services/background.py,
  python -m app.jobrunner) builds it batch by batch, writing its progress (0-100) and a heartbeat after each batch;
  the client polls GET /export-jobs/<id> and downloads the file when it is done. A job whose
  heartbeat is older than EXPORT_STALE_SECONDS (its process stopped: a restart, a killed worker) is
  marked failed with a Chinese message when anyone looks at it, and asking for the export again
  starts a new one.
- Once a consultation is closed its ballots, roll and result never change: the file is built once,
  stored with its job under a cache key (the stored result's digest and the audit chain head the
  file shows, which moves only when the result is published) and served from there to everyone
  after, whatever its size.

Files are kept in the database (export_chunk, 1 MB a row), not in instance/: every web worker and
host behind the load balancer, and the process that built the file, see the same files, they are
in the backups with the data they prove, and a download streams them chunk by chunk. Files of
consultations still open (no cache key) are deleted a day after they were built.
"""
import hashlib
import logging
import os
import shutil
import tempfile
from datetime import timedelta

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import ExportChunk, ExportJob
from app.models.places import utcnow
from app.services import audit, background, evidence
from app.services.consultations import chain_name, result_of

log = logging.getLogger("gongjian.exports")

FORMATS = {"xlsx": (evidence.XLSX_MIME, evidence.write_xlsx), "pdf": (evidence.PDF_MIME, evidence.write_pdf)}
JOB_STATUSES = {"queued": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}
CHUNK_BYTES = 1024 * 1024
INLINE_MAX = 1000
STALE_SECONDS = 120
KEEP_UNCACHED = timedelta(days=1)
STALE_MESSAGE = "导出中断：生成文件的进程已停止（超过 {seconds} 秒没有进展），请重新导出"
FAILED_MESSAGE = "生成文件时出错，请重新导出；如仍失败请联系管理员"


def _setting(name, default):
    return int(current_app.config.get(name, default))


def cache_key(c):
    """The key of a closed consultation's file (its stored result's digest and the chain head the
    file shows), None while it is open: a live count is never cached."""
    result = result_of(c) if c.status in ("closed", "published") else None
    if result is None:
        return None
    return hashlib.sha256(f"{result.content_hash}:{audit.head(chain_name(c))}".encode()).hexdigest()


def _expire_stale(query):
    """Mark the queued or running jobs the query finds whose heartbeat stopped as failed."""
    seconds = _setting("EXPORT_STALE_SECONDS", STALE_SECONDS)
    stale = background.fail_stale(ExportJob, query, seconds, error=STALE_MESSAGE.format(seconds=seconds))
    if stale:
        log.warning("export jobs marked failed: no heartbeat for %s s", seconds)
    return stale


def get(job_id):
    """The job, its staleness checked now; 404 when there is no such job."""
    _expire_stale(ExportJob.id == job_id)
    job = db.session.get(ExportJob, job_id)
    if job is not None:
        db.session.refresh(job)
    return job


def request_export(user, c, fmt):
    """What GET evidence.<fmt> answers: ("file", job) for a stored file, ("build", None) for a small
    export of an open consultation to build now, or ("job", job) for a job to poll."""
    key = cache_key(c)
    same = (ExportJob.consultation_id == c.id) & (ExportJob.format == fmt) & (
        ExportJob.cache_key == key if key is not None else ExportJob.cache_key.is_(None))
    if key is not None:
        done = db.session.scalar(db.select(ExportJob).where(same, ExportJob.status == "done").order_by(ExportJob.id).limit(1))
        if done is not None:
            return "file", done
    count, _ = evidence.ballot_count(c)
    if count <= _setting("EVIDENCE_INLINE_MAX", INLINE_MAX):
        if key is None:
            return "build", None
        job = _create(user, c, fmt, key, count)
        run(job.id)  # in this request: small
        job = db.session.get(ExportJob, job.id)
        if job.status != "done":
            raise ApiError(500, "export_failed", job.error or FAILED_MESSAGE)
        return "file", job
    _expire_stale(same)
    active = db.session.scalar(db.select(ExportJob).where(same, ExportJob.status.in_(("queued", "running")))
                               .order_by(ExportJob.id.desc()).limit(1))
    if active is not None:
        return "job", active
    job = _create(user, c, fmt, key, count)
    start(job.id)
    return "job", job


def _create(user, c, fmt, key, count):
    _forget_old()
    job = ExportJob(consultation_id=c.id, format=fmt, status="queued", cache_key=key, ballots=count,
                    requested_by_id=user.id, heartbeat_at=utcnow())
    db.session.add(job)
    db.session.commit()
    log.info("export job %s: %s of consultation %s (%s ballots) for user %s", job.id, fmt, c.id, count, user.id)
    return job


def _forget_old():
    """Files of open consultations built more than a day ago, and failed jobs as old: deleted."""
    old = db.select(ExportJob.id).where(ExportJob.cache_key.is_(None) | (ExportJob.status == "failed"),
                                        ExportJob.created_at < utcnow() - KEEP_UNCACHED)
    ids = list(db.session.scalars(old))
    if ids:
        db.session.execute(db.delete(ExportChunk).where(ExportChunk.job_id.in_(ids)))
        db.session.execute(db.delete(ExportJob).where(ExportJob.id.in_(ids)))


def start(job_id):
    """Run the job away from the request: in a process of its own (app/services/background.py;
    JOB_RUNNER=none leaves it queued for whoever calls run(), as the tests do)."""
    background.start("export", job_id)


class _Abandoned(Exception):
    """The job was marked failed (stale) while it ran: its work is thrown away."""


def run(job_id):
    """Build the job's file: claim it (queued → running: whoever calls run() second does nothing), write progress and a heartbeat after each batch, store the file in chunks and mark it
    done; any error marks it failed with a Chinese message. Returns the job's final status."""
    claimed = db.session.execute(
        db.update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "queued")
        .values(status="running", progress=1, heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed:
        return None
    job = db.session.get(ExportJob, job_id)
    fmt, consultation_id = job.format, job.consultation_id
    scratch = tempfile.mkdtemp(prefix="gongjian-export-")
    try:
        from app.models import Consultation

        c = db.session.get(Consultation, consultation_id)
        path = os.path.join(scratch, f"evidence.{fmt}")

        def progress(done, total):
            _beat(job_id, min(99, 1 + done * 98 // max(total, 1)))

        build(c, fmt, path, scratch, progress)
        _store(job_id, path)
        return "done"
    except _Abandoned:
        db.session.rollback()
        db.session.execute(db.delete(ExportChunk).where(ExportChunk.job_id == job_id))
        db.session.commit()
        return "failed"
    except Exception:  # noqa: BLE001 - whatever broke, the job says so and can be asked for again
        log.exception("export job %s failed", job_id)
        db.session.rollback()
        db.session.execute(db.delete(ExportChunk).where(ExportChunk.job_id == job_id))
        db.session.execute(db.update(ExportJob).where(ExportJob.id == job_id).values(
            status="failed", error=FAILED_MESSAGE, finished_at=utcnow()))
        db.session.commit()
        return "failed"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _beat(job_id, progress):
    """Progress and heartbeat, committed (with the thumbnails the batch made); _Abandoned if the job
    is no longer running."""
    moved = db.session.execute(
        db.update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "running")
        .values(progress=progress, heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not moved:
        raise _Abandoned()


def build(c, fmt, path, scratch, progress=None):
    """The evidence file of the consultation written to path (scratch: a folder for its pieces)."""
    writer = FORMATS[fmt][1]
    if fmt == "xlsx":
        writer(c, path, scratch, progress)
    else:
        with open(path, "wb") as out:
            writer(c, out, scratch, progress)


def _store(job_id, path):
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for seq, data in enumerate(iter(lambda: f.read(CHUNK_BYTES), b"")):
            db.session.execute(ExportChunk.__table__.insert(), {"job_id": job_id, "seq": seq, "data": data})  # Core: not kept in the session
            digest.update(data)
            size += len(data)
    done = db.session.execute(
        db.update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "running")
        .values(status="done", progress=100, size=size, sha256=digest.hexdigest(), heartbeat_at=utcnow(),
                finished_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not done:
        raise _Abandoned()
    db.session.commit()


def chunks(job_id):
    """The stored file's bytes, one chunk (one statement) at a time."""
    seq = 0
    while True:
        data = db.session.scalar(db.select(ExportChunk.data).where(ExportChunk.job_id == job_id, ExportChunk.seq == seq))
        if data is None:
            return
        yield data
        seq += 1


def built_now(c, fmt):
    """A small export of an open consultation built in the request: (path, cleanup)."""
    scratch = tempfile.mkdtemp(prefix="gongjian-export-")
    path = os.path.join(scratch, f"evidence.{fmt}")
    try:
        build(c, fmt, path, scratch, lambda done, total: db.session.commit())
        db.session.commit()  # thumbnails made on the way
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return path, lambda: shutil.rmtree(scratch, ignore_errors=True)



def built_now_chunks(c, fmt, size=256 * 1024):
    """A small export of an open consultation built in the request, as the chunks of its file (the
    scratch folder removed once they are read, or the response is abandoned)."""
    path, cleanup = built_now(c, fmt)

    def read():
        try:
            with open(path, "rb") as f:
                yield from iter(lambda: f.read(size), b"")
        finally:
            cleanup()

    return read()

def view(job):
    base = f"/api/v1/export-jobs/{job.id}"
    return {
        "id": job.id,
        "consultation_id": job.consultation_id,
        "format": job.format,
        "status": job.status,
        "status_name": JOB_STATUSES.get(job.status, job.status),
        "progress": job.progress,
        "ballots": job.ballots,
        "cached": job.cache_key is not None,
        "error": job.error,
        "size": job.size,
        "sha256": job.sha256,
        "created_at": job.created_at.isoformat() + "Z",
        "finished_at": job.finished_at.isoformat() + "Z" if job.finished_at else None,
        "url": base,
        "download_url": f"{base}/file" if job.status == "done" else None,
        "retry_url": f"/api/v1/consultations/{job.consultation_id}/evidence.{job.format}" if job.status == "failed" else None,
    }
