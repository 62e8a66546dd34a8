"""Verification levels (issue 15): a grid worker of the flat's grid confirms a resident in person
(level 2); a consultation that requires level 2 refuses level-1 owners, saying why and how."""
import pytest

from app.extensions import db as _db
from app.models import AuditEntry, Ballot, Binding
from app.services import verification
from tests import factories

SIG = factories.signature_png()


@pytest.fixture()
def place(app, db):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2), ("2栋", 1, 1, 2)))
    b1, b2 = comp.buildings
    g1 = factories.grid(comp, [b1], name="第一网格")
    g2 = factories.grid(comp, [b2], name="第二网格")
    factories.staff("gw1", "grid_worker", "grid", g1.id)
    factories.staff("gw2", "grid_worker", "grid", g2.id)
    factories.staff("committee", "committee", "compound", comp.id)
    flat = b1.units[0].flats[0]
    owner = factories.resident("owner", flat)
    _db.session.commit()
    return comp, flat, owner


def binding_of(user):
    return _db.session.scalar(_db.select(Binding).filter_by(user_id=user.id))


def sign(client, headers, c, flat):
    return client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers,
                       json={"flat_id": flat.id, "choice": "agree", "signature": SIG})


def test_a_level_one_resident_cannot_sign_where_level_two_is_required(client, login, place):
    """403 in Chinese naming the grid to contact, nothing written; GET ?flat_id= says so before signing.
    After the grid worker of the flat's grid confirms in person (who and when kept), the owner signs."""
    comp, flat, owner = place
    c = factories.consultation(("compound", comp), required_level=2)
    _db.session.commit()
    assert c.rule["required_level"] == 2
    headers = login("owner")
    shown = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=headers).json["data"]
    assert "当面核验" in shown["cannot_sign"] and "第一网格" in shown["cannot_sign"]
    assert shown["rule"]["required_level"] == 2
    resp = sign(client, headers, c, flat)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "level_required"
    assert "第一网格的网格员" in resp.json["error"]["message"]
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id))) == 0

    binding = binding_of(owner)
    assert client.post(f"/api/v1/bindings/{binding.id}/confirm-in-person", headers=login("gw2")).status_code == 404
    assert client.post(f"/api/v1/bindings/{binding.id}/confirm-in-person", headers=headers).status_code == 404
    resp = client.post(f"/api/v1/bindings/{binding.id}/confirm-in-person", headers=login("gw1"))
    assert resp.status_code == 200 and resp.json["data"]["level"] == 2 and resp.json["data"]["level_at"]
    again = client.post(f"/api/v1/bindings/{binding.id}/confirm-in-person", headers=login("gw1"))
    assert again.status_code == 409
    _db.session.expire_all()
    assert binding_of(owner).level_by_id == factories.user("gw1").id
    shown = client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}", headers=headers).json["data"]
    assert shown["cannot_sign"] is None
    assert sign(client, headers, c, flat).status_code == 201
    assert verification.verify() == []


def test_level_one_signs_where_nothing_more_is_required(client, login, place):
    comp, flat, owner = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    assert "required_level" not in c.rule
    assert client.get(f"/api/v1/consultations/{c.id}?flat_id={flat.id}",
                      headers=login("owner")).json["data"]["cannot_sign"] is None
    assert sign(client, login("owner"), c, flat).status_code == 201


def test_a_level_set_in_the_database_is_named_by_verify(client, login, place):
    """A binding raised to level 2 behind the application's back is named; so is a level-2 entry's
    confirmer changed."""
    comp, flat, owner = place
    binding = binding_of(owner)
    binding.level = 2
    _db.session.commit()
    problems = verification.verify()
    assert any("核验等级" in p.what for p in problems), problems


def test_a_required_level_edited_after_opening_is_named(client, login, place):
    """The required level is part of the frozen rule: lowering it in the live row changes nothing
    for ballots (they read the freeze) and verify names it."""
    comp, flat, owner = place
    c = factories.consultation(("compound", comp), required_level=2)
    _db.session.commit()
    c.rule = {k: v for k, v in c.rule.items() if k != "required_level"}
    _db.session.commit()
    assert sign(client, login("owner"), c, flat).status_code == 403
    assert any("规则" in p.what for p in verification.verify())


def test_a_required_level_other_than_one_or_two_is_refused(client, login, place):
    comp, flat, owner = place
    resp = client.post("/api/v1/consultations", headers=login("committee"), json={
        "scope": {"type": "compound", "id": comp.id}, "title": "加装电梯", "closes_at": "2099-01-01T00:00:00Z",
        "rule": {"preset": "major", "required_level": 3}})
    assert resp.status_code == 422 and resp.json["error"]["message"]
