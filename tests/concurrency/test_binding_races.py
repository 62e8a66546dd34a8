"""On MariaDB, are binding attempts counted atomically when they arrive at once?

Real threads, real HTTP, werkzeug's threaded server (see harness.py); skipped on SQLite, which
serialises every writer and would hide a race."""
import pytest

from app.extensions import db as _db
from app.models import Binding, BindingAttempt, Flat
from config import TestingConfig
from tests import factories
from tests.concurrency.harness import at_once, call, login_all, serve

pytestmark = pytest.mark.skipif(
    not TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("mysql"),
    reason="concurrency tests need TEST_DATABASE_URL=mysql+pymysql://… (SQLite serialises writers and hides races)",
)


def test_twenty_concurrent_wrong_attempts_from_one_account_evaluate_five(app, db):
    """20 wrong guesses from one account at once: exactly 5 evaluated failures, the rest 429."""
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    flat = comp.buildings[0].units[0].flats[0]
    wrong = "0000" if flat.owner.phone[-4:] != "0000" else "1111"
    body = {"flat_id": flat.id, "relation": "owner", "name": flat.owner.name, "phone_last4": wrong}
    _db.session.commit()
    with serve(app) as base:
        headers = login_all(base, ["racer"])["racer"]
        answers = at_once([lambda: call("POST", f"{base}/api/v1/bindings", headers=headers, json=body)] * 20)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 4 + [429] * 15, statuses
    assert _db.session.scalar(_db.select(_db.func.count(BindingAttempt.id))) == 5
    assert _db.session.scalar(_db.select(_db.func.count(Binding.id))) == 1


def test_thirty_accounts_at_once_on_one_flat_never_bind_it(app, db):
    """30 accounts, each with the right digits, at once on one flat whose five failures came first:
    the flat's limit is counted atomically, so none binds at once and the flat ends locked."""
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    flat = comp.buildings[0].units[0].flats[0]
    right = flat.owner.phone[-4:]
    wrong = "0000" if right != "0000" else "1111"
    flat_id, name = flat.id, flat.owner.name
    _db.session.commit()
    with serve(app) as base:
        thieves = login_all(base, [f"w{i}" for i in range(5)])
        for headers in thieves.values():
            assert call("POST", f"{base}/api/v1/bindings", headers=headers, json={
                "flat_id": flat_id, "relation": "owner", "name": name, "phone_last4": wrong})[0] == 201
        accounts = login_all(base, [f"r{i}" for i in range(30)])
        answers = at_once([lambda h=h: call("POST", f"{base}/api/v1/bindings", headers=h, json={
            "flat_id": flat_id, "relation": "owner", "name": name, "phone_last4": right})
            for h in accounts.values()])
    assert all(status in (201, 429) for status, _ in answers), answers
    assert not any(body["data"]["status"] == "approved" for status, body in answers if status == 201)
    assert sum(status == 201 for status, _ in answers) == 5  # failures 6-10, then locked
    _db.session.expire_all()
    assert _db.session.get(Flat, flat_id).binding_locked_at is not None
    assert _db.session.scalar(_db.select(_db.func.count(Binding.id)).where(Binding.status == "approved")) == 0


def test_first_attempts_on_many_flats_at_once_all_land_in_one_chain(app, db):
    """Ten residents bind ten flats of a new compound at the same instant: each attempt starts or
    extends the compound's bindings chain; none is lost to the race for its first entry."""
    from app.models import AuditEntry
    from app.services.bindings import bindings_chain
    from app.services.verification import verify

    comp = factories.compound(buildings=(("1栋", 1, 5, 2),))
    bodies = [{"flat_id": f.id, "relation": "owner", "name": f.owner.name, "phone_last4": f.owner.phone[-4:]}
              for u in comp.buildings[0].units for f in u.flats]
    chain = bindings_chain(comp.id)
    _db.session.commit()
    with serve(app) as base:
        people = login_all(base, [f"first{i}" for i in range(10)])
        answers = at_once([lambda h=h, b=b: call("POST", f"{base}/api/v1/bindings", headers=h, json=b)
                           for h, b in zip(people.values(), bodies)])
    assert [status for status, _ in answers] == [201] * 10, answers
    assert all(body["data"]["status"] == "approved" for _, body in answers)
    seqs = sorted(_db.session.scalars(_db.select(AuditEntry.seq).where(AuditEntry.chain == chain)))
    assert seqs == list(range(1, 21))  # each: the attempt, and the approval it led to
    assert verify() == []
