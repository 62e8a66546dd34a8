"""On MariaDB, does the limit of proxies per holder hold when owners grant at the same instant?

Real threads, real HTTP, werkzeug's threaded server (see harness.py); skipped on SQLite, which
serialises every writer and would hide a race."""
import pytest

from app.extensions import db as _db
from app.models import AuditEntry, Proxy
from config import TestingConfig
from tests import factories
from tests.concurrency.harness import at_once, call, login_all, serve

pytestmark = pytest.mark.skipif(
    not TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("mysql"),
    reason="concurrency tests need TEST_DATABASE_URL=mysql+pymysql://… (SQLite serialises writers and hides races)",
)


def test_eight_owners_naming_one_proxy_at_once_make_three_proxies(app, db):
    """Eight owners grant the same neighbour a proxy for one consultation at the same instant: the
    holder's row is locked while counting, so exactly PROXY_MAX_PER_CONSULTATION (3) land, the rest
    are 409, and the proxies chain holds one entry per proxy, none lost to the race."""
    from app.services.verification import verify

    comp = factories.compound(buildings=(("1栋", 1, 5, 2),))
    flats = comp.buildings[0].units[0].flats
    owners = [factories.resident(f"race-owner{i}", flats[i]) for i in range(8)]
    holder = factories.resident("race-holder", flats[9])
    c = factories.consultation(("compound", comp))
    body = {"proxy_user_id": holder.id, "proxy_name": flats[9].owner.name, "scope": {"type": "consultation", "id": c.id},
            "signature": factories.signature_png()}
    flat_ids = [f.id for f in flats[:8]]
    _db.session.commit()
    assert len(owners) == 8
    with serve(app) as base:
        people = login_all(base, [f"race-owner{i}" for i in range(8)])
        answers = at_once([lambda h=h, f=f: call("POST", f"{base}/api/v1/proxies", headers=h, json={**body, "flat_id": f})
                           for h, f in zip(people.values(), flat_ids)])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 3 + [409] * 5, answers
    assert all(body["error"]["code"] == "too_many_proxies" for status, body in answers if status == 409)
    _db.session.expire_all()
    assert _db.session.scalar(_db.select(_db.func.count(Proxy.id))) == 3
    assert _db.session.scalar(_db.select(_db.func.count(AuditEntry.id)).where(AuditEntry.chain.like("%/proxies"))) == 3
    assert verify() == []
