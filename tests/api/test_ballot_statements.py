"""The ballot path's cost: how many statements one signing takes, and one stored copy of a signature
image however many ballots carry it."""
import pytest
from sqlalchemy import event

from app.extensions import db as _db
from app.models import Ballot, Blob
from tests import factories

SIG = factories.signature_png()
SIG2 = factories.signature_png(width=200)


class Statements:
    """The SQL statements the engine runs inside the block (a request's token check included)."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def _count(self, conn, cursor, statement, *args):
        if statement != "BEGIN IMMEDIATE":  # SQLite's way of taking its one write lock, in the process
            self.seen.append(statement.split()[0].upper() + " " + statement.replace("`", "")[:200])

    def __enter__(self):
        self.seen.clear()
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


@pytest.fixture()
def place(app, db):
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    _db.session.commit()
    return comp


def sign(client, headers, consultation_id, flat_id, signature=SIG, choice="agree"):
    resp = client.post(f"/api/v1/consultations/{consultation_id}/ballots", headers=headers,
                       json={"flat_id": flat_id, "choice": choice, "signature": signature})
    assert resp.status_code == 201, resp.json
    return resp.json["data"]


def test_one_signature_image_is_stored_once_and_checked_by_verify(client, login, place):
    """Do ballots carrying the same image (one owner signing again, or two owners whose canvases came
    out the same) share one Blob, does a new image get its own, and does audit verify still check the
    shared one against each ballot's recorded sha256?"""
    from app.services.verification import verify

    flats = [f for b in place.buildings for u in b.units for f in u.flats]
    factories.resident("owner1", flats[0])
    factories.resident("owner2", flats[1])
    c = factories.consultation(("compound", place))
    _db.session.commit()
    one, two = login("owner1"), login("owner2")
    sign(client, one, c.id, flats[0].id)
    sign(client, one, c.id, flats[0].id, choice="disagree")
    sign(client, two, c.id, flats[1].id)
    assert _db.session.scalar(_db.select(_db.func.count(Blob.id))) == 1
    sign(client, two, c.id, flats[1].id, signature=SIG2)
    assert _db.session.scalar(_db.select(_db.func.count(Blob.id))) == 2
    ballots = _db.session.scalars(_db.select(Ballot).order_by(Ballot.id)).all()
    assert len({b.signature_id for b in ballots[:3]}) == 1 and ballots[3].signature_id != ballots[0].signature_id
    assert verify() == []
    # The shared image altered: verify names it, though three ballots point at it.
    shared = _db.session.get(Blob, ballots[0].signature_id)
    original = shared.data
    shared.data = original + b"x"
    _db.session.commit()
    assert "签名" in " ".join(map(str, verify()))
    # Restored, then the fourth ballot pointed at the shared image (recorded for another): named too,
    # whichever order the ballots are read in.
    shared.data = original
    _db.session.get(Ballot, ballots[3].id).signature_id = ballots[0].signature_id
    _db.session.commit()
    assert "签名" in " ".join(map(str, verify()))


def test_signing_again_takes_few_statements(client, login, place):
    """Is a repeated signing (same image, the answer changed) 5 statements from the request to the commit
    on MariaDB (checks with the token's session, slot, ballot, audit entry, slot moved with the
    superseded ballot), with no statement for the token alone (issue 13)? On SQLite, where a statement
    costs no round trip and the checks take the write lock, the token is looked up first, as on every
    route, and the two tables are updated one at a time: 7. Does a first signing insert its Blob?"""
    flats = [f for b in place.buildings for u in b.units for f in u.flats]
    factories.resident("owner", flats[0])
    c = factories.consultation(("compound", place))
    _db.session.commit()
    headers, cid, flat_id = login("owner"), c.id, flats[0].id
    with Statements(_db.engine) as first:
        sign(client, headers, cid, flat_id)
    with Statements(_db.engine) as again:
        sign(client, headers, cid, flat_id, choice="disagree")
    assert sum("INTO blob" in x for x in first.seen) == 1, first.seen
    # the image looked up once, in the checks' statement: no lookup of its own before the insert
    assert not any(x.startswith("SELECT SELECT blob.id") for x in first.seen), first.seen
    mysql = _db.engine.dialect.name == "mysql"
    for seen in (first.seen, again.seen):
        assert sum("auth_session" in x for x in seen) == 1, seen
        if mysql:  # the token read by the checks' statement, which starts from its session
            assert seen[0].startswith("SELECT SELECT auth_session.user_id AS session_user_id"), seen[0]
        else:  # the token looked up on its own, before anything else
            assert seen[0].startswith("SELECT SELECT auth_session.user_id, auth_session.expires_at"), seen[0]
    # (token,) checks, blob, slot, ballot, entry, slot moved
    assert len(first.seen) == (6 if mysql else 7), "\n".join(first.seen)
    assert not any("INTO blob" in x for x in again.seen), again.seen
    assert len(again.seen) == (5 if mysql else 7), "\n".join(again.seen)
    first_ballot, second = _db.session.scalars(_db.select(Ballot).order_by(Ballot.id)).all()
    assert (first_ballot.status, second.status) == ("superseded", "current")
