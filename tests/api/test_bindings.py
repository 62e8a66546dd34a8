"""A resident's first minute: scan, find the flat, prove it is theirs; a grid worker decides the rest."""
import pytest

from app.extensions import db as _db
from app.models import BindingAttempt
from tests import factories


@pytest.fixture()
def place(app, db):
    """A compound with two buildings in two grids, and a grid worker for each grid."""
    comp = factories.compound(buildings=(("1栋", 2, 3, 2), ("2栋", 1, 3, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    factories.staff("grid1", "grid_worker", "grid", g1.id)
    factories.staff("grid2", "grid_worker", "grid", g2.id)
    _db.session.commit()
    return comp


def first_flat(building):
    return building.units[0].flats[0]


def test_scan_login_bind_end_to_end(client, login, place):
    """Login → scan → bind: approved on a roster match; pending on a mismatch, then approved by the grid worker."""
    b1 = place.buildings[0]
    resident = login("zhang")
    scan = client.get(f"/api/v1/scan/{b1.scene}", headers=resident)
    assert scan.status_code == 200
    data = scan.json["data"]
    assert data["building"]["name"] == "1栋" and data["building"]["compound"]["name"] == place.name
    assert [u["name"] for u in data["units"]] == ["1单元", "2单元"]
    assert data["units"][0]["flats"][0] == {"id": first_flat(b1).id, "room": "101", "floor": 1}
    assert "业主" not in scan.get_data(as_text=True)  # no names on the scan page

    flat = first_flat(b1)
    owner = flat.owner
    good = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flat.id, "relation": "owner", "name": owner.name, "phone_last4": owner.phone[-4:]})
    assert good.status_code == 201 and good.json["data"]["status"] == "approved"
    me = client.get("/api/v1/me", headers=resident).json["data"]
    assert [(b["flat"]["id"], b["status"]) for b in me["bindings"]] == [(flat.id, "approved")]

    other = login("li")
    flat2 = b1.units[0].flats[1]
    bad = client.post("/api/v1/bindings", headers=other, json={
        "flat_id": flat2.id, "relation": "owner", "name": "李四", "phone_last4": "0000"})
    assert bad.status_code == 201 and bad.json["data"]["status"] == "pending"
    binding_id = bad.json["data"]["id"]

    wrong_worker = login("grid2")
    assert client.post(f"/api/v1/bindings/{binding_id}/approve", headers=wrong_worker).status_code == 404
    assert client.get("/api/v1/bindings?status=pending", headers=wrong_worker).json["data"] == []

    worker = login("grid1")
    queue = client.get("/api/v1/bindings?status=pending", headers=worker).json["data"]
    assert [b["id"] for b in queue] == [binding_id]
    assert queue[0]["applicant"]["name"] == "李四"
    assert "****" in queue[0]["roster_owner"]["phone"]
    approved = client.post(f"/api/v1/bindings/{binding_id}/approve", headers=worker)
    assert approved.status_code == 200 and approved.json["data"]["status"] == "approved"
    assert client.post(f"/api/v1/bindings/{binding_id}/approve", headers=worker).status_code == 409
    assert client.get("/api/v1/me", headers=other).json["data"]["bindings"][0]["status"] == "approved"


def test_wechat_verified_phone_binds_an_owner(client, login, place):
    """Does a WeChat-verified phone equal to the roster phone bind at once, whatever name was typed?"""
    flat = first_flat(place.buildings[0])
    resident = login("wang")
    client.post("/api/v1/auth/phone", headers=resident, json={"code": f"phone-{flat.owner.phone}"})
    resp = client.post("/api/v1/bindings", headers=resident, json={"flat_id": flat.id, "relation": "owner", "name": "王"})
    assert resp.json["data"]["status"] == "approved"


def test_family_and_tenants_wait_for_the_grid_worker(client, login, place):
    """Do a family member and a tenant always wait for review, even with the right digits?"""
    flat = first_flat(place.buildings[0])
    resident = login("kid")
    resp = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flat.id, "relation": "family", "name": flat.owner.name, "phone_last4": flat.owner.phone[-4:]})
    assert resp.status_code == 201 and resp.json["data"]["status"] == "pending"


def test_reject_needs_a_reason_and_is_shown_to_the_resident(client, login, place):
    flat = first_flat(place.buildings[0])
    resident = login("zhao")
    bid = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flat.id, "relation": "tenant", "name": "赵六"}).json["data"]["id"]
    worker = login("grid1")
    no_reason = client.post(f"/api/v1/bindings/{bid}/reject", headers=worker, json={})
    assert no_reason.status_code == 422 and no_reason.json["error"]["message"] == "驳回时请填写原因"
    resp = client.post(f"/api/v1/bindings/{bid}/reject", headers=worker, json={"reason": "非本楼住户"})
    assert resp.json["data"]["status"] == "rejected"
    seen = client.get(f"/api/v1/bindings/{bid}", headers=resident).json["data"]
    assert (seen["status"], seen["reason"]) == ("rejected", "非本楼住户")


def test_five_failures_in_an_hour_get_429(client, login, place):
    """Are five failed owner proofs within an hour followed by 429 in Chinese, and all attempts logged?"""
    resident = login("guess")
    flats = [f for u in place.buildings[0].units for f in u.flats]
    guesses = [flats[0], flats[1], flats[2], flats[2], flats[2]]  # three pending requests, two retries
    for flat in guesses:
        resp = client.post("/api/v1/bindings", headers=resident, json={
            "flat_id": flat.id, "relation": "owner", "name": "猜", "phone_last4": "9999"})
        assert resp.status_code in (201, 409)
    sixth = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flats[5].id, "relation": "owner", "name": "猜", "phone_last4": "9999"})
    assert sixth.status_code == 429
    assert sixth.json["error"]["code"] == "too_many_attempts" and "一小时" in sixth.json["error"]["message"]
    attempts = _db.session.scalars(_db.select(BindingAttempt)).all()
    assert len(attempts) == 5 and not any(a.matched for a in attempts)


def test_retry_while_pending_can_settle_it(client, login, place):
    """Does a corrected second try on a pending request bind at once, and a wrong one keep it waiting?"""
    flat = first_flat(place.buildings[0])
    resident = login("typo")
    first = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flat.id, "relation": "owner", "name": flat.owner.name, "phone_last4": "0000"})
    wrong = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flat.id, "relation": "owner", "name": flat.owner.name, "phone_last4": "1111"})
    assert wrong.status_code == 409 and wrong.json["error"]["code"] == "already_pending"
    right = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flat.id, "relation": "owner", "name": flat.owner.name, "phone_last4": flat.owner.phone[-4:]})
    assert right.status_code == 201
    assert (right.json["data"]["id"], right.json["data"]["status"]) == (first.json["data"]["id"], "approved")
    again = client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": flat.id, "relation": "owner", "name": flat.owner.name, "phone_last4": flat.owner.phone[-4:]})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_bound"


def test_unbinding_by_resident_and_by_staff(client, login, place):
    flat = first_flat(place.buildings[0])
    resident = login("move")
    proof = {"flat_id": flat.id, "relation": "owner", "name": flat.owner.name, "phone_last4": flat.owner.phone[-4:]}
    bid = client.post("/api/v1/bindings", headers=resident, json=proof).json["data"]["id"]
    assert client.delete(f"/api/v1/bindings/{bid}", headers=resident).json["data"]["status"] == "unbound"
    assert client.get("/api/v1/me", headers=resident).json["data"]["bindings"] == []
    bid = client.post("/api/v1/bindings", headers=resident, json=proof).json["data"]["id"]
    assert client.delete(f"/api/v1/bindings/{bid}", headers=login("grid2")).status_code == 404
    resp = client.delete(f"/api/v1/bindings/{bid}", headers=login("grid1"), json={"reason": "房屋已出售"})
    assert resp.json["data"]["status"] == "unbound" and resp.json["data"]["reason"] == "房屋已出售"


def test_bad_binding_input_is_refused_and_changes_nothing(client, login, place):
    resident = login("bad")
    resp = client.post("/api/v1/bindings", headers=resident, json={"flat_id": "x", "relation": "boss", "name": ""})
    assert resp.status_code == 422
    assert set(resp.json["error"]["details"]["json"]) == {"flat_id", "relation", "name"}
    assert client.post("/api/v1/bindings", headers=resident, json={
        "flat_id": 999999, "relation": "owner", "name": "甲"}).status_code == 404
    assert _db.session.scalar(_db.select(_db.func.count(BindingAttempt.id))) == 0


def test_unknown_scene_is_a_chinese_404(client, login, place):
    resp = client.get("/api/v1/scan/nosuchscene", headers=login("zhang"))
    assert resp.status_code == 404 and "二维码" in resp.json["error"]["message"]
