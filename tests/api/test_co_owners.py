"""Co-owners (共有人, issue 15): each binds as owner, together they are one person of the roll, the
last ballot of either counts, and the count of persons is what DESIGN.md §3 says."""
import pytest

from app.extensions import db as _db
from app.models import Ballot, Binding, FlatCoOwner, Owner, RollEntry, VoteSlot
from app.services import consultations as service
from tests import factories

SIG = factories.signature_png()


@pytest.fixture()
def place(app, db):
    """1栋, one unit, 3 floors × 2 flats; flats 0 and 1 owned by 甲 (the roster's first) with 乙, both
    with phones; the others by one owner each."""
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    flats = comp.buildings[0].units[0].flats
    yi = Owner(name="乙共有", phone="13700009999")
    _db.session.add(yi)
    _db.session.flush()
    flats[1].owner = flats[0].owner
    for f in flats[:2]:
        _db.session.add(FlatCoOwner(flat_id=f.id, owner_id=yi.id, position=1))
    factories.staff("committee", "committee", "compound", comp.id)
    _db.session.commit()
    return comp, flats, yi


def bind(client, headers, flat, name, phone):
    resp = client.post("/api/v1/bindings", headers=headers,
                       json={"flat_id": flat.id, "relation": "owner", "name": name, "phone_last4": phone[-4:]})
    assert resp.status_code == 201 and resp.json["data"]["status"] == "approved", resp.json
    return resp.json["data"]["id"]


def sign(client, headers, c, flat, choice):
    return client.post(f"/api/v1/consultations/{c.id}/ballots", headers=headers,
                       json={"flat_id": flat.id, "choice": choice, "signature": SIG})


def test_two_co_owners_sign_one_after_the_other_and_one_ballot_counts(client, login, place):
    """甲 binds with his name and phone, 乙 with hers: each binding names the owner matched. Both sign;
    the roll has one person for the two flats of 甲+乙, the last ballot counts, the first is superseded,
    and the tally counts DESIGN.md §3's persons: 6 flats, 5 persons."""
    comp, flats, yi = place
    jia = flats[0].owner
    h_jia, h_yi = login("jia"), login("yi")
    b_jia = bind(client, h_jia, flats[0], jia.name, jia.phone)
    b_yi = bind(client, h_yi, flats[0], yi.name, yi.phone)
    assert [_db.session.get(Binding, b).owner_id for b in (b_jia, b_yi)] == [jia.id, yi.id]
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    keys = dict(_db.session.execute(_db.select(RollEntry.flat_id, RollEntry.person_key)
                                    .where(RollEntry.consultation_id == c.id)).all())
    person = f"owners:{min(jia.id, yi.id)}+{max(jia.id, yi.id)}"
    assert keys[flats[0].id] == keys[flats[1].id] == person
    assert all(k.startswith("owner:") for f, k in keys.items() if f not in (flats[0].id, flats[1].id))

    assert sign(client, h_jia, c, flats[0], "agree").status_code == 201
    assert sign(client, h_yi, c, flats[0], "disagree").status_code == 201
    slot = _db.session.scalar(_db.select(VoteSlot).filter_by(consultation_id=c.id, person_key=person))
    ballots = _db.session.scalars(_db.select(Ballot).where(Ballot.consultation_id == c.id).order_by(Ballot.id)).all()
    assert [(b.user_id, b.status) for b in ballots] == [(b_user(b_jia), "superseded"), (b_user(b_yi), "current")]
    assert slot.ballot_id == ballots[1].id
    from app.services.evidence import evidence_rows  # the evidence shows which co-owner signed, masked

    signed = {r["ballot_id"]: (r["owner"], r["handled_by"]) for r in evidence_rows(c)}
    assert signed[ballots[0].id][1] == f"共有人 {jia.name[0]}{'*' * (len(jia.name) - 1)} 本人线上签署"
    assert signed[ballots[1].id][1].startswith("共有人 乙") and "、" in signed[ballots[1].id][0]
    tally = client.get(f"/api/v1/consultations/{c.id}/tally", headers=login("committee")).json["data"]
    assert (tally["roll"]["flats"], tally["roll"]["persons"]) == (6, 5)
    assert tally["participation"]["persons"] == 1 and tally["participation"]["area"] == "160.00"

    # Either co-owner may also sign from the second flat of the same person: still one ballot counts.
    bind(client, h_yi, flats[1], yi.name, yi.phone)
    assert sign(client, h_yi, c, flats[1], "agree").status_code == 201
    assert _db.session.scalar(_db.select(_db.func.count(Ballot.id)).where(Ballot.consultation_id == c.id,
                                                                            Ballot.status == "current")) == 1


def b_user(binding_id):
    return _db.session.get(Binding, binding_id).user_id


def test_a_stranger_with_a_co_owners_name_but_wrong_digits_is_not_bound(client, login, place):
    """Matching any co-owner is still a roster match: a wrong last four digits waits for the grid worker."""
    comp, flats, yi = place
    resp = client.post("/api/v1/bindings", headers=login("liar"),
                       json={"flat_id": flats[0].id, "relation": "owner", "name": yi.name, "phone_last4": "0000"})
    assert resp.status_code == 201 and resp.json["data"]["status"] == "pending"


def test_speaks_for_each_kind_of_person():
    """The one check of "this binding speaks for the roll's person"."""
    assert service.speaks_for(7, 1, "owner:7") and not service.speaks_for(8, 1, "owner:7")
    assert service.speaks_for(7, 1, "owners:7+70") and service.speaks_for(70, 1, "owners:7+70")
    assert not service.speaks_for(0, 1, "owners:7+70") and not service.speaks_for(None, 1, "owners:7+70")
    assert service.speaks_for(None, 5, "flat:5") and not service.speaks_for(None, 6, "flat:5")
    assert not service.speaks_for(None, 5, "developer") and not service.speaks_for(5, 5, "flat:5")
