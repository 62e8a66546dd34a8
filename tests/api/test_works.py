"""Works supervision and acceptance: can residents and supervisors report problems on site with
photos, do staff answer and do reports close and reopen only as they should, does WeChat's check
refuse and hold what it should; does the acceptance pass exactly at its share of the representatives,
are defects tracked until resolved, and does the project's chain vouch for all of it?"""
import base64
import io

import pytest
from PIL import Image

from app.extensions import db as _db
from app.models import AcceptanceSignature, AuditEntry, Blob, Defect, InboxItem, Project, SiteReport, StaffRole
from app.models.projects import PHASES
from app.services import projects, verification, works
from app.services.privacy import mask_name
from tests import factories
from tests.tamper import sql

SIG = factories.signature_png()


def jpeg(color=(200, 120, 40)):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="JPEG")
    return base64.b64encode(out.getvalue()).decode()


def project_in(comp, phase, by, **extra):
    """A project of the compound made by the service and moved phase by phase to `phase` (its chain
    as the phase machine writes it)."""
    project = projects.create(by, {"compound_id": comp.id, "title": "阳光里小区综合改造",
                                   "items": [{"name": "雨污分流", "level": "basic"}], "budget_fen": 1_000_000, **extra})
    for step in PHASES[1:PHASES.index(phase) + 1]:
        projects._enter(project, step, by, f"测试：进入{step}")
    return project


def move(project_id, phase):
    project = projects.lock(project_id)
    projects._enter(project, phase, None, "测试")
    _db.session.commit()


@pytest.fixture()
def site(app, db):
    """A compound of two buildings (grid g1: 1栋, grid g2: 2栋) with owners dev-r0..r3 (r0, r1 in
    1栋, r2, r3 in 2栋), supervisor dev-sup (no flat), representatives dev-rep0..rep4, committee
    dev-committee, grid worker dev-gw1 of 1栋; another compound with its owner dev-away and grid
    worker dev-gwaway. A project in works."""
    comp = factories.compound(buildings=(("1栋", 1, 2, 1), ("2栋", 1, 2, 1)))
    b1, b2 = comp.buildings
    g1 = factories.grid(comp, [b1])
    factories.grid(comp, [b2])
    flats = [f for b in comp.buildings for u in b.units for f in u.flats]
    for i, flat in enumerate(flats):
        factories.resident(f"r{i}", flat)
    committee = factories.staff("committee", "committee", "compound", comp.id)
    factories.staff("gw1", "grid_worker", "grid", g1.id)
    factories.staff("sup", "supervisor", "compound", comp.id)
    for i in range(5):
        factories.staff(f"rep{i}", "representative", "compound", comp.id)
    away = factories.compound()
    factories.resident("away", away.buildings[0].units[0].flats[0])
    factories.staff("gwaway", "grid_worker", "grid", factories.grid(away, away.buildings).id)
    factories.staff("awaycommittee", "committee", "compound", away.id)
    project = project_in(comp, "works", committee)
    _db.session.commit()
    return {"compound": comp, "project": project.id, "b1": b1, "b2": b2, "flats": flats}


def report(client, headers, project_id, text="3栋东侧脚手架没有防护网，有掉落物", place=None, photos=(), key=None, status=201):
    body = {"text": text, "place": place or {"text": "3号楼东侧"}, "photos": list(photos)}
    resp = client.post(f"/api/v1/projects/{project_id}/reports", json=body, headers={
        **headers, **({"Idempotency-Key": key} if key else {})})
    assert resp.status_code == status, resp.json
    return resp.json["data"] if status == 201 else resp.json["error"]


def counts():
    return (_db.session.scalar(_db.select(_db.func.count(SiteReport.id))),
            _db.session.scalar(_db.select(_db.func.count(Blob.id))),
            _db.session.scalar(_db.select(_db.func.count(AuditEntry.id))
                               .where(AuditEntry.chain.like("site_reports:%"))))


# ---------------------------------------------------------------- site reports


def test_a_report_with_photos_is_answered_resolved_reopened_and_resolved_again(client, login, site):
    """Does a report go open → answered → resolved → reopened → answered → resolved, each by the
    right person, with its photos served and its history kept?"""
    pid, unit = site["project"], site["b1"].units[0]
    reporter, staff, sup = login("r0"), login("committee"), login("sup")
    photos = [SIG, jpeg()]
    filed = report(client, reporter, pid, place={"building_id": site["b1"].id, "unit_id": unit.id}, photos=photos)
    assert (filed["status"], filed["text_state"], filed["mine"], filed["reporter"]) == ("open", "visible", True, None)
    assert filed["place"] == {"text": "1栋1单元", "building": {"id": site["b1"].id, "name": "1栋"},
                              "unit": {"id": unit.id, "name": "1单元"}}
    assert filed["photos"] == [f"/api/v1/reports/{filed['id']}/photos/1", f"/api/v1/reports/{filed['id']}/photos/2"]
    rid = filed["id"]
    neighbour = login("r3")
    second = client.get(f"/api/v1/reports/{rid}/photos/2", headers=neighbour)
    assert second.status_code == 200 and second.mimetype == "image/jpeg"
    assert second.data == base64.b64decode(photos[1])
    assert client.get(f"/api/v1/reports/{rid}/photos/3", headers=neighbour).status_code == 404

    answered = client.post(f"/api/v1/reports/{rid}/answer", json={"answer": "已通知施工方今天加装防护网"}, headers=staff)
    assert answered.status_code == 200, answered.json
    assert answered.json["data"]["status"] == "answered" and answered.json["data"]["reporter"] == {
        "name": mask_name(site["flats"][0].owner.name)}
    assert _db.session.scalar(_db.select(InboxItem.title).where(InboxItem.user_id == factories.user("r0").id))

    listed = client.get(f"/api/v1/projects/{pid}/reports", headers=neighbour).json["data"]
    assert listed["can_report"] is True and listed["staff"] is False and listed["counts"]["answered"] == 1
    shown = listed["reports"][0]
    assert shown["answer"] == "已通知施工方今天加装防护网" and shown["reporter"] is None and shown["mine"] is False
    assert shown["actions"] == []  # a neighbour neither confirms nor reopens someone else's report

    resolved = client.post(f"/api/v1/reports/{rid}/resolve", headers=reporter)
    assert resolved.status_code == 200 and resolved.json["data"]["status"] == "resolved"
    reopened = client.post(f"/api/v1/reports/{rid}/reopen", json={"reason": "防护网只装了一半"}, headers=sup)
    assert reopened.status_code == 200, reopened.json
    assert (reopened.json["data"]["status"], reopened.json["data"]["reopened"]) == ("reopened", 1)
    client.post(f"/api/v1/reports/{rid}/answer", json={"answer": "已全部装好"}, headers=staff)
    final = client.post(f"/api/v1/reports/{rid}/resolve", headers=sup).json["data"]
    assert final["status"] == "resolved" and final["answer"] == "已全部装好" and final["resolved_at"]
    assert [(h["event"], h["by"], h["note"]) for h in final["history"]] == [
        ("filed", "reporter", None), ("answered", "staff", "已通知施工方今天加装防护网"), ("resolved", "reporter", None),
        ("reopened", "supervisor", "防护网只装了一半"), ("answered", "staff", "已全部装好"), ("resolved", "supervisor", None)]
    assert client.get(f"/api/v1/reports/{rid}", headers=neighbour).json["data"]["status"] == "resolved"
    assert verification.verify() == [] and works.verify_works() == []


def test_a_supervisor_without_a_flat_reports_and_a_staff_member_does_not(client, login, site):
    """May a supervisor of the compound report though bound to no flat, and is staff told to answer instead?"""
    filed = report(client, login("sup"), site["project"], place={"building_id": site["b2"].id})
    assert filed["by_supervisor"] is True and filed["place"]["text"] == "2栋"
    refused = report(client, login("committee"), site["project"], status=403)
    assert refused["code"] == "forbidden" and refused["details"]["allowed_roles"] == ["supervisor"]
    assert report(client, login("gw1"), site["project"], status=403)["code"] == "forbidden"


def test_a_risky_report_is_refused_and_nothing_is_stored(client, login, site):
    """Does WeChat's risky verdict (through the emulator) refuse a report, its photos and all?"""
    before = counts()
    error = report(client, login("r1"), site["project"], text="工地有人组织网络赌博", photos=[SIG], status=422)
    assert error["code"] == "content_risky" and "不当信息" in error["message"]
    _db.session.expire_all()
    assert counts() == before


def test_a_doubtful_report_is_held_until_staff_release_it(client, login, site):
    """Is a report WeChat wants reviewed shown to its reporter and staff only, then to all once released?"""
    pid = site["project"]
    reporter, staff, neighbour = login("r1"), login("committee"), login("r2")
    held = report(client, reporter, pid, text="材料堆在楼道，有人说可以加微信私下处理")
    assert (held["text_state"], held["text_state_name"]) == ("held", "待工作人员审核")
    assert client.get(f"/api/v1/reports/{held['id']}", headers=neighbour).status_code == 404
    assert client.get(f"/api/v1/projects/{pid}/reports", headers=neighbour).json["data"]["reports"] == []
    assert [r["id"] for r in client.get(f"/api/v1/projects/{pid}/reports", headers=reporter).json["data"]["reports"]] \
        == [held["id"]]
    staff_view = client.get(f"/api/v1/projects/{pid}/reports", headers=staff).json["data"]["reports"][0]
    assert staff_view["actions"] == ["answer", "release", "reject"]
    released = client.post(f"/api/v1/reports/{held['id']}/release", headers=staff)
    assert released.status_code == 200 and released.json["data"]["text_state"] == "visible"
    assert client.get(f"/api/v1/reports/{held['id']}", headers=neighbour).status_code == 200

    other = report(client, reporter, pid, text="扫码领取补偿款，加微信")
    rejected = client.post(f"/api/v1/reports/{other['id']}/reject", json={"reason": "与施工无关"}, headers=staff)
    assert rejected.status_code == 200 and rejected.json["data"]["text_state"] == "rejected"
    mine = client.get(f"/api/v1/reports/{other['id']}", headers=reporter).json["data"]
    assert mine["history"][-1] == {**mine["history"][-1], "event": "rejected", "note": "与施工无关"}
    assert client.get(f"/api/v1/reports/{other['id']}", headers=neighbour).status_code == 404
    again = client.post(f"/api/v1/reports/{other['id']}/release", headers=staff)
    assert again.status_code == 409 and again.json["error"]["code"] == "not_held"
    assert "未公开" in again.json["error"]["message"]
    assert client.post(f"/api/v1/reports/{other['id']}/answer", json={"answer": "好"}, headers=staff).status_code == 409
    assert verification.verify() == [] and works.verify_works() == []


def test_a_doubtful_reason_to_reopen_is_shown_to_staff_and_its_writer_only(client, login, site):
    """Is a reopen reason WeChat wants reviewed kept from the neighbours' view of the history (and a
    risky one refused, the report left as it was)?"""
    rid = report(client, login("r0"), site["project"])["id"]
    client.post(f"/api/v1/reports/{rid}/answer", json={"answer": "已处理"}, headers=login("committee"))
    risky = client.post(f"/api/v1/reports/{rid}/reopen", json={"reason": "王八蛋施工队"}, headers=login("r0"))
    assert risky.status_code == 422 and risky.json["error"]["code"] == "content_risky"
    assert client.get(f"/api/v1/reports/{rid}", headers=login("r0")).json["data"]["status"] == "answered"
    held = client.post(f"/api/v1/reports/{rid}/reopen", json={"reason": "施工队让加微信再说"}, headers=login("r0"))
    assert held.status_code == 200 and held.json["data"]["history"][-1]["note"] == "施工队让加微信再说"
    for who, note in (("committee", "施工队让加微信再说"), ("r2", None)):
        last = client.get(f"/api/v1/reports/{rid}", headers=login(who)).json["data"]["history"][-1]
        assert (last["event"], last["note"]) == ("reopened", note), who


def test_wrong_transitions_and_wrong_people_are_refused(client, login, site):
    """Is each step refused when the report is not in the state it needs (409, naming the state in
    Chinese), and to those who may see it but not take that step (403)?"""
    rid = report(client, login("r0"), site["project"])["id"]
    reporter, staff = login("r0"), login("committee")
    early = client.post(f"/api/v1/reports/{rid}/resolve", headers=reporter)
    assert early.status_code == 409 and early.json["error"]["code"] == "wrong_status"
    assert "「待答复」" in early.json["error"]["message"] and early.json["error"]["details"] == {"status": "open"}
    assert client.post(f"/api/v1/reports/{rid}/reopen", json={"reason": "没修好"}, headers=reporter).status_code == 409
    assert client.post(f"/api/v1/reports/{rid}/release", headers=staff).json["error"]["code"] == "not_held"
    grid = client.post(f"/api/v1/reports/{rid}/answer", json={"answer": "收到"}, headers=login("gw1"))
    assert grid.status_code == 403 and "committee" in grid.json["error"]["details"]["allowed_roles"]
    assert client.post(f"/api/v1/reports/{rid}/answer", json={"answer": "收到"}, headers=login("r1")).status_code == 403
    assert client.post(f"/api/v1/reports/{rid}/answer", json={"answer": "收到"}, headers=staff).status_code == 200
    twice = client.post(f"/api/v1/reports/{rid}/answer", json={"answer": "再答"}, headers=staff)
    assert twice.status_code == 409 and "「已答复」" in twice.json["error"]["message"]
    stranger = client.post(f"/api/v1/reports/{rid}/resolve", headers=login("r1"))
    assert stranger.status_code == 403 and stranger.json["error"]["details"]["allowed_roles"] == ["supervisor"]
    assert client.post(f"/api/v1/reports/{rid}/reopen", json={"reason": " "}, headers=reporter).status_code == 422
    _db.session.expire_all()
    assert _db.session.get(SiteReport, rid).status == "answered"


def test_a_fourth_photo_and_a_bad_place_are_refused(client, login, site):
    """Are a 4th photo, a building of another compound and a place given twice refused, nothing stored?"""
    before = counts()
    pid, resident = site["project"], login("r0")
    four = report(client, resident, pid, photos=[SIG, SIG, SIG, SIG], status=422)
    assert four["code"] == "validation_error" and "photos" in four["details"]["json"]
    foreign = report(client, resident, pid, place={"building_id": site["b1"].id + 1000}, status=422)
    assert "不属于本小区" in foreign["message"]
    both = report(client, resident, pid, place={"building_id": site["b1"].id, "text": "门口"}, status=422)
    assert "二选一" in both["message"]
    elsewhere = report(client, resident, pid, place={"unit_id": site["b2"].units[0].id, "building_id": site["b1"].id},
                       status=422)
    assert "不在所选楼栋" in elsewhere["message"]
    assert report(client, resident, pid, place={"text": "门" * 101}, status=422)["code"] == "validation_error"
    assert report(client, resident, pid, photos=["bm90IGFuIGltYWdl"], status=422)["message"].startswith("第 1 张照片")
    _db.session.expire_all()
    assert counts() == before


def test_reports_are_filed_only_during_works_and_acceptance(client, login, site):
    """Is a report refused (409, in Chinese) before the works start and after the acceptance?"""
    committee = factories.user("committee")
    early = project_in(site["compound"], "funding", committee)
    _db.session.commit()
    refused = report(client, login("r0"), early.id, status=409)
    assert refused["code"] == "wrong_phase" and "「资金筹集」" in refused["message"]
    move(site["project"], "acceptance")
    assert report(client, login("r0"), site["project"])["status"] == "open"
    late = project_in(site["compound"], "evaluation", committee)
    _db.session.commit()
    assert report(client, login("r0"), late.id, status=409)["message"].startswith("项目当前处于「效果评价」")


def test_the_same_idempotency_key_files_once(client, login, site):
    """Does a retried report (same Idempotency-Key) come back as the one filed, and is the key refused
    for another text?"""
    resident, pid = login("r0"), site["project"]
    first = report(client, resident, pid, photos=[SIG], key="rep-1")
    again = report(client, resident, pid, photos=[SIG], key="rep-1")
    assert again["id"] == first["id"]
    other = report(client, resident, pid, text="另一件事", key="rep-1", status=422)
    assert other["code"] == "idempotency_mismatch"
    assert report(client, login("r1"), pid, photos=[SIG], key="rep-1")["id"] != first["id"]  # keys are per person
    _db.session.expire_all()
    assert _db.session.scalar(_db.select(_db.func.count(SiteReport.id))) == 2


def test_strangers_see_nothing_of_a_compounds_reports(client, login, site):
    """Do a resident, a grid worker and a committee of another compound get 404 for every report path,
    and does a grid worker of the compound read but not answer?"""
    rid = report(client, login("r0"), site["project"], photos=[SIG])["id"]
    pid = site["project"]
    for who in ("away", "gwaway", "awaycommittee"):
        headers = login(who)
        for method, url in (("get", f"/api/v1/projects/{pid}/reports"), ("get", f"/api/v1/reports/{rid}"),
                            ("get", f"/api/v1/reports/{rid}/photos/1"), ("post", f"/api/v1/reports/{rid}/resolve"),
                            ("post", f"/api/v1/reports/{rid}/release"), ("get", f"/api/v1/projects/{pid}/acceptance")):
            resp = client.open(url, method=method.upper(), headers=headers)
            assert resp.status_code == 404, (who, url, resp.status_code)
        assert report(client, headers, pid, status=404)["code"] == "not_found"
    watcher = client.get(f"/api/v1/projects/{pid}/reports", headers=login("gw1")).json["data"]
    assert watcher["staff"] is True and watcher["reports"][0]["reporter"]["name"].startswith("业*")
    assert watcher["reports"][0]["actions"] == []


# ---------------------------------------------------------------- acceptance


def sign(client, headers, project_id, opinion="pass", status=201, key=None, **extra):
    resp = client.post(f"/api/v1/projects/{project_id}/acceptance",
                       json={"opinion": opinion, "signature": SIG, **extra},
                       headers={**headers, **({"Idempotency-Key": key} if key else {})})
    assert resp.status_code == status, resp.json
    return resp.json["data"] if status == 201 else resp.json["error"]


def test_the_acceptance_passes_with_more_than_half_of_five_representatives(client, login, site):
    """With 5 representatives and the default share (more than 1/2): 2 passes are not enough, the
    3rd (a pass with remarks) passes it, and the phase machine may then move on to evaluation."""
    pid = site["project"]
    move(pid, "acceptance")
    sign(client, login("rep0"), pid)
    state = sign(client, login("rep1"), pid, "fail", defects=["3栋外墙空鼓"])
    assert (state["passing"], state["required"], state["needed"], state["passed"]) == (1, 3, 2, False)
    state = sign(client, login("rep2"), pid)
    assert (state["passing"], state["needed"], state["passed"]) == (2, 1, False)
    assert "还需 1 位" in state["status"]
    state = sign(client, login("rep3"), pid, "pass_with_remarks", remarks="绿化补种后再复查")
    assert (state["passing"], state["needed"], state["passed"]) == (3, 0, True)
    assert state["rule"] == {"share": "1/2", "strict": True, "text": "超过 1/2 的居民代表签署通过（含附意见通过）"}
    assert state["representatives"]["count"] == 5 and state["representatives"]["names"][0] == "r***"
    assert [s["name"] for s in state["signatures"]] == ["r***"] * 4 and state["signatures"][3]["mine"] is True
    assert state["me"] == {"representative": True, "signed": True, "can_sign": False}
    project = _db.session.get(Project, pid)
    assert works.acceptance_passed(project) is True and works.acceptance_state(project)["passed"] is True
    moved = client.post(f"/api/v1/projects/{pid}/phase", json={"phase": "evaluation", "reason": ""},
                        headers=login("committee"))
    assert moved.status_code == 200 and moved.json["data"]["phase"] == "evaluation"
    assert verification.verify() == [] and works.verify_works() == []


@pytest.mark.parametrize("passes, passed", [(2, False), (3, True)])
def test_half_of_four_representatives_is_not_more_than_half(client, login, site, passes, passed):
    """With 4 representatives and "more than 1/2", is 2 of 4 not passed and 3 of 4 passed (exactly)?"""
    pid = site["project"]
    _db.session.execute(_db.delete(StaffRole).where(StaffRole.user_id == factories.user("rep4").id))
    _db.session.commit()
    move(pid, "acceptance")
    for i in range(passes):
        state = sign(client, login(f"rep{i}"), pid, "pass_with_remarks" if i == 1 else "pass",
                     remarks="附意见" if i == 1 else "")
    assert state["representatives"]["count"] == 4 and state["required"] == 3
    assert (state["passing"], state["passed"]) == (passes, passed)
    assert works.acceptance_passed(_db.session.get(Project, pid)) is passed


def test_a_share_reached_exactly_passes_when_not_strict(client, login, site):
    """With "at least 2/3" of 3 representatives, do 2 passes pass (2/3 >= 2/3), and a representative
    whose role was withdrawn no longer count?"""
    committee = factories.user("committee")
    for i in (3, 4):
        _db.session.execute(_db.delete(StaffRole).where(StaffRole.user_id == factories.user(f"rep{i}").id))
    project = project_in(site["compound"], "acceptance", committee, acceptance_share="2/3", acceptance_strict=False)
    _db.session.commit()
    sign(client, login("rep0"), project.id)
    state = sign(client, login("rep1"), project.id)
    assert (state["passing"], state["required"], state["passed"]) == (2, 2, True)
    assert state["rule"]["text"].startswith("达到 2/3")
    _db.session.execute(_db.delete(StaffRole).where(StaffRole.user_id == factories.user("rep1").id))
    _db.session.commit()
    after = client.get(f"/api/v1/projects/{project.id}/acceptance", headers=login("committee")).json["data"]
    assert (after["representatives"]["count"], after["passing"], after["passed"]) == (2, 1, False)
    assert [s["current"] for s in after["signatures"]] == [True, False]


def test_no_representatives_means_no_acceptance_and_says_why(client, login, site):
    """With no representative, is the acceptance not passed, and does the answer say why?"""
    _db.session.execute(_db.delete(StaffRole).where(StaffRole.role == "representative"))
    _db.session.commit()
    move(site["project"], "acceptance")
    state = client.get(f"/api/v1/projects/{site['project']}/acceptance", headers=login("r0")).json["data"]
    assert (state["passed"], state["required"], state["needed"]) == (False, None, None)
    assert "还没有居民代表" in state["status"]
    assert works.acceptance_passed(_db.session.get(Project, site["project"])) is False
    refused = client.post(f"/api/v1/projects/{site['project']}/phase", json={"phase": "evaluation", "reason": ""},
                          headers=login("committee"))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "condition_unmet"


def test_a_failing_opinion_lists_defects_tracked_until_resolved(client, login, site):
    """Must a fail list its defects, do they become defects staff resolve with a note, once?"""
    pid = site["project"]
    move(pid, "acceptance")
    rep = login("rep0")
    assert sign(client, rep, pid, "fail", status=422)["details"] == {"defects": ["不通过时必填"]}
    assert sign(client, rep, pid, "pass", defects=["墙裂"], status=422)["code"] == "validation_error"
    assert sign(client, rep, pid, "pass_with_remarks", status=422)["details"] == {"remarks": ["必填项"]}
    assert sign(client, rep, pid, "fail", defects=["缝"] * 21, status=422)["code"] == "validation_error"
    assert sign(client, rep, pid, "fail", defects=["长" * 501], status=422)["code"] == "validation_error"
    state = sign(client, rep, pid, "fail", remarks="外墙问题较多", defects=["3栋外墙空鼓", "雨水管接口渗漏"])
    assert [d["text"] for d in state["defects"]["open"]] == ["3栋外墙空鼓", "雨水管接口渗漏"]
    assert state["signatures"][0]["defects"] == ["3栋外墙空鼓", "雨水管接口渗漏"]
    defect_id = state["defects"]["open"][0]["id"]
    for who in ("gw1", "r0"):  # a grid worker of the compound and a resident see the defect, not resolve it
        refused = client.post(f"/api/v1/defects/{defect_id}/resolve", json={"note": "已修"}, headers=login(who))
        assert refused.status_code == 403, who
    assert client.post(f"/api/v1/defects/{defect_id}/resolve", json={"note": "已修"},
                       headers=login("awaycommittee")).status_code == 404
    done = client.post(f"/api/v1/defects/{defect_id}/resolve", json={"note": "已重新抹灰，11 月 30 日复查合格"},
                       headers=login("committee"))
    assert done.status_code == 200 and done.json["data"]["status"] == "resolved" and done.json["data"]["resolved_at"]
    twice = client.post(f"/api/v1/defects/{defect_id}/resolve", json={"note": "再修"}, headers=login("committee"))
    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_resolved"
    after = client.get(f"/api/v1/projects/{pid}/acceptance", headers=login("r1")).json["data"]
    assert [d["id"] for d in after["defects"]["resolved"]] == [defect_id] and len(after["defects"]["open"]) == 1
    assert after["defects"]["resolved"][0]["note"] == "已重新抹灰，11 月 30 日复查合格"
    assert works.acceptance_summary(_db.session.get(Project, pid))["defects_open"] == 1
    assert verification.verify() == [] and works.verify_works() == []


def test_only_representatives_sign_only_in_acceptance_and_only_once(client, login, site):
    """Is signing refused to a resident, staff and a stranger, before the acceptance phase, and the
    second time (though a retry with the same Idempotency-Key gets the first back)?"""
    pid = site["project"]
    early = sign(client, login("rep0"), pid, status=409)
    assert early["code"] == "wrong_phase" and "「施工」" in early["message"]
    move(pid, "acceptance")
    assert sign(client, login("r0"), pid, status=403)["details"] == {"allowed_roles": ["representative"]}
    assert sign(client, login("committee"), pid, status=403)["code"] == "forbidden"
    assert sign(client, login("away"), pid, status=404)["code"] == "not_found"
    first = sign(client, login("rep0"), pid, key="acc-1")
    retry = sign(client, login("rep0"), pid, key="acc-1")
    assert retry["signatures"] == first["signatures"]
    assert sign(client, login("rep0"), pid, "fail", defects=["漏水"], key="acc-1", status=422)["code"] \
        == "idempotency_mismatch"
    second = sign(client, login("rep0"), pid, status=409)
    assert second["code"] == "already_signed"
    assert sign(client, login("rep1"), pid, "fail", defects=["网络赌博的广告贴满楼道"], status=422)["code"] == "content_risky"
    assert sign(client, login("rep1"), pid, signature="bm90", status=422)["code"] == "validation_error"
    _db.session.expire_all()
    assert _db.session.scalar(_db.select(_db.func.count(AcceptanceSignature.id))) == 1
    assert _db.session.scalar(_db.select(_db.func.count(Defect.id))) == 0
    entries = _db.session.scalars(_db.select(AuditEntry.kind).where(AuditEntry.chain == f"project:{pid}")).all()
    assert entries.count("acceptance_signed") == 1
    assert verification.verify() == [] and works.verify_works() == []


def test_edits_behind_the_applications_back_are_named(client, login, site):
    """Does verify_works name a signature's opinion, a defect, and a report's status or text edited in
    the database, and a report inserted without its entry?"""
    pid = site["project"]
    rid = report(client, login("r0"), pid)["id"]
    move(pid, "acceptance")
    sign(client, login("rep0"), pid, "fail", defects=["外墙空鼓"])
    assert works.verify_works() == []
    sql("UPDATE acceptance_signature SET opinion = 'pass'")
    assert [p.chain for p in works.verify_works()] == [f"project:{pid}"]
    sql("UPDATE acceptance_signature SET opinion = 'fail'")
    sql("UPDATE defect SET status = 'resolved'")
    assert "整改状态被改动" in works.verify_works()[0].what
    sql("UPDATE defect SET status = 'open'")
    sql("UPDATE site_report SET status = 'resolved' WHERE id = :id", id=rid)
    assert [p.chain for p in works.verify_works()] == [f"site_reports:{pid}"]
    sql("UPDATE site_report SET status = 'open', text = '改过的内容' WHERE id = :id", id=rid)
    assert "被改动" in works.verify_works()[0].what
    sql("UPDATE site_report SET text = '3栋东侧脚手架没有防护网，有掉落物' WHERE id = :id", id=rid)
    assert works.verify_works() == []
    user_id = factories.user("r1").id
    sql("INSERT INTO site_report (project_id, user_id, text, place, photo_ids, text_state, status, reopened, "
        "created_at) VALUES (:p, :u, '插入', '', '[]', 'visible', 'open', 0, '2026-01-01 00:00:00')", p=pid, u=user_id)
    assert "被插入" in works.verify_works()[0].what


# ---------------------------------------------------------------- at once (MariaDB)


@pytest.mark.skipif(not __import__("config").TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("mysql"),
                    reason="races need TEST_DATABASE_URL=mysql+pymysql://… (SQLite serialises writers)")
def test_reports_and_signatures_arriving_at_once_are_each_recorded_once(app, site):
    """On MariaDB: the first reports of a project (its chain not yet started) from 4 residents at
    once, one resident's retry racing itself with the same Idempotency-Key, and 5 representatives
    signing at once with 1 of them twice: every report once, one signature each, the chains whole."""
    from collections import Counter

    from tests.concurrency.harness import at_once, call, login_all, serve

    pid = site["project"]
    residents, reps = [f"r{i}" for i in range(4)], [f"rep{i}" for i in range(5)]
    with serve(app) as base:
        h = login_all(base, residents + reps)
        url = f"{base}/api/v1/projects/{pid}/reports"
        jobs = [lambda n=n: call("POST", url, headers=h[n], json={"text": f"{n} 反映", "place": {"text": "东门"}})
                for n in residents]
        jobs += [lambda: call("POST", url, headers={**h["r0"], "Idempotency-Key": "same"},
                              json={"text": "同一条", "place": {"text": "西门"}})] * 3
        filed = at_once(jobs)
        assert [s for s, _ in filed] == [201] * 7, filed
        assert len({b["data"]["id"] for _, b in filed[4:]}) == 1
        move(pid, "acceptance")
        url = f"{base}/api/v1/projects/{pid}/acceptance"
        signed = at_once([lambda n=n: call("POST", url, headers=h[n], json={"opinion": "pass", "signature": SIG})
                          for n in reps + ["rep0"]])
    assert Counter(s for s, _ in signed) == {201: 5, 409: 1}, signed
    _db.session.rollback()
    assert _db.session.scalar(_db.select(_db.func.count(SiteReport.id))) == 5
    assert _db.session.scalar(_db.select(_db.func.count(AcceptanceSignature.id))) == 5
    assert works.acceptance_passed(_db.session.get(Project, pid)) is True
    assert [str(p) for p in verification.verify()] == [] and works.verify_works() == []
