"""Contribution plans end to end: amounts to the fen, pledges changed and paid, tally, ledger, audit."""
import io
import random
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import AuditEntry, Flat, PlanDue, PlanFlat, Unit
from app.models.places import utcnow
from app.services import plans as service
from app.services import verification
from tests import factories as f

FLOOR_COEFS = {"1": "0", "2": "0.6", "3": "0.8", "4": "1.0", "5": "1.2", "6": "1.4"}


def _elevator_building():
    """3 units × 6 floors × 5 flats, areas with two decimals that differ flat by flat."""
    comp = f.compound(buildings=(("3栋", 3, 6, 5),))
    building = comp.buildings[0]
    rng = random.Random(7)
    for unit in building.units:
        for flat in unit.flats:
            flat.area = Decimal(rng.randrange(5500, 12000)) / 100
    db.session.flush()
    return comp, building


def _plan_body(building, **extra):
    items = [{"key": f"elevator{i}", "name": f"{u.name}加装电梯", "required": True, "cost_fen": 68_000_000 + i * 1_234_567,
              "subsidies": [{"name": "政府补贴", "amount_fen": 20_000_000}, {"name": "维修资金", "amount_fen": 3_333_333}],
              "standard": {"type": "floor_coefficient", "coefficients": FLOOR_COEFS},
              "applies_to": {"type": "unit", "id": u.id}} for i, u in enumerate(building.units, 1)]
    items.append({"key": "greening", "name": "楼道美化", "required": False, "cost_fen": 1_000_001,
                  "standard": {"type": "fixed"}, "allow_less": True})
    body = {"scope": {"type": "building", "id": building.id}, "title": "3栋加装电梯出资方案",
            "body": "按楼层系数分摊，一楼免于分摊。", "items": items,
            "methods": ["direct", "provident_fund", "labour"], "labour_rate_fen": 3000,
            "closes_at": (utcnow() + timedelta(days=10)).isoformat() + "Z"}
    body.update(extra)
    return body


def _recount(building, item_cost, subsidy, unit):
    """The amounts written out by hand from the standard: coefficient × area, largest remainder."""
    share = item_cost - subsidy
    flats = sorted(unit.flats, key=lambda x: x.id)
    weights = [(fl.id, Fraction(Decimal(FLOOR_COEFS[str(fl.floor)])) * Fraction(fl.area)) for fl in flats]
    total = sum(w for _, w in weights)
    exact = {fid: share * w / total for fid, w in weights}
    floor = {fid: int(q) for fid, q in exact.items()}
    left = share - sum(floor.values())
    order = sorted(exact, key=lambda fid: (-(exact[fid] - floor[fid]), fid))
    for fid in order[:left]:
        floor[fid] += 1
    return floor


@pytest.fixture()
def elevator(client, login):
    comp, building = _elevator_building()
    staff = f.staff("plan-staff", "community_staff", "community", comp.community_id)
    db.session.commit()
    headers = login("plan-staff")
    resp = client.post("/api/v1/plans", json=_plan_body(building), headers=headers)
    assert resp.status_code == 201, resp.json
    plan_id = resp.json["data"]["id"]
    opened = client.post(f"/api/v1/plans/{plan_id}/open", headers=headers)
    assert opened.status_code == 200, opened.json
    return {"comp": comp, "building": building, "plan_id": plan_id, "staff": staff, "headers": headers}


def test_ninety_flat_elevator_plan_adds_up_to_the_fen(elevator, client):
    building, plan_id = elevator["building"], elevator["plan_id"]
    dues = db.session.execute(db.select(PlanDue.flat_id, PlanDue.item, PlanDue.amount_fen)
                              .where(PlanDue.plan_id == plan_id)).all()
    assert db.session.scalar(db.select(db.func.count()).select_from(PlanFlat).where(PlanFlat.plan_id == plan_id)) == 90
    by_item = {}
    for flat_id, item, amount in dues:
        by_item.setdefault(item, {})[flat_id] = amount
    for i, unit in enumerate(building.units, 1):
        cost = 68_000_000 + i * 1_234_567
        expected = _recount(building, cost, 23_333_333, unit)
        assert by_item[f"elevator{i}"] == expected
        assert sum(by_item[f"elevator{i}"].values()) == cost - 23_333_333
        first_floor = [fl.id for fl in unit.flats if fl.floor == 1]
        assert all(by_item[f"elevator{i}"][fid] == 0 for fid in first_floor)  # coefficient 0: exempt
    assert sum(by_item["greening"].values()) == 1_000_001
    assert sorted(set(by_item["greening"].values())) == [11_111, 11_112]  # 1,000,001 fen over 90 flats
    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=elevator["headers"]).json["data"]
    assert [i["share_fen"] for i in tally["items"]] == [
        68_000_000 + i * 1_234_567 - 23_333_333 for i in (1, 2, 3)] + [1_000_001]
    assert tally["totals"]["due_fen"] == tally["target_fen"] == sum(a for _, _, a in dues)
    assert tally["flats"] == {"total": 90, "liable": 75, "pledging": 0, "paid": 0}  # ground floors owe no elevator


def test_an_exempt_ground_floor_pledges_nothing_of_the_elevator_but_may_join_the_optional_item(elevator, client, login):
    flat = _flat(elevator["building"], 0, 1)
    owner = login(_owner(flat, "ground-floor").name)
    nothing = _pledge(client, owner, elevator["plan_id"], flat, [{"item": "elevator1", "method": "direct"}])
    assert nothing.status_code == 422 and nothing.json["error"]["code"] == "nothing_pledged"
    assert "免于分摊" in nothing.json["error"]["message"]
    joined = _pledge(client, owner, elevator["plan_id"], flat, [{"item": "elevator1", "method": "direct"},
                                                              {"item": "greening", "method": "direct"}])
    assert joined.status_code == 201 and joined.json["data"]["total_fen"] in (11_111, 11_112)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 99_999_99), st.sampled_from(["0", "0.6", "0.8", "1", "1.2", "1.4", "2.75"])),
                min_size=1, max_size=60),
       st.integers(0, 2**31 - 1))
def test_largest_remainder_is_exact_for_any_areas_coefficients_and_totals(flats, share):
    weights = {i: Fraction(area, 100) * Fraction(Decimal(coef)) for i, (area, coef) in enumerate(flats, 1)}
    if sum(weights.values()) == 0:
        with pytest.raises(ValueError):
            service.allocate(share or 1, weights)
        return
    amounts = service.allocate(share, weights)
    assert sum(amounts.values()) == share
    total = sum(weights.values())
    for flat_id, amount in amounts.items():
        exact = Fraction(share) * weights[flat_id] / total
        assert exact - 1 < amount < exact + 1  # never more than a fen from the exact share
        if weights[flat_id] == 0:
            assert amount == 0


def _owner(flat, name):
    user = f.resident(name, flat)
    db.session.commit()
    return user


def _flat(building, unit_index, floor, n=1):
    unit = building.units[unit_index]
    return next(fl for fl in unit.flats if fl.floor == floor and fl.room.endswith(f"{n:02d}"))


def test_a_resident_sees_the_flat_amounts_and_how_they_were_computed(elevator, client, login):
    flat = _flat(elevator["building"], 1, 5)
    _owner(flat, "fifth-floor")
    resp = client.get(f"/api/v1/plans/{elevator['plan_id']}?flat_id={flat.id}", headers=login("fifth-floor"))
    assert resp.status_code == 200, resp.json
    part = resp.json["data"]["flat"]
    assert [i["item"] for i in part["items"]] == ["elevator2", "greening"]  # only the unit's own elevator
    explanation = part["items"][0]["explanation"]
    assert f"专有面积 {flat.area:.2f} m² × 5 层系数 1.2" in explanation and "最大余数法" in explanation
    assert part["due_fen"] == sum(i["amount_fen"] for i in part["items"])
    # Someone not bound to the flat learns nothing of it.
    f.user("stranger")
    db.session.commit()
    assert client.get(f"/api/v1/plans/{elevator['plan_id']}?flat_id={flat.id}",
                      headers=login("stranger")).status_code == 404


def _pledge(client, headers, plan_id, flat, lines, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/plans/{plan_id}/pledges", headers={**headers, **extra},
                       json={"flat_id": flat.id, "lines": lines, "signature": f.signature_png()})


def test_a_pledge_changed_twice_and_paid_in_two_parts_agrees_everywhere(elevator, client, login, cli):
    plan_id, building = elevator["plan_id"], elevator["building"]
    flat = _flat(building, 0, 6)
    owner = login(_owner(flat, "sixth-floor").name)
    due = {d.item: d.amount_fen for d in db.session.scalars(db.select(PlanDue).filter_by(plan_id=plan_id, flat_id=flat.id))}

    first = _pledge(client, owner, plan_id, flat, [{"item": "elevator1", "method": "direct"}], key="p-1")
    assert first.status_code == 201, first.json
    again = _pledge(client, owner, plan_id, flat, [{"item": "elevator1", "method": "direct"}], key="p-1")
    assert again.json["data"]["id"] == first.json["data"]["id"]  # a retry pledges nothing twice
    second = _pledge(client, owner, plan_id, flat, [{"item": "elevator1", "method": "direct"},
                                                    {"item": "greening", "method": "labour", "hours": 2}])
    assert second.status_code == 201, second.json
    third = _pledge(client, owner, plan_id, flat, [
        {"item": "elevator1", "method": "provident_fund", "amount_fen": due["elevator1"] + 50_000},
        {"item": "greening", "method": "direct", "amount_fen": 5_000}])
    assert third.status_code == 201, third.json
    pledge_id = third.json["data"]["id"]
    total = due["elevator1"] + 50_000 + 5_000
    assert third.json["data"]["total_fen"] == total

    # Less than due, where the item does not allow it, is refused in Chinese.
    low = _pledge(client, owner, plan_id, flat, [{"item": "elevator1", "method": "direct", "amount_fen": 1}])
    assert low.status_code == 422 and "不允许少于应缴金额" in low.json["error"]["message"]

    treasurer = f.staff("treasurer", "treasurer", "compound", elevator["comp"].id)
    db.session.commit()
    cashier = login("treasurer")
    paid_1 = client.post(f"/api/v1/pledges/{pledge_id}/payments", headers=cashier, json={
        "amount_fen": 300_000, "method": "provident_fund", "paid_on": "2026-11-20", "reference": "GJJ-001"})
    assert paid_1.status_code == 201, paid_1.json
    assert paid_1.json["data"]["state"] == "partly_paid"
    rest = total - 300_000
    over = client.post(f"/api/v1/pledges/{pledge_id}/payments", headers=cashier, json={
        "amount_fen": rest + 1, "method": "direct", "paid_on": "2026-11-21"})
    assert over.status_code == 422 and over.json["error"]["code"] == "overpayment"
    assert "超额缴纳" in over.json["error"]["message"]
    paid_2 = client.post(f"/api/v1/pledges/{pledge_id}/payments", headers=cashier, json={
        "amount_fen": rest, "method": "direct", "paid_on": "2026-11-21", "reference": "现金-17"})
    assert paid_2.status_code == 201, paid_2.json
    assert paid_2.json["data"]["state"] == "paid" and paid_2.json["data"]["paid_fen"] == total
    assert treasurer.id

    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=elevator["headers"]).json["data"]
    assert tally["totals"]["pledged_fen"] == total and tally["totals"]["net_paid_fen"] == total
    items = {i["key"]: i for i in tally["items"]}
    assert items["elevator1"]["pledged_fen"] == due["elevator1"] + 50_000 and items["greening"]["pledged_fen"] == 5_000
    assert items["elevator1"]["paid_fen"] + items["greening"]["paid_fen"] == total
    methods = {m["method"]: m for m in tally["methods"]}
    assert methods["provident_fund"]["pledged_fen"] == due["elevator1"] + 50_000
    assert methods["provident_fund"]["paid_fen"] == 300_000 and methods["direct"]["paid_fen"] == rest
    assert tally["flats"]["pledging"] == 1 and tally["flats"]["paid"] == 1

    ledger = client.get(f"/api/v1/plans/{plan_id}/ledger.xlsx", headers=elevator["headers"])
    assert ledger.status_code == 200
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(ledger.data)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert flat_label(flat) in values and third.json["data"]["receipt"] in values

    kinds = [e.kind for e in db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.chain == f"plan:{plan_id}").order_by(AuditEntry.seq))]
    assert kinds == ["plan_frozen", "pledge", "pledge", "pledge", "payment", "payment"]
    assert verification.verify() == []
    history = client.get("/api/v1/pledges", headers=owner).json["data"]
    assert [p["status"] for p in history] == ["current", "superseded", "superseded"]
    shown = client.get(f"/api/v1/plans/{plan_id}?flat_id={flat.id}", headers=owner).json["data"]["flat"]
    assert shown["pledge"]["id"] == pledge_id and shown["state"] == "paid" and shown["paid_fen"] == total
    assert shown["cannot_pledge"] is None
    listed = client.get(f"/api/v1/plans?flat_id={flat.id}", headers=owner).json["data"]
    assert listed[0]["flat"]["pledge"]["payments"][1]["reference"] == "现金-17"


def flat_label(flat):
    unit = db.session.get(Unit, flat.unit_id)
    return f"{unit.building.name}{unit.name}{flat.room}"


def test_a_pledge_after_the_deadline_is_refused_in_chinese(elevator, client, login):
    flat = _flat(elevator["building"], 2, 3)
    owner = login(_owner(flat, "late").name)
    db.session.execute(db.update(service.ContributionPlan).where(service.ContributionPlan.id == elevator["plan_id"])
                       .values(closes_at=utcnow() + timedelta(days=30)))
    db.session.commit()
    # Moving the live deadline changes nothing: the frozen one counts. Past it, pledges are refused.
    entry = service.freeze_entry(elevator["plan_id"])
    frozen = service.terms_from(entry, elevator["plan_id"])
    assert frozen["closes_at"] < utcnow() + timedelta(days=11)
    from app.models import ContributionPlan
    plan = db.session.get(ContributionPlan, elevator["plan_id"])
    service.close(plan.id, now=utcnow())
    db.session.commit()
    late = _pledge(client, owner, elevator["plan_id"], flat, [{"item": "elevator3", "method": "direct"}])
    assert late.status_code == 409 and late.json["error"]["message"].startswith("出资方案已截止")


def test_flats_are_the_building_s_own_and_a_stranger_is_told_nothing(elevator, client, login):
    other = f.compound()
    flat = other.buildings[0].units[0].flats[0]
    owner = login(_owner(flat, "elsewhere").name)
    resp = _pledge(client, owner, elevator["plan_id"], flat, [{"item": "elevator1", "method": "direct"}])
    assert resp.status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(Flat)) > 0


def test_the_agreement_pdf_is_one_a4_page_whose_chinese_text_names_the_pledge(elevator, client, login):
    import pypdfium2

    flat = _flat(elevator["building"], 0, 4, 2)
    owner = login(_owner(flat, "agreement").name)
    pledged = _pledge(client, owner, elevator["plan_id"], flat, [
        {"item": "elevator1", "method": "direct"}, {"item": "greening", "method": "direct", "amount_fen": 12_000}])
    assert pledged.status_code == 201, pledged.json
    resp = client.get(f"/api/v1/pledges/{pledged.json['data']['id']}/agreement.pdf", headers=owner)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(resp.data)
    assert len(pdf) == 1
    page = pdf[0]
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    image = page.render(scale=1.5).to_pil().convert("L")
    assert image.getextrema()[0] < 100  # there is ink on the page
    text = page.get_textpage().get_text_range()
    for words in ("出资协议", "3栋加装电梯出资方案", flat_label(flat), "壹佰贰拾元整", pledged.json["data"]["receipt"]):
        assert words in text, words
    # Someone else's pledge: nothing, not even that it exists.
    f.user("nosy")
    db.session.commit()
    assert client.get(f"/api/v1/pledges/{pledged.json['data']['id']}/agreement.pdf", headers=login("nosy")).status_code == 404


def test_family_and_tenants_see_the_amounts_but_only_the_owner_pledges(elevator, client, login):
    from app.models import Binding

    flat = _flat(elevator["building"], 2, 2)
    tenant = f.user("tenant-of-flat")
    db.session.add(Binding(user=tenant, flat=flat, relation="tenant", name="租客", status="approved", method="staff"))
    db.session.commit()
    headers = login("tenant-of-flat")
    seen = client.get(f"/api/v1/plans/{elevator['plan_id']}?flat_id={flat.id}", headers=headers).json["data"]["flat"]
    assert seen["due_fen"] > 0 and seen["pledge"] is None
    assert seen["cannot_pledge"].startswith("只有业主本人")
    refused = _pledge(client, headers, elevator["plan_id"], flat, [{"item": "elevator3", "method": "direct"}])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "not_owner"


def test_a_paper_pledge_counts_once_a_second_staff_member_confirms_it(elevator, client, login):
    comp, building, plan_id = elevator["comp"], elevator["building"], elevator["plan_id"]
    grid = f.grid(comp, [building])
    f.staff("paper-gw", "grid_worker", "grid", grid.id)
    db.session.commit()
    worker = login("paper-gw")
    flat = _flat(building, 1, 3, 4)
    entered = client.post(f"/api/v1/plans/{plan_id}/paper-pledges", headers=worker, json={
        "flat_id": flat.id, "lines": [{"item": "elevator2", "method": "direct"}], "photo": f.signature_png()})
    assert entered.status_code == 201 and entered.json["data"]["status"] == "unconfirmed"
    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=worker).json["data"]
    assert tally["flats"]["pledging"] == 0  # not counted before confirmation
    pledge_id = entered.json["data"]["id"]
    same = client.post(f"/api/v1/paper-pledges/{pledge_id}/confirm", headers=worker)
    assert same.status_code == 403 and same.json["error"]["code"] == "same_person"
    confirmed = client.post(f"/api/v1/paper-pledges/{pledge_id}/confirm", headers=elevator["headers"])
    assert confirmed.status_code == 200 and confirmed.json["data"]["status"] == "current"
    again = client.post(f"/api/v1/paper-pledges/{pledge_id}/confirm", headers=elevator["headers"])
    assert again.status_code == 409
    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=worker).json["data"]
    assert tally["flats"]["pledging"] == 1
    pending = client.get(f"/api/v1/plans/{plan_id}/pending-flats", headers=worker).json["data"]
    assert flat.id not in {p["flat_id"] for p in pending} and len(pending) == 89
    assert all(p["owner"]["phone"] is None or "****" in p["owner"]["phone"] for p in pending)
    assert verification.verify() == []


def test_a_plan_not_funded_lists_its_refunds_and_refunds_are_recorded_like_payments(elevator, client, login, app):
    from app.jobs import close_due_plans

    plan_id, building_id = elevator["plan_id"], elevator["building"].id
    flat = _flat(elevator["building"], 0, 2)
    flat_id = flat.id
    owner = login(_owner(flat, "refunded").name)
    pledge = _pledge(client, owner, plan_id, flat, [{"item": "elevator1", "method": "direct"}]).json["data"]
    paid = client.post(f"/api/v1/pledges/{pledge['id']}/payments", headers=elevator["headers"], json={
        "amount_fen": 20_000, "method": "direct", "paid_on": "2026-11-01"})
    assert paid.status_code == 201, paid.json
    # The deadline passes: the scheduler's job closes the plan, not funded, and stores the outcome once.
    from app.models import AuditEntry as Entry
    entry = db.session.scalar(db.select(Entry).where(Entry.chain == f"plan:{plan_id}", Entry.seq == 1))
    assert close_due_plans(app) == []  # not yet due
    import json as _json
    deadline = _json.loads(entry.payload)["closes_at"]
    from datetime import datetime
    from app.services.plans import close_due
    with app.app_context():
        assert close_due(now=datetime.fromisoformat(deadline) + timedelta(seconds=1)) == [plan_id]
    db.session.remove()
    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=elevator["headers"]).json["data"]
    assert tally["outcome"]["funded"] is False and tally["plan"]["status"] == "not_funded"
    assert [r["flat_id"] for r in tally["refunds_due"]] == [flat_id] and tally["refunds_due"][0]["net_paid_fen"] == 20_000
    more = client.post(f"/api/v1/pledges/{pledge['id']}/payments", headers=elevator["headers"], json={
        "amount_fen": 100, "method": "direct", "paid_on": "2026-11-02"})
    assert more.status_code == 409 and more.json["error"]["code"] == "not_funded"
    over = client.post(f"/api/v1/pledges/{pledge['id']}/refunds", headers=elevator["headers"], json={
        "amount_fen": 20_001, "method": "direct", "paid_on": "2026-11-02"})
    assert over.status_code == 422 and "退款超过已缴金额" in over.json["error"]["message"]
    refunded = client.post(f"/api/v1/pledges/{pledge['id']}/refunds", headers=elevator["headers"], json={
        "amount_fen": 20_000, "method": "direct", "paid_on": "2026-11-02", "reference": "退-1"})
    assert refunded.status_code == 201 and refunded.json["data"]["state"] == "refunded"
    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=elevator["headers"]).json["data"]
    assert tally["refunds_due"] == [] and tally["totals"]["net_paid_fen"] == 0
    assert tally["outcome"]["pledged_fen"] == pledge["total_fen"]  # stored at closing, never recomputed
    # A grid worker sees the plan but records no money.
    from app.models import Building
    building = db.session.get(Building, building_id)
    grid = f.grid(building.compound, [building])
    f.staff("money-gw", "grid_worker", "grid", grid.id)
    db.session.commit()
    denied = client.post(f"/api/v1/pledges/{pledge['id']}/refunds", headers=login("money-gw"), json={
        "amount_fen": 1, "method": "direct", "paid_on": "2026-11-02"})
    assert denied.status_code == 403 and "出纳" in denied.json["error"]["message"]
    assert verification.verify() == []


def test_a_plan_is_funded_when_every_part_of_its_rule_is_met(client, login):
    comp = f.compound(buildings=(("9栋", 1, 2, 2),))
    building = comp.buildings[0]
    f.staff("rule-committee", "committee", "compound", comp.id)
    flats = [fl for u in building.units for fl in u.flats]
    db.session.commit()
    staff = login("rule-committee")
    body = {"scope": {"type": "compound", "id": comp.id}, "title": "屋面防水", "methods": ["direct"],
            "items": [{"key": "roof", "name": "屋面防水", "cost_fen": 400_003, "standard": {"type": "area"}}],
            "funding_rule": {"required_items": True, "min_flat_share": "3/4", "required_flat_ids": [flats[0].id]},
            "closes_at": (utcnow() + timedelta(days=2)).isoformat() + "Z"}
    plan_id = client.post("/api/v1/plans", json=body, headers=staff).json["data"]["id"]
    assert client.post(f"/api/v1/plans/{plan_id}/open", headers=staff).status_code == 200
    for i, flat in enumerate(flats[1:], 1):  # 3 of 4 flats, not the required one
        assert _pledge(client, login(_owner(flat, f"roof{i}").name), plan_id, flat,
                       [{"item": "roof", "method": "direct"}]).status_code == 201
    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=staff).json["data"]
    parts = {p["part"]: p["met"] for p in tally["parts"]}
    assert parts == {"required_items": False, "min_flat_share": True, "required_flats": False}
    assert any("尚未承诺" in m for m in tally["still_missing"])
    assert _pledge(client, login(_owner(flats[0], "roof0").name), plan_id, flats[0],
                   [{"item": "roof", "method": "direct"}]).status_code == 201
    closed = client.post(f"/api/v1/plans/{plan_id}/close", headers=staff).json["data"]
    assert closed["status"] == "funded" and closed["outcome"]["funded"] is True
    tally = client.get(f"/api/v1/plans/{plan_id}/tally", headers=staff).json["data"]
    assert tally["items"][0]["pledged_fen"] == 400_003 and tally["persons"]["pledging"] == 4
