"""Evaluation figures (GET /stats, /stats.xlsx): every figure of a district, its streets, communities
and compounds equals a recount written here from the rows themselves (participation of consultations
by flats, persons and area, of plans and surveys; satisfaction mean and rate from 40 ratings;
coverage; projects per phase); staff see only their scope; the workbook holds no formula; and the
number of statements does not grow with the number of compounds."""
import io
import itertools
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import event

from app.extensions import db as _db
from app.models import (Ballot, Building, Community, Compound, Consultation, ContributionPlan, District, Flat, Owner,
                        PlanFlat, Pledge, RollEntry, Street, Unit, VoteSlot)
from app.models.places import utcnow
from app.models.projects import PHASES, Project, Survey, SurveyResponse
from app.services import consultations as consultation_service
from tests import factories

_seq = itertools.count(1)
RATING_KEYS = ("quality", "site", "environment", "management", "overall")


# ---------------------------------------------------------------- building the data through the models


def place_compound(community, name=None, flats=12):
    """A compound of one building, two units, `flats` flats with areas that differ; owners: one per flat
    except one buyer of two flats, one developer-held flat and one flat with no owner known."""
    n = next(_seq)
    comp = Compound(name=name or f"统计小区{n}", community=community)
    building = Building(name="1栋", scene=f"st{n}")
    comp.buildings.append(building)
    units = [Unit(name="1单元"), Unit(name="2单元")]
    building.units.extend(units)
    buyer = Owner(name=f"多套业主{n}")
    for i in range(flats):
        floor = i // 4 + 1
        if i in (0, 1):
            owner = buyer
        elif i == 2:
            owner = None  # developer-held
        elif i == 3:
            owner = None  # owner unknown: the flat is a person of its own
        else:
            owner = Owner(name=f"业主{n}-{i}")
        units[i % 2].flats.append(Flat(room=f"{floor}{i % 4 + 1:02d}", floor=floor, area=Decimal("55.25") + i * Decimal("3.37"),
                                       area_source="registry", developer_held=(i == 2), owner=owner))
    _db.session.add(comp)
    _db.session.flush()
    return comp


def flats_of(comp):
    return [f for b in comp.buildings for u in b.units for f in u.flats]


def ballot(consultation, slot, flat, status="current"):
    b = Ballot(consultation_id=consultation.id, flat_id=flat.id, person_key=slot.person_key, channel="online",
               choice="agree", status=status, receipt=f"R{next(_seq):09d}", content_hash="0" * 64)
    _db.session.add(b)
    _db.session.flush()
    return b


def opened_consultation(comp, by, answer_share, rnd, status="open"):
    """A consultation over the compound opened by the real service (roll and vote slots frozen), then
    ballots that count for a share of its persons, and one paper ballot still unconfirmed (not counted);
    closed (its result counted and stored by the real service) and published when asked."""
    c = factories.consultation(("compound", comp), by=by)
    slots = _db.session.scalars(_db.select(VoteSlot).filter_by(consultation_id=c.id).order_by(VoteSlot.id)).all()
    flat_of = {}
    for entry in _db.session.scalars(_db.select(RollEntry).filter_by(consultation_id=c.id)):
        flat_of.setdefault(entry.person_key, _db.session.get(Flat, entry.flat_id))
    answered = [s for s in slots if rnd.random() < answer_share]
    for slot in answered:
        slot.ballot_id = ballot(c, slot, flat_of[slot.person_key]).id
    waiting = [s for s in slots if s not in answered]
    if waiting:
        ballot(c, waiting[0], flat_of[waiting[0].person_key], status="unconfirmed")
    _db.session.flush()
    if status in ("closed", "published"):
        consultation_service.close(c.id, user=by)
    if status == "published":
        consultation_service.publish(by, c.id)
    _db.session.flush()
    return c


def plan(comp, status, pledge_share, rnd, by):
    """A contribution plan over the compound. Opened by the real service (every flat's amount frozen),
    pledges that count for a share of the flats, closed by the real service (its outcome stored) when
    asked. A draft gets plan-flat rows here (open_ writes them only when it opens) to prove that
    drafts are left out."""
    from app.services import plans as plan_service

    if status == "draft":
        p = ContributionPlan(compound_id=comp.id, scope_type="compound", scope_id=comp.id, title=f"出资方案{next(_seq)}",
                             items=[], methods=["direct"], funding_rule={}, status="draft",
                             closes_at=utcnow() + timedelta(days=10))
        _db.session.add(p)
        _db.session.flush()
        for f in flats_of(comp):
            _db.session.add(PlanFlat(plan_id=p.id, flat_id=f.id, person_key=f"flat:{f.id}", label=f.room,
                                     building_id=f.unit.building_id, unit_id=f.unit_id, area=f.area, floor=f.floor,
                                     due_fen=1000))
        _db.session.flush()
        return p
    p = plan_service.create(by, {
        "scope": {"type": "compound", "id": comp.id}, "title": f"出资方案{next(_seq)}", "body": "", "methods": ["direct"],
        "items": [{"key": "paint", "name": "楼道粉刷", "required": True, "cost_fen": 120_000, "subsidies": [],
                   "standard": {"type": "fixed"}, "allow_less": False, "applies_to": None}],
        "funding_rule": {"required_items": False, "min_flat_share": "1/2"}, "closes_at": utcnow() + timedelta(days=10)})
    plan_service.open_(by, p.id)
    for pf in _db.session.scalars(_db.select(PlanFlat).filter_by(plan_id=p.id).order_by(PlanFlat.id)):
        if rnd.random() < pledge_share:
            pledge = Pledge(plan_id=p.id, flat_id=pf.flat_id, person_key=pf.person_key, channel="online",
                            status="current", lines=[{"item": "paint", "method": "direct", "amount_fen": pf.due_fen}],
                            total_fen=pf.due_fen, receipt=f"P{next(_seq):09d}", content_hash="0" * 64)
            _db.session.add(pledge)
            _db.session.flush()
            pf.pledge_id = pledge.id
    _db.session.flush()
    if status != "open":
        plan_service.close(p.id, user=by)
        assert p.status in ("funded", "not_funded")
    return p


QUESTIONS = [{"key": k, "kind": "rating", "text": k, "options": [], "required": True} for k in RATING_KEYS] + [
    {"key": "comment", "kind": "text", "text": "意见", "options": [], "required": False},
    {"key": "best", "kind": "single", "text": "最满意", "options": [{"key": "lift", "label": "电梯"}], "required": False},
]


def survey(comp, kind, status, answers_by_flat, questions=QUESTIONS, responder=None):
    """A survey with `answers_by_flat` {flat: answers} as counted responses, each after an earlier
    answer of the same flat that no longer counts (current NULL) with other ratings."""
    s = Survey(compound_id=comp.id, scope_type="compound", scope_id=comp.id, kind=kind, title=f"问卷{next(_seq)}",
               questions=questions, status=status, closes_at=utcnow() + timedelta(days=5),
               flats=len(flats_of(comp)) if status != "draft" else None)
    _db.session.add(s)
    _db.session.flush()
    for flat, answers in answers_by_flat.items():
        _db.session.add(SurveyResponse(survey_id=s.id, flat_id=flat.id, user_id=responder.id, current=None,
                                       answers={k: 1 for k in RATING_KEYS} | {"comment": "之前的回答"}))
        _db.session.add(SurveyResponse(survey_id=s.id, flat_id=flat.id, user_id=responder.id, current=True,
                                       answers=answers))
    _db.session.flush()
    return s


def project(comp, phase):
    p = Project(compound_id=comp.id, title=f"改造项目{next(_seq)}", items=[{"name": "外墙", "level": "basic"}],
                budget_fen=100_000, phase=phase)
    _db.session.add(p)
    _db.session.flush()
    return p


@pytest.fixture()
def world(db):
    """A district of two streets: street A with communities A1 (compounds a, b) and A2 (compound c),
    street B with community B1 (compounds d, e, e without anything); consultations, plans, surveys
    and projects in various states; 40 counted ratings across two satisfaction surveys."""
    rnd = random.Random(12)
    n = next(_seq)
    district = District(name=f"统计区{n}")
    street_a, street_b = Street(name=f"甲街道{n}", district=district), Street(name=f"乙街道{n}", district=district)
    a1, a2 = Community(name=f"甲一社区{n}", street=street_a), Community(name=f"甲二社区{n}", street=street_a)
    b1 = Community(name=f"乙一社区{n}", street=street_b)
    _db.session.add_all([district, street_a, street_b, a1, a2, b1])
    a, b = place_compound(a1, "=HYPERLINK(\"http://x\")小区"), place_compound(a1, flats=10)
    c = place_compound(a2, flats=8)
    d, e = place_compound(b1, flats=14), place_compound(b1, flats=4)
    admin = factories.staff(f"st-admin{n}", "admin")
    responder = factories.user(f"st-responder{n}")

    # consultations: opened, closed and published ones count; a draft does not
    opened_consultation(a, admin, 0.7, rnd)
    opened_consultation(a, admin, 0.4, rnd, status="closed")
    opened_consultation(b, admin, 0.9, rnd, status="published")
    opened_consultation(d, admin, 0.5, rnd)
    draft = factories.consultation(("compound", c), by=admin, open_=False)
    # (open_ writes a roll only when it opens; these rows of a draft are here to prove drafts are left out)
    first = flats_of(c)[4]
    _db.session.add(RollEntry(consultation_id=draft.id, flat_id=first.id, person_key=f"owner:{first.owner_id}",
                              area=first.area, building_id=first.unit.building_id, unit_id=first.unit_id, label="x"))
    _db.session.add(VoteSlot(consultation_id=draft.id, person_key=f"owner:{first.owner_id}"))
    # plans: open and closed (funded or not) count; a draft does not
    plan(a, "open", 0.6, rnd, admin)
    plan(c, "closed", 0.9, rnd, admin)
    plan(d, "closed", 0.3, rnd, admin)
    plan(b, "draft", 0.0, rnd, admin)

    # satisfaction: 5 flats of a and 3 of d answer 5 rating questions each: 40 ratings that count
    def ratings(flats):
        return {f: {k: rnd.randint(1, 5) for k in RATING_KEYS} | {"comment": "5", "best": "lift"} for f in flats}

    # (and one flat of a whose answers are no ratings: a string, a fraction, a boolean, out of range)
    junk = {flats_of(a)[5]: {"quality": "5", "site": 4.5, "environment": True, "management": 7, "overall": 0}}
    survey(a, "satisfaction", "closed", ratings(flats_of(a)[:5]) | junk, responder=responder)  # 25 ratings
    survey(d, "satisfaction", "open", ratings(flats_of(d)[:3]), responder=responder)        # 15 ratings
    # not satisfaction, or not opened: their ratings do not count; their answers count for participation
    survey(c, "needs", "open", ratings(flats_of(c)[:6]), responder=responder)
    survey(b, "satisfaction", "draft", {}, responder=responder)
    # a key that is a rating elsewhere but free text here, holding a number: not a rating
    odd = [{"key": "quality", "kind": "text", "text": "质量", "options": [], "required": False}]
    survey(c, "satisfaction", "closed", {f: {"quality": 5} for f in flats_of(c)[:2]}, questions=odd, responder=responder)

    # projects: various phases; e has none, c only a finished one
    for comp, phases in ((a, ["works", "done"]), (b, ["survey"]), (c, ["done"]), (d, ["evaluation", "funding", "plan"])):
        for phase in phases:
            project(comp, phase)
    _db.session.commit()
    return {"district": district.id, "streets": [street_a.id, street_b.id], "communities": [a1.id, a2.id, b1.id],
            "compounds": [x.id for x in (a, b, c, d, e)], "admin": f"st-admin{n}", "n": n,
            "tree": {("street", street_a.id): [a.id, b.id, c.id], ("street", street_b.id): [d.id, e.id],
                     ("community", a1.id): [a.id, b.id], ("community", a2.id): [c.id], ("community", b1.id): [d.id, e.id],
                     ("district", district.id): [a.id, b.id, c.id, d.id, e.id]}}


# ---------------------------------------------------------------- the recount, row by row in Python


def frac(part, base):
    if not base:
        return None, None
    f = Fraction(part, base)
    tenths = (f * 1000 + Fraction(1, 2)).__floor__()
    return f"{f.numerator}/{f.denominator}", tenths / 10


def recount(compound_ids):
    """The figures of a set of compounds, counted from every row (as the service must not)."""
    ids = set(compound_ids)
    consultations = [c for c in _db.session.scalars(_db.select(Consultation))
                     if c.compound_id in ids and c.status in ("open", "closed", "published")]
    flats = answered = persons = persons_answered = 0
    area = area_answered = Decimal(0)
    for c in consultations:
        counted = {s.person_key for s in _db.session.scalars(_db.select(VoteSlot).filter_by(consultation_id=c.id))
                   if s.ballot_id is not None}
        roll = _db.session.scalars(_db.select(RollEntry).filter_by(consultation_id=c.id)).all()
        keys = {r.person_key for r in roll}
        flats += len(roll)
        answered += sum(1 for r in roll if r.person_key in counted)
        area += sum((Decimal(r.area) for r in roll), Decimal(0))
        area_answered += sum((Decimal(r.area) for r in roll if r.person_key in counted), Decimal(0))
        persons += len(keys)
        persons_answered += len(keys & counted)
    plans = [p for p in _db.session.scalars(_db.select(ContributionPlan))
             if p.compound_id in ids and p.status in ("open", "funded", "not_funded")]
    plan_flats = plan_pledged = 0
    for p in plans:
        rows = _db.session.scalars(_db.select(PlanFlat).filter_by(plan_id=p.id)).all()
        plan_flats += len(rows)
        plan_pledged += sum(1 for r in rows if r.pledge_id is not None)
    surveys = [s for s in _db.session.scalars(_db.select(Survey)) if s.compound_id in ids and s.status in ("open", "closed")]
    survey_base = sum(s.flats for s in surveys)
    survey_answered = 0
    ratings = []
    for s in surveys:
        responses = [r for r in _db.session.scalars(_db.select(SurveyResponse).filter_by(survey_id=s.id)) if r.current]
        survey_answered += len(responses)
        if s.kind == "satisfaction":
            rating_keys = [q["key"] for q in s.questions if q["kind"] == "rating"]
            ratings += [r.answers[k] for r in responses for k in rating_keys
                        if type(r.answers.get(k)) is int and 1 <= r.answers[k] <= 5]
    projects = [p for p in _db.session.scalars(_db.select(Project)) if p.compound_id in ids]
    phases = Counter(p.phase for p in projects)
    active = {p.compound_id for p in projects if p.phase != "done"}
    any_ = {p.compound_id for p in projects}
    mean = Fraction(sum(ratings), len(ratings)) if ratings else None
    satisfied = sum(1 for v in ratings if v >= 4)

    def part(a, b):
        share, percent = frac(a, b)
        return {"base": b, "answered": a, "share": share, "percent": percent}

    def area_part(a, b):
        share, percent = frac(int(a * 100), int(b * 100))
        return {"base": f"{b:.2f}", "answered": f"{a:.2f}", "share": share, "percent": percent}

    cov_share, cov_percent = frac(len(active), len(ids))
    any_share, any_percent = frac(len(any_), len(ids))
    rate, rate_percent = frac(satisfied, len(ratings))
    return {
        "coverage": {"compounds": len(ids), "active": len(active), "share": cov_share, "percent": cov_percent,
                     "with_project": len(any_), "with_project_share": any_share, "with_project_percent": any_percent},
        "participation": {
            "consultations": {"count": len(consultations), "flats": part(answered, flats),
                              "persons": part(persons_answered, persons), "area": area_part(area_answered, area)},
            "plans": {"count": len(plans), "flats": part(plan_pledged, plan_flats)},
            "surveys": {"count": len(surveys), "flats": part(survey_answered, survey_base)},
            "overall": part(answered + plan_pledged + survey_answered, flats + plan_flats + survey_base),
        },
        "satisfaction": {
            "surveys": sum(1 for s in surveys if s.kind == "satisfaction"), "count": len(ratings),
            "distribution": [ratings.count(v) for v in range(1, 6)],
            "mean": float((mean * 100 + Fraction(1, 2)).__floor__() / 100) if mean is not None else None,
            "mean_exact": f"{mean.numerator}/{mean.denominator}" if mean is not None else None,
            "satisfied": satisfied, "rate": rate, "rate_percent": rate_percent,
        },
        "projects": {"total": len(projects), "active": sum(1 for p in projects if p.phase != "done"),
                     "phases": [{"phase": p, "name": n, "count": phases[p]} for p, n in zip(
                         PHASES, ["需求调查", "方案征询", "资金筹集", "施工", "竣工验收", "效果评价", "已完成"])]},
    }


def get_stats(client, headers, node, status=200):
    resp = client.get(f"/api/v1/stats?node={node}", headers=headers)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    return resp.json


# ---------------------------------------------------------------- the figures


def test_every_node_of_the_district_equals_the_recount(client, login, world):
    """District, both streets, all three communities and every compound: figures equal the recount;
    children rows are the right ones and each equals its own recount."""
    admin = login(world["admin"])
    for (kind, node_id), compound_ids in world["tree"].items():
        data = get_stats(client, admin, f"{kind}:{node_id}")["data"]
        assert data["node"]["type"] == kind and data["node"]["id"] == node_id
        assert data["figures"] == recount(compound_ids), (kind, node_id)
        assert data["items"] == []
        for child in data["children"]:
            below = world["tree"].get((child["type"], child["id"])) or [child["id"]]
            assert child["figures"] == recount(below), child["name"]
    district = get_stats(client, admin, f"district:{world['district']}")["data"]
    assert [c["id"] for c in district["children"]] == world["streets"]
    street = get_stats(client, admin, f"street:{world['streets'][0]}")["data"]
    assert [c["id"] for c in street["children"]] == world["communities"][:2]
    assert [p["type"] for p in street["node"]["parents"]] == ["district"]
    for compound_id in world["compounds"]:
        data = get_stats(client, admin, f"compound:{compound_id}")["data"]
        assert data["figures"] == recount([compound_id]), compound_id
        assert data["children"] == []
        assert [p["type"] for p in data["node"]["parents"]] == ["district", "street", "community"]


def test_the_figures_are_the_ones_expected(client, login, world):
    """What the recount says, checked against hand-known facts of the world: 40 ratings, the share
    of 4 and 5, coverage 3 of 5, seven phases, drafts left out, areas exact."""
    admin = login(world["admin"])
    f = get_stats(client, admin, f"district:{world['district']}")["data"]["figures"]
    sat = f["satisfaction"]
    assert sat["count"] == 40 and sum(sat["distribution"]) == 40 and sat["surveys"] == 3  # the odd survey too
    mean = Fraction(sum(v * n for v, n in zip(range(1, 6), sat["distribution"])), 40)
    assert sat["mean_exact"] == f"{mean.numerator}/{mean.denominator}"
    assert sat["mean"] == int(mean * 100 + Fraction(1, 2)) / 100
    assert sat["satisfied"] == sat["distribution"][3] + sat["distribution"][4]
    rate = Fraction(sat["satisfied"], 40)
    assert sat["rate"] == f"{rate.numerator}/{rate.denominator}"
    assert sat["rate_percent"] == int(rate * 1000 + Fraction(1, 2)) / 10
    assert f["coverage"] == {"compounds": 5, "active": 3, "share": "3/5", "percent": 60.0,
                             "with_project": 4, "with_project_share": "4/5", "with_project_percent": 80.0}
    assert [p["count"] for p in f["projects"]["phases"]] == [1, 1, 1, 1, 0, 1, 2]
    assert f["projects"]["total"] == 7 and f["projects"]["active"] == 5
    cons = f["participation"]["consultations"]
    assert cons["count"] == 4 and cons["flats"]["base"] == 12 * 2 + 10 + 14
    # one buyer of two flats and all developer-held flats count as one person each
    assert cons["persons"]["base"] == 11 * 2 + 9 + 13
    areas = [Decimal("55.25") + i * Decimal("3.37") for i in range(14)]
    assert cons["area"]["base"] == f"{2 * sum(areas[:12]) + sum(areas[:10]) + sum(areas):.2f}"
    assert f["participation"]["plans"]["count"] == 3 and f["participation"]["plans"]["flats"]["base"] == 12 + 8 + 14
    assert f["participation"]["surveys"]["count"] == 4  # the draft left out
    empty = get_stats(client, admin, f"compound:{world['compounds'][4]}")["data"]["figures"]
    assert empty["participation"]["overall"] == {"base": 0, "answered": 0, "share": None, "percent": None}
    assert empty["satisfaction"]["mean"] is None and empty["satisfaction"]["rate"] is None
    assert empty["coverage"]["share"] == "0/1" and empty["coverage"]["percent"] == 0.0


def test_a_compound_lists_its_consultations_plans_and_surveys(client, login, world):
    """A compound's rows: each opened consultation with flats, persons and area; each opened plan;
    each opened survey, with the satisfaction of a satisfaction survey; drafts not listed."""
    admin = login(world["admin"])
    a = world["compounds"][0]
    items = get_stats(client, admin, f"compound:{a}")["data"]["items"]
    assert [i["type"] for i in items] == ["consultation", "consultation", "plan", "survey"]
    for item in items:
        if item["type"] == "consultation":
            c = _db.session.get(Consultation, item["id"])
            slots = _db.session.scalars(_db.select(VoteSlot).filter_by(consultation_id=c.id)).all()
            counted = {s.person_key for s in slots if s.ballot_id}
            roll = _db.session.scalars(_db.select(RollEntry).filter_by(consultation_id=c.id)).all()
            assert item["flats"]["base"] == len(roll) == 12
            assert item["flats"]["answered"] == sum(1 for r in roll if r.person_key in counted)
            assert item["persons"] == {"base": len(slots), "answered": len(counted),
                                       **dict(zip(("share", "percent"), frac(len(counted), len(slots))))}
            assert item["area"]["answered"] == f"{sum((r.area for r in roll if r.person_key in counted), Decimal(0)):.2f}"
            assert item["satisfaction"] is None
    survey_row = items[-1]
    assert survey_row["kind"] == "satisfaction" and survey_row["satisfaction"]["count"] == 25
    assert survey_row["flats"] == {"base": 12, "answered": 6, "share": "1/2", "percent": 50.0}
    assert items[2]["persons"] is None and items[2]["area"] is None
    total = get_stats(client, admin, f"compound:{a}")["data"]["figures"]["participation"]["consultations"]["flats"]
    assert total["base"] == 24 and total["answered"] == sum(i["flats"]["answered"] for i in items[:2])


def test_closed_consultations_and_plans_count_by_their_stored_result(client, login, world):
    """A closed consultation counts by the result stored at closing, a closed plan by its stored
    outcome; open ones by their rows now: a ballot or pledge that comes to count after closing (here
    written straight into the tables) moves the open ones' figures only."""
    from app.models import ConsultationResult

    admin = login(world["admin"])
    a = world["compounds"][0]
    before = {i["id"]: i for i in get_stats(client, admin, f"compound:{a}")["data"]["items"] if i["type"] == "consultation"}
    assert len(before) == 2
    for consultation_id in before:
        slot = _db.session.scalars(_db.select(VoteSlot).filter_by(consultation_id=consultation_id, ballot_id=None)
                                   .order_by(VoteSlot.id)).first()
        entry = _db.session.scalars(_db.select(RollEntry).filter_by(consultation_id=consultation_id,
                                                                      person_key=slot.person_key)).first()
        slot.ballot_id = ballot(_db.session.get(Consultation, consultation_id), slot,
                                _db.session.get(Flat, entry.flat_id)).id
    _db.session.commit()
    after = {i["id"]: i for i in get_stats(client, admin, f"compound:{a}")["data"]["items"] if i["type"] == "consultation"}
    for consultation_id, item in after.items():
        c = _db.session.get(Consultation, consultation_id)
        if c.status == "open":
            assert item["persons"]["answered"] == before[consultation_id]["persons"]["answered"] + 1
            assert item["flats"]["answered"] > before[consultation_id]["flats"]["answered"]
        else:
            stored = _db.session.scalar(_db.select(ConsultationResult).filter_by(consultation_id=consultation_id)).tally
            assert item == before[consultation_id]
            assert (item["flats"]["answered"], item["persons"]["answered"], item["area"]["answered"]) == (
                stored["participation"]["flats"], stored["participation"]["persons"], stored["participation"]["area"])
            assert (item["flats"]["base"], item["persons"]["base"], item["area"]["base"]) == (
                stored["roll"]["flats"], stored["roll"]["persons"], stored["roll"]["area"])

    # a closed plan (compound d) by its stored outcome, an open one (compound a) as it is now
    from app.models import PlanResult

    plans_before = {}
    for compound_id in (world["compounds"][0], world["compounds"][3]):
        for item in get_stats(client, admin, f"compound:{compound_id}")["data"]["items"]:
            if item["type"] == "plan":
                plans_before[item["id"]] = item
                pf = _db.session.scalars(_db.select(PlanFlat).filter_by(plan_id=item["id"], pledge_id=None)).first()
                pledge = Pledge(plan_id=item["id"], flat_id=pf.flat_id, person_key=pf.person_key, channel="online",
                                status="current", lines=[], total_fen=1, receipt=f"P{next(_seq):09d}", content_hash="0" * 64)
                _db.session.add(pledge)
                _db.session.flush()
                pf.pledge_id = pledge.id
    _db.session.commit()
    assert len(plans_before) == 2
    for compound_id in (world["compounds"][0], world["compounds"][3]):
        for item in get_stats(client, admin, f"compound:{compound_id}")["data"]["items"]:
            if item["type"] == "plan":
                result = _db.session.scalar(_db.select(PlanResult).filter_by(plan_id=item["id"]))
                if result is None:
                    assert item["flats"]["answered"] == plans_before[item["id"]]["flats"]["answered"] + 1
                else:
                    assert item == plans_before[item["id"]]
                    assert (item["flats"]["base"], item["flats"]["answered"]) == (
                        result.tally["flats"]["total"], result.tally["flats"]["pledging"])


# ---------------------------------------------------------------- who sees what


def test_staff_see_their_scope_only(client, login, world):
    """A committee member sees their compound; community staff their community and its compounds;
    street and district officers theirs; anything outside is a 404, as is a node that does not exist;
    a resident, a grid worker and a treasurer get a 403; a malformed node a 422; no token a 401."""
    n = world["n"]
    a, b, c, d, e = world["compounds"]
    a1, a2, b1 = world["communities"]
    sa, sb = world["streets"]
    factories.staff(f"st-committee{n}", "committee", "compound", a)
    factories.staff(f"st-community{n}", "community_staff", "community", a1)
    factories.staff(f"st-street{n}", "street_officer", "street", sb)
    factories.staff(f"st-district{n}", "district_officer", "district", world["district"])
    comp = _db.session.get(Compound, a)
    factories.resident(f"st-resident{n}", flats_of(comp)[5])
    grid = factories.grid(comp, comp.buildings)
    factories.staff(f"st-grid{n}", "grid_worker", "grid", grid.id)
    factories.staff(f"st-treasurer{n}", "treasurer", "compound", a)
    _db.session.commit()
    seen = {
        "committee": ([f"compound:{a}"], [f"compound:{b}", f"community:{a1}", f"street:{sa}", f"district:{world['district']}"]),
        "community": ([f"community:{a1}", f"compound:{a}", f"compound:{b}"],
                      [f"community:{a2}", f"compound:{c}", f"street:{sa}", f"district:{world['district']}"]),
        "street": ([f"street:{sb}", f"community:{b1}", f"compound:{d}", f"compound:{e}"],
                   [f"street:{sa}", f"community:{a1}", f"compound:{a}", f"district:{world['district']}"]),
        "district": ([f"district:{world['district']}", f"street:{sa}", f"community:{b1}", f"compound:{c}"],
                     [f"district:{world['district'] + 1000}", f"compound:{e + 1000}"]),
    }
    for who, (inside, outside) in seen.items():
        headers = login(f"st-{who}{n}")
        for node in inside:
            assert get_stats(client, headers, node)["data"]["node"]["id"] == int(node.split(":")[1])
            assert client.get(f"/api/v1/stats.xlsx?node={node}", headers=headers).status_code == 200
        for node in outside:
            assert get_stats(client, headers, node, 404)["error"]["code"] == "not_found", (who, node)
            assert client.get(f"/api/v1/stats.xlsx?node={node}", headers=headers).status_code == 404
    for who in ("resident", "grid", "treasurer"):
        headers = login(f"st-{who}{n}")
        answer = get_stats(client, headers, f"compound:{a}", 403)
        assert answer["error"]["code"] == "forbidden" and "committee" in answer["error"]["details"]["allowed_roles"]
        assert client.get(f"/api/v1/stats.xlsx?node=compound:{a}", headers=headers).status_code == 403
    admin = login(world["admin"])
    assert get_stats(client, admin, "district:999999", 404)["error"]["code"] == "not_found"
    for bad in ("", "flat:1", "compound", "compound:0", "compound:-1", "compound:1.5", "compound:2147483648",
                "community:abc", "grid:1", "compound:01"):
        assert client.get(f"/api/v1/stats?node={bad}", headers=admin).status_code == 422, bad
    assert client.get("/api/v1/stats", headers=admin).status_code == 422
    assert client.get(f"/api/v1/stats?node=compound:{a}").status_code == 401


# ---------------------------------------------------------------- the workbook


def test_the_workbook_is_the_same_table_without_formulas(client, login, world):
    """Node row first, then one row per child, figures as in the JSON answer, Chinese headings; no cell
    is a formula, even a compound named like one."""
    from openpyxl import load_workbook

    admin = login(world["admin"])
    a1 = world["communities"][0]
    data = get_stats(client, admin, f"community:{a1}")["data"]
    resp = client.get(f"/api/v1/stats.xlsx?node=community:{a1}", headers=admin)
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["效果评价"]
    rows = list(ws.iter_rows())
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    headings = [c.value for c in rows[5]]
    assert headings[:5] == ["层级", "名称", "小区数", "在建项目小区数", "覆盖率（%）"]
    assert "满意率（%）" in headings and "征询参与率·面积（%）" in headings and "项目·已完成" in headings
    table = [[c.value for c in row] for row in rows[6:]]
    assert [r[1] for r in table] == [data["node"]["name"]] + [c["name"] for c in data["children"]]
    named_like_a_formula = table[1][1]
    assert named_like_a_formula.startswith("=HYPERLINK") and rows[7][1].quotePrefix
    col = {h: i for i, h in enumerate(headings)}
    for values, figures in zip(table, [data["figures"]] + [c["figures"] for c in data["children"]]):
        assert values[col["征询已参与户数"]] == figures["participation"]["consultations"]["flats"]["answered"]
        assert values[col["征询参与率·人（%）"]] == figures["participation"]["consultations"]["persons"]["percent"]
        assert f"{values[col['已参与面积（㎡）']]:.2f}" == figures["participation"]["consultations"]["area"]["answered"]
        assert values[col["满意率（%）"]] == figures["satisfaction"]["rate_percent"]
        assert values[col["覆盖率（%）"]] == figures["coverage"]["percent"]
    # a compound's workbook lists its consultations, plans and surveys
    resp = client.get(f"/api/v1/stats.xlsx?node=compound:{world['compounds'][0]}", headers=admin)
    ws = load_workbook(io.BytesIO(resp.data))["效果评价"]
    kinds = [r[0].value for r in list(ws.iter_rows())[6:]]
    assert kinds == ["小区", "征询", "征询", "出资方案", "问卷"]


# ---------------------------------------------------------------- SQL: constant statements


class Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def _count(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def community_with(n_compounds, admin):
    """A community of n compounds, each with an opened consultation with ballots, a plan with pledges,
    a satisfaction survey with ratings and a needs survey, projects in two phases."""
    rnd = random.Random(n_compounds)
    k = next(_seq)
    community = Community(name=f"计数社区{k}", street=Street(name=f"计数街道{k}", district=District(name=f"计数区{k}")))
    _db.session.add(community)
    responder = factories.user(f"st-count-responder{k}")
    for _ in range(n_compounds):
        comp = place_compound(community, flats=6)
        opened_consultation(comp, admin, 0.5, rnd)
        plan(comp, "open", 0.5, rnd, admin)
        survey(comp, "satisfaction", "open", {f: {key: rnd.randint(1, 5) for key in RATING_KEYS}
                                               for f in flats_of(comp)[:3]}, responder=responder)
        survey(comp, "needs", "open", {flats_of(comp)[0]: {"comment": "加装电梯"}}, responder=responder)
        project(comp, "works")
        project(comp, "done")
    _db.session.commit()
    return community


def test_the_number_of_statements_does_not_grow_with_the_node(app, client, login, db):
    """GET /stats for a community of 1 compound and for one of 5 runs the same number of statements
    (and so does its street and district, and the workbook)."""
    admin_user = factories.staff(f"st-count-admin{next(_seq)}", "admin")
    small, large = community_with(1, admin_user), community_with(5, admin_user)
    admin = login(admin_user.name)
    counts = {}
    for label, community in (("small", small), ("large", large)):
        for node in (f"community:{community.id}", f"street:{community.street_id}",
                     f"district:{community.street.district_id}"):
            for path in ("/api/v1/stats", "/api/v1/stats.xlsx"):
                with Statements(_db.engine) as sql:
                    assert client.get(f"{path}?node={node}", headers=admin).status_code == 200
                counts[(label, node.split(":")[0], path)] = sql.count
    for key, count in counts.items():
        if key[0] == "small":
            assert counts[("large", *key[1:])] == count, (key, count, counts)
    assert counts[("large", "community", "/api/v1/stats")] <= 16, counts
    data = get_stats(client, admin, f"community:{large.id}")["data"]
    assert len(data["children"]) == 5 and data["figures"]["satisfaction"]["count"] == 5 * 3 * 5
