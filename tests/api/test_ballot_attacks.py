"""Signing, tried as an attacker would: a previous owner after the roster changed, a stranger
probing error order, a replayed or reused Idempotency-Key, and family reading the owner's choice."""
import pytest

from app.extensions import db as _db
from app.models import Ballot, Binding, Flat, Owner
from app.services import consultations as service
from tests import factories

SIG = factories.signature_png()
SIG2 = factories.signature_png(width=200)


@pytest.fixture()
def place(app, db):
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    factories.staff("committee", "committee", "compound", comp.id)
    _db.session.commit()
    return comp


def flats(comp):
    return [f for b in comp.buildings for u in b.units for f in u.flats]


def ballot(client, headers, consultation_id, flat_id, choice="agree", signature=SIG, key=None):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/api/v1/consultations/{consultation_id}/ballots", headers={**headers, **extra},
                       json={"flat_id": flat_id, "choice": choice, "signature": signature})


def test_a_previous_owner_cannot_sign_after_the_flat_changed_hands(client, login, place):
    """The flat is sold after the old owner bound: the roll frozen at opening names the new owner, so
    the old owner's binding signs nothing (403 in Chinese) and nothing is written."""
    flat = flats(place)[0]
    factories.resident("seller", flat)
    buyer = Owner(name="新业主", phone="13912340000")
    _db.session.add(buyer)
    _db.session.flush()
    _db.session.get(Flat, flat.id).owner = buyer
    c = factories.consultation(("compound", place))
    _db.session.commit()
    resp = ballot(client, login("seller"), c.id, flat.id)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_roll_owner"
    assert "名册" in resp.json["error"]["message"]
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 0


def test_the_owner_the_roll_names_signs(client, login, place):
    """The check compares persons, not just relations: the owner verified against the roll's person signs."""
    flat = flats(place)[0]
    factories.resident("owner", flat)
    c = factories.consultation(("compound", place))
    _db.session.commit()
    assert ballot(client, login("owner"), c.id, flat.id).status_code == 201


def test_a_stranger_learns_nothing_from_error_order(client, login, place):
    """Not bound to the flat: the same 404 whether the consultation is closed, the choice is bogus,
    or the consultation does not exist at all."""
    flat = flats(place)[0]
    factories.resident("owner", flat)
    c = factories.consultation(("compound", place))
    closed = factories.consultation(("compound", place))
    service.close(closed.id)
    _db.session.commit()
    stranger = login("stranger")
    answers = [ballot(client, stranger, c.id, flat.id, choice="bogus"),
               ballot(client, stranger, closed.id, flat.id),
               ballot(client, stranger, 987654, flat.id)]
    assert {(r.status_code, r.json["error"]["code"], r.json["error"]["message"]) for r in answers} == {
        (404, "not_found", "没有找到该征询，或您尚未绑定该房屋")}
    owner = login("owner")
    assert ballot(client, owner, closed.id, flat.id).status_code == 409  # the owner is told why
    assert ballot(client, owner, c.id, flat.id, choice="bogus").status_code == 422


def test_a_replayed_key_gives_the_same_receipt_and_a_reused_key_is_a_422(client, login, place):
    """Stripe's rule: the same key with the same body is the old answer; with another body a 422."""
    flat = flats(place)[0]
    factories.resident("owner", flat)
    c = factories.consultation(("compound", place))
    _db.session.commit()
    owner = login("owner")
    first = ballot(client, owner, c.id, flat.id, key="k-1")
    again = ballot(client, owner, c.id, flat.id, key="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json["data"]["receipt"] == again.json["data"]["receipt"]
    for changed in (dict(choice="disagree"), dict(signature=SIG2)):
        resp = ballot(client, owner, c.id, flat.id, key="k-1", **changed)
        assert resp.status_code == 422 and resp.json["error"]["code"] == "idempotency_mismatch"
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 1


def test_another_users_key_is_not_their_answer(client, login, place):
    """A key someone else used returns neither their ballot nor their receipt."""
    a, b = flats(place)[:2]
    factories.resident("alice", a)
    factories.resident("bob", b)
    c = factories.consultation(("compound", place))
    _db.session.commit()
    mine = ballot(client, login("alice"), c.id, a.id, key="shared-key")
    theirs = ballot(client, login("bob"), c.id, b.id, key="shared-key")
    assert theirs.status_code == 409 and theirs.json["error"]["code"] == "idempotency_conflict"
    assert mine.json["data"]["receipt"] not in theirs.get_data(as_text=True)


@pytest.mark.parametrize("key", ["k" * 65, "键", "a b", "x\ty"])
def test_a_key_too_long_or_not_plain_ascii_is_a_422_never_cut(client, login, place, key):
    flat = flats(place)[0]
    factories.resident("owner", flat)
    c = factories.consultation(("compound", place))
    _db.session.commit()
    headers = {**login("owner"), "Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    resp = client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers,
                       json={"flat_id": flat.id, "choice": "agree", "signature": SIG})
    assert resp.status_code == 422 and "Idempotency-Key" in resp.json["error"]["details"]
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 0
    assert ballot(client, login("owner"), c.id, flat.id, key="k" * 64).status_code == 201


def test_family_see_that_the_flat_answered_not_the_choice_until_publication(client, login, place):
    flat = flats(place)[0]
    factories.resident("owner", flat)
    kid = factories.user("kid")
    _db.session.add(Binding(user=kid, flat_id=flat.id, relation="family", name="子女", status="approved"))
    c = factories.consultation(("compound", place))
    _db.session.commit()
    ballot(client, login("owner"), c.id, flat.id, choice="disagree")
    family = login("kid")
    seen = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=family).json["data"]
    assert seen["answered"] is True and seen["ballot"] is None
    listed = client.get(f"/api/v1/consultations?flat_id={flat.id}", headers=family)
    assert listed.json["data"][0]["answered"] is True and listed.json["data"][0]["ballot"] is None
    owner_view = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=login("owner")).json["data"]
    assert owner_view["ballot"]["choice"] == "disagree"
    committee = login("committee")
    client.post(f"/api/v1/consultations/{c.id}/close", headers=committee)
    client.post(f"/api/v1/consultations/{c.id}/publish", headers=committee)
    seen = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=family).json["data"]
    assert seen["ballot"]["choice"] == "disagree"


def roster(rows):
    header = ["楼栋", "单元", "房号", "楼层", "面积", "面积来源", "业主姓名", "业主电话"]
    return [(1, header)] + [(i + 2, row) for i, row in enumerate(rows)]


def test_a_previous_owner_is_refused_after_a_roster_reimport(client, login, app, db):
    """The whole path an operator takes: import, the owner binds, a re-import names a buyer; the
    seller's binding is ended (visible to them), their ballot is refused on a consultation opened
    after the sale, and the buyer, once bound, signs."""
    from app.services.roster import import_rows

    import_rows(roster([["1栋", "1单元", "101", 1, "80.00", "不动产登记", "卖家", "13800001111"],
                        ["1栋", "1单元", "102", 1, "80.00", "不动产登记", "邻居", "13800002222"]]),
                "再导入小区", community="再导入社区", street="再导入街道")
    _db.session.commit()
    flat = _db.session.scalar(_db.select(Flat).filter_by(room="101"))
    seller = login("seller")
    proof = {"flat_id": flat.id, "relation": "owner", "name": "卖家", "phone_last4": "1111"}
    assert client.post("/api/v1/bindings", headers=seller, json=proof).json["data"]["status"] == "approved"

    report = import_rows(roster([["1栋", "1单元", "101", 1, "80.00", "不动产登记", "买家", "13900003333"],
                                 ["1栋", "1单元", "102", 1, "80.00", "不动产登记", "邻居", "13800002222"]]),
                         "再导入小区")
    _db.session.commit()
    assert report.bindings_ended == 1
    mine = client.get("/api/v1/me", headers=seller).json["data"]["bindings"]
    assert [(b["status"], b["status_name"]) for b in mine] == [("ended", "已失效（名册业主已变更）")]
    assert "业主已变更" in mine[0]["reason"]
    from app.models import Compound

    comp = _db.session.scalar(_db.select(Compound).filter_by(name="再导入小区"))
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    refused = ballot(client, seller, c.id, flat.id)
    assert refused.status_code == 404 and _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 0
    ended = _db.session.scalar(_db.select(Binding).filter_by(flat_id=flat.id, status="ended"))
    assert "业主已变更" in ended.reason
    seen = client.get(f"/api/v1/bindings/{ended.id}", headers=seller).json["data"]
    assert seen["status"] == "ended" and "业主已变更" in seen["reason"]

    buyer = login("buyer")
    assert client.post("/api/v1/bindings", headers=buyer, json={
        "flat_id": flat.id, "relation": "owner", "name": "买家", "phone_last4": "3333"}).json["data"]["status"] == "approved"
    assert ballot(client, buyer, c.id, flat.id).status_code == 201


def test_an_ended_binding_restored_by_hand_still_does_not_sign(client, login, place):
    """Someone sets the seller's ended binding back to approved in the database: it still names the
    previous owner, so the roll's person check refuses it."""
    flat = flats(place)[0]
    binding = factories.bind_owner(factories.user("seller"), flat)
    buyer = Owner(name="买家", phone="13900004444")
    _db.session.add(buyer)
    _db.session.flush()
    _db.session.get(Flat, flat.id).owner = buyer
    binding.status = "ended"
    c = factories.consultation(("compound", place))
    _db.session.commit()
    _db.session.execute(_db.update(Binding).where(Binding.id == binding.id).values(status="approved"))
    _db.session.commit()
    resp = ballot(client, login("seller"), c.id, flat.id)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_roll_owner"


def test_a_paper_entry_retried_with_its_key_is_entered_once(client, login, place):
    """A grid worker's entry whose answer was lost, sent again with the same key: one ballot; the key
    with another sheet is a 422, and another staff member's use of it a 409."""
    flat = flats(place)[0]
    grid = factories.grid(place, place.buildings)
    factories.staff("gw", "grid_worker", "grid", grid.id)
    factories.staff("gw2", "grid_worker", "grid", grid.id)
    c = factories.consultation(("compound", place))
    _db.session.commit()
    worker = {**login("gw"), "Idempotency-Key": "paper-1"}
    body = {"flat_id": flat.id, "choice": "agree", "photo": SIG}
    first = client.post(f"/api/v1/consultations/{c.id}/paper-ballots", headers=worker, json=body)
    again = client.post(f"/api/v1/consultations/{c.id}/paper-ballots", headers=worker, json=body)
    assert first.status_code == again.status_code == 201
    assert first.json["data"]["receipt"] == again.json["data"]["receipt"]
    other = client.post(f"/api/v1/consultations/{c.id}/paper-ballots", headers=worker, json={**body, "choice": "disagree"})
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_mismatch"
    stolen = client.post(f"/api/v1/consultations/{c.id}/paper-ballots",
                         headers={**login("gw2"), "Idempotency-Key": "paper-1"}, json=body)
    assert stolen.status_code == 409
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 1


def test_the_second_staff_member_sees_the_paper_ballots_photo(client, login, place):
    """The photo of a paper ballot, to staff of its flat's grid only, as the image it was."""
    import base64

    flat = flats(place)[0]
    grid = factories.grid(place, place.buildings)
    factories.staff("gw", "grid_worker", "grid", grid.id)
    factories.staff("checker", "grid_worker", "grid", grid.id)
    c = factories.consultation(("compound", place))
    _db.session.commit()
    entered = client.post(f"/api/v1/consultations/{c.id}/paper-ballots", headers=login("gw"),
                          json={"flat_id": flat.id, "choice": "agree", "photo": SIG}).json["data"]
    photo = client.get(f"/api/v1/paper-ballots/{entered['id']}/photo", headers=login("checker"))
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.data == base64.b64decode(SIG) and photo.headers["Cache-Control"] == "private, no-store"
    other = factories.compound()
    factories.staff("stranger", "committee", "compound", other.id)
    _db.session.commit()
    assert client.get(f"/api/v1/paper-ballots/{entered['id']}/photo", headers=login("stranger")).status_code == 404
