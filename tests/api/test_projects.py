"""Renovation projects: phases only forward, each on its condition; the consultation on the plan moves
the project when it passes; the story residents see; the chain that records every phase."""
import pytest

from app.extensions import db as _db
from app.models import Project, ProjectPhase
from app.services import consultations, verification
from tests import factories
from tests.tamper import owned_compound, sign


@pytest.fixture()
def place(app, db):
    """4 flats, each with its bound owner dev-o<i>, and the committee member dev-committee."""
    return owned_compound((("1栋", 1, 2, 2),))


def _create(client, headers, comp, **extra):
    body = {"compound_id": comp.id, "title": "阳光里小区综合改造", "body": "管网、外墙、加装电梯",
            "items": [{"name": "雨污分流", "level": "basic"}, {"name": "加装电梯", "level": "improvement"},
                      {"name": "智慧安防", "level": "enhancement"}],
            "budget_fen": 350_000_000, **extra}
    resp = client.post("/api/v1/projects", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def _phase(client, headers, project_id, phase, reason=""):
    return client.post(f"/api/v1/projects/{project_id}/phase", json={"phase": phase, "reason": reason}, headers=headers)


def test_a_project_cannot_skip_a_phase_or_go_back(client, login, place):
    comp, _ = place
    staff = login("committee")
    project = _create(client, staff, comp)
    assert project["phase"] == "survey" and project["phases"][0]["entered_at"]
    skip = _phase(client, staff, project["id"], "funding")
    assert skip.status_code == 409 and skip.json["error"]["code"] == "phase_order"
    assert "下一阶段为「方案征询」" in skip.json["error"]["message"]
    assert _phase(client, staff, project["id"], "plan").status_code == 200  # no needs survey linked
    back = _phase(client, staff, project["id"], "survey")
    assert back.status_code == 409 and back.json["error"]["code"] == "phase_order"
    waiting = _phase(client, staff, project["id"], "funding")
    assert waiting.status_code == 409 and waiting.json["error"]["code"] == "condition_unmet"
    assert "方案征询" in waiting.json["error"]["message"]
    _db.session.expire_all()
    assert _db.session.get(Project, project["id"]).phase == "plan"
    assert [r.phase for r in _db.session.scalars(_db.select(ProjectPhase).where(
        ProjectPhase.project_id == project["id"]).order_by(ProjectPhase.id))] == ["survey", "plan"]
    assert verification.verify() == []


def test_the_project_moves_on_when_its_plan_consultation_passes(client, login, place):
    comp, flats = place
    staff = login("committee")
    committee = factories.user("committee")
    c = factories.consultation(("compound", comp), by=committee)
    _db.session.commit()
    project = _create(client, staff, comp, plan_consultation_id=c.id)
    assert _phase(client, staff, project["id"], "plan").status_code == 200
    for i, flat in enumerate(flats):
        sign(client, login, c.id, i, flat)
    assert _phase(client, staff, project["id"], "funding").json["error"]["message"].endswith("尚未截止计票")
    closed = client.post(f"/api/v1/consultations/{c.id}/close", headers=staff)
    assert closed.status_code == 200 and closed.json["data"]["passed"] is True
    story = client.get(f"/api/v1/projects/{project['id']}", headers=login("o1")).json["data"]
    assert story["phase"] == "funding"
    funding = next(p for p in story["phases"] if p["phase"] == "funding")
    assert funding["by_system"] is True and "已通过" in funding["reason"]
    assert story["next"] == {"phase": "works", "name": "施工", "condition": "出资方案已达成（如有）", "met": True,
                             "status": "未关联出资方案"}
    assert verification.verify() == []


def test_a_failed_consultation_leaves_the_project_where_it_is(client, login, place):
    comp, flats = place
    staff = login("committee")
    c = factories.consultation(("compound", comp), by=factories.user("committee"))
    _db.session.commit()
    project = _create(client, staff, comp, plan_consultation_id=c.id)
    _phase(client, staff, project["id"], "plan")
    sign(client, login, c.id, 0, flats[0], choice="disagree")
    client.post(f"/api/v1/consultations/{c.id}/close", headers=staff)
    _db.session.expire_all()
    assert _db.session.get(Project, project["id"]).phase == "plan"
    refused = _phase(client, staff, project["id"], "funding")
    assert refused.status_code == 409 and "未通过" in refused.json["error"]["message"]


def test_works_complete_needs_a_reason_and_only_managers_move_phases(client, login, place):
    comp, _ = place
    staff = login("committee")
    project = _create(client, staff, comp)
    pid = project["id"]
    comp_flats = [f for b in comp.buildings for u in b.units for f in u.flats]
    c = factories.consultation(("compound", comp), by=factories.user("committee"))
    _db.session.commit()
    assert client.post(f"/api/v1/projects/{pid}/links", json={"plan_consultation_id": c.id}, headers=staff).status_code == 200
    _phase(client, staff, pid, "plan")
    for i, flat in enumerate(comp_flats):
        sign(client, login, c.id, i, flat)
    consultations.close(c.id)  # as the scheduler does at the deadline
    _db.session.commit()
    story = client.get(f"/api/v1/projects/{pid}", headers=staff).json["data"]
    assert story["phase"] == "funding"
    assert _phase(client, staff, pid, "works").status_code == 200
    assert _phase(client, staff, pid, "acceptance").status_code == 422  # say how the works ended
    resident = _phase(client, login("o0"), pid, "acceptance", "完工")
    assert resident.status_code == 404  # a resident is no manager, and learns nothing
    done = _phase(client, staff, pid, "acceptance", "主体工程已于 11 月 20 日完工")
    assert done.status_code == 200 and done.json["data"]["phases"][4]["reason"] == "主体工程已于 11 月 20 日完工"
    relink = client.post(f"/api/v1/projects/{pid}/links", json={"plan_consultation_id": c.id + 1000}, headers=staff)
    assert relink.status_code == 409 and relink.json["error"]["code"] == "phase_passed"


def test_a_phase_edited_in_the_database_is_named_by_audit_verify(client, login, place):
    comp, _ = place
    project = _create(client, login("committee"), comp)
    with _db.engine.begin() as conn:
        conn.execute(Project.__table__.update().where(Project.__table__.c.id == project["id"]).values(phase="done"))
    problems = verification.verify()
    assert [p.chain for p in problems] == [f"project:{project['id']}"] and "阶段被改动" in problems[0].what


def test_residents_of_another_compound_see_nothing(client, login, place):
    comp, _ = place
    project = _create(client, login("committee"), comp)
    other = factories.compound()
    factories.resident("elsewhere", other.buildings[0].units[0].flats[0])
    _db.session.commit()
    assert client.get(f"/api/v1/projects/{project['id']}", headers=login("elsewhere")).status_code == 404
    mine = client.get(f"/api/v1/projects?flat_id={other.buildings[0].units[0].flats[0].id}", headers=login("elsewhere"))
    assert mine.status_code == 200 and mine.json["data"] == []


def test_supervisors_and_representatives_without_a_flat_follow_the_compound_s_projects(client, login, place):
    comp, _ = place
    project = _create(client, login("committee"), comp)
    factories.staff("supervisor-only", "supervisor", "compound", comp.id)
    factories.staff("rep-elsewhere", "representative", "compound", factories.compound().id)
    _db.session.commit()
    supervisor = login("supervisor-only")
    assert [p["id"] for p in client.get("/api/v1/projects", headers=supervisor).json["data"]] == [project["id"]]
    assert client.get(f"/api/v1/projects/{project['id']}", headers=supervisor).status_code == 200
    assert _phase(client, supervisor, project["id"], "plan").status_code == 403  # follows, does not manage
    other = login("rep-elsewhere")
    assert client.get(f"/api/v1/projects/{project['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/projects", headers=other).json["data"] == []
