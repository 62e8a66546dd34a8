"""Does the explicit-objection veto (DESIGN.md §3, 无居民明确反对意见) count the objectors of the 公示 the
rule names, and only those: visible objections (not opinions, not held or refused ones) to that 公示,
by any bound user of a flat on the roll, each person once with the disagreeing voters; the 公示 fixed
in the rule when the consultation opened?

Built like tests/services/test_tally_law.py: a real compound, a real opened consultation, real
ballots; the expected objectors are worked out here from the roll, not by app.services.tally."""
import itertools
from datetime import timedelta

import pytest

from app.errors import ApiError
from app.models import Binding, Consultation, Objection, RollEntry, User
from app.models.places import utcnow
from app.services import consultations, notices, tally
from tests import factories
from tests.services.test_tally_law import build, cast

_seq = itertools.count(1)


def publicity(db, comp, by):
    notice, _, _ = notices.create(by, {
        "kind": "publicity", "scope": {"type": "compound", "id": comp.id}, "title": f"公示{next(_seq)}",
        "body": "方案公示", "period": {"start": utcnow(), "end": utcnow() + timedelta(days=7)}})
    return notice


def bound(db, flat, relation="tenant"):
    user = User(openid=f"veto-user-{next(_seq)}", name="住户")
    db.session.add(user)
    db.session.flush()
    db.session.add(Binding(user=user, flat=flat, relation=relation, name="住户", status="approved"))
    db.session.flush()
    return user


def objection(db, notice, flat, kind="objection", status="visible"):
    """A filed objection as object_to stores it (WeChat's check is tested in tests/api/test_publicity.py)."""
    db.session.add(Objection(notice_id=notice.id, user_id=bound(db, flat).id, flat_id=flat.id, kind=kind,
                             text="反对", check="pass" if status == "visible" else "review", status=status))
    db.session.flush()


def open_naming(comp, notice, by):
    return factories.consultation(("compound", comp), by=by, preset="major", objection_veto=True,
                                  objection_notice_id=notice.id)


def persons_of(db, c, flats):
    keys = dict(db.session.execute(db.select(RollEntry.flat_id, RollEntry.person_key)
                                   .where(RollEntry.consultation_id == c.id)).all())
    return {keys[f.id] for f in flats}


@pytest.fixture()
def committee(db):
    return factories.staff(f"veto-committee{next(_seq)}", "admin")


def test_the_veto_counts_objectors_of_the_named_publicity_and_not_of_another(db, committee):
    """Flats 0 and 1 have one buyer; a tenant of flat 1 objects on the named 公示: the buyer's one
    person objects, though they agreed. Flat 2's owner votes no: one more. Flat 3 objects on another
    公示, flat 4's objection is held, flat 5 gives an opinion: none of those count."""
    comp, flats = build(db, *["70.00"] * 6, buyer=(0, 1))
    named, other = publicity(db, comp, committee), publicity(db, comp, committee)
    c = open_naming(comp, named, committee)
    objection(db, named, flats[1])
    objection(db, other, flats[3])
    objection(db, named, flats[4], status="held")
    objection(db, named, flats[5], kind="opinion")
    objection(db, named, flats[5], status="rejected")
    cast(db, c, flats, "a.daaa")  # the buyer answers once, for both flats
    live = consultations.live_tally(c)
    expected = persons_of(db, c, [flats[1], flats[2]])
    assert len(expected) == 2
    assert live["veto"] == {"enabled": True, "objections": 2, "met": False}
    assert live["passed"] is False and "2 户明确反对" in live["still_needed"]
    consultations.close(c.id)
    db.session.expire_all()
    assert consultations.tally_for(c)["veto"]["objections"] == 2


def test_a_disagreeing_voter_who_also_objects_is_one_objector(db, committee):
    comp, flats = build(db, *["70.00"] * 4)
    named = publicity(db, comp, committee)
    c = open_naming(comp, named, committee)
    objection(db, named, flats[0])
    cast(db, c, flats, "daaa")
    assert consultations.live_tally(c)["veto"]["objections"] == 1


def test_no_objection_on_the_named_publicity_lets_it_pass(db, committee):
    comp, flats = build(db, *["70.00"] * 4)
    named, other = publicity(db, comp, committee), publicity(db, comp, committee)
    c = open_naming(comp, named, committee)
    for flat in flats:
        objection(db, other, flat)
    cast(db, c, flats, "aaaa")
    live = consultations.live_tally(c)
    assert live["veto"] == {"enabled": True, "objections": 0, "met": True} and live["passed"] is True


def test_the_named_publicity_is_frozen_at_opening(db, committee):
    """Editing the live rule after opening to name another 公示 changes nothing: the count reads the
    rule frozen in the roll's entry."""
    comp, flats = build(db, *["70.00"] * 4)
    named, other = publicity(db, comp, committee), publicity(db, comp, committee)
    c = open_naming(comp, named, committee)
    objection(db, other, flats[0])
    cast(db, c, flats, "aaaa")
    row = db.session.get(Consultation, c.id)
    row.rule = {**row.rule, "objection_notice_id": other.id}
    db.session.flush()
    assert consultations.terms(c).rule["objection_notice_id"] == named.id
    live = consultations.live_tally(c)
    assert live["veto"]["objections"] == 0 and live["passed"] is True and live["rule"]["objection_notice_id"] == named.id


def test_a_rule_may_name_only_a_publicity_of_its_compound_and_only_with_the_veto(db, committee):
    comp, _ = build(db, "70.00")
    elsewhere, _ = build(db, "70.00")
    foreign = publicity(db, elsewhere, committee)
    plain, _, _ = notices.create(committee, {"scope": {"type": "compound", "id": comp.id}, "title": "通知", "body": "通知"})
    for notice in (foreign, plain):
        with pytest.raises(ApiError) as err:
            open_naming(comp, notice, committee)
        assert err.value.status_code == 422
    own = publicity(db, comp, committee)
    with pytest.raises(ApiError) as err:
        factories.consultation(("compound", comp), by=committee, objection_notice_id=own.id)
    assert err.value.status_code == 422 and "objection_veto" in str(err.value.detail)


def test_count_stays_pure_objecting_flats_count_only_when_the_rule_names_a_publicity():
    roll = [tally.RollFlat(1, "p1", tally.Decimal("50.00")), tally.RollFlat(2, "p2", tally.Decimal("50.00"))]
    votes = {"p1": "agree", "p2": "agree"}
    without = tally.expand_rule("major", objection_veto=True)
    named = tally.expand_rule("major", objection_veto=True, objection_notice_id=7)
    assert "objection_notice_id" not in without
    assert tally.count(roll, votes, without, objecting_flats={2})["veto"]["objections"] == 0
    assert tally.count(roll, votes, named, objecting_flats={2})["veto"]["objections"] == 1
    assert tally.count(roll, votes, named, objecting_flats={99})["veto"]["objections"] == 0  # not on the roll
