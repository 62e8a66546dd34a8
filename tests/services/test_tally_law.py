"""Does the tally count as DESIGN.md §3 (Civil Code art. 278) says, at every boundary?

Each test builds a real compound, opens a real consultation (the roll frozen into RollEntry rows),
casts real ballots (online through ballots.sign, paper through enter_paper/confirm_paper), closes it,
and compares the live and the stored tally with a recount written here from the frozen roll and the
ballots the vote slots point to, in exact fractions. Nothing here calls app.services.tally.
"""
import itertools
import json
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest

from app.errors import ApiError
from app.models import Ballot, Flat, RollEntry, User, VoteSlot
from app.services import audit, ballots, consultations
from tests import factories

TWO_THIRDS, THREE_QUARTERS, HALF = Fraction(2, 3), Fraction(3, 4), Fraction(1, 2)
CENT = Fraction(1, 100)
LETTERS = {"a": "agree", "d": "disagree", "x": "abstain"}
_seq = itertools.count(1)


# ---------------------------------------------------------------- building and voting


def build(db, *areas, buyer=(), developer=()):
    """One building, one unit, one flat per floor with these areas (decimal strings), one owner each;
    the flats at the indices in `buyer` share one owner, those in `developer` are developer-held."""
    comp = factories.compound(buildings=(("1栋", 1, len(areas), 1),))
    flats = list(comp.buildings[0].units[0].flats)
    for flat, area in zip(flats, areas):
        flat.area = Decimal(area)
    for i in buyer[1:]:
        flats[i].owner = flats[buyer[0]].owner
    for i in developer:
        flats[i].developer_held, flats[i].owner = True, None
    db.session.flush()
    return comp, flats


def open_on(comp, preset="major", **rule):
    return factories.consultation(("compound", comp), preset=preset, **rule)


def owner_user(db, *flats):
    """A WeChat user with an approved owner binding to each of these flats."""
    user = User(openid=f"tally-owner-{next(_seq)}", name="业主")
    db.session.add(user)
    db.session.flush()
    for flat in flats:
        factories.bind_owner(user, flat)
    return user


def sign(db, c, flat, choice, user=None):
    return ballots.sign((user or owner_user(db, flat)).id, c.id, flat.id, choice, factories.signature_png())


def paper(c, flat, choice):
    """A paper ballot entered by one staff member and confirmed by another."""
    entered = ballots.enter_paper(factories.staff("tally-in", "admin"), c.id, flat.id, choice,
                                  factories.signature_png())
    return ballots.confirm_paper(factories.staff("tally-ok", "admin"), entered.id)


def cast(db, c, flats, answers):
    """One letter per flat: a agree, d disagree, x abstain, . no ballot. Owners sign online;
    developer-held flats vote on paper."""
    assert len(answers) == len(flats)
    for flat, letter in zip(flats, answers):
        if letter == ".":
            continue
        if flat.developer_held:
            paper(c, flat, LETTERS[letter])
        else:
            sign(db, c, flat, LETTERS[letter])


# ---------------------------------------------------------------- the independent recount


def recount(db, c):
    """Persons, area and flats of the roll, of the participants and of each answer, from RollEntry
    rows and the ballots the vote slots point to."""
    area, flats = defaultdict(Fraction), defaultdict(int)
    for e in db.session.scalars(db.select(RollEntry).filter_by(consultation_id=c.id)):
        area[e.person_key] += Fraction(str(e.area))
        flats[e.person_key] += 1
    answer = {}
    for slot, ballot in db.session.execute(
        db.select(VoteSlot, Ballot).join(Ballot, VoteSlot.ballot_id == Ballot.id)
        .where(VoteSlot.consultation_id == c.id)
    ):
        assert (ballot.status, ballot.person_key, ballot.consultation_id) == ("current", slot.person_key, c.id)
        answer[slot.person_key] = ballot.choice
    current = db.session.scalar(db.select(db.func.count(Ballot.id)).filter_by(consultation_id=c.id, status="current"))
    assert current == len(answer), "every current ballot is the one its person's slot points to"

    def total(keys):
        keys = list(keys)
        return {"persons": len(keys), "area": sum((area[k] for k in keys), Fraction(0)),
                "flats": sum(flats[k] for k in keys)}

    return SimpleNamespace(
        all=total(area), part=total(answer), answer=answer,
        **{choice: total(k for k, v in answer.items() if v == choice) for choice in LETTERS.values()},
    )


def meets(value, base, share, strict=False):
    return base > 0 and (value > share * base if strict else value >= share * base)


def participation_met(r):
    """2/3 (以上, >=) of all persons and of all area took part."""
    return meets(r.part["persons"], r.all["persons"], TWO_THIRDS) and meets(r.part["area"], r.all["area"], TWO_THIRDS)


def major_approved(r):
    """3/4 (以上, >=) of the participating persons and of the participating area agree."""
    return (meets(r.agree["persons"], r.part["persons"], THREE_QUARTERS)
            and meets(r.agree["area"], r.part["area"], THREE_QUARTERS))


def ordinary_approved(r):
    """More than half (过半数, >) of the participating persons and area agree."""
    return (meets(r.agree["persons"], r.part["persons"], HALF, strict=True)
            and meets(r.agree["area"], r.part["area"], HALF, strict=True))


def cents(x):
    """An exact area as the tally spells it: "210.50"."""
    assert x >= 0 and (x * 100).denominator == 1, x
    n = int(x * 100)
    return f"{n // 100}.{n % 100:02d}"


def shown(measure, x):
    return cents(x) if measure == "area" else x


def least_extra(value, base, share, strict, measure, of_participants):
    """The fewest extra persons/flats (or cents of area) that meet the threshold; when it is measured
    against participants, each newcomer also joins the base (and agrees)."""
    step = CENT if measure == "area" else 1
    k = 0
    while not meets(value + k * step, base + (k * step if of_participants else 0), share, strict):
        k += 1
    return shown(measure, k * step)


def check(tally, r):
    """Every figure of the tally equals our recount; every threshold's met and needed too."""
    assert tally["roll"]["persons"] == r.all["persons"]
    assert tally["roll"]["flats"] == r.all["flats"]
    assert tally["roll"]["area"] == cents(r.all["area"])
    for section, counts in (("participation", r.part), ("approval", r.agree)):
        assert tally[section]["persons"] == counts["persons"]
        assert tally[section]["area"] == cents(counts["area"])
        assert tally[section]["flats"] == counts["flats"]
    for choice in LETTERS.values():
        counts = getattr(r, choice)
        assert paf(tally["choices"][choice]) == (counts["persons"], cents(counts["area"]), counts["flats"])
    for row in tally["participation"]["thresholds"] + tally["approval"]["thresholds"]:
        measure, share, strict = row["measure"], Fraction(row["share"]), row["strict"]
        value = (r.part if row["what"] == "participate" else r.agree)[measure]
        base = (r.all if row["base"] == "all" else r.part)[measure]
        assert row["value"] == shown(measure, value), row
        assert row["of"] == shown(measure, base), row
        assert row["met"] is meets(value, base, share, strict), row
        if share < 1:
            assert row["needed"] == least_extra(value, base, share, strict, measure, row["base"] == "participants"), row
    assert tally["passed"] is (
        tally["participation"]["met"] and tally["approval"]["met"] and tally["required_consent"]["met"]
        and tally["veto"]["met"]
    )


def paf(section):
    """(persons, area, flats) of a section of the tally."""
    return section["persons"], section["area"], section["flats"]


def row(tally, what, measure, base=None):
    base = base or ("all" if what == "participate" else "participants")
    section = tally["participation" if what == "participate" else "approval"]
    (found,) = [t for t in section["thresholds"] if t["measure"] == measure and t["base"] == base]
    return found


def close_and_check(db, c):
    """Live tally == recount; close; the stored result (read back from the database) == the live
    tally == recount, under the consultation's rule and roll digest. Returns (recount, stored)."""
    r = recount(db, c)
    live = consultations.live_tally(c)
    check(live, r)
    assert live["roll"]["digest"] == c.roll_digest
    consultations.close(c.id)
    db.session.expire_all()
    stored = consultations.tally_for(c)
    assert stored["stored"] is True
    check(stored, r)
    assert {k: v for k, v in stored.items() if k not in ("stored", "counted_at")} == json.loads(json.dumps(live))
    result = consultations.result_of(c)
    assert (result.passed, result.rule, result.roll_digest) == (stored["passed"], c.rule, c.roll_digest)
    assert result.content_hash == audit.sha256(audit.canonical(result.tally))
    return r, stored


# ---------------------------------------------------------------- participation: 2/3 of headcount and of area


def test_participation_exactly_two_thirds_of_headcount_and_area_is_met(db):
    """Do exactly 2 of 3 persons holding exactly 2/3 of the area meet the participation rule?"""
    comp, flats = build(db, "50.50", "70.50", "60.50")
    c = open_on(comp)
    cast(db, c, flats, "aa.")
    r, t = close_and_check(db, c)
    assert (row(t, "participate", "persons")["value"], row(t, "participate", "persons")["of"]) == (2, 3)
    assert (row(t, "participate", "area")["value"], row(t, "participate", "area")["of"]) == ("121.00", "181.50")
    assert row(t, "participate", "persons")["met"] is True and row(t, "participate", "area")["met"] is True
    assert t["participation"]["met"] is True and participation_met(r)
    assert t["passed"] is True and major_approved(r)


def test_headcount_met_but_area_one_cent_short_fails(db):
    """Do 2 of 3 persons fail when their area is one cent below 2/3?"""
    comp, flats = build(db, "50.50", "70.49", "60.51")
    c = open_on(comp)
    cast(db, c, flats, "aa.")
    r, t = close_and_check(db, c)
    assert row(t, "participate", "persons")["met"] is True
    area = row(t, "participate", "area")
    assert (area["value"], area["of"], area["met"], area["needed"]) == ("120.99", "181.50", False, "0.01")
    assert t["participation"]["met"] is False and not participation_met(r)
    assert t["passed"] is False


def test_area_met_but_headcount_one_person_short_fails(db):
    """Do 3 of 6 persons holding exactly 2/3 of the area fail, one person short of 4?"""
    comp, flats = build(db, "120.00", "100.00", "80.00", "60.00", "50.00", "40.00")
    c = open_on(comp)
    cast(db, c, flats, "aaa...")
    r, t = close_and_check(db, c)
    area, persons = row(t, "participate", "area"), row(t, "participate", "persons")
    assert (area["value"], area["of"], area["met"], area["needed"]) == ("300.00", "450.00", True, "0.00")
    assert (persons["value"], persons["of"], persons["met"], persons["needed"]) == (3, 6, False, 1)
    assert t["participation"]["met"] is False and not participation_met(r)
    assert t["passed"] is False


@pytest.mark.parametrize("areas, part, total", [
    (("146.76", "39.48", "93.12"), "186.24", "279.36"),   # float sum 186.23999… < 2/3 of the total
    (("146.76", "88.72", "117.74"), "235.48", "353.22"),  # 235.48 < 2/3 × 353.22 in floats
], ids=["float-sum", "float-product"])
def test_two_thirds_of_area_is_compared_exactly_not_in_floats(db, areas, part, total):
    """Are two flats holding exactly 2/3 of the area met, where a float comparison says short?"""
    a, b, c = (float(x) for x in areas)
    assert not (a + b >= 2 / 3 * (a + b + c)) or not (float(part) >= 2 / 3 * float(total))  # floats get it wrong
    comp, flats = build(db, *areas)
    c = open_on(comp)
    cast(db, c, flats, "aa.")
    r, t = close_and_check(db, c)
    area = row(t, "participate", "area")
    assert (area["value"], area["of"], area["met"]) == (part, total, True)
    assert isinstance(t["roll"]["area"], str) and t["roll"]["area"] == total
    assert t["choices"]["agree"]["area"] == part
    assert t["passed"] is True and participation_met(r) and major_approved(r)


# ---------------------------------------------------------------- approval: major (3/4 以上) and ordinary (过半数)


def test_major_exactly_three_quarters_of_headcount_and_area_passes(db):
    """Do 3 of 4 participants holding exactly 3/4 of their area pass a major matter (floats say short)?"""
    assert not (60.00 + 60.01 + 85.16 >= 0.75 * 273.56) and not (205.17 >= 0.75 * 273.56)
    comp, flats = build(db, "60.00", "60.01", "85.16", "68.39")
    c = open_on(comp, "major")
    cast(db, c, flats, "aaad")
    r, t = close_and_check(db, c)
    persons, area = row(t, "agree", "persons"), row(t, "agree", "area")
    assert (persons["value"], persons["of"], persons["met"]) == (3, 4, True)
    assert (area["value"], area["of"], area["met"]) == ("205.17", "273.56", True)
    assert t["approval"]["met"] is True and t["passed"] is True and major_approved(r)


def test_major_area_one_cent_below_three_quarters_fails(db):
    """Do 3 of 4 participants fail a major matter when their area is one cent below 3/4?"""
    comp, flats = build(db, "90.25", "80.50", "70.74", "80.51")
    c = open_on(comp, "major")
    cast(db, c, flats, "aaad")
    r, t = close_and_check(db, c)
    assert row(t, "agree", "persons")["met"] is True
    area = row(t, "agree", "area")
    assert (area["value"], area["of"], area["met"]) == ("241.49", "322.00", False)
    assert t["participation"]["met"] is True
    assert t["passed"] is False and not major_approved(r)


def test_major_headcount_one_person_below_three_quarters_fails(db):
    """Do 5 of 8 participants (6 needed) fail a major matter even with 600 of 630 m²?"""
    comp, flats = build(db, "200.00", "150.00", "100.00", "100.00", "50.00", "10.00", "10.00", "10.00")
    c = open_on(comp, "major")
    cast(db, c, flats, "aaaaaddd")
    r, t = close_and_check(db, c)
    persons, area = row(t, "agree", "persons"), row(t, "agree", "area")
    assert (persons["value"], persons["of"], persons["met"]) == (5, 8, False)
    assert (area["value"], area["of"], area["met"]) == ("600.00", "630.00", True)
    assert t["passed"] is False and not major_approved(r)


def test_ordinary_exactly_half_fails(db):
    """Do exactly 2 of 4 participants with exactly half the area fail an ordinary matter (过半数 is >)?"""
    comp, flats = build(db, "70.25", "59.75", "60.00", "70.00")
    c = open_on(comp, "ordinary")
    cast(db, c, flats, "aadd")
    r, t = close_and_check(db, c)
    persons, area = row(t, "agree", "persons"), row(t, "agree", "area")
    assert (persons["value"], persons["of"], persons["met"], persons["strict"]) == (2, 4, False, True)
    assert (area["value"], area["of"], area["met"], area["strict"]) == ("130.00", "260.00", False, True)
    assert t["passed"] is False and not ordinary_approved(r)


def test_ordinary_headcount_above_half_but_area_exactly_half_fails(db):
    """Do 3 of 5 participants holding exactly half the area fail an ordinary matter?"""
    comp, flats = build(db, "50.00", "40.00", "35.00", "62.50", "62.50")
    c = open_on(comp, "ordinary")
    cast(db, c, flats, "aaadd")
    r, t = close_and_check(db, c)
    assert row(t, "agree", "persons")["met"] is True
    area = row(t, "agree", "area")
    assert (area["value"], area["of"], area["met"]) == ("125.00", "250.00", False)
    assert t["passed"] is False and not ordinary_approved(r)


def test_ordinary_one_cent_above_half_passes(db):
    """Do 3 of 5 participants holding half the area plus one cent pass an ordinary matter?"""
    comp, flats = build(db, "50.00", "40.00", "35.01", "62.50", "62.49")
    c = open_on(comp, "ordinary")
    cast(db, c, flats, "aaadd")
    r, t = close_and_check(db, c)
    area = row(t, "agree", "area")
    assert (area["value"], area["of"], area["met"]) == ("125.01", "250.00", True)
    assert t["passed"] is True and ordinary_approved(r)


def test_abstaining_takes_part_but_does_not_agree(db):
    """Does an abstention count towards participation but not towards approval?"""
    comp, flats = build(db, "80.00", "80.00", "80.00")
    c = open_on(comp, "ordinary")
    cast(db, c, flats, "ax.")
    r, t = close_and_check(db, c)
    assert (t["participation"]["persons"], t["participation"]["area"], t["participation"]["met"]) == (2, "160.00", True)
    assert (t["choices"]["abstain"]["persons"], t["choices"]["abstain"]["area"]) == (1, "80.00")
    assert (row(t, "agree", "persons")["value"], row(t, "agree", "persons")["of"]) == (1, 2)
    assert t["approval"]["met"] is False and t["passed"] is False
    assert participation_met(r) and not ordinary_approved(r)


# ---------------------------------------------------------------- who is one person


def test_one_buyer_of_three_flats_is_one_person_with_their_summed_area(db):
    """Does a buyer of three flats count once, with 210.60 m², and does their later answer replace the first?"""
    comp, flats = build(db, "60.10", "70.20", "80.30", "90.40", "55.55", buyer=(0, 1, 2))
    c = open_on(comp, "ordinary")
    keys = dict(db.session.execute(
        db.select(RollEntry.flat_id, RollEntry.person_key).filter_by(consultation_id=c.id)).all())
    assert keys[flats[0].id] == keys[flats[1].id] == keys[flats[2].id] != keys[flats[3].id]
    buyer = owner_user(db, flats[0], flats[1], flats[2])
    first = sign(db, c, flats[0], "disagree", buyer)
    live = consultations.live_tally(c)
    check(live, recount(db, c))
    assert paf(live["choices"]["disagree"]) == (1, "210.60", 3)

    second = sign(db, c, flats[2], "agree", buyer)
    cast(db, c, flats, "...da")
    assert (db.session.get(Ballot, first.id).status, db.session.get(Ballot, second.id).status) == ("superseded", "current")
    kept = db.session.scalars(db.select(Ballot.id).filter_by(consultation_id=c.id, person_key=first.person_key))
    assert sorted(kept) == sorted([first.id, second.id]), "the replaced answer is kept"
    r, t = close_and_check(db, c)
    assert paf(t["roll"]) == (3, "356.55", 5)
    assert paf(t["choices"]["agree"]) == (2, "266.15", 4)
    assert t["choices"]["disagree"]["persons"] == 1
    assert (row(t, "agree", "persons")["value"], row(t, "agree", "persons")["of"]) == (2, 3)
    assert t["passed"] is True and participation_met(r) and ordinary_approved(r)


def test_all_developer_held_flats_are_one_person_and_one_paper_ballot_covers_them(db):
    """Do four developer-held flats count as one person, answered for all by one confirmed paper ballot?"""
    comp, flats = build(db, "100.00", "100.00", "150.00", "50.00", "80.00", "20.00", developer=(0, 1, 2, 3))
    c = open_on(comp, "major")
    entered = ballots.enter_paper(factories.staff("tally-in", "admin"), c.id, flats[2].id, "agree",
                                  factories.signature_png())
    live = consultations.live_tally(c)
    check(live, recount(db, c))
    assert live["participation"]["persons"] == 0, "an unconfirmed paper ballot does not count"
    ballots.confirm_paper(factories.staff("tally-ok", "admin"), entered.id)
    live = consultations.live_tally(c)
    check(live, recount(db, c))
    assert paf(live["participation"]) == (1, "400.00", 4)

    later = paper(c, flats[0], "disagree")
    assert later.status == "conflict", "the developer already has a counted ballot"
    cast(db, c, flats, "....a.")
    r, t = close_and_check(db, c)
    assert paf(t["roll"]) == (3, "500.00", 6)
    persons, area = row(t, "participate", "persons"), row(t, "participate", "area")
    assert (persons["value"], persons["of"], persons["met"]) == (2, 3, True)
    assert (area["value"], area["of"], area["met"]) == ("480.00", "500.00", True)
    assert (t["choices"]["agree"]["persons"], t["choices"]["agree"]["flats"]) == (2, 5)
    assert t["choices"]["disagree"]["persons"] == 0
    assert t["passed"] is True and major_approved(r)


# ---------------------------------------------------------------- the frozen roll and the stored result


def test_roster_changes_after_opening_do_not_change_the_roll_or_the_tally(db):
    """After opening, do a new area, a sold flat, a developer flag and a new flat leave the tally unchanged?"""
    comp, flats = build(db, "70.00", "80.00", "90.00", "60.00")
    c = open_on(comp)
    cast(db, c, flats, "aa..")
    digest, before = c.roll_digest, consultations.live_tally(c)
    assert (before["roll"]["persons"], before["roll"]["area"], before["participation"]["met"]) == (4, "300.00", False)

    flats[0].area = Decimal("999.99")
    flats[1].owner = flats[2].owner
    flats[3].developer_held, flats[3].owner = True, None
    comp.buildings[0].units[0].flats.append(Flat(room="501", floor=5, area=Decimal("500.00"), area_source="survey"))
    db.session.flush()
    db.session.expire_all()

    entries = db.session.scalars(db.select(RollEntry).filter_by(consultation_id=c.id)).all()
    assert consultations.roll_digest(entries) == digest == c.roll_digest
    assert sorted(f"{e.area:.2f}" for e in entries) == ["60.00", "70.00", "80.00", "90.00"]
    assert consultations.live_tally(c) == before
    r, t = close_and_check(db, c)
    assert paf(t["roll"]) == (4, "300.00", 4) and t["roll"]["digest"] == digest
    assert not participation_met(r) and t["passed"] is False

    fresh = consultations.live_tally(open_on(comp))  # the same roster, frozen now, is another roll
    assert paf(fresh["roll"]) == (4, "1729.99", 5)
    assert fresh["roll"]["digest"] != digest


def test_stored_result_never_changes_after_closing(db):
    """Once closed, do edited ballot rows, roster changes and late ballots leave the stored result alone?"""
    comp, flats = build(db, "70.00", "80.00", "90.00", "60.00")
    c = open_on(comp)
    cast(db, c, flats, "aaad")
    r, stored = close_and_check(db, c)
    assert (stored["passed"], stored["approval"]["persons"], stored["approval"]["area"]) == (True, 3, "240.00")

    agreed = db.session.scalars(db.select(Ballot).filter_by(consultation_id=c.id, choice="agree")).first()
    agreed.choice = "disagree"  # behind the application's back
    flats[0].area = Decimal("10.00")
    comp.buildings[0].units[0].flats.append(Flat(room="501", floor=5, area=Decimal("500.00"), area_source="survey"))
    db.session.flush()
    with pytest.raises(ApiError) as late:
        sign(db, c, flats[3], "agree")
    assert (late.value.status_code, late.value.extra_data["code"]) == (409, "closed")
    with pytest.raises(ApiError) as again:
        consultations.close(c.id)
    assert again.value.status_code == 409
    db.session.expire_all()

    assert consultations.tally_for(c) == stored
    assert consultations.result_of(c).passed is True
    recounted_now = consultations.live_tally(c)  # the edit would matter if anything recounted
    assert (recounted_now["approval"]["persons"], recounted_now["passed"]) == (2, False)


# ---------------------------------------------------------------- local rules


HOUSEHOLDS = [{"what": "agree", "measure": "flats", "base": "all", "share": "2/3"}]


def test_two_thirds_of_all_households_agreeing_exactly_passes(db):
    """With a local rule "2/3 of all households agree", do exactly 6 of 9 households (4 persons) pass?"""
    comp, flats = build(db, "50.00", "50.00", "50.00", "70.00", "70.00", "70.00", "20.00", "60.00", "60.00",
                        buyer=(0, 1, 2))
    c = open_on(comp, "major", thresholds=HOUSEHOLDS)
    cast(db, c, flats, "a..aaax..")  # the buyer answers once, for their three flats
    r, t = close_and_check(db, c)
    households = row(t, "agree", "flats", "all")
    assert (households["value"], households["of"], households["met"], households["needed"]) == (6, 9, True, 0)
    assert (t["roll"]["persons"], row(t, "agree", "persons")["value"], row(t, "agree", "persons")["of"]) == (7, 4, 5)
    assert t["passed"] is True and participation_met(r) and major_approved(r)


def test_two_thirds_of_all_households_one_short_fails_though_the_statute_is_met(db):
    """Do 3 of 6 agreeing households fail the local 2/3 rule while participation and 3/4 approval are met?"""
    comp, flats = build(db, "90.00", "80.00", "70.00", "60.00", "50.00", "40.00")
    c = open_on(comp, "major", thresholds=HOUSEHOLDS)
    cast(db, c, flats, "aaax..")
    r, t = close_and_check(db, c)
    households = row(t, "agree", "flats", "all")
    assert (households["value"], households["of"], households["met"], households["needed"]) == (3, 6, False, 1)
    assert row(t, "agree", "persons")["met"] is True and row(t, "agree", "area")["met"] is True
    assert participation_met(r) and major_approved(r)
    assert t["approval"]["met"] is False and t["passed"] is False


@pytest.mark.parametrize("answer, passed", [(".", False), ("d", False), ("a", True)],
                         ids=["silent", "disagrees", "agrees"])
def test_required_consenter_decides(db, answer, passed):
    """Does an elevator vote fail unless the flat whose consent is required agrees?"""
    comp, flats = build(db, "45.00", "60.00", "60.00", "70.00", "70.00", "80.00")
    c = open_on(comp, "major", required_consent_flat_ids=[flats[0].id])
    cast(db, c, flats, answer + "aaaaa")
    r, t = close_and_check(db, c)
    assert participation_met(r) and major_approved(r)
    assert t["participation"]["met"] is True and t["approval"]["met"] is True
    assert t["required_consent"]["flats"] == [flats[0].id]
    assert t["required_consent"]["missing"] == ([] if passed else ["1栋1单元101"])
    assert t["required_consent"]["met"] is passed and t["passed"] is passed
    assert (r.answer.get(f"owner:{flats[0].owner_id}") == "agree") is passed


@pytest.mark.parametrize("last, passed", [("d", False), ("x", True)], ids=["one-objection", "abstention"])
def test_explicit_objection_veto(db, last, passed):
    """With "no resident explicitly objects", does one disagreeing owner (and not an abstainer) fail it?"""
    comp, flats = build(db, "60.00", "60.00", "60.00", "60.00", "60.00", "60.00")
    c = open_on(comp, "major", objection_veto=True)
    cast(db, c, flats, "aaaaa" + last)
    r, t = close_and_check(db, c)
    assert participation_met(r) and major_approved(r)
    assert t["veto"] == {"enabled": True, "objections": r.disagree["persons"], "met": passed}
    assert r.disagree["persons"] == (0 if passed else 1)
    assert t["passed"] is passed


# ---------------------------------------------------------------- what is still needed


def test_still_needed_is_the_least_extra_persons_and_cents(db):
    """Does "still needed" name exactly the fewest more persons and cents of area to reach 2/3 and 3/4?"""
    comp, flats = build(db, "88.88", "77.77", "66.66", "55.55", "44.44", "33.33", "22.22")
    c = open_on(comp, "major")
    cast(db, c, flats, "a.d....")
    live = consultations.live_tally(c)
    r = recount(db, c)
    check(live, r)
    persons, area = row(live, "participate", "persons"), row(live, "participate", "area")
    # 2/3 of 7 persons is 4 2/3: five are needed, two took part; 2/3 of 388.85 m² is 259.2333…, 155.54 took part
    assert persons["needed"] == least_extra(2, 7, TWO_THIRDS, False, "persons", False) == 3
    assert area["needed"] == least_extra(r.part["area"], r.all["area"], TWO_THIRDS, False, "area", False) == "103.70"
    # 1 of 2 agree: (1 + x) >= 3/4 (2 + x) from x = 2; (88.88 + x) >= 3/4 (155.54 + x) from x = 111.10
    assert row(live, "agree", "persons")["needed"] == 2
    assert row(live, "agree", "area")["needed"] == "111.10"
    assert live["still_needed"] == "参与还差 3 户 / 103.70 m²；同意还差 2 户 / 111.10 m²"
    _, t = close_and_check(db, c)
    assert t["still_needed"] == live["still_needed"] and t["passed"] is False


def test_unanimity_of_participants_is_counted_without_crashing():
    """Does a local rule "every participant agrees" count, and say it can no longer be reached once one disagrees?"""
    from decimal import Decimal

    from app.services.tally import RollFlat, count, expand_rule

    rule = expand_rule("none", thresholds=[{"what": "agree", "measure": "persons", "base": "participants", "share": "1"}])
    roll = [RollFlat(i, f"p{i}", Decimal("50.00")) for i in range(4)]
    assert count(roll, {"p0": "agree", "p1": "agree"}, rule)["passed"] is True
    split = count(roll, {"p0": "agree", "p1": "disagree"}, rule)
    assert split["passed"] is False
    assert split["approval"]["thresholds"][0]["needed"] is None
    assert "已无法达到" in split["still_needed"]


def test_shares_outside_zero_to_one_are_refused():
    """Is a share of 0, above 1, or "more than all" refused when the rule is written?"""
    import pytest

    from app.services.tally import expand_rule

    for share, strict in (("0", False), ("4/3", False), ("1", True)):
        with pytest.raises(ValueError):
            expand_rule("none", thresholds=[{"what": "agree", "measure": "flats", "base": "all", "share": share, "strict": strict}])


def test_still_needed_names_missing_consenters_and_a_veto():
    """Thresholds met but a required consenter silent and one objection: "reached" is not said."""
    from app.services.tally import RollFlat, count, expand_rule

    roll = [RollFlat(i, f"p{i}", Decimal("50.00"), 1, 1, f"1栋1单元10{i}") for i in range(1, 5)]
    votes = {"p1": "agree", "p2": "agree", "p3": "disagree"}
    rule = expand_rule(preset="none", thresholds=[{"what": "participate", "measure": "persons", "base": "all",
                                                   "share": "1/2", "strict": False}],
                       required_consent_flat_ids=[4], objection_veto=True)
    t = count(roll, votes, rule)
    assert t["passed"] is False
    assert t["still_needed"] == "还需以下房屋同意：1栋1单元104；有 1 户明确反对，按规则本事项不能通过"
    t = count(roll, {**votes, "p3": "agree", "p4": "agree"}, rule)
    assert t["passed"] is True and t["still_needed"] == "已达到表决规则的要求"
