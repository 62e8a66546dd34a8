"""Can anyone reach an object that is someone else's? A walk over every API route with an id."""
import pytest

from app.extensions import db as _db
from app.models import Binding, Blob, Defect, ExportJob, InboxItem, Objection
from app.services import ballots as ballot_service
from tests import factories

# Routes whose object is public by design, and why.
PUBLIC = {
    "/api/v1/scan/<scene>": "the scene is printed on the building's door; the answer holds rooms and floors only",
    "/api/v1/receipts/<code>": "a receipt code is the holder's proof; it shows a room and a choice, no names",
    # The console's sign-in ticket is no one's object: whoever holds it stands at the console that shows
    # it, and any staff member may sign that console in as themselves (residents 403, nobody 401:
    # tests/console/test_tickets_and_forms.py). It is unguessable, two minutes long, used once.
    "/api/v1/console-tickets/<ticket>": "a console's own QR code, confirmed by whoever is signing in at it",
    "/api/v1/console-tickets/<ticket>/confirm": "a console's own QR code, confirmed by whoever is signing in at it",
}


@pytest.fixture()
def world(app, db, client, login):
    """Victim: a resident of building 1 with a pending binding. Intruders: a resident of building 2,
    the grid worker of building 2's grid, a committee member of another compound, and nobody."""
    comp = factories.compound(buildings=(("1栋", 1, 2, 2), ("2栋", 1, 2, 2)))
    other = factories.compound()
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    gw1 = factories.staff("gw1", "grid_worker", "grid", g1.id)
    factories.staff("gw2", "grid_worker", "grid", g2.id)
    factories.staff("othercommittee", "committee", "compound", other.id)
    _db.session.commit()
    victim = login("victim")
    flat1 = b1.units[0].flats[0]
    resp = client.post("/api/v1/bindings", headers=victim, json={"flat_id": flat1.id, "relation": "tenant", "name": "甲"})
    intruder_flat = b2.units[0].flats[0]
    intruder = login("intruder")
    client.post("/api/v1/bindings", headers=intruder, json={
        "flat_id": intruder_flat.id, "relation": "owner", "name": intruder_flat.owner.name,
        "phone_last4": intruder_flat.owner.phone[-4:]})
    c = factories.consultation(("building", b1))
    paper = ballot_service.enter_paper(gw1, c.id, b1.units[0].flats[1].id, "agree", factories.signature_png())
    item = InboxItem(user_id=factories.user("victim").id, title="停水通知", body="明日停水")
    _db.session.add(item)
    from datetime import timedelta

    from app.models.places import utcnow
    from app.services import notices

    publicity, _, _ = notices.create(gw1, {"kind": "publicity", "scope": {"type": "building", "id": b1.id},
                                           "title": "公示", "body": "公示",
                                           "period": {"start": utcnow(), "end": utcnow() + timedelta(days=7)}})
    job = ExportJob(consultation_id=c.id, format="xlsx", status="done", progress=100)  # an evidence export
    _db.session.add(job)
    photo = Blob(sha256="0" * 64, mimetype="image/png", data=b"\x89PNG")
    _db.session.add(photo)
    _db.session.flush()
    objection = Objection(notice_id=publicity.id, user_id=factories.user("victim").id, flat_id=flat1.id,
                          kind="objection", text="反对", check="review", status="held", photo_id=photo.id)
    _db.session.add(objection)
    plan, pledge, payment = _plan_world(b1, gw1)
    proxy_id = _proxy_world(b1, gw1, c)  # a paper proxy (issue 15)
    works_ids = _works_world()  # site reports and acceptance
    survey_ids = _survey_world(b1)  # surveys
    _db.session.commit()
    world_flat = flat1.id
    lines = [{"item": "lift", "method": "direct"}]
    return {
        "ids": {"binding_id": resp.json["data"]["id"], "building_id": b1.id, "consultation_id": c.id,
                "ballot_id": paper.id, "flat_id": world_flat, "item_id": item.id, "notice_id": publicity.id,
                "objection_id": objection.id, "plan_id": plan.id, "pledge_id": pledge.id, "payment_id": payment.id, "proxy_id": proxy_id, "job_id": job.id,
                **works_ids, **survey_ids},
        "bodies": {
            "/ballots": {"flat_id": world_flat, "choice": "agree", "signature": factories.signature_png()},
            "/paper-ballots": {"flat_id": world_flat, "choice": "agree", "photo": factories.signature_png()},
            "/objections": {"flat_id": world_flat, "kind": "objection", "text": "试探"},
            "/answer": {"answer": "试探"},
            "/pledges": {"flat_id": world_flat, "lines": lines, "signature": factories.signature_png()},
            "/paper-pledges": {"flat_id": world_flat, "lines": lines, "photo": factories.signature_png()},
            "/payments": {"amount_fen": 1, "method": "direct", "paid_on": "2026-01-01"},
            "/refunds": {"amount_fen": 1, "method": "direct", "paid_on": "2026-01-01"},
            "/phase": {"phase": "plan", "reason": "试探"},
            "/links": {},
            "/reports": {"text": "试探", "place": {"text": "门口"}},
            "/acceptance": {"opinion": "pass", "signature": factories.signature_png()},
            "/resolve": {"note": "试探"},
            "/responses": {"flat_id": world_flat, "answers": {"quality": 1}},
        },
        "intruders": {
            "anonymous": {},
            "resident of another building": intruder,
            "grid worker of another grid": login("gw2"),
            "committee of another compound": login("othercommittee"),
        },
        "owner_of_objects": {"victim": victim, "gw1": login("gw1")},
    }


def _plan_world(building, grid_worker):
    """A plan over the victim's building, an owner's pledge on it and a payment with its photo."""
    from datetime import date, timedelta

    from app.models.places import utcnow
    from app.services import plans, pledges

    admin = factories.staff("plan-admin", "admin")
    plan = plans.create(admin, {"scope": {"type": "building", "id": building.id}, "title": "电梯出资",
                                "items": [{"key": "lift", "name": "电梯", "required": True, "cost_fen": 100_000,
                                           "standard": {"type": "fixed"}}],
                                "methods": ["direct"], "closes_at": utcnow() + timedelta(days=3)})
    plans.open_(admin, plan.id)
    flat = building.units[0].flats[1]
    owner = factories.resident("plan-victim", flat)
    pledge = pledges.sign(owner, plan.id, flat.id, [{"item": "lift", "method": "direct"}], factories.signature_png())
    payment = pledges.record(admin, pledge.id, "payment", {"amount_fen": 100, "method": "direct",
                                                            "paid_on": date(2026, 11, 1), "photo": factories.signature_png()})
    pledges.enter_paper(grid_worker, plan.id, building.units[0].flats[0].id, [{"item": "lift", "method": "direct"}],
                        factories.signature_png())
    return plan, pledge, payment


def _proxy_world(building, grid_worker, consultation):
    """A paper proxy on the victim's building, entered by its grid worker for the plan's bound owner."""
    from app.services import proxies

    holder = factories.user("plan-victim")
    name = _db.session.scalar(_db.select(Binding.name).filter_by(user_id=holder.id))
    proxy = proxies.enter_paper(grid_worker, {"flat_id": building.units[0].flats[2].id, "proxy_user_id": holder.id,
                                              "proxy_name": name, "scope": {"type": "consultation", "id": consultation.id},
                                              "photo": factories.signature_png()})
    return proxy.id


def _works_world():
    """A project in acceptance in a compound of its own (none of the intruders' scope): a resident's
    site report with a photo, a representative's failing signature with a defect. Its ids."""
    from app.models.projects import PHASES
    from app.services import projects, works

    comp = factories.compound(buildings=(("1栋", 1, 1, 1),))
    committee = factories.staff("works-committee", "committee", "compound", comp.id)
    rep = factories.staff("works-rep", "representative", "compound", comp.id)
    reporter = factories.resident("works-victim", comp.buildings[0].units[0].flats[0])
    project = projects.create(committee, {"compound_id": comp.id, "title": "改造", "items": [], "budget_fen": 0})
    for phase in PHASES[1:PHASES.index("acceptance") + 1]:
        projects._enter(project, phase, committee, "测试")
    report, _ = works.file_report(reporter, project.id, {"text": "楼道堆放建材", "place": {"text": "1栋门口"},
                                                         "photos": [factories.signature_png()]})
    works.sign_acceptance(rep, project.id, {"opinion": "fail", "defects": ["外墙空鼓"], "signature": factories.signature_png()})
    defect = _db.session.scalar(_db.select(Defect).where(Defect.project_id == project.id))
    return {"project_id": project.id, "report_id": report.id, "n": 1, "defect_id": defect.id}


def _survey_world(building):
    """An open survey of the victim's building and a flat's answer with a held comment. Its ids."""
    from datetime import timedelta

    from app.models import SurveyResponse
    from app.models.places import utcnow
    from app.services import surveys

    committee = factories.staff("survey-committee", "committee", "compound", building.compound_id)
    survey = surveys.create(committee, {"scope": {"type": "building", "id": building.id}, "kind": "satisfaction",
                                        "title": "满意度评价", "closes_at": utcnow() + timedelta(days=3)})
    surveys.open_(committee, survey.id)
    flat = building.units[0].flats[1]
    response = SurveyResponse(survey_id=survey.id, flat_id=flat.id, user_id=factories.user("plan-victim").id,
                              answers={"quality": 5, "comment": "加微信"}, current=True, text_state="held")
    _db.session.add(response)
    _db.session.flush()
    return {"survey_id": survey.id, "survey_response_id": response.id}


def id_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.arguments and rule.rule not in PUBLIC:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_every_object_route_refuses_strangers(app, client, world):
    """Does every route with an object id answer 401/403/404 to each intruder, and change nothing?"""
    walked = 0
    before = [(b.id, b.status) for b in _db.session.scalars(_db.select(Binding).order_by(Binding.id))]
    for rule, method in id_routes(app):
        missing = set(rule.arguments) - set(world["ids"])
        assert not missing, f"{rule.rule}: give the walk a victim's object for {missing}"
        url = rule.rule
        for arg, value in world["ids"].items():
            url = url.replace(f"<int:{arg}>", str(value)).replace(f"<{arg}>", str(value))
        for who, headers in world["intruders"].items():
            body = next((b for end, b in world["bodies"].items() if rule.rule.endswith(end)), {"reason": "试探"})
            resp = client.open(url, method=method, headers=headers, json=body if method != "GET" else None)
            allowed = (401,) if who == "anonymous" else (403, 404)
            assert resp.status_code in allowed, f"{who} {method} {url} → {resp.status_code}"
            assert "error" in resp.json
            walked += 1
    _db.session.expire_all()
    after = [(b.id, b.status) for b in _db.session.scalars(_db.select(Binding).order_by(Binding.id))]
    assert after == before
    assert walked >= 4 * 6  # bindings show/approve/reject/delete, qrcode, poster


def test_the_rightful_people_do_get_through(client, world):
    """Do the victim and the right grid worker reach the same objects (so the walk is not vacuous)?"""
    bid = world["ids"]["binding_id"]
    assert client.get(f"/api/v1/bindings/{bid}", headers=world["owner_of_objects"]["victim"]).status_code == 200
    worker = world["owner_of_objects"]["gw1"]
    assert client.get(f"/api/v1/bindings/{bid}", headers=worker).status_code == 200
    png = client.get(f"/api/v1/buildings/{world['ids']['building_id']}/qrcode.png", headers=worker)
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_staff_lists_are_staff_only(client, world):
    """Is the review queue refused to a resident and to nobody, and empty for another grid's worker?"""
    assert client.get("/api/v1/bindings", headers=world["intruders"]["resident of another building"]).status_code == 403
    assert client.get("/api/v1/bindings").status_code == 401
    other = world["intruders"]["grid worker of another grid"]
    assert client.get("/api/v1/bindings", headers=other).json["data"] == []
