"""Binding, tried as an attacker would: guessing a flat's digits from many accounts, flooding the
grid worker's queue, and whether the limits and the lock hold (issue 8)."""
import json
from datetime import timedelta

import pytest

from app.extensions import db as _db
from app.models import AuditEntry, Binding, BindingAttempt, Flat
from app.models.places import utcnow
from app.services.bindings import bindings_chain
from tests import factories


@pytest.fixture()
def place(app, db):
    comp = factories.compound(buildings=(("1栋", 2, 3, 2), ("2栋", 1, 3, 2)))
    b1, b2 = comp.buildings
    g1, g2 = factories.grid(comp, [b1]), factories.grid(comp, [b2])
    factories.staff("grid1", "grid_worker", "grid", g1.id)
    factories.staff("grid2", "grid_worker", "grid", g2.id)
    _db.session.commit()
    return comp


def target(place):
    return place.buildings[0].units[0].flats[0]


def guess(client, headers, flat, digits, relation="owner", name=None):
    return client.post("/api/v1/bindings", headers=headers, json={
        "flat_id": flat.id, "relation": relation, "name": name or flat.owner.name, "phone_last4": digits})


def wrong_digits(flat):
    return "0000" if flat.owner.phone[-4:] != "0000" else "1111"


def test_throwaway_accounts_are_stopped_by_the_flat_limit_before_the_sixth_guess(client, login, place):
    """Thirty throw-away accounts guess one flat's digits: after five failures the sixth guess, even
    the right one, binds nothing at once; after ten the flat is locked for everyone."""
    flat = target(place)
    right = flat.owner.phone[-4:]
    accounts = [login(f"thief{i}") for i in range(30)]
    for headers in accounts[:5]:
        resp = guess(client, headers, flat, wrong_digits(flat))
        assert (resp.status_code, resp.json["data"]["status"]) == (201, "pending")
    sixth = guess(client, accounts[5], flat, right)  # the right digits, too late
    assert (sixth.status_code, sixth.json["data"]["status"]) == (201, "pending")
    assert _db.session.scalar(_db.select(_db.func.count(Binding.id)).where(Binding.status == "approved")) == 0
    for headers in accounts[6:10]:
        assert guess(client, headers, flat, right).json["data"]["status"] == "pending"
    locked = guess(client, accounts[10], flat, right)
    assert locked.status_code == 429 and locked.json["error"]["code"] == "flat_locked"
    assert "网格员" in locked.json["error"]["message"]
    for headers in accounts[11:]:
        assert guess(client, headers, flat, right).status_code == 429
    attempts = _db.session.scalars(_db.select(BindingAttempt).order_by(BindingAttempt.id)).all()
    assert [a.outcome for a in attempts] == ["pending"] * 5 + ["guarded"] * 5
    assert not any(a.matched for a in attempts)


def test_the_real_owner_binds_after_the_grid_worker_unlocks(client, login, place):
    """Once locked, does only a grid worker of the flat's grid see and unlock it, after which the
    real owner's right digits bind at once again?"""
    flat = target(place)
    for i in range(10):
        guess(client, login(f"t{i}"), flat, wrong_digits(flat))
    assert _db.session.get(Flat, flat.id).binding_locked_at is not None
    other_grid, own_grid = login("grid2"), login("grid1")
    assert client.get("/api/v1/bindings/locked-flats", headers=other_grid).json["data"] == []
    assert client.post(f"/api/v1/flats/{flat.id}/unlock", headers=other_grid, json={}).status_code == 404
    listed = client.get("/api/v1/bindings/locked-flats", headers=own_grid).json["data"]
    assert [f["id"] for f in listed] == [flat.id] and listed[0]["locked_at"]
    resident = login("owner")
    assert guess(client, resident, flat, flat.owner.phone[-4:]).status_code == 429
    unlocked = client.post(f"/api/v1/flats/{flat.id}/unlock", headers=own_grid, json={"reason": "已电话核实"})
    assert unlocked.status_code == 200
    assert client.post(f"/api/v1/flats/{flat.id}/unlock", headers=own_grid, json={}).status_code == 409
    resp = guess(client, resident, flat, flat.owner.phone[-4:])
    assert (resp.status_code, resp.json["data"]["status"]) == (201, "approved")
    assert _db.session.get(Binding, resp.json["data"]["id"]).owner_id == flat.owner_id


def test_failures_older_than_an_hour_no_longer_guard_the_flat(client, login, place):
    """Five failures two hours ago: is the owner's right proof evaluated again (the one-hour window)?"""
    flat = target(place)
    for i in range(5):
        guess(client, login(f"old{i}"), flat, wrong_digits(flat))
    _db.session.execute(_db.update(BindingAttempt).values(created_at=utcnow() - timedelta(hours=2)))
    _db.session.commit()
    resp = guess(client, login("owner"), flat, flat.owner.phone[-4:])
    assert resp.json["data"]["status"] == "approved"


def test_failures_of_a_day_still_lock_the_flat(client, login, place):
    """Five failures three hours ago and five now: locked (the day counts, the hour does not)."""
    flat = target(place)
    for i in range(5):
        guess(client, login(f"early{i}"), flat, wrong_digits(flat))
    _db.session.execute(_db.update(BindingAttempt).values(created_at=utcnow() - timedelta(hours=3)))
    _db.session.commit()
    for i in range(5):
        guess(client, login(f"late{i}"), flat, wrong_digits(flat))
    assert _db.session.get(Flat, flat.id).binding_locked_at is not None


def test_a_users_own_failures_count_not_other_peoples(client, login, place):
    """Five other accounts each failing once on other flats do not stop a sixth account (the per-user
    condition); one account failing five times is stopped, wherever it tries next."""
    flats = [f for b in place.buildings for u in b.units for f in u.flats]
    for i, flat in enumerate(flats[1:6]):
        guess(client, login(f"other{i}"), flat, wrong_digits(flat))
    mine = flats[7]
    assert guess(client, login("honest"), mine, mine.owner.phone[-4:]).json["data"]["status"] == "approved"
    pest = login("pest")
    for _ in range(5):
        guess(client, pest, flats[8], wrong_digits(flats[8]))
    resp = guess(client, pest, flats[9], flats[9].owner.phone[-4:])
    assert resp.status_code == 429 and resp.json["error"]["code"] == "too_many_attempts"


def test_a_users_failures_older_than_an_hour_do_not_count(client, login, place):
    """The per-user limit forgets failures after an hour."""
    flat, other = target(place), place.buildings[1].units[0].flats[0]
    pest = login("pest")
    for _ in range(5):
        guess(client, pest, flat, wrong_digits(flat))
    _db.session.execute(_db.update(BindingAttempt).values(created_at=utcnow() - timedelta(minutes=61)))
    _db.session.commit()
    assert guess(client, pest, other, other.owner.phone[-4:]).json["data"]["status"] == "approved"


def test_family_and_tenant_requests_count_as_failures(client, login, place):
    """An attempt that does not match the roster counts whatever the relation: five 'family' requests
    guard the flat as five wrong owner guesses would."""
    flat = target(place)
    for i in range(5):
        resp = guess(client, login(f"fam{i}"), flat, flat.owner.phone[-4:], relation="family")
        assert resp.json["data"]["status"] == "pending"
    resp = guess(client, login("owner"), flat, flat.owner.phone[-4:])
    assert resp.json["data"]["status"] == "pending"


def test_a_user_has_at_most_three_pending_bindings(client, login, place):
    """Flooding the grid worker's queue: the fourth pending request is refused in Chinese."""
    flats = [f for u in place.buildings[0].units for f in u.flats]
    resident = login("flood")
    for flat in flats[:3]:
        assert guess(client, resident, flat, None, relation="tenant", name="租客").status_code == 201
    fourth = guess(client, resident, flats[3], None, relation="tenant", name="租客")
    assert fourth.status_code == 429 and fourth.json["error"]["code"] == "too_many_pending"
    assert "等待审核" in fourth.json["error"]["message"]
    assert _db.session.scalar(_db.select(_db.func.count(Binding.id))) == 3


def test_attempts_and_locks_are_in_the_audit_log_without_the_digits(client, login, place):
    """Each attempt and the lock are entries of the compound's bindings chain naming user and flat,
    and no entry holds the digits tried or the owner's phone."""
    flat = target(place)
    tried = []
    for i in range(10):
        digits = f"{9000 + i}"
        tried.append(digits)
        guess(client, login(f"a{i}"), flat, digits)
    entries = _db.session.scalars(
        _db.select(AuditEntry).where(AuditEntry.chain == bindings_chain(place.id)).order_by(AuditEntry.seq)).all()
    assert [e.kind for e in entries] == ["binding_attempt"] * 10 + ["flat_locked"]
    first = json.loads(entries[0].payload)
    assert first["flat"] == flat.id and first["user"] and first["matched"] is False
    text = " ".join(e.payload for e in entries)
    assert not any(d in text for d in tried) and flat.owner.phone[-4:] not in text
