"""The console's forms for the other features without a browser: what a form types (yuan, rooms and
coefficients, held texts, defects) reaches the services as the API's bodies do, and a refusal changes
nothing."""
import re
from datetime import timedelta

from app.extensions import db as _db
from app.models import ContributionPlan, Defect, SurveyResponse
from app.models.places import utcnow
from app.services import projects as project_service
from app.services import surveys as survey_service
from tests import factories


def _signed_in(client, name):
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/console/dev-login", data={"name": name, "csrf_token": token}).status_code == 302
    return _token(client, "/console/")  # a new session, a new token


def _token(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def _plan_form(token, building, **extra):
    form = {"csrf_token": token, "title": "外墙保温", "scope": f"building:{building.id}",
            "closes_at": (utcnow() + timedelta(days=2, hours=8)).strftime("%Y-%m-%dT%H:%M"),
            "i0_name": "外墙保温", "i0_cost": "8000.25", "i0_standard": "flat_coefficient", "i0_required": "on",
            "methods": "direct", "required_items": "on"}
    form.update(extra)
    return form


def test_a_flat_coefficient_is_typed_by_room_and_money_in_yuan(client):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    factories.staff("form-chair", "committee", "compound", comp.id)
    _db.session.commit()
    building = comp.buildings[0]
    first, second = building.units[0].flats[:2]
    token = _signed_in(client, "form-chair")
    before = _db.session.scalar(_db.select(_db.func.count(ContributionPlan.id)))

    for bad, says in [({"i0_cost": "8千"}, "不是有效的金额"), ({"i0_coefs": "9栋9单元909:2"}, "没有找到房屋「9栋9单元909」"),
                      ({"i0_coefs": "1栋1单元101"}, "应写成 楼层:系数"), ({"i0_name": ""}, "请至少填写一个出资项目")]:
        page = client.post("/console/plans/new", data=_plan_form(token, building, **bad)).get_data(as_text=True)
        assert "表单有误，未创建" in page and says in page, bad
    assert _db.session.scalar(_db.select(_db.func.count(ContributionPlan.id))) == before

    room = f"1栋{building.units[0].name}{first.room}"
    done = client.post("/console/plans/new", data=_plan_form(token, building, i0_coefs=f"{room}:1.5", i0_default="1",
                                                             i0_subsidy_name="区财政", i0_subsidy="1000"))
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    plan = _db.session.scalar(_db.select(ContributionPlan).order_by(ContributionPlan.id.desc()))
    item = plan.items[0]
    assert item["cost_fen"] == 800_025 and item["subsidies"] == [{"name": "区财政", "amount_fen": 100_000}]
    assert item["standard"] == {"type": "flat_coefficient", "coefficients": {str(first.id): "1.5"}, "default": "1"}
    assert second.id != first.id


def test_a_held_survey_text_is_released_and_another_rejected_with_its_reason(client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    chair = factories.staff("held-chair", "committee", "compound", comp.id)
    flats = [f for u in comp.buildings[0].units for f in u.flats]
    for i in range(2):
        factories.resident(f"held-owner-{comp.id}-{i}", flats[i])
    survey = survey_service.create(chair, {"scope": {"type": "compound", "id": comp.id}, "kind": "other",
                                           "title": "意见征集", "closes_at": utcnow() + timedelta(days=1),
                                           "questions": [{"kind": "text", "text": "意见", "required": True}]})
    survey_service.open_(chair, survey.id)
    _db.session.commit()
    for i, text in enumerate(["有事加微信联系施工方", "可以私下交易吗"]):  # the emulator's msgSecCheck holds these
        resp = client.post(f"/api/v1/surveys/{survey.id}/responses", headers=login(f"held-owner-{comp.id}-{i}"),
                           json={"flat_id": flats[i].id, "answers": {"q1": text}})
        assert resp.status_code == 201 and resp.json["data"]["text_state"] == "held", resp.json
    _signed_in(client, "held-chair")
    page = client.get(f"/console/surveys/{survey.id}").get_data(as_text=True)
    assert "待审核的文字意见" in page and "可以私下交易吗" in page
    ids = [r.id for r in _db.session.scalars(_db.select(SurveyResponse).filter_by(survey_id=survey.id)
                                             .order_by(SurveyResponse.id))]
    token = _token(client, f"/console/surveys/{survey.id}")
    assert client.post(f"/console/survey-responses/{ids[0]}/release", data={"csrf_token": token}).status_code == 302
    empty = client.post(f"/console/survey-responses/{ids[1]}/reject", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 422 and "原因" in empty.get_data(as_text=True)
    assert client.post(f"/console/survey-responses/{ids[1]}/reject",
                       data={"csrf_token": token, "reason": "含联系方式"}).status_code == 302
    _db.session.expire_all()
    states = [_db.session.get(SurveyResponse, i).text_state for i in ids]
    assert states == ["visible", "rejected"]
    assert "有事加微信联系施工方" in client.get(f"/console/surveys/{survey.id}").get_data(as_text=True)


def test_a_defect_is_resolved_with_a_note_and_a_grid_worker_cannot(client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 1),))
    chair = factories.staff("defect-chair", "committee", "compound", comp.id)
    factories.staff("defect-gw", "grid_worker", "grid", factories.grid(comp, comp.buildings).id)
    factories.staff("defect-rep", "representative", "compound", comp.id)
    project = project_service.create(chair, {"compound_id": comp.id, "title": "改造", "budget_fen": 100,
                                             "items": [{"name": "外墙", "level": "basic"}]})
    for phase in ("plan", "funding", "works", "acceptance"):
        project_service._enter(project, phase, chair, "测试")
    _db.session.commit()
    signed = client.post(f"/api/v1/projects/{project.id}/acceptance", headers=login("defect-rep"),
                         json={"opinion": "fail", "defects": ["北墙抹灰空鼓"], "signature": factories.signature_png()})
    assert signed.status_code == 201, signed.json
    defect = _db.session.scalar(_db.select(Defect).filter_by(project_id=project.id))

    gw = _signed_in(client, "defect-gw")
    page = client.get(f"/console/projects/{project.id}").get_data(as_text=True)
    assert "北墙抹灰空鼓" in page and "确认已整改" not in page
    refused = client.post(f"/console/defects/{defect.id}/resolve", data={"csrf_token": gw, "note": "已修"})
    assert refused.status_code == 403 and "确认缺陷已整改" in refused.get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": gw})

    token = _signed_in(client, "defect-chair")
    done = client.post(f"/console/defects/{defect.id}/resolve", data={"csrf_token": token, "note": "已重新抹灰"})
    assert done.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Defect, defect.id).status == "resolved"
    assert "已重新抹灰" in client.get(f"/console/projects/{project.id}").get_data(as_text=True)
