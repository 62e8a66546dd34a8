"""What the tamper tests share: a compound whose every flat has a bound owner, a ballot over HTTP,
verify's findings as text, and a raw SQL edit behind the application's back."""
from sqlalchemy import text

from app.extensions import db as _db
from app.services import verification
from tests import factories

SIG = factories.signature_png()


def owned_compound(buildings):
    """A compound (buildings as factories.compound takes them) whose flat i is owned by the bound
    resident dev-o<i>, and a committee member dev-committee; (compound, flats), committed."""
    comp = factories.compound(buildings=buildings)
    flats = [f for b in comp.buildings for u in b.units for f in u.flats]
    for i, flat in enumerate(flats):
        factories.resident(f"o{i}", flat)
    factories.staff("committee", "committee", "compound", comp.id)
    _db.session.commit()
    return comp, flats


def sign(client, login, consultation_id, i, flat, choice="agree"):
    """Owner dev-o<i> signs for flat over HTTP; the answer's data (receipt, status)."""
    resp = client.post(f"/api/v1/consultations/{consultation_id}/ballots", headers=login(f"o{i}"),
                       json={"flat_id": flat.id, "choice": choice, "signature": SIG})
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def findings():
    """What `flask audit verify` would print, one string per broken chain."""
    return [str(p) for p in verification.verify()]


def sql(statement, **params):
    """Write to the database as someone with its password would: no application, no audit."""
    with _db.engine.begin() as conn:
        conn.execute(text(statement), params)
