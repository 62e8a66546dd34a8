"""Every list the API serves costs a constant number of SQL statements, whatever its length (issue
13): each test builds the same world twice, once with 1 and once with 20 items (each item on a place
of its own where the list could load places one by one), asks for the list as its reader would, and
counts the statements the request sends to the database. The two counts must be equal."""
import contextlib
import itertools
from datetime import date, timedelta

from sqlalchemy import event

from app.extensions import db as _db
from app.models import Binding, Flat, InboxItem
from app.models.places import utcnow
from tests import factories

_worlds = itertools.count(1)


@contextlib.contextmanager
def statements():
    """The SQL statements the engine sends while the block runs (each as its text)."""
    sent = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)


def statements_for(client, login, who, url):
    """The statements one GET sends, from a cold session as a real request has; and its data."""
    headers = login(who)
    _db.session.remove()  # the test client shares the app context's session: start it empty
    with statements() as sent:
        resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return sent, resp.json["data"]


def assert_constant(client, login, build, size=len, sizes=(1, 20)):
    """build(n, tag) makes a world with n items and returns (who, url) of the list to read; the list
    must hold n items (size tells how to count them) and cost as many statements at 1 as at 20 (or
    at the sizes given)."""
    seen = {}
    small, large = sizes
    for n in sizes:
        tag = f"sc{next(_worlds)}"
        who, url = build(n, tag)
        _db.session.commit()
        sent, data = statements_for(client, login, who, url)
        assert size(data) == n, (url, size(data), n)
        seen[n] = sent
    assert len(seen[small]) == len(seen[large]), (
        f"{len(seen[small])} statements for {small} items, {len(seen[large])} for {large}; the {large}-item request sent:\n"
        + "\n".join(s.split("\n")[0][:160] for s in seen[large]))
    return len(seen[small])


def compounds_of_one_street(n):
    """n compounds, each of its own community, under one street (and one district-less tree)."""
    comps = [factories.compound(buildings=(("1栋", 1, 1, 2),)) for _ in range(n)]
    street = comps[0].community.street
    for comp in comps[1:]:
        comp.community.street = street
    _db.session.flush()
    return comps, street


def building_of(n, tag, units=1, floors=1, per_floor=2):
    comp = factories.compound(buildings=((f"{tag}栋", units, floors, per_floor),))
    return comp, comp.buildings[0]


# ---------------------------------------------------------------- consultations


def _publish(consultation, by):
    from app.services import consultations

    consultations.close(consultation.id, user=by)
    consultations.publish(by, consultation.id)


def test_a_residents_consultation_list_costs_the_same_for_1_and_20(client, login):
    """Each consultation published or open, each with the flat's ballot: results and ballots in bulk."""
    from app.services import ballots

    def build(n, tag):
        comp, building = building_of(n, tag)
        committee = factories.staff(f"{tag}-committee", "committee", "compound", comp.id)
        flat = building.units[0].flats[0]
        resident = factories.resident(f"{tag}-owner", flat)
        for i in range(n):
            c = factories.consultation(("unit", building.units[0]) if i % 2 else ("building", building), by=committee)
            ballots.sign(resident.id, c.id, flat.id, "agree", factories.signature_png())
            if i % 3 == 0:
                _publish(c, committee)
        return f"{tag}-owner", f"/api/v1/consultations?flat_id={flat.id}"

    assert_constant(client, login, build)


def test_a_street_officers_consultation_list_costs_the_same_for_1_and_20(client, login):
    """One consultation in each of n compounds of the street: scope checks in bulk, not per compound."""
    def build(n, tag):
        comps, street = compounds_of_one_street(n)
        factories.staff(f"{tag}-street", "street_officer", "street", street.id)
        for i, comp in enumerate(comps):
            c = factories.consultation(("compound", comp) if i % 2 else ("building", comp.buildings[0]))
            if i % 3 == 0:
                _publish(c, factories.staff(f"{tag}-admin{i}", "admin"))
        return f"{tag}-street", "/api/v1/consultations"

    assert_constant(client, login, build)


def test_a_grid_workers_consultation_list_costs_the_same_for_1_and_20(client, login):
    def build(n, tag):
        comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n)))
        grid = factories.grid(comp, comp.buildings)
        factories.staff(f"{tag}-grid", "grid_worker", "grid", grid.id)
        for i, building in enumerate(comp.buildings):
            factories.consultation(("unit", building.units[0]) if i % 2 else ("building", building))
        factories.consultation(("building", factories.compound().buildings[0]))  # elsewhere: not listed
        return f"{tag}-grid", "/api/v1/consultations"

    assert_constant(client, login, build)


def test_pending_flats_of_a_consultation_cost_the_same_for_1_and_20(client, login):
    """n flats without a ballot (and one with), each in a building of its own."""
    from app.services import ballots

    def build(n, tag):
        comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n + 1)))
        grid = factories.grid(comp, comp.buildings)
        factories.staff(f"{tag}-grid", "grid_worker", "grid", grid.id)
        c = factories.consultation(("compound", comp))
        voter = comp.buildings[-1].units[0].flats[0]
        ballots.sign(factories.resident(f"{tag}-voter", voter).id, c.id, voter.id, "agree", factories.signature_png())
        return f"{tag}-grid", f"/api/v1/consultations/{c.id}/pending-flats"

    assert_constant(client, login, build)


# ---------------------------------------------------------------- bindings


def test_the_binding_review_queue_costs_the_same_for_1_and_20(client, login):
    """n pending bindings by n people on flats of n buildings."""
    def build(n, tag):
        comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n)))
        grid = factories.grid(comp, comp.buildings)
        factories.staff(f"{tag}-grid", "grid_worker", "grid", grid.id)
        for i, building in enumerate(comp.buildings):
            flat = building.units[0].flats[0]
            _db.session.add(Binding(user=factories.user(f"{tag}-applicant{i}"), flat=flat, relation="tenant",
                                    name="租户", status="pending"))
        _db.session.flush()
        return f"{tag}-grid", "/api/v1/bindings?status=pending"

    assert_constant(client, login, build)


def test_locked_flats_cost_the_same_for_1_and_20(client, login):
    def build(n, tag):
        comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n)))
        factories.staff(f"{tag}-community", "community_staff", "community", comp.community_id)
        for building in comp.buildings:
            _db.session.get(Flat, building.units[0].flats[0].id).binding_locked_at = utcnow()
        return f"{tag}-community", "/api/v1/bindings/locked-flats"

    assert_constant(client, login, build)


# ---------------------------------------------------------------- contribution plans


def _plan(by, scope, open_=True):
    from app.services import plans

    plan = plans.create(by, {"scope": {"type": scope[0], "id": scope[1].id}, "title": "电梯出资",
                             "items": [{"key": "lift", "name": "电梯", "required": True, "cost_fen": 100_000,
                                        "standard": {"type": "fixed"}}],
                             "methods": ["direct"], "closes_at": utcnow() + timedelta(days=3)})
    if open_:
        plans.open_(by, plan.id)
    return plan


LINES = [{"item": "lift", "method": "direct"}]


def test_a_residents_plan_list_costs_the_same_for_1_and_20(client, login):
    from app.services import pledges

    def build(n, tag):
        comp, building = building_of(n, tag)
        admin = factories.staff(f"{tag}-admin", "admin")
        flat = building.units[0].flats[0]
        owner = factories.resident(f"{tag}-owner", flat)
        for i in range(n):
            plan = _plan(admin, ("unit", building.units[0]) if i % 2 else ("building", building))
            if i % 3 == 0:
                pledges.sign(owner, plan.id, flat.id, LINES, factories.signature_png())
        return f"{tag}-owner", f"/api/v1/plans?flat_id={flat.id}"

    assert_constant(client, login, build)


def test_a_street_officers_plan_list_costs_the_same_for_1_and_20(client, login):
    def build(n, tag):
        comps, street = compounds_of_one_street(n)
        factories.staff(f"{tag}-street", "street_officer", "street", street.id)
        admin = factories.staff(f"{tag}-admin", "admin")
        for i, comp in enumerate(comps):
            _plan(admin, ("compound", comp) if i % 2 else ("building", comp.buildings[0]), open_=i % 3 != 1)
        return f"{tag}-street", "/api/v1/plans"

    assert_constant(client, login, build)


def _plan_with_owners(n, tag):
    """A plan over a compound of n one-flat buildings, each flat with its own bound owner."""
    comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n + 1)))
    grid = factories.grid(comp, comp.buildings)
    factories.staff(f"{tag}-grid", "grid_worker", "grid", grid.id)
    factories.staff(f"{tag}-treasurer", "treasurer", "compound", comp.id)
    admin = factories.staff(f"{tag}-admin", "admin")
    plan = _plan(admin, ("compound", comp))
    flats = [b.units[0].flats[0] for b in comp.buildings]
    owners = [factories.resident(f"{tag}-owner{i}", f) for i, f in enumerate(flats)]
    return comp, plan, flats, owners, admin


def test_pending_flats_of_a_plan_cost_the_same_for_1_and_20(client, login):
    from app.services import pledges

    def build(n, tag):
        comp, plan, flats, owners, admin = _plan_with_owners(n, tag)
        pledges.sign(owners[-1], plan.id, flats[-1].id, LINES, factories.signature_png())
        return f"{tag}-grid", f"/api/v1/plans/{plan.id}/pending-flats"

    assert_constant(client, login, build)


def test_a_plans_pledges_with_payments_cost_the_same_for_1_and_20(client, login):
    from app.services import pledges

    def build(n, tag):
        comp, plan, flats, owners, admin = _plan_with_owners(n, tag)
        for i in range(n):
            pledge = pledges.sign(owners[i], plan.id, flats[i].id, LINES, factories.signature_png())
            for day in (1, 2):
                pledges.record(admin, pledge.id, "payment", {"amount_fen": 100, "method": "direct",
                                                             "paid_on": date(2026, 11, day),
                                                             "photo": factories.signature_png()})
        return f"{tag}-treasurer", f"/api/v1/plans/{plan.id}/pledges"

    assert_constant(client, login, build)


def test_a_plans_paper_pledges_cost_the_same_for_1_and_20(client, login):
    from app.services import pledges

    def build(n, tag):
        comp, plan, flats, owners, admin = _plan_with_owners(n, tag)
        worker = factories.user(f"{tag}-grid")
        for i in range(n):
            pledges.enter_paper(worker, plan.id, flats[i].id, LINES, factories.signature_png())
        return f"{tag}-grid", f"/api/v1/plans/{plan.id}/paper-pledges"

    assert_constant(client, login, build)


def test_my_pledges_cost_the_same_for_1_and_20(client, login):
    """One owner of n flats, each pledged under its own plan."""
    from app.services import pledges

    def build(n, tag):
        comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n)))
        admin = factories.staff(f"{tag}-admin", "admin")
        owner = factories.user(f"{tag}-owner")
        for building in comp.buildings:
            flat = building.units[0].flats[0]
            factories.bind_owner(owner, flat)
            plan = _plan(admin, ("building", building))
            pledges.sign(owner, plan.id, flat.id, LINES, factories.signature_png())
        return f"{tag}-owner", "/api/v1/pledges"

    assert_constant(client, login, build)


# ---------------------------------------------------------------- notices, inbox, outbox


def _notice(by, scope):
    from app.services import notices

    notice, _, _ = notices.create(by, {"kind": "notice", "scope": {"type": scope[0], "id": scope[1].id},
                                       "title": "停水通知", "body": "明日停水"})
    return notice


def test_a_street_officers_notices_cost_the_same_for_1_and_20(client, login):
    def build(n, tag):
        comps, street = compounds_of_one_street(n)
        officer = factories.staff(f"{tag}-street", "street_officer", "street", street.id)
        for i, comp in enumerate(comps):
            _notice(officer, ("compound", comp) if i % 2 else ("building", comp.buildings[0]))
        return f"{tag}-street", "/api/v1/notices"

    assert_constant(client, login, build)


def test_an_inbox_costs_the_same_for_1_and_20(client, login):
    """n items: notices (some of them 公示) and pushed copies."""
    from app.services import notices

    def build(n, tag):
        comp, building = building_of(n, tag)
        factories.resident(f"{tag}-owner", building.units[0].flats[0])
        committee = factories.staff(f"{tag}-committee", "committee", "compound", comp.id)
        for i in range(n):
            if i % 2:
                _db.session.add(InboxItem(user_id=factories.user(f"{tag}-owner").id, title="提醒", body="请表决"))
            else:
                notices.create(committee, {"kind": "publicity", "scope": {"type": "building", "id": building.id},
                                           "title": "公示", "body": "公示",
                                           "period": {"start": utcnow(), "end": utcnow() + timedelta(days=7)}})
        return f"{tag}-owner", "/api/v1/inbox"

    assert_constant(client, login, build, size=lambda data: len(data["items"]))


def test_the_outbox_costs_the_same_for_1_and_20(client, login):
    """n messages about flats of n buildings."""
    from app.services import outbox

    def build(n, tag):
        comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n)))
        factories.staff(f"{tag}-community", "community_staff", "community", comp.community_id)
        for i, building in enumerate(comp.buildings):
            flat = building.units[0].flats[0]
            person = factories.resident(f"{tag}-owner{i}", flat)
            outbox.enqueue(person.id, "notice", {"thing1": "停水", "name2": "社区", "time3": utcnow()},
                           dedupe_key=f"{tag}:{i}", flat_id=flat.id, subject=f"test:{tag}")
        return f"{tag}-community", "/api/v1/outbox"

    assert_constant(client, login, build)


# ---------------------------------------------------------------- surveys, projects, site reports


def _survey(by, scope):
    from app.services import surveys

    survey = surveys.create(by, {"scope": {"type": scope[0], "id": scope[1].id}, "kind": "satisfaction",
                                 "title": "满意度评价", "closes_at": utcnow() + timedelta(days=3)})
    surveys.open_(by, survey.id)
    return survey


def test_a_street_officers_surveys_cost_the_same_for_1_and_20(client, login):
    def build(n, tag):
        comps, street = compounds_of_one_street(n)
        factories.staff(f"{tag}-street", "street_officer", "street", street.id)
        admin = factories.staff(f"{tag}-admin", "admin")
        for i, comp in enumerate(comps):
            _survey(admin, ("compound", comp) if i % 2 else ("building", comp.buildings[0]))
        return f"{tag}-street", "/api/v1/surveys"

    assert_constant(client, login, build)


def test_a_residents_surveys_cost_the_same_for_1_and_20(client, login):
    from app.services import surveys

    def build(n, tag):
        comp, building = building_of(n, tag)
        admin = factories.staff(f"{tag}-admin", "admin")
        flat = building.units[0].flats[0]
        owner = factories.resident(f"{tag}-owner", flat)
        for i in range(n):
            survey = _survey(admin, ("unit", building.units[0]) if i % 2 else ("building", building))
            if i % 3 == 0:
                surveys.respond(owner, survey.id, flat.id, {k: 4 for k in ("quality", "site_management", "environment", "management", "overall")})
        return f"{tag}-owner", f"/api/v1/surveys?flat_id={flat.id}"

    assert_constant(client, login, build)


def test_a_projects_site_reports_cost_the_same_for_1_and_20(client, login):
    """n reports by n residents, each about a unit of a building of its own."""
    from app.models.projects import PHASES
    from app.services import projects, works

    def build(n, tag):
        comp = factories.compound(buildings=tuple((f"{i}栋", 1, 1, 1) for i in range(n)))
        committee = factories.staff(f"{tag}-committee", "committee", "compound", comp.id)
        project = projects.create(committee, {"compound_id": comp.id, "title": "改造", "items": [], "budget_fen": 0})
        for phase in PHASES[1:PHASES.index("works") + 1]:
            projects._enter(project, phase, committee, "测试")
        for i, building in enumerate(comp.buildings):
            reporter = factories.resident(f"{tag}-reporter{i}", building.units[0].flats[0])
            place = {"unit_id": building.units[0].id} if i % 2 == 0 else {"building_id": building.id}
            report, _ = works.file_report(reporter, project.id, {"text": "楼道堆放建材", "place": place})
            works.answer(committee, report.id, "已清理")
        return f"{tag}-committee", f"/api/v1/projects/{project.id}/reports"

    assert_constant(client, login, build, size=lambda data: len(data["reports"]))


def _projects_in_phases(comps, committee_of):
    """One project per compound, the i-th in phase PHASES[i % 6] (survey .. evaluation), so the lists
    ask each kind of next-phase condition: a needs survey linked, a representative who may sign."""
    from app.models.projects import PHASES
    from app.services import projects, surveys

    for i, comp in enumerate(comps):
        committee = committee_of(comp)
        project = projects.create(committee, {"compound_id": comp.id, "title": f"改造{i}", "items": [], "budget_fen": 0})
        phase = PHASES[i % 6]
        if phase == "survey":
            needs = surveys.create(committee, {"scope": {"type": "compound", "id": comp.id}, "kind": "needs",
                                               "title": "需求调查", "closes_at": utcnow() + timedelta(days=3),
                                               "questions": [{"kind": "text", "text": "您希望改造什么？"}]})
            projects.link(committee, project.id, {"needs_survey_id": needs.id})
        for p in PHASES[1:PHASES.index(phase) + 1]:
            projects._enter(project, p, committee, "测试")
        if phase == "acceptance":
            factories.staff(f"rep{comp.id}-{i}", "representative", "compound", comp.id)


def test_a_street_officers_projects_cost_the_same_for_1_and_20(client, login):
    def build(n, tag):
        comps, street = compounds_of_one_street(n)
        factories.staff(f"{tag}-street", "street_officer", "street", street.id)
        _projects_in_phases(comps, lambda comp: factories.staff(f"{tag}-c{comp.id}", "committee", "compound", comp.id))
        return f"{tag}-street", "/api/v1/projects"

    # 6 projects already wait for each kind of condition (one statement per kind, read when one asks)
    assert_constant(client, login, build, sizes=(6, 20))


def test_a_residents_projects_cost_the_same_for_1_and_20(client, login):
    def build(n, tag):
        comp, building = building_of(n, tag)
        flat = building.units[0].flats[0]
        factories.resident(f"{tag}-owner", flat)
        committee = factories.staff(f"{tag}-committee", "committee", "compound", comp.id)
        _projects_in_phases([comp] * n, lambda _: committee)
        return f"{tag}-owner", f"/api/v1/projects?flat_id={flat.id}"

    assert_constant(client, login, build, sizes=(6, 20))
