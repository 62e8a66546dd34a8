"""Contribution plans tried over HTTP as an attacker and as a careless operator would: staff of
another grid or compound, a neighbour, a family member or tenant, the previous owner after a sale,
guessed ids, replayed and borrowed Idempotency-Keys, and hostile input to every field. Each is
refused with its exact status and code in the one JSON error shape with a Chinese message, and
nothing is written (every table of plans counted before and after)."""
import base64
import io
import itertools
import re
from datetime import timedelta

import pytest
from PIL import Image

from app.extensions import db as _db
from app.models import (AuditChain, AuditEntry, Binding, Blob, ContributionPlan, Flat, Owner, PlanDue, PlanFlat,
                        PlanPayment, PlanResult, Pledge)
from app.models.places import utcnow
from app.services import verification
from app.services.bindings import record_approval
from tests import factories

CJK = re.compile("[\u4e00-\u9fff]")
SIG = factories.signature_png()
SIG2 = factories.signature_png(width=200)
_people = itertools.count(1)
COEFS = {"1": "0.5", "2": "1", "3": "1.2"}


# ---------------------------------------------------------------- images


def _image(kind="PNG", size=(240, 90)):
    out = io.BytesIO()
    Image.new("RGB", size, (250, 250, 250)).save(out, format=kind)
    return base64.b64encode(out.getvalue()).decode()


PHOTO = _image("JPEG", (400, 300))
NOT_IMAGES = {
    "text": base64.b64encode("这不是图片".encode()).decode(),
    "pdf": base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF").decode(),
    "gif": _image("GIF"),
    "not-base64": "!!!not base64!!!",
    "5x5": _image("PNG", (5, 5)),
    "empty": "",
}


# ---------------------------------------------------------------- the place


def _post(client, url, headers, body=None, status=201):
    resp = client.post(url, headers=headers, json=body)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    return resp.json["data"]


def plan_body(scope, **extra):
    kind, obj = scope
    body = {"scope": {"type": kind, "id": obj.id}, "title": "1栋加装电梯", "body": "按楼层系数分摊。",
            "items": [{"key": "paint", "name": "楼道粉刷", "cost_fen": 120_000, "standard": {"type": "fixed"}}],
            "methods": ["direct", "provident_fund", "labour"], "labour_rate_fen": 3000,
            "closes_at": (utcnow() + timedelta(days=10)).isoformat() + "Z"}
    body.update(extra)
    return body


def elevator(key, name, unit):
    return {"key": key, "name": name, "cost_fen": 30_000_000,
            "subsidies": [{"name": "政府补贴", "amount_fen": 10_000_000}],
            "standard": {"type": "floor_coefficient", "coefficients": dict(COEFS)},
            "applies_to": {"type": "unit", "id": unit.id}}


@pytest.fixture()
def place(app, db, client, login):
    """Compound A: 1栋 (2 units × 3 floors × 2 flats, grid 1) and 2栋 (1 × 2 × 2, grid 2); compound B.
    Plan P over 1栋 (an elevator per unit by floor coefficient, painting per flat), opened; plan Q
    over B, opened. Owner o1 of 1栋 1单元 101 pledged (X) and paid 10,000 with a photo (Y); o2 owns
    102; a family member and a tenant of 101; o3 owns a flat of 2栋, ob one of B; a paper pledge (Z)
    for 201 waits for confirmation."""
    n = next(_people)  # logins of one name are limited per minute: each test has its own people
    a = factories.compound(buildings=(("1栋", 2, 3, 2), ("2栋", 1, 2, 2)))
    b = factories.compound(buildings=(("1栋", 1, 2, 2),))
    b1, b2 = a.buildings
    g1, g2 = factories.grid(a, [b1]), factories.grid(a, [b2])
    flats = [f for u in b1.units for f in u.flats]
    other_flat, b_flat = b2.units[0].flats[0], b.buildings[0].units[0].flats[0]
    who = {
        "committee": factories.staff(f"at{n}committee", "committee", "compound", a.id),
        "cash": factories.staff(f"at{n}cash", "treasurer", "compound", a.id),
        "gw1": factories.staff(f"at{n}gw1", "grid_worker", "grid", g1.id),
        "gw1b": factories.staff(f"at{n}gw1b", "grid_worker", "grid", g1.id),
        "gw2": factories.staff(f"at{n}gw2", "grid_worker", "grid", g2.id),
        "committee_b": factories.staff(f"at{n}committee_b", "committee", "compound", b.id),
        "cash_b": factories.staff(f"at{n}cash_b", "treasurer", "compound", b.id),
        "o1": factories.resident(f"at{n}o1", flats[0]),
        "o2": factories.resident(f"at{n}o2", flats[1]),
        "o3": factories.resident(f"at{n}o3", other_flat),
        "ob": factories.resident(f"at{n}ob", b_flat),
        "stranger": factories.user(f"at{n}stranger"),
        "family": factories.user(f"at{n}family"),
        "tenant": factories.user(f"at{n}tenant"),
    }
    for relation in ("family", "tenant"):
        binding = Binding(user=who[relation], flat=flats[0], relation=relation, name="住户", status="approved",
                          method="staff")
        _db.session.add(binding)
        _db.session.flush()
        record_approval(binding)
    _db.session.commit()
    h = {name: login(f"at{n}{name}") for name in who}
    body = plan_body(("building", b1))
    body["items"] = [elevator("elevator1", "1单元电梯", b1.units[0]), elevator("elevator2", "2单元电梯", b1.units[1]),
                     {**body["items"][0], "required": False, "allow_less": True}]
    p = _post(client, "/api/v1/plans", h["committee"], body)["id"]
    _post(client, f"/api/v1/plans/{p}/open", h["committee"], status=200)
    q = _post(client, "/api/v1/plans", h["committee_b"], plan_body(("compound", b)))["id"]
    _post(client, f"/api/v1/plans/{q}/open", h["committee_b"], status=200)
    x = _post(client, f"/api/v1/plans/{p}/pledges", h["o1"], {"flat_id": flats[0].id, "signature": SIG, "lines": [
        {"item": "elevator1", "method": "direct"}, {"item": "paint", "method": "direct", "amount_fen": 5000}]})
    _post(client, f"/api/v1/pledges/{x['id']}/payments", h["cash"],
          {"amount_fen": 10_000, "method": "direct", "paid_on": "2026-01-05", "photo": PHOTO})
    y = _db.session.scalar(_db.select(PlanPayment.id).where(PlanPayment.pledge_id == x["id"]))
    z = _post(client, f"/api/v1/plans/{p}/paper-pledges", h["gw1"], {
        "flat_id": flats[4].id, "photo": PHOTO, "lines": [{"item": "elevator1", "method": "direct"}]})
    due = dict(_db.session.execute(_db.select(PlanDue.item, PlanDue.amount_fen)
                                   .filter_by(plan_id=p, flat_id=flats[0].id)).all())
    assert due["elevator1"] > 0 and due["paint"] == 10_000
    return {"a": a, "b": b, "b1": b1, "b2": b2, "flats": [f.id for f in flats], "other_flat": other_flat.id,
            "b_flat": b_flat.id, "p": p, "q": q, "x": x, "y": y, "z": z["id"], "h": h, "n": n, "due": due}


def counts():
    _db.session.expire_all()
    return {m.__name__: _db.session.scalar(_db.select(_db.func.count()).select_from(m))
            for m in (ContributionPlan, PlanFlat, PlanDue, Pledge, PlanPayment, PlanResult, AuditEntry, AuditChain,
                      Blob, Binding)}


def refused(resp, status, code):
    """The one error shape: {"error": {"code", "message", "details"}}, the message in Chinese."""
    assert resp.status_code == status, (status, code, resp.status_code, resp.get_data(as_text=True)[:400])
    assert resp.is_json and set(resp.json) == {"error"}, resp.get_data(as_text=True)[:400]
    error = resp.json["error"]
    assert set(error) == {"code", "message", "details"} and isinstance(error["details"], dict), error
    assert error["code"] == code, error
    assert CJK.search(error["message"]), error
    return error


# ---------------------------------------------------------------- outsiders


OUTSIDERS = ["gw2", "committee_b", "cash_b", "o3", "ob", "stranger"]


def _reads(place):
    p, x, y, z, flat0 = place["p"], place["x"]["id"], place["y"], place["z"], place["flats"][0]
    return {
        "plan": ("GET", f"/api/v1/plans/{p}"),
        "plan with the flat": ("GET", f"/api/v1/plans/{p}?flat_id={flat0}"),
        "tally": ("GET", f"/api/v1/plans/{p}/tally"),
        "pending flats": ("GET", f"/api/v1/plans/{p}/pending-flats"),
        "ledger": ("GET", f"/api/v1/plans/{p}/ledger.xlsx"),
        "pledges": ("GET", f"/api/v1/plans/{p}/pledges"),
        "paper pledges": ("GET", f"/api/v1/plans/{p}/paper-pledges"),
        "a pledge": ("GET", f"/api/v1/pledges/{x}"),
        "its agreement": ("GET", f"/api/v1/pledges/{x}/agreement.pdf"),
        "a payment's photo": ("GET", f"/api/v1/payments/{y}/photo"),
        "a paper pledge's photo": ("GET", f"/api/v1/paper-pledges/{z}/photo"),
    }


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_read_nothing_of_the_plan(client, place, who):
    """Staff of another grid or compound, a resident of another building or compound, a stranger:
    a 404 for the plan and everything in it, and no receipt or room in any answer."""
    headers = place["h"][who]
    for what, (method, url) in _reads(place).items():
        resp = client.open(url, method=method, headers=headers)
        refused(resp, 404, "not_found")
        text = resp.get_data(as_text=True)
        assert place["x"]["receipt"] not in text and "101" not in text, what
    listed = client.get("/api/v1/pledges", headers=headers)
    assert listed.status_code == 200 and listed.json["data"] == []


def _writes(place):
    p, x, z, flat0 = place["p"], place["x"]["id"], place["z"], place["flats"][0]
    money = {"amount_fen": 100, "method": "direct", "paid_on": "2026-01-06"}
    return {
        "pledge": (f"/api/v1/plans/{p}/pledges", {"flat_id": flat0, "signature": SIG,
                                                  "lines": [{"item": "elevator1", "method": "direct"}]}),
        "paper pledge": (f"/api/v1/plans/{p}/paper-pledges", {"flat_id": flat0, "photo": PHOTO,
                                                              "lines": [{"item": "elevator1", "method": "direct"}]}),
        "confirm": (f"/api/v1/paper-pledges/{z}/confirm", None),
        "payment": (f"/api/v1/pledges/{x}/payments", money),
        "refund": (f"/api/v1/pledges/{x}/refunds", money),
        "open": (f"/api/v1/plans/{p}/open", None),
        "close": (f"/api/v1/plans/{p}/close", None),
    }


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_write_nothing_to_the_plan(client, place, who):
    before = counts()
    for what, (url, body) in _writes(place).items():
        resp = client.post(url, headers=place["h"][who], json=body)
        refused(resp, 404, "not_found")
        assert place["x"]["receipt"] not in resp.get_data(as_text=True), what
    assert counts() == before


def test_a_committee_of_another_compound_cannot_start_a_plan_here(client, place):
    before = counts()
    for scope in (("compound", place["a"]), ("building", place["b1"]), ("unit", place["b1"].units[0])):
        resp = client.post("/api/v1/plans", headers=place["h"]["committee_b"], json=plan_body(scope))
        refused(resp, 403, "forbidden")
    assert counts() == before


def test_staff_of_the_scope_without_the_role_are_told_who_may(client, place):
    """A grid worker of the building sees the plan but opens, closes and records money not; the
    treasurer records money but enters no paper pledge; nothing is written."""
    before = counts()
    p, x = place["p"], place["x"]["id"]
    h = place["h"]
    for url in (f"/api/v1/plans/{p}/open", f"/api/v1/plans/{p}/close"):
        refused(client.post(url, headers=h["gw1"]), 403, "forbidden")
    for kind in ("payments", "refunds"):
        error = refused(client.post(f"/api/v1/pledges/{x}/{kind}", headers=h["gw1"], json={
            "amount_fen": 100, "method": "direct", "paid_on": "2026-01-06"}), 403, "forbidden")
        assert "出纳" in error["message"]
    refused(client.post(f"/api/v1/plans/{p}/paper-pledges", headers=h["cash"], json={
        "flat_id": place["flats"][0], "photo": PHOTO, "lines": [{"item": "elevator1", "method": "direct"}]}),
        404, "not_found")
    refused(client.post(f"/api/v1/paper-pledges/{place['z']}/confirm", headers=h["gw1"]), 403, "same_person")
    refused(client.post(f"/api/v1/paper-pledges/{place['z']}/confirm", headers=h["cash"]), 404, "not_found")
    # The grid worker of 1栋 enters nothing for 2栋, which is not in the plan anyway.
    refused(client.post(f"/api/v1/plans/{p}/paper-pledges", headers=h["gw1"], json={
        "flat_id": place["other_flat"], "photo": PHOTO, "lines": [{"item": "paint", "method": "direct"}]}),
        404, "not_found")
    refused(client.post(f"/api/v1/plans/{p}/paper-pledges", headers=h["committee"], json={
        "flat_id": place["other_flat"], "photo": PHOTO, "lines": [{"item": "paint", "method": "direct"}]}),
        422, "not_on_roll")
    assert counts() == before


def test_a_neighbour_pledges_reads_and_prints_nothing_of_another_flat(client, place):
    """o2 owns 102 in the same unit: 101's pledge, agreement and plan part are not theirs."""
    before = counts()
    p, x, flat0, o2 = place["p"], place["x"]["id"], place["flats"][0], place["h"]["o2"]
    refused(client.post(f"/api/v1/plans/{p}/pledges", headers=o2, json={
        "flat_id": flat0, "signature": SIG, "lines": [{"item": "elevator1", "method": "direct"}]}), 404, "not_found")
    for url in (f"/api/v1/pledges/{x}", f"/api/v1/pledges/{x}/agreement.pdf", f"/api/v1/plans/{p}?flat_id={flat0}",
                f"/api/v1/payments/{place['y']}/photo", f"/api/v1/plans/{p}/tally", f"/api/v1/plans/{p}/ledger.xlsx"):
        refused(client.get(url, headers=o2), 404, "not_found")
    assert counts() == before
    # ... while their own flat's part shows only their own amounts.
    own = client.get(f"/api/v1/plans/{p}?flat_id={place['flats'][1]}", headers=o2).json["data"]["flat"]
    assert own["flat_id"] == place["flats"][1] and own["pledge"] is None


@pytest.mark.parametrize("relation", ["family", "tenant"])
def test_family_and_tenants_see_the_amounts_but_neither_pledge_nor_see_the_pledge(client, place, relation):
    before = counts()
    p, x, flat0, headers = place["p"], place["x"]["id"], place["flats"][0], place["h"][relation]
    error = refused(client.post(f"/api/v1/plans/{p}/pledges", headers=headers, json={
        "flat_id": flat0, "signature": SIG, "lines": [{"item": "elevator1", "method": "direct"}]}), 403, "not_owner")
    assert "业主本人" in error["message"]
    for url in (f"/api/v1/pledges/{x}", f"/api/v1/pledges/{x}/agreement.pdf", f"/api/v1/payments/{place['y']}/photo"):
        refused(client.get(url, headers=headers), 404, "not_found")
    seen = client.get(f"/api/v1/plans/{p}?flat_id={flat0}", headers=headers).json["data"]["flat"]
    assert seen["pledged"] is True and seen["pledge"] is None and seen["due_fen"] == sum(place["due"].values())
    assert place["x"]["receipt"] not in client.get(f"/api/v1/plans/{p}?flat_id={flat0}", headers=headers).get_data(
        as_text=True)
    assert client.get("/api/v1/pledges", headers=headers).json["data"] == []
    assert counts() == before


def test_a_seller_still_bound_cannot_pledge_for_a_flat_sold_before_the_plan_opened(client, login, app, db):
    """The roster names a buyer before the plan opens; the seller's binding was never ended: the
    plan's person is the buyer, so the seller's pledge is a 403 not_roll_owner, nothing written."""
    n = next(_people)
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    flat = comp.buildings[0].units[0].flats[0]
    factories.resident(f"at{n}seller", flat)
    factories.staff(f"at{n}committee", "committee", "compound", comp.id)
    buyer = Owner(name="买家", phone="13912345678")
    _db.session.add(buyer)
    _db.session.flush()
    _db.session.get(Flat, flat.id).owner = buyer
    _db.session.commit()
    committee = login(f"at{n}committee")
    p = _post(client, "/api/v1/plans", committee, plan_body(("compound", comp)))["id"]
    _post(client, f"/api/v1/plans/{p}/open", committee, status=200)
    before = counts()
    resp = client.post(f"/api/v1/plans/{p}/pledges", headers=login(f"at{n}seller"), json={
        "flat_id": flat.id, "signature": SIG, "lines": [{"item": "paint", "method": "direct"}]})
    error = refused(resp, 403, "not_roll_owner")
    assert "业主" in error["message"]
    assert counts() == before
    factories.resident(f"at{n}buyer", _db.session.get(Flat, flat.id))
    _db.session.commit()
    assert _post(client, f"/api/v1/plans/{p}/pledges", login(f"at{n}buyer"), {
        "flat_id": flat.id, "signature": SIG, "lines": [{"item": "paint", "method": "direct"}]})["status"] == "current"


def _roster(rows):
    header = ["楼栋", "单元", "房号", "楼层", "面积", "面积来源", "业主姓名", "业主电话"]
    return [(1, header)] + [(i + 2, row) for i, row in enumerate(rows)]


def test_a_previous_owner_after_a_roster_change_pledges_reads_and_prints_nothing(client, login, app, db):
    """The seller pledged; the roster is re-imported naming a buyer (the seller's binding ends).
    The seller can no longer pledge, see or print the pledge; the buyer, bound now, is not the
    person the plan froze: refused to pledge, and the seller's signed pledge is not shown to them."""
    from app.models import Compound
    from app.services.roster import import_rows

    n = next(_people)
    compound_name = f"再导入出资小区{n}"
    import_rows(_roster([["1栋", "1单元", "101", 1, "80.00", "不动产登记", "卖家", "13800001111"],
                         ["1栋", "1单元", "102", 1, "80.00", "不动产登记", "邻居", "13800002222"]]),
                compound_name, community=f"再导入社区{n}", street=f"再导入街道{n}")
    comp = _db.session.scalar(_db.select(Compound).filter_by(name=compound_name))
    factories.staff(f"at{n}committee", "committee", "compound", comp.id)
    _db.session.commit()
    flat = next(f for f in comp.buildings[0].units[0].flats if f.room == "101")
    seller = login(f"at{n}seller")
    assert _post(client, "/api/v1/bindings", seller, {"flat_id": flat.id, "relation": "owner", "name": "卖家",
                                                      "phone_last4": "1111"})["status"] == "approved"
    committee = login(f"at{n}committee")
    p = _post(client, "/api/v1/plans", committee, plan_body(("compound", comp)))["id"]
    _post(client, f"/api/v1/plans/{p}/open", committee, status=200)
    pledge = _post(client, f"/api/v1/plans/{p}/pledges", seller, {
        "flat_id": flat.id, "signature": SIG, "lines": [{"item": "paint", "method": "direct"}]})
    assert client.get(f"/api/v1/pledges/{pledge['id']}/agreement.pdf", headers=seller).status_code == 200

    report = import_rows(_roster([["1栋", "1单元", "101", 1, "80.00", "不动产登记", "买家", "13900003333"],
                                  ["1栋", "1单元", "102", 1, "80.00", "不动产登记", "邻居", "13800002222"]]),
                         compound_name)
    _db.session.commit()
    assert report.bindings_ended == 1
    before = counts()
    refused(client.post(f"/api/v1/plans/{p}/pledges", headers=seller, json={
        "flat_id": flat.id, "signature": SIG, "lines": [{"item": "paint", "method": "direct", "amount_fen": 1}]}),
        404, "not_found")
    for url in (f"/api/v1/pledges/{pledge['id']}", f"/api/v1/pledges/{pledge['id']}/agreement.pdf",
                f"/api/v1/plans/{p}?flat_id={flat.id}"):
        refused(client.get(url, headers=seller), 404, "not_found")
    assert client.get("/api/v1/pledges", headers=seller).json["data"] == []

    buyer = login(f"at{n}buyer")
    assert _post(client, "/api/v1/bindings", buyer, {"flat_id": flat.id, "relation": "owner", "name": "买家",
                                                     "phone_last4": "3333"})["status"] == "approved"
    before = counts()
    refused(client.post(f"/api/v1/plans/{p}/pledges", headers=buyer, json={
        "flat_id": flat.id, "signature": SIG, "lines": [{"item": "paint", "method": "direct"}]}), 403, "not_roll_owner")
    for url in (f"/api/v1/pledges/{pledge['id']}", f"/api/v1/pledges/{pledge['id']}/agreement.pdf"):
        refused(client.get(url, headers=buyer), 404, "not_found")
    assert client.get("/api/v1/pledges", headers=buyer).json["data"] == []
    assert counts() == before


# ---------------------------------------------------------------- guessed ids


def test_guessed_pledge_payment_and_photo_ids_all_answer_the_same_404(client, place):
    """Every id from 1 to past the last, existing or not, answers an outsider alike: no oracle."""
    _db.session.expire_all()
    last_pledge = _db.session.scalar(_db.select(_db.func.max(Pledge.id)))
    last_payment = _db.session.scalar(_db.select(_db.func.max(PlanPayment.id)))
    before = counts()
    for who in ("ob", "cash_b", "committee_b", "gw2"):
        headers = place["h"][who]
        for template, last in (("/api/v1/pledges/{}", last_pledge), ("/api/v1/pledges/{}/agreement.pdf", last_pledge),
                               ("/api/v1/payments/{}/photo", last_payment)):
            answers = set()
            for i in range(1, last + 4):
                resp = client.get(template.format(i), headers=headers)
                error = refused(resp, 404, "not_found")
                answers.add((error["message"], str(error["details"])))
            assert len(answers) == 1, (who, template, answers)
        for template, body in (("/api/v1/pledges/{}/payments", {"amount_fen": 1, "method": "direct",
                                                                "paid_on": "2026-01-06"}),
                               ("/api/v1/pledges/{}/refunds", {"amount_fen": 1, "method": "direct",
                                                               "paid_on": "2026-01-06"})):
            answers = set()
            for i in range(1, last_pledge + 4):
                resp = client.post(template.format(i), headers=headers, json=body)
                if resp.status_code == 201:  # their own compound's pledge: not a guess
                    continue
                error = refused(resp, 404, "not_found")
                answers.add(error["message"])
            assert len(answers) == 1, (who, template, answers)
    assert counts() == before


@pytest.mark.parametrize("who", ["ob", "committee_b", "gw2"])
def test_guessed_paper_pledge_ids_all_answer_the_same_404(client, place, who):
    last_pledge = _db.session.scalar(_db.select(_db.func.max(Pledge.id)))
    before = counts()
    for method, template in (("GET", "/api/v1/paper-pledges/{}/photo"), ("POST", "/api/v1/paper-pledges/{}/confirm")):
        answers = set()
        for i in range(1, last_pledge + 4):
            error = refused(client.open(template.format(i), method=method, headers=place["h"][who]), 404, "not_found")
            answers.add((error["message"], str(error["details"])))
        assert len(answers) == 1, (template, answers)
    assert counts() == before


# ---------------------------------------------------------------- Idempotency-Key


def _pledge(client, place, headers, lines, key=None, signature=SIG, flat=0):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/plans/{place['p']}/pledges", headers={**headers, **extra},
                       json={"flat_id": place["flats"][flat], "lines": lines, "signature": signature})


ELEVATOR = [{"item": "elevator1", "method": "direct"}]


def test_a_replayed_pledge_key_gives_the_same_receipt_and_writes_once(client, place):
    o1 = place["h"]["o1"]
    first = _pledge(client, place, o1, ELEVATOR, key="pk-1")
    assert first.status_code == 201, first.json
    before = counts()
    again = _pledge(client, place, o1, ELEVATOR, key="pk-1")
    assert again.status_code == 201 and again.json["data"] == first.json["data"]
    assert counts() == before


@pytest.mark.parametrize("changed", ["signature", "flat"])
def test_a_pledge_key_reused_with_another_signature_or_flat_is_a_422(client, place, changed):
    """o1 owns 101 and, here, 202 too: the key of their pledge for 101 sent with another
    signature, or for 202, is a 422 and writes nothing."""
    o1 = place["h"]["o1"]
    factories.bind_owner(factories.user(f"at{place['n']}o1"), _db.session.get(Flat, place["flats"][3]))
    _db.session.commit()
    assert _pledge(client, place, o1, ELEVATOR, key="pk-2").status_code == 201
    before = counts()
    resp = (_pledge(client, place, o1, ELEVATOR, key="pk-2", signature=SIG2) if changed == "signature"
            else _pledge(client, place, o1, ELEVATOR, key="pk-2", flat=3))
    refused(resp, 422, "idempotency_mismatch")
    assert counts() == before
    assert _pledge(client, place, o1, ELEVATOR, key="pk-2b", flat=3).status_code == 201  # the flat is theirs


@pytest.mark.parametrize("lines", [
    [{"item": "elevator1", "method": "provident_fund"}],
    [{"item": "elevator1", "method": "direct"}, {"item": "paint", "method": "direct", "amount_fen": 9000}],
], ids=["another-method", "another-amount"])
def test_a_pledge_key_reused_with_other_lines_is_a_422(client, place, lines):
    o1 = place["h"]["o1"]
    assert _pledge(client, place, o1, ELEVATOR, key="pk-3").status_code == 201
    before = counts()
    refused(_pledge(client, place, o1, lines, key="pk-3"), 422, "idempotency_mismatch")
    assert counts() == before


def test_a_paper_pledge_key_reused_with_other_lines_is_a_422(client, place):
    gw = {**place["h"]["gw1"], "Idempotency-Key": "paper-k"}
    url = f"/api/v1/plans/{place['p']}/paper-pledges"
    body = {"flat_id": place["flats"][2], "photo": PHOTO, "lines": ELEVATOR}
    assert client.post(url, headers=gw, json=body).status_code == 201
    before = counts()
    refused(client.post(url, headers=gw, json={**body, "lines": [{"item": "elevator1", "method": "labour",
                                                                  "hours": 2000}]}), 422, "idempotency_mismatch")
    assert counts() == before


def test_a_paper_pledge_key_reused_with_another_photo_or_by_another_worker_is_refused(client, place):
    url = f"/api/v1/plans/{place['p']}/paper-pledges"
    body = {"flat_id": place["flats"][2], "photo": PHOTO, "lines": ELEVATOR}
    first = client.post(url, headers={**place["h"]["gw1"], "Idempotency-Key": "paper-j"}, json=body)
    assert first.status_code == 201
    before = counts()
    refused(client.post(url, headers={**place["h"]["gw1"], "Idempotency-Key": "paper-j"},
                        json={**body, "photo": _image("JPEG", (300, 300))}), 422, "idempotency_mismatch")
    theirs = client.post(url, headers={**place["h"]["gw1b"], "Idempotency-Key": "paper-j"}, json=body)
    refused(theirs, 409, "idempotency_conflict")
    assert first.json["data"]["receipt"] not in theirs.get_data(as_text=True)
    assert counts() == before


def test_another_owners_pledge_key_is_a_409_and_not_their_receipt(client, place):
    mine = _pledge(client, place, place["h"]["o1"], ELEVATOR, key="shared-key")
    assert mine.status_code == 201
    before = counts()
    theirs = _pledge(client, place, place["h"]["o2"], ELEVATOR, key="shared-key", flat=1)
    refused(theirs, 409, "idempotency_conflict")
    assert mine.json["data"]["receipt"] not in theirs.get_data(as_text=True)
    assert counts() == before


def _pay(client, place, headers, body, key=None, kind="payments", pledge=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/pledges/{pledge or place['x']['id']}/{kind}", headers={**headers, **extra},
                       json=body)


MONEY = {"amount_fen": 1000, "method": "direct", "paid_on": "2026-01-06", "reference": "R-1"}


def test_a_replayed_payment_key_records_once(client, place):
    cash = place["h"]["cash"]
    first = _pay(client, place, cash, MONEY, key="pay-1")
    assert first.status_code == 201
    before = counts()
    again = _pay(client, place, cash, MONEY, key="pay-1")
    assert again.status_code == 201 and again.json["data"]["paid_fen"] == first.json["data"]["paid_fen"] == 11_000
    assert counts() == before


@pytest.mark.parametrize("changed", [{"amount_fen": 2000}, {"kind": "refunds"}],
                         ids=["another-amount", "a-refund"])
def test_a_payment_key_reused_with_another_amount_or_kind_is_a_422(client, place, changed):
    cash = place["h"]["cash"]
    assert _pay(client, place, cash, MONEY, key="pay-2").status_code == 201
    before = counts()
    body = {**MONEY, **{k: v for k, v in changed.items() if k != "kind"}}
    refused(_pay(client, place, cash, body, key="pay-2", kind=changed.get("kind", "payments")),
            422, "idempotency_mismatch")
    assert counts() == before


@pytest.mark.parametrize("changed", [{"method": "provident_fund"}, {"paid_on": "2026-01-01"},
                                     {"reference": "R-2"}, {"item": "paint"}],
                         ids=["method", "paid_on", "reference", "item"])
def test_a_payment_key_reused_with_other_details_is_a_422(client, place, changed):
    cash = place["h"]["cash"]
    assert _pay(client, place, cash, MONEY, key="pay-3").status_code == 201
    before = counts()
    refused(_pay(client, place, cash, {**MONEY, **changed}, key="pay-3"), 422, "idempotency_mismatch")
    assert counts() == before


def test_another_cashiers_payment_key_is_a_409(client, place, login):
    factories.staff(f"at{place['n']}cash2", "community_staff", "community", place["a"].community_id)
    _db.session.commit()
    assert _pay(client, place, place["h"]["cash"], MONEY, key="pay-4").status_code == 201
    before = counts()
    refused(_pay(client, place, login(f"at{place['n']}cash2"), MONEY, key="pay-4"), 409, "idempotency_conflict")
    assert counts() == before


@pytest.mark.parametrize("key", ["k" * 65, "键", "a b", "x\ty"])
def test_a_key_too_long_or_not_plain_ascii_is_a_422_never_cut(client, place, key):
    header = {"Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    before = counts()
    for resp in (_pledge(client, place, {**place["h"]["o1"], **header}, ELEVATOR),
                 _pay(client, place, {**place["h"]["cash"], **header}, MONEY)):
        error = refused(resp, 422, "validation_error")
        assert "Idempotency-Key" in error["details"]
    assert counts() == before


# ---------------------------------------------------------------- paper and online


def test_a_paper_pledge_confirmed_after_the_owner_signed_online_does_not_replace_the_later_signature(client, place):
    flat0 = place["flats"][0]
    entered = _post(client, f"/api/v1/plans/{place['p']}/paper-pledges", place["h"]["gw1"], {
        "flat_id": flat0, "photo": PHOTO, "lines": [{"item": "elevator1", "method": "labour", "hours": 1000}]})
    later = _pledge(client, place, place["h"]["o1"], ELEVATOR)  # the owner decides again, online, afterwards
    assert later.status_code == 201
    client.post(f"/api/v1/paper-pledges/{entered['id']}/confirm", headers=place["h"]["committee"])
    _db.session.expire_all()
    counted = _db.session.scalar(_db.select(PlanFlat.pledge_id).filter_by(plan_id=place["p"], flat_id=flat0))
    assert counted == later.json["data"]["id"]
    assert verification.verify() == []


# ---------------------------------------------------------------- hostile plans

ITEM = {"key": "roof", "name": "屋面", "cost_fen": 100_000, "standard": {"type": "area"}}


def _item(**changes):
    return {**ITEM, **changes}


def _floor(coefficients):
    return _item(standard={"type": "floor_coefficient", "coefficients": coefficients})


HOSTILE_PLANS = {
    "cost 2^31": {"items": [_item(cost_fen=2**31)]},
    "cost 10^20": {"items": [_item(cost_fen=10**20)]},
    "cost negative": {"items": [_item(cost_fen=-1)]},
    "cost a float": {"items": [_item(cost_fen=1000.5)]},
    "cost 1e3": {"items": [_item(cost_fen=1e3)]},
    "cost a string": {"items": [_item(cost_fen="1000")]},
    "cost true": {"items": [_item(cost_fen=True)]},
    "cost null": {"items": [_item(cost_fen=None)]},
    "no items": {"items": []},
    "21 items": {"items": [_item(key=f"i{i}") for i in range(21)]},
    "10,000 items": {"items": [_item(key=f"i{i}") for i in range(10_000)]},
    "a duplicate item key": {"items": [_item(), _item(name="屋面2")]},
    "a key not of [a-z0-9_]": {"items": [_item(key="Roof-1")]},
    "an item without a name": {"items": [_item(name="")]},
    "no required item": {"items": [_item(required=False)]},
    "an unknown standard": {"items": [_item(standard={"type": "by_mood"})]},
    "floor coefficients missing": {"items": [_item(standard={"type": "floor_coefficient"})]},
    "coefficient 1e5": {"items": [_floor({"1": "1e5"})]},
    "coefficient NaN": {"items": [_floor({"1": "NaN"})]},
    "coefficient Infinity": {"items": [_floor({"1": "Infinity"})]},
    "coefficient -0.1": {"items": [_floor({"1": "-0.1"})]},
    "coefficient 0.12345": {"items": [_floor({"1": "0.12345"})]},
    "coefficient 101": {"items": [_floor({"1": "101"})]},
    "coefficient 100.5": {"items": [_floor({"1": "100.5"})]},
    "coefficient a number": {"items": [_floor({"1": 1.2})]},
    "coefficient with a space": {"items": [_floor({"1": " 1"})]},
    "coefficient key not a floor": {"items": [_floor({"first": "1"})]},
    "flat coefficient default -1": {"items": [_item(standard={"type": "flat_coefficient", "default": "-1"})]},
    "subsidies above cost": {"items": [_item(subsidies=[{"name": "补贴", "amount_fen": 60_000},
                                                        {"name": "维修资金", "amount_fen": 40_001}])]},
    "a negative subsidy": {"items": [_item(subsidies=[{"name": "补贴", "amount_fen": -1}])]},
    "11 subsidies": {"items": [_item(subsidies=[{"name": f"补贴{i}", "amount_fen": 1} for i in range(11)])]},
    "a funding rule with no part": {"funding_rule": {"required_items": False}},
    "min_flat_share 0/3": {"funding_rule": {"min_flat_share": "0/3"}},
    "min_flat_share 4/3": {"funding_rule": {"min_flat_share": "4/3"}},
    "min_flat_share 2/0": {"funding_rule": {"min_flat_share": "2/0"}},
    "min_flat_share 0.5": {"funding_rule": {"min_flat_share": "0.5"}},
    "min_flat_share -1/2": {"funding_rule": {"min_flat_share": "-1/2"}},
    "no methods": {"methods": []},
    "an unknown method": {"methods": ["cash"]},
    "a method twice": {"methods": ["direct", "direct"]},
    "labour without its rate": {"methods": ["labour"], "labour_rate_fen": None},
    "labour rate 0": {"methods": ["labour"], "labour_rate_fen": 0},
    "labour rate 10^7": {"methods": ["labour"], "labour_rate_fen": 10**7},
    "a deadline passed": {"closes_at": "2020-01-01T00:00:00+08:00"},
    "a deadline in 2101": {"closes_at": "2101-01-01T00:00:00+08:00"},
    "a title of 101 characters": {"title": "题" * 101},
    "a status given": {"status": "funded"},
    "a digest given": {"digest": "0" * 64},
}


@pytest.mark.parametrize("changes", HOSTILE_PLANS.values(), ids=HOSTILE_PLANS.keys())
def test_a_hostile_plan_is_refused_in_chinese_and_nothing_is_written(client, place, changes):
    body = {**plan_body(("compound", place["a"])), "items": [dict(ITEM)], **changes}
    body = {k: v for k, v in body.items() if v is not None or k != "labour_rate_fen"}
    before = counts()
    resp = client.post("/api/v1/plans", headers=place["h"]["committee"], json=body)
    refused(resp, 422, "validation_error")
    assert counts() == before


def test_the_plan_a_careful_committee_writes_is_accepted(client, place):
    """The body the hostile variants start from is itself good: they fail for their one change."""
    body = {**plan_body(("compound", place["a"])), "items": [dict(ITEM)]}
    assert client.post("/api/v1/plans", headers=place["h"]["committee"], json=body).status_code == 201


def _scope_cases(place):
    a_unit2 = place["b2"].units[0]
    b_unit = place["b"].buildings[0].units[0]
    return {
        "a unit of another compound": (("compound", place["a"]), {"type": "unit", "id": b_unit.id}),
        "a building of another compound": (("compound", place["a"]), {"type": "building", "id": place["b"].buildings[0].id}),
        "another building of the compound": (("building", place["b1"]), {"type": "building", "id": place["b2"].id}),
        "a unit of another building": (("building", place["b1"]), {"type": "unit", "id": a_unit2.id}),
        "a unit that does not exist": (("compound", place["a"]), {"type": "unit", "id": 2**31 - 1}),
        "a building for a unit's plan": (("unit", place["b1"].units[0]), {"type": "building", "id": place["b1"].id}),
    }


def test_an_item_shared_outside_the_plans_scope_is_refused(client, place):
    before = counts()
    for what, (scope, applies_to) in _scope_cases(place).items():
        body = plan_body(scope, items=[_item(applies_to=applies_to)])
        error = refused(client.post("/api/v1/plans", headers=place["h"]["committee"], json=body),
                        422, "validation_error")
        assert "范围" in error["message"], what
    assert counts() == before


def test_required_flats_of_another_compound_are_refused(client, place):
    before = counts()
    body = plan_body(("compound", place["a"]), funding_rule={"required_flat_ids": [place["b_flat"]]})
    refused(client.post("/api/v1/plans", headers=place["h"]["committee"], json=body), 422, "validation_error")
    assert counts() == before


def _draft(client, place, **changes):
    body = {**plan_body(("building", place["b1"])), **changes}
    return _post(client, "/api/v1/plans", place["h"]["committee"], body)["id"]


def test_a_floor_coefficient_plan_missing_a_floor_is_a_409_on_open_naming_the_floors(client, place):
    """1栋 has floors 1-3; coefficients for 1 and 3 only (and a floor 7 it has not): floor 2 named."""
    plan = _draft(client, place, items=[_floor({"1": "0", "3": "1.2", "7": "2"})])
    before = counts()
    error = refused(client.post(f"/api/v1/plans/{plan}/open", headers=place["h"]["committee"]),
                    409, "coefficients_missing")
    assert error["details"] == {"floors": [2]} and "2层" in error["message"] and "屋面" in error["message"]
    assert counts() == before
    assert _db.session.get(ContributionPlan, plan).status == "draft"


def test_an_item_nobody_can_share_is_a_409_on_open(client, place):
    """Every floor exempt (coefficient 0) but a share to pay: no weight to divide it over."""
    plan = _draft(client, place, items=[_floor({"1": "0", "2": "0", "3": "0"})])
    before = counts()
    refused(client.post(f"/api/v1/plans/{plan}/open", headers=place["h"]["committee"]), 409, "no_weight")
    assert counts() == before


def test_a_plan_opened_twice_or_closed_before_opening_is_a_409(client, place):
    draft = _draft(client, place, items=[dict(ITEM)])
    before = counts()
    refused(client.post(f"/api/v1/plans/{place['p']}/open", headers=place["h"]["committee"]), 409, "not_draft")
    refused(client.post(f"/api/v1/plans/{draft}/close", headers=place["h"]["committee"]), 409, "not_open")
    refused(client.post(f"/api/v1/plans/{draft}/pledges", headers=place["h"]["o1"], json={
        "flat_id": place["flats"][0], "signature": SIG, "lines": [{"item": "roof", "method": "direct"}]}),
        404, "not_found")  # a draft has no frozen flats: nothing to pledge for
    assert counts() == before


# ---------------------------------------------------------------- hostile pledges


def _hostile_lines(place):
    due = place["due"]["elevator1"]
    return {
        "no lines": ([], 422, "validation_error"),
        "10,000 lines": ([{"item": "paint", "method": "direct"}] * 10_000, 422, "validation_error"),
        "21 lines": ([{"item": "paint", "method": "direct"}] * 21, 422, "validation_error"),
        "an unknown item": (ELEVATOR + [{"item": "pool", "method": "direct"}], 422, "validation_error"),
        "another unit's elevator": (ELEVATOR + [{"item": "elevator2", "method": "direct"}], 422, "validation_error"),
        "an item twice": (ELEVATOR * 2, 422, "validation_error"),
        "the required item missing": ([{"item": "paint", "method": "direct"}], 422, "validation_error"),
        "an unknown method": ([{"item": "elevator1", "method": "cash"}], 422, "validation_error"),
        "a method the plan does not allow": ([{"item": "elevator1", "method": "goods"}], 422, "validation_error"),
        "amount negative": ([{"item": "elevator1", "method": "direct", "amount_fen": -1}], 422, "validation_error"),
        "amount a float": ([{"item": "elevator1", "method": "direct", "amount_fen": due + 0.5}], 422,
                           "validation_error"),
        "amount a string": ([{"item": "elevator1", "method": "direct", "amount_fen": str(due)}], 422,
                            "validation_error"),
        "amount 2^31": ([{"item": "elevator1", "method": "direct", "amount_fen": 2**31}], 422, "validation_error"),
        "amount 10^30": ([{"item": "elevator1", "method": "direct", "amount_fen": 10**30}], 422, "validation_error"),
        "amount below due": ([{"item": "elevator1", "method": "direct", "amount_fen": due - 1}], 422, "below_due"),
        "amount 0 where less is allowed": (ELEVATOR + [{"item": "paint", "method": "direct", "amount_fen": 0}], 422,
                                           "validation_error"),
        "a total over 2^31": ([{"item": "elevator1", "method": "direct", "amount_fen": 2**31 - 1},
                               {"item": "paint", "method": "direct", "amount_fen": 2**31 - 1}], 422,
                              "validation_error"),
        "labour without hours": ([{"item": "elevator1", "method": "labour"}], 422, "validation_error"),
        "hours 0": ([{"item": "elevator1", "method": "labour", "hours": 0}], 422, "validation_error"),
        "hours 1.5": ([{"item": "elevator1", "method": "labour", "hours": 1.5}], 422, "validation_error"),
        "hours 10,001": ([{"item": "elevator1", "method": "labour", "hours": 10_001}], 422, "validation_error"),
        "hours on a payment in money": ([{"item": "elevator1", "method": "direct", "hours": 3}], 422,
                                        "validation_error"),
        "labour whose amount is not its hours": ([{"item": "elevator1", "method": "labour", "hours": 10_000,
                                                   "amount_fen": 2**31 - 1}], 422, "validation_error"),
        "a note of 101 characters": ([{"item": "elevator1", "method": "direct", "note": "注" * 101}], 422,
                                     "validation_error"),
        "a note with a control character": ([{"item": "elevator1", "method": "direct", "note": "a\x00b"}], 422,
                                            "validation_error"),
        "an unknown field": ([{"item": "elevator1", "method": "direct", "status": "paid"}], 422, "validation_error"),
    }


def test_hostile_pledges_are_refused_in_chinese_and_nothing_is_written(client, place):
    o1 = place["h"]["o1"]
    before = counts()
    wrong = []
    for what, (lines, status, code) in _hostile_lines(place).items():
        resp = _pledge(client, place, o1, lines)
        try:
            refused(resp, status, code)
        except AssertionError as exc:
            wrong.append((what, str(exc)[:300]))
    assert not wrong, wrong
    assert counts() == before


@pytest.mark.parametrize("image", NOT_IMAGES.values(), ids=NOT_IMAGES.keys())
def test_a_signature_or_photo_that_is_not_a_png_image_is_refused(client, place, image):
    before = counts()
    refused(_pledge(client, place, place["h"]["o1"], ELEVATOR, signature=image), 422, "validation_error")
    refused(client.post(f"/api/v1/plans/{place['p']}/paper-pledges", headers=place["h"]["gw1"], json={
        "flat_id": place["flats"][3], "photo": image, "lines": ELEVATOR}), 422, "validation_error")
    if image:  # a payment's photo is optional: "" is no photo (the payment is then recorded without one)
        refused(_pay(client, place, place["h"]["cash"], {**MONEY, "photo": image}), 422, "validation_error")
    assert counts() == before


def test_a_jpeg_signature_is_refused_though_a_jpeg_photo_is_not(client, place):
    before = counts()
    error = refused(_pledge(client, place, place["h"]["o1"], ELEVATOR, signature=PHOTO), 422, "validation_error")
    assert "PNG" in error["message"]
    assert counts() == before


def test_labour_hours_worth_more_than_2_31_fen_are_refused(client, place):
    """10,000 hours at 10,000 yuan an hour: the amount is computed, not sent, and still checked."""
    plan = _draft(client, place, methods=["labour"], labour_rate_fen=10**6,
                  items=[_item(standard={"type": "fixed"})])
    _post(client, f"/api/v1/plans/{plan}/open", place["h"]["committee"], status=200)
    before = counts()
    resp = client.post(f"/api/v1/plans/{plan}/pledges", headers=place["h"]["o1"], json={
        "flat_id": place["flats"][0], "signature": SIG, "lines": [{"item": "roof", "method": "labour", "hours": 10_000}]})
    error = refused(resp, 422, "validation_error")
    assert "过大" in error["message"]
    assert counts() == before


# ---------------------------------------------------------------- hostile payments


def _future():
    return (utcnow() + timedelta(hours=8) + timedelta(days=2)).date().isoformat()


def _hostile_money(place):
    paid = 10_000
    total = place["x"]["total_fen"]
    return {
        "amount 0": ("payments", {"amount_fen": 0}, 422, "validation_error"),
        "amount negative": ("payments", {"amount_fen": -500}, 422, "validation_error"),
        "amount a float": ("payments", {"amount_fen": 100.5}, 422, "validation_error"),
        "amount a string": ("payments", {"amount_fen": "100"}, 422, "validation_error"),
        "amount 2^31": ("payments", {"amount_fen": 2**31}, 422, "validation_error"),
        "amount null": ("payments", {"amount_fen": None}, 422, "validation_error"),
        "one fen more than pledged": ("payments", {"amount_fen": total - paid + 1}, 422, "overpayment"),
        "more than pledged on an item": ("payments", {"amount_fen": 5001, "item": "paint"}, 422, "overpayment"),
        "an item not pledged": ("payments", {"item": "elevator2"}, 422, "validation_error"),
        "an unknown item": ("payments", {"item": "pool"}, 422, "validation_error"),
        "an unknown method": ("payments", {"method": "cash"}, 422, "validation_error"),
        "a method the plan does not allow": ("payments", {"method": "goods"}, 422, "validation_error"),
        "paid in the future": ("payments", {"paid_on": _future()}, 422, "validation_error"),
        "paid on 2026-13-01": ("payments", {"paid_on": "2026-13-01"}, 422, "validation_error"),
        "paid on 2026-02-30": ("payments", {"paid_on": "2026-02-30"}, 422, "validation_error"),
        "paid in 1999": ("payments", {"paid_on": "1999-12-31"}, 422, "validation_error"),
        "paid on a number": ("payments", {"paid_on": 20260101}, 422, "validation_error"),
        "paid on a time": ("payments", {"paid_on": "2026-01-01T10:00:00"}, 422, "validation_error"),
        "a reference of 65 characters": ("payments", {"reference": "R" * 65}, 422, "validation_error"),
        "a reference with a line break": ("payments", {"reference": "R\n1"}, 422, "validation_error"),
        "an unknown field": ("payments", {"kind": "refund"}, 422, "validation_error"),
        "a refund of more than paid": ("refunds", {"amount_fen": paid + 1}, 422, "over_refund"),
        "a refund on an item not paid": ("refunds", {"item": "paint", "amount_fen": 1}, 422, "validation_error"),
        "a refund in the future": ("refunds", {"paid_on": _future()}, 422, "validation_error"),
    }


def test_hostile_payments_and_refunds_are_refused_in_chinese_and_nothing_is_written(client, place):
    cash = place["h"]["cash"]
    before = counts()
    wrong = []
    for what, (kind, changes, status, code) in _hostile_money(place).items():
        resp = _pay(client, place, cash, {**MONEY, **changes}, kind=kind)
        try:
            refused(resp, status, code)
        except AssertionError as exc:
            wrong.append((what, str(exc)[:300]))
    assert not wrong, wrong
    assert counts() == before


def test_money_on_a_pledge_that_no_longer_counts_is_a_409(client, place):
    """On the pledge the owner replaced, and on a paper pledge not yet confirmed: 409 not_current."""
    old = place["x"]["id"]
    new = _pledge(client, place, place["h"]["o1"], [{"item": "elevator1", "method": "direct"},
                                                    {"item": "paint", "method": "direct", "amount_fen": 6000}])
    assert new.status_code == 201
    before = counts()
    for pledge in (old, place["z"]):
        for kind in ("payments", "refunds"):
            error = refused(_pay(client, place, place["h"]["cash"], MONEY, kind=kind, pledge=pledge), 409, "not_current")
            assert error["details"]["current_pledge_id"] in (new.json["data"]["id"], None)
    assert counts() == before


def _paint_paid(client, place):
    pay_paint = _pay(client, place, place["h"]["cash"], {**MONEY, "amount_fen": 5000, "item": "paint"})
    assert pay_paint.status_code == 201, pay_paint.json


def test_a_pledge_cannot_be_lowered_below_what_is_paid(client, place):
    """On paint, which allows less, 5,000 pledged and 5,000 paid cannot become 1,000."""
    _paint_paid(client, place)
    before = counts()
    resp = _pledge(client, place, place["h"]["o1"], ELEVATOR + [{"item": "paint", "method": "direct", "amount_fen": 1000}])
    refused(resp, 422, "below_paid")
    assert counts() == before


def test_a_pledge_cannot_drop_an_item_already_paid_on(client, place):
    _paint_paid(client, place)
    before = counts()
    refused(_pledge(client, place, place["h"]["o1"], ELEVATOR), 422, "below_paid")
    assert counts() == before


def test_after_all_that_the_world_still_verifies(client, place):
    """The fixture's own writes are the application's: verify finds nothing (the attacks above
    wrote nothing; the tamper tests in tests/services/test_plan_audit.py edit behind its back)."""
    assert verification.verify() == []


def test_items_sent_without_keys_are_numbered_item1_item2(client, place):
    """PlanIn loads an absent key as None: the service numbers such items instead of calling them
    all "None" (two of them were refused as a repeated key)."""
    items = [{"name": "楼道粉刷", "cost_fen": 120_000, "standard": {"type": "fixed"}},
             {"name": "屋面防水", "cost_fen": 80_000, "standard": {"type": "area"}, "required": False}]
    data = _post(client, "/api/v1/plans", place["h"]["committee"], {**plan_body(("compound", place["a"])), "items": items})
    assert [i["key"] for i in data["items"]] == ["item1", "item2"]
