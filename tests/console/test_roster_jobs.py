"""Roster sheets and posters as jobs (app/services/console_jobs.py), through the console without a browser: the
upload answers at once with the job's page, the job checks or imports in one transaction, only the
staff member who uploaded it sees it, one job per compound at a time, a job whose process stopped
is failed by the next look, and a job that breaks writes nothing."""
import re
from datetime import timedelta

import pytest

from app.extensions import db as _db
from app.models import Building, Flat, Unit
from app.models.jobs import ConsoleJob
from app.models.places import utcnow
from app.services import console_jobs
from tests import factories

GOOD = ("楼栋,单元,房号,楼层,面积,面积来源,业主姓名,业主电话\n"
        "9栋,1单元,101,1,80.00,不动产登记,王一,13900000001\n"
        "9栋,1单元,102,1,75.50,不动产登记,王二,13900000002\n").encode()


@pytest.fixture()
def office(app, client):
    """A community officer signed in to the console (CSRF token in hand); jobs stay queued until run."""
    before = app.config.get("JOB_RUNNER")
    app.config["JOB_RUNNER"] = "none"
    comp = factories.compound(buildings=(("1栋", 1, 1, 1),))
    factories.staff("rj-office", "community_staff", "community", comp.community_id)
    factories.staff("rj-other", "community_staff", "community", comp.community_id)
    _db.session.commit()
    yield comp
    if before is None:
        app.config.pop("JOB_RUNNER", None)
    else:
        app.config["JOB_RUNNER"] = before


def sign_in(client, name):
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/console/dev-login", data={"name": name, "csrf_token": token}).status_code == 302
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/roster").get_data(as_text=True)).group(1)


def upload(client, token, comp, data=GOOD, action="import"):
    import io

    return client.post("/console/roster", data={"csrf_token": token, "compound_id": str(comp.id), "action": action,
                                                "sheet": (io.BytesIO(data), "名册.csv")},
                       content_type="multipart/form-data")


def flats(comp):
    _db.session.expire_all()
    return _db.session.scalar(_db.select(_db.func.count(Flat.id)).join(Unit).join(Building)
                              .where(Building.compound_id == comp.id))


def test_an_upload_answers_at_once_and_the_job_imports_all_rows(client, office):
    token = sign_in(client, "rj-office")
    before = flats(office)
    answer = upload(client, token, office)
    assert answer.status_code == 302 and "/console/jobs/" in answer.headers["Location"]
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    waiting = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert "排队中" in waiting and "hx-trigger=\"every 1s\"" in waiting
    assert flats(office) == before  # nothing written before the job runs
    assert console_jobs.run(job_id) == "done"
    assert console_jobs.run(job_id) is None  # claimed once
    done = client.get(f"/console/jobs/{job_id}/state").get_data(as_text=True)
    assert "导入完成" in done and "新增 2 户" in done and "every 1s" not in done
    assert flats(office) == before + 2
    job = _db.session.get(ConsoleJob, job_id)
    assert job.data is None and job.done == 2  # the sheet (owners' names and phones) is not kept


def test_only_the_uploader_sees_the_job_and_one_job_per_compound_at_a_time(app, client, office):
    token = sign_in(client, "rj-office")
    job_id = int(upload(client, token, office).headers["Location"].rsplit("/", 1)[1])
    second = upload(client, token, office, action="check")
    assert second.status_code == 200 and "正在检查或导入" in second.get_data(as_text=True)
    assert _db.session.scalar(_db.select(_db.func.count(ConsoleJob.id))) == 1
    other = app.test_client()  # another officer of the same community, on another PC
    sign_in(other, "rj-other")
    assert other.get(f"/console/jobs/{job_id}").status_code == 404
    assert other.get(f"/console/jobs/{job_id}/state").status_code == 404


def test_a_bad_sheet_is_reported_by_row_and_a_dry_run_writes_nothing(client, office):
    token = sign_in(client, "rj-office")
    before = flats(office)
    bad = GOOD.replace(b"80.00", b"eighty")
    job_id = int(upload(client, token, office, data=bad).headers["Location"].rsplit("/", 1)[1])
    console_jobs.run(job_id)
    shown = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert "未写入任何数据" in shown and "面积" in shown
    job_id = int(upload(client, token, office, action="check").headers["Location"].rsplit("/", 1)[1])
    console_jobs.run(job_id)
    assert "检查通过（未写入）" in client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert flats(office) == before


def test_a_job_whose_process_stopped_is_failed_by_the_next_look_and_a_new_upload_goes(client, office):
    token = sign_in(client, "rj-office")
    job_id = int(upload(client, token, office).headers["Location"].rsplit("/", 1)[1])
    _db.session.execute(_db.update(ConsoleJob).where(ConsoleJob.id == job_id).values(
        status="running", heartbeat_at=utcnow() - timedelta(hours=1)))
    _db.session.commit()
    shown = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert "任务中断" in shown and "未写入任何数据" in shown
    assert console_jobs.run(job_id) is None  # a failed job is never run afterwards
    assert upload(client, token, office).status_code == 302  # the compound is free again


def test_a_job_that_breaks_midway_writes_nothing(client, office, monkeypatch):
    from app.services import roster

    token = sign_in(client, "rj-office")
    before = flats(office)
    job_id = int(upload(client, token, office).headers["Location"].rsplit("/", 1)[1])
    real = roster.Writer.write

    def write_then_break(self, batch):
        real(self, batch)
        raise RuntimeError("disk full")

    monkeypatch.setattr(roster.Writer, "write", write_then_break)
    assert console_jobs.run(job_id) == "failed"
    assert "处理时出错" in client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert flats(office) == before


def test_a_compounds_posters_are_drawn_by_a_job_and_downloaded_by_their_requester(app, client, office):
    import io

    import pypdfium2

    comp = factories.compound(buildings=(("1栋", 1, 1, 1), ("2栋", 1, 1, 1), ("3栋", 1, 1, 1)))
    factories.staff("rj-poster", "community_staff", "community", comp.community_id)
    _db.session.commit()
    token = sign_in(client, "rj-poster")
    answer = client.post(f"/console/compounds/{comp.id}/posters", data={"csrf_token": token})
    assert answer.status_code == 302
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    waiting = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert "已生成 0 / 3 栋楼的海报" in waiting
    assert client.get(f"/console/jobs/{job_id}/file").status_code == 404  # not yet
    again = client.post(f"/console/compounds/{comp.id}/posters", data={"csrf_token": token})
    assert again.headers["Location"].endswith(f"/console/jobs/{job_id}")  # the one running, not a second
    assert console_jobs.run(job_id) == "done"
    assert "下载" in client.get(f"/console/jobs/{job_id}/state").get_data(as_text=True)
    pdf = client.get(f"/console/jobs/{job_id}/file")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = pypdfium2.PdfDocument(io.BytesIO(pdf.data))
    assert len(pages) == 3 and "2栋" in pages[1].get_textpage().get_text_range()
    other = app.test_client()
    sign_in(other, "rj-other")
    assert other.get(f"/console/jobs/{job_id}/file").status_code == 404
    # without the form's token: refused, no job
    assert client.post(f"/console/compounds/{comp.id}/posters").status_code == 400


def test_a_large_evidence_export_is_a_job_the_page_polls_then_downloads(app, client, office):
    """More ballots than EVIDENCE_INLINE_MAX: the console's evidence link goes to the export job's
    page (polled every second), then the file; staff of another community get 404 for both."""
    from app.services import ballots as ballot_service
    from app.services import exports

    flat = office.buildings[0].units[0].flats[0]
    owner = factories.resident("rj-owner", flat)
    factories.staff("rj-stranger", "community_staff", "community", factories.compound().community_id)
    c = factories.consultation(("compound", office))
    _db.session.commit()
    ballot_service.sign(owner.id, c.id, flat.id, "agree", factories.signature_png())
    _db.session.commit()
    app.config["EVIDENCE_INLINE_MAX"] = 0
    try:
        sign_in(client, "rj-office")
        answer = client.get(f"/console/consultations/{c.id}/evidence.xlsx")
        assert answer.status_code == 302 and "/console/export-jobs/" in answer.headers["Location"]
        job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
        page = client.get(f"/console/export-jobs/{job_id}").get_data(as_text=True)
        assert "排队中" in page and 'hx-trigger="every 1s"' in page
        assert client.get(f"/console/export-jobs/{job_id}/file").status_code == 404  # not yet
        assert exports.run(job_id) == "done"
        done = client.get(f"/console/export-jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "签名表已生成" in done and "<nav" not in done  # the polled part alone
        file = client.get(f"/console/export-jobs/{job_id}/file")
        assert file.status_code == 200 and file.data[:2] == b"PK"  # an xlsx (a zip)
        stranger = app.test_client()
        sign_in(stranger, "rj-stranger")
        assert stranger.get(f"/console/export-jobs/{job_id}").status_code == 404
        assert stranger.get(f"/console/export-jobs/{job_id}/file").status_code == 404
    finally:
        app.config["EVIDENCE_INLINE_MAX"] = exports.INLINE_MAX
