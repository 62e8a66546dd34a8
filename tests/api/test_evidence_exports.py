"""Evidence exports of big consultations: a job the client polls, a closed consultation's file built
once, thumbnails stored once, and a constant number of statements per batch of ballots."""
import hashlib
import time
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.extensions import db as _db
from app.models import Ballot, Consultation, EvidenceThumbnail, ExportJob, User
from app.models.places import utcnow
from app.services import ballots as ballot_service
from app.services import evidence, exports
from tests import factories
from tests.api.test_evidence import SIG, ballot_sheet, label, resident, workbook, world  # noqa: F401 (fixture)


@pytest.fixture()
def jobs(app, monkeypatch):
    """Exports of more than 3 ballots are jobs, run by the test (exports.run), a flat of the roll a batch."""
    monkeypatch.setitem(app.config, "EVIDENCE_INLINE_MAX", 3)
    monkeypatch.setitem(app.config, "JOB_RUNNER", "none")
    monkeypatch.setattr(evidence, "BATCH", 1)


def ask(client, login, c, ext, who="committee"):
    return client.get(f"/api/v1/consultations/{c.id}/evidence.{ext}", headers=login(who))


@pytest.mark.parametrize("ext", ["xlsx", "pdf"])
def test_a_large_export_is_a_job_polled_with_progress_to_its_file(client, login, world, jobs, monkeypatch, ext):
    """More ballots than the inline limit: 202 with the job's URL, queued, 409 for its file until it
    has run; progress rises batch by batch; then done at 100 with a download of the same evidence."""
    c = world["c"]
    resp = ask(client, login, c, ext)
    assert resp.status_code == 202, resp.data[:300]
    job = resp.json["data"]
    assert resp.headers["Location"] == job["url"] == f"/api/v1/export-jobs/{job['id']}"
    assert (job["status"], job["progress"], job["download_url"], job["ballots"]) == ("queued", 0, None, 7)
    headers = login("committee")
    assert client.get(job["url"], headers=headers).json["data"]["status"] == "queued"
    early = client.get(f"{job['url']}/file", headers=headers)
    assert early.status_code == 409 and early.json["error"]["code"] == "not_ready"
    assert ask(client, login, c, ext).json["data"]["id"] == job["id"]  # asked again: the same job, not a second

    seen = []
    beat = exports._beat
    monkeypatch.setattr(exports, "_beat", lambda job_id, progress: (seen.append(progress), beat(job_id, progress)))
    assert exports.run(job["id"]) == "done"
    assert len(seen) >= 4 and seen == sorted(seen) and 0 < seen[0] and seen[-1] < 100, seen
    done = client.get(job["url"], headers=headers).json["data"]
    assert (done["status"], done["progress"], done["download_url"]) == ("done", 100, f"{job['url']}/file")
    file = client.get(done["download_url"], headers=headers)
    assert file.status_code == 200 and hashlib.sha256(file.data).hexdigest() == done["sha256"]
    assert len(file.data) == done["size"] and file.headers["Content-Disposition"].startswith("attachment;")
    if ext == "xlsx":
        names = ballot_service.STATUS_NAMES
        rows = ballot_sheet(workbook(file))
        assert [(r["房屋"], r["选择"], r["状态"]) for r in rows] == [
            (room, choice, names[status]) for room, choice, status in world["expected"]]
    else:
        assert file.data.startswith(b"%PDF") and file.mimetype == "application/pdf"
    assert exports.run(job["id"]) is None  # a job runs once


@pytest.mark.parametrize("runner", ["process", "thread"])
def test_the_job_is_built_away_from_the_request_while_the_client_polls(client, login, world, app, monkeypatch, runner):
    """JOB_RUNNER=process (the default): the job is built by a process of its own (python -m
    app.jobrunner export <id>, which exits 0); JOB_RUNNER=thread: by a thread of this process. Not in
    the request either way; polling sees it done within seconds."""
    from app.services import background

    monkeypatch.setitem(app.config, "EVIDENCE_INLINE_MAX", 3)
    if runner == "thread":
        monkeypatch.setitem(app.config, "JOB_RUNNER", "thread")
    else:
        assert app.config.get("JOB_RUNNER", "process") == "process"
    started = []
    start = background.start
    monkeypatch.setattr(background, "start", lambda *a: started.append(start(*a)) or started[-1])
    resp = ask(client, login, world["c"], "pdf")
    assert resp.status_code == 202
    (worker,) = started
    if runner == "process":
        assert worker.args[1:] == ["-m", "app.jobrunner", "export", str(resp.json["data"]["id"])], worker.args
        assert worker.wait(60) == 0
    else:
        assert worker.name == f"export-job-{resp.json['data']['id']}"
    headers, deadline = login("committee"), time.monotonic() + 60
    while True:
        state = client.get(resp.json["data"]["url"], headers=headers).json["data"]
        if state["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert state["status"] == "done", state
    assert client.get(state["download_url"], headers=headers).data.startswith(b"%PDF")


def test_a_closed_consultations_file_is_built_once_and_served_again(client, login, world, monkeypatch):
    """After closing: the second download is the stored file, byte for byte (same digest), without
    building it again; the job that built it names the result's cache key."""
    c = world["c"]
    first = ask(client, login, c, "pdf")
    assert first.status_code == 200
    built = []
    monkeypatch.setattr(exports, "build", lambda *a, **k: built.append(a))
    second = ask(client, login, c, "pdf", who="street")
    assert second.status_code == 200 and second.data == first.data and built == []
    (job,) = _db.session.scalars(_db.select(ExportJob).where(ExportJob.format == "pdf"))
    assert job.cache_key == exports.cache_key(c) and job.sha256 == hashlib.sha256(first.data).hexdigest()
    assert second.headers["ETag"] == f'"{job.sha256}"'


def test_a_large_closed_export_built_by_a_job_is_then_served_directly(client, login, world, jobs):
    """A closed consultation's job file: asking for the evidence again answers 200 with those bytes."""
    job = ask(client, login, world["c"], "xlsx").json["data"]
    exports.run(job["id"])
    again = ask(client, login, world["c"], "xlsx")
    assert again.status_code == 200
    served = again.data  # (a streamed answer is read before the next request)
    assert served == client.get(f"{job['url']}/file", headers=login("committee")).data
    assert _db.session.scalar(_db.select(_db.func.count(ExportJob.id))) == 1


def test_an_open_consultation_is_never_cached(client, login, world, app):
    """While open, each export is built anew (a live count) and nothing is stored."""
    committee = _db.session.scalar(_db.select(User).filter_by(name="committee"))
    c = factories.consultation(("compound", world["comp"]), by=committee)
    _db.session.commit()
    assert ask(client, login, c, "xlsx").status_code == 200
    assert _db.session.scalar(_db.select(_db.func.count(ExportJob.id)).where(ExportJob.consultation_id == c.id)) == 0


def test_a_stale_job_fails_in_chinese_and_can_be_asked_for_again(client, login, world, jobs):
    """A job whose process stopped (no heartbeat for EXPORT_STALE_SECONDS) reads failed with a
    Chinese reason and a retry URL; it never runs late, and asking again starts a new job."""
    job = ask(client, login, world["c"], "pdf").json["data"]
    past = utcnow() - timedelta(seconds=exports.STALE_SECONDS + 5)
    _db.session.execute(_db.update(ExportJob).values(status="running", created_at=past, heartbeat_at=past))
    _db.session.commit()
    failed = client.get(job["url"], headers=login("committee")).json["data"]
    assert failed["status"] == "failed" and "导出中断" in failed["error"] and "重新导出" in failed["error"]
    assert failed["retry_url"] == f"/api/v1/consultations/{world['c'].id}/evidence.pdf"
    file = client.get(f"{job['url']}/file", headers=login("committee"))
    assert file.status_code == 409 and file.json["error"]["message"] == "导出失败，请重新导出"
    assert exports.run(job["id"]) is None
    retried = client.get(failed["retry_url"], headers=login("committee"))
    assert retried.status_code == 202 and retried.json["data"]["id"] != job["id"]
    assert exports.run(retried.json["data"]["id"]) == "done"


def test_a_job_marked_failed_while_it_runs_keeps_no_file(client, login, world, jobs, monkeypatch):
    """Found stale mid-way (its heartbeat late), the job stops at its next batch and stores nothing."""
    job = ask(client, login, world["c"], "xlsx").json["data"]
    beat = exports._beat

    def late(job_id, progress):
        _db.session.execute(_db.update(ExportJob).values(status="failed", error="x"))
        beat(job_id, progress)

    monkeypatch.setattr(exports, "_beat", late)
    assert exports.run(job["id"]) == "failed"
    assert _db.session.scalar(_db.select(_db.func.count()).select_from(_db.metadata.tables["export_chunk"])) == 0


def test_jobs_are_refused_across_scopes(client, login, world, jobs):
    """Another grid's worker, a resident, another compound's committee and nobody: 404/401 on the job
    and its file; a street officer of the scope polls it."""
    job = ask(client, login, world["c"], "xlsx").json["data"]
    exports.run(job["id"])
    other = factories.compound()
    factories.staff("othercommittee", "committee", "compound", other.id)
    _db.session.commit()
    for url in (job["url"], f"{job['url']}/file"):
        for who in ("gw2", "o0", "othercommittee"):
            resp = client.get(url, headers=login(who))
            assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found", (who, url)
        assert client.get(url).status_code == 401
    assert client.get(job["url"], headers=login("street")).json["data"]["status"] == "done"
    missing = client.get(f"/api/v1/export-jobs/{job['id'] + 99}", headers=login("committee"))
    assert missing.status_code == 404 and missing.json["error"]["message"] == "没有找到该导出任务"


def test_thumbnails_are_made_by_the_scheduler_once_per_image(app, world):
    """Seven ballots with one signature image: none made on the ballot's path; the scheduler's
    make_thumbnails stores one, under the image's SHA-256, and has nothing left to do after."""
    from app.jobs import JOBS, make_thumbnails

    shas = set(_db.session.scalars(_db.select(Ballot.signature_sha256)))
    assert len(shas) == 1
    _db.session.execute(_db.delete(EvidenceThumbnail))  # the world's export may have made it already
    _db.session.commit()
    assert make_thumbnails in [job for job, _ in JOBS]
    assert make_thumbnails(app) == 1
    assert _db.session.scalars(_db.select(EvidenceThumbnail.sha256)).all() == list(shas)
    assert make_thumbnails(app) == 0


def test_ballots_from_before_get_their_thumbnails_at_the_first_export(client, login, world):
    """Thumbnails deleted (ballots signed before they were stored): the export makes and stores them,
    and the file shows every signature as before."""
    _db.session.execute(_db.delete(EvidenceThumbnail))
    _db.session.commit()
    rows = evidence.evidence_rows(world["c"])
    assert all(r["signature"] and r["signature_ok"] for r in rows)
    assert _db.session.scalar(_db.select(_db.func.count()).select_from(EvidenceThumbnail)) == 1


def _signed(app, comp, committee, n, prefix):
    c = factories.consultation(("compound", comp), by=committee)
    flats = [f for b in comp.buildings for u in b.units for f in u.flats][:n]
    for i, flat in enumerate(flats):
        ballot_service.sign(resident(app, f"{prefix}{i}", flat).id, c.id, flat.id, "agree", factories.signature_png(60 + i))
    _db.session.commit()
    return c


def test_the_xlsx_reads_a_constant_number_of_statements_per_batch(app, db, monkeypatch, tmp_path):
    """The xlsx of 10 and of 20 ballots (5 a batch): 2 more batches cost the same few statements each
    (the ballots, the owners' names, the thumbnails), never one per ballot, and no signature blob is read."""
    comp = factories.compound(buildings=(("5栋", 2, 5, 2),))  # 20 flats
    committee = factories.staff("committee", "committee", "compound", comp.id)
    small, large = _signed(app, comp, committee, 10, "s").id, _signed(app, comp, committee, 20, "l").id
    from app.jobs import make_thumbnails

    make_thumbnails(app)  # as the scheduler does a minute after signing
    rooms = {label(f) for b in comp.buildings for u in b.units for f in u.flats}
    monkeypatch.setattr(evidence, "BATCH", 5)
    counts = {}
    for cid in (small, large):
        _db.session.remove()  # nothing of the previous export in the session
        c = _db.session.get(Consultation, cid)
        sent = []
        listen = lambda conn, cursor, statement, *a: sent.append(statement)  # noqa: E731
        event.listen(_db.engine, "before_cursor_execute", listen)
        try:
            evidence.write_xlsx(c, str(tmp_path / f"{c.id}.xlsx"), str(tmp_path))
        finally:
            event.remove(_db.engine, "before_cursor_execute", listen)
        assert not [s for s in sent if "blob.data" in s], "a signature blob was read"
        counts[cid] = len(sent)
    per_batch = (counts[large] - counts[small]) / 2  # large has two batches more
    assert per_batch == int(per_batch) and 1 <= per_batch <= 4, counts
    from openpyxl import load_workbook

    rows = list(load_workbook(tmp_path / f"{large}.xlsx")["表决票"].iter_rows(values_only=True))
    assert len(rows) == 21 and {r[1] for r in rows[1:]} == rooms
