"""On MariaDB, do concurrent ballots and a close racing them leave every count exact?

Real threads send real HTTP requests to werkzeug's threaded server of the app (one thread per
connection, the app's own connection pool), whose database is TEST_DATABASE_URL. SQLite serialises
every writer and hides these races, so the tests run only on MySQL/MariaDB (CI's second pass).
"""
import json
import random
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest

from app.extensions import db as _db
from app.models import Ballot, Consultation, ConsultationResult, RollEntry, VoteSlot
from app.services import consultations as service
from app.services.consultations import live_tally
from app.services.verification import verify
from config import TestingConfig
from tests import factories
from tests.concurrency.harness import at_once, call, login_all, serve

pytestmark = pytest.mark.skipif(
    not TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("mysql"),
    reason="concurrency tests need TEST_DATABASE_URL=mysql+pymysql://… (SQLite serialises writers and hides races)",
)

SIG = factories.signature_png()
CHOICES = ("agree", "disagree", "abstain")


def seed(app, prefix, owners):
    """1栋: 4 units × 13 floors × 4 flats = 208 flats, one owner each; `owners` residents bound; a committee."""
    comp = factories.compound(buildings=(("1栋", 4, 13, 4),))
    flats = [f for b in comp.buildings for u in b.units for f in u.flats]
    assert len(flats) == 208
    committee = factories.staff(f"{prefix}committee", "committee", "compound", comp.id)
    names = [f"{prefix}{i}" for i in range(owners)]
    for name, flat in zip(names, flats):
        factories.resident(name, flat)
    _db.session.commit()
    return comp, committee, names, [f.id for f in flats[:owners]]


def open_consultation(comp, committee):
    c = factories.consultation(("compound", comp), by=committee)
    _db.session.commit()
    return c.id


def as_json(value):
    return json.loads(json.dumps(value, default=str))


def recount(consultation_id):
    """The tally's numbers straight from RollEntry and VoteSlot → Ballot rows, without the app's count."""
    area, flats = Counter(), Counter()
    for person, flat_area in _db.session.execute(
        _db.select(RollEntry.person_key, RollEntry.area).filter_by(consultation_id=consultation_id)
    ):
        area[person] += flat_area
        flats[person] += 1
    counted = dict(_db.session.execute(
        _db.select(VoteSlot.person_key, Ballot.choice).join(Ballot, Ballot.id == VoteSlot.ballot_id)
        .where(VoteSlot.consultation_id == consultation_id, Ballot.status == "current")
    ).all())
    out = {"participation": {"persons": len(counted), "area": f"{sum((area[p] for p in counted), Decimal(0)):.2f}",
                             "flats": sum(flats[p] for p in counted)}}
    for choice in CHOICES:
        persons = [p for p, c in counted.items() if c == choice]
        out[choice] = {"persons": len(persons), "area": f"{sum((area[p] for p in persons), Decimal(0)):.2f}",
                       "flats": sum(flats[p] for p in persons)}
    return out


def numbers(tally):
    """The same numbers as recount() from a tally answer."""
    out = {"participation": {k: tally["participation"][k] for k in ("persons", "area", "flats")}}
    for choice in CHOICES:
        out[choice] = {k: tally["choices"][choice][k] for k in ("persons", "area", "flats")}
    return out


def person_of(consultation_id):
    return dict(_db.session.execute(
        _db.select(RollEntry.flat_id, RollEntry.person_key).filter_by(consultation_id=consultation_id)).all())


def test_200_owners_and_50_duplicates_at_once_leave_one_current_ballot_each_and_an_exact_tally(app, db):
    """Do 200 owners signing at once, plus 50 simultaneous duplicates from one more owner, leave one current ballot per person and a tally equal to a recount?"""
    comp, committee, names, flat_ids = seed(app, "ra", 201)
    cid = open_consultation(comp, committee)
    with serve(app) as base:
        headers = login_all(base, names + ["racommittee"])
        url = f"{base}/api/v1/consultations/{cid}/ballots"
        sends = [(names[i], flat_ids[i], CHOICES[i % 3], None) for i in range(200)]
        dup, dup_flat = names[200], flat_ids[200]
        for j in range(50):  # 20 retries of key K1, 10 of key K2, 20 without a key, choices varying
            key = "race-K1" if j < 20 else "race-K2" if j < 30 else None
            choice = "agree" if key == "race-K1" else "disagree" if key == "race-K2" else CHOICES[j % 3]
            sends.append((dup, dup_flat, choice, key))
        random.Random(250).shuffle(sends)

        def post(name, flat_id, choice, key):
            extra = {"Idempotency-Key": key} if key else {}
            return call("POST", url, headers={**headers[name], **extra},
                        json={"flat_id": flat_id, "choice": choice, "signature": SIG})

        answers = at_once([lambda s=s: post(*s) for s in sends])
        tally_status, tally_http = call("GET", f"{base}/api/v1/consultations/{cid}/tally", headers=headers["racommittee"])

    failures = [(s, a) for s, a in zip(sends, answers) if a[0] != 201]
    assert all(a[0] is not None and a[0] < 500 for _, a in failures), f"server errors: {failures[:3]}"
    assert all(set(a[1]) == {"error"} and {"code", "message"} <= set(a[1]["error"]) for _, a in failures), failures[:3]
    assert len(failures) == 0, f"{len(failures)} of 250 refused, first: {failures[:3]}"
    for key in ("race-K1", "race-K2"):
        replies = {(a[1]["data"]["ballot_id"], a[1]["data"]["receipt"]) for s, a in zip(sends, answers) if s[3] == key}
        assert len(replies) == 1, f"{key} answered with {len(replies)} different ballots"

    _db.session.rollback()  # a fresh snapshot: everything the server committed
    ballots = _db.session.scalars(_db.select(Ballot).filter_by(consultation_id=cid)).all()
    assert len(ballots) == 200 + 1 + 1 + 20
    assert Counter(b.idempotency_key for b in ballots if b.idempotency_key) == {"race-K1": 1, "race-K2": 1}
    persons = person_of(cid)
    by_person = {}
    for b in ballots:
        by_person.setdefault(b.person_key, []).append(b)
    assert len(by_person) == 201
    slots = dict(_db.session.execute(_db.select(VoteSlot.person_key, VoteSlot.ballot_id).filter_by(consultation_id=cid)).all())
    for person, mine in by_person.items():
        current = [b for b in mine if b.status == "current"]
        assert len(current) == 1, f"{person}: {len(current)} current ballots of {len(mine)}"
        assert slots[person] == current[0].id
        assert Counter(b.status for b in mine) == {"current": 1, **({"superseded": len(mine) - 1} if len(mine) > 1 else {})}
    dup_ballots = by_person[persons[dup_flat]]
    assert len(dup_ballots) == 22
    assert sum(1 for v in slots.values() if v is None) == 208 - 201
    for name, flat_id, choice, _ in sends:
        if name != dup:
            assert [b.choice for b in by_person[persons[flat_id]]] == [choice]

    expected = recount(cid)
    assert expected["participation"] == {"persons": 201, "area": "16080.00", "flats": 201}
    assert tally_status == 200
    assert numbers(tally_http["data"]) == expected
    live = as_json(live_tally(_db.session.get(Consultation, cid)))
    assert {**tally_http["data"], "stored": None} == {**live, "stored": None}
    assert numbers(live) == expected
    assert [str(p) for p in verify()] == []


def test_ballots_racing_the_close_are_counted_or_refused_never_lost(app, db):
    """When a close races 60 owners signing (3 rounds: POST /close twice, the service's close as the scheduler calls it once), is every 201 counted in the stored result and every refused one 409 closed with no ballot?"""
    comp, committee, names, flat_ids = seed(app, "rb", 60)
    totals = Counter()
    with serve(app) as base:
        headers = login_all(base, names + ["rbcommittee"])
        rounds = 0
        # At least 3 rounds, more (up to 8) until a close has really cut into signing at least once:
        # on a fast run every ballot may land before the close gets its lock, which proves nothing.
        while rounds < 3 or (totals["refused"] == 0 and rounds < 8):
            round_, rounds = rounds, rounds + 1
            cid = open_consultation(comp, committee)
            url = f"{base}/api/v1/consultations/{cid}/ballots"
            signed, lock, enough = [0], threading.Lock(), threading.Event()

            def post(i):
                time.sleep(i * 0.01)  # arrivals spread over 0.6 s, so ballots keep coming as the close lands
                answer = call("POST", url, headers=headers[names[i]],
                              json={"flat_id": flat_ids[i], "choice": CHOICES[i % 3], "signature": SIG})
                with lock:
                    signed[0] += answer[0] == 201
                    if signed[0] >= 8:
                        enough.set()
                return answer

            def close(by_http=round_ % 3 != 1):
                enough.wait(30)  # close once 8 ballots are in and the other 52 are in flight
                if by_http:
                    return call("POST", f"{base}/api/v1/consultations/{cid}/close", headers=headers["rbcommittee"])
                with app.app_context():  # its own session and connection, as the scheduler process has
                    service.close(cid)
                    _db.session.commit()
                return 200, "closed by the service"

            answers = at_once([lambda i=i: post(i) for i in range(60)] + [close])
            closed = answers.pop()
            assert closed[0] == 200, closed

            _db.session.rollback()
            persons = person_of(cid)
            ok = [i for i, a in enumerate(answers) if a[0] == 201]
            refused = [i for i, a in enumerate(answers) if a[0] == 409 and a[1]["error"]["code"] == "closed"]
            others = [(i, a) for i, a in enumerate(answers) if i not in ok and i not in refused]
            assert not others, f"round {round_}: neither counted nor refused as closed: {others[:3]}"
            assert len(ok) + len(refused) == 60 and len(ok) >= 8
            slots = dict(_db.session.execute(
                _db.select(VoteSlot.person_key, VoteSlot.ballot_id).filter_by(consultation_id=cid)).all())
            ballots = {b.person_key: b for b in _db.session.scalars(_db.select(Ballot).filter_by(consultation_id=cid))}
            for i in ok:
                person = persons[flat_ids[i]]
                assert slots[person] == answers[i][1]["data"]["ballot_id"] == ballots[person].id
                assert ballots[person].status == "current"
            lost = [i for i in refused if persons[flat_ids[i]] in ballots]
            assert not lost, f"round {round_}: refused yet recorded: {lost}"
            assert len(ballots) == len(ok)

            stored = _db.session.scalar(_db.select(ConsultationResult).filter_by(consultation_id=cid)).tally
            want = Counter(CHOICES[i % 3] for i in ok)
            got = {k: stored["choices"][k]["persons"] for k in CHOICES}
            assert got == {k: want[k] for k in CHOICES}, f"round {round_}: {len(ok)} ballots got 201, stored {got}"
            assert stored["participation"]["persons"] == len(ok)
            assert numbers(stored) == recount(cid)
            totals.update(ok=len(ok), refused=len(refused))
    print("race-the-close totals:", dict(totals))
    assert totals["ok"] + totals["refused"] == 60 * rounds
    assert totals["refused"] >= 1, f"the close never raced a ballot: {totals}"
    assert [str(p) for p in verify()] == []


def test_paper_confirmations_double_tapped_and_racing_the_close_count_once_or_not_at_all(app, db):
    """With 8 simultaneous confirms of one paper ballot and 29 more confirms racing a close (2 rounds), is each paper ballot confirmed at most once, and is every confirmed one in the stored result?"""
    from app.services import ballots as ballot_service

    comp, committee, names, flat_ids = seed(app, "rc", 0)
    g = factories.grid(comp, comp.buildings)
    enterer = factories.staff("rcgw1", "grid_worker", "grid", g.id)
    factories.staff("rcgw2", "grid_worker", "grid", g.id)
    _db.session.commit()
    flats = [f.id for b in comp.buildings for u in b.units for f in u.flats][:30]
    totals = Counter()
    with serve(app) as base:
        headers = login_all(base, ["rcgw2", "rccommittee"])
        for round_ in range(2):
            cid = open_consultation(comp, committee)
            paper = [ballot_service.enter_paper(enterer, cid, f, CHOICES[i % 3], SIG).id for i, f in enumerate(flats)]
            _db.session.commit()
            confirmed, lock, enough = [0], threading.Lock(), threading.Event()

            def confirm(ballot_id):
                answer = call("POST", f"{base}/api/v1/paper-ballots/{ballot_id}/confirm", headers=headers["rcgw2"])
                with lock:
                    confirmed[0] += answer[0] == 200
                    if confirmed[0] >= 10:
                        enough.set()
                return ballot_id, answer

            def close():
                enough.wait(30)
                return None, call("POST", f"{base}/api/v1/consultations/{cid}/close", headers=headers["rccommittee"])

            sends = [paper[0]] * 8 + paper[1:]  # a double-tapped confirm of the first, one confirm of each other
            answers = at_once([lambda b=b: confirm(b) for b in sends] + [close])
            assert answers.pop()[1][0] == 200

            _db.session.rollback()
            bad = [(b, a) for b, a in answers if a[0] != 200 and not (
                a[0] == 409 and a[1]["error"]["code"] in ("closed", "already_confirmed"))]
            assert not bad, f"round {round_}: {bad[:3]}"
            wins = Counter(b for b, a in answers if a[0] == 200)
            assert max(wins.values()) == 1, f"round {round_}: confirmed twice: {[b for b, n in wins.items() if n > 1]}"
            slots = dict(_db.session.execute(
                _db.select(VoteSlot.person_key, VoteSlot.ballot_id).filter_by(consultation_id=cid)).all())
            for ballot_id in paper:
                ballot = _db.session.get(Ballot, ballot_id)
                if ballot_id in wins:
                    assert (ballot.status, slots[ballot.person_key]) == ("current", ballot_id), f"round {round_}"
                else:
                    assert (ballot.status, slots[ballot.person_key]) == ("unconfirmed", None), f"round {round_}"
            stored = _db.session.scalar(_db.select(ConsultationResult).filter_by(consultation_id=cid)).tally
            want = Counter(CHOICES[paper.index(b) % 3] for b in wins)
            assert {k: stored["choices"][k]["persons"] for k in CHOICES} == {k: want[k] for k in CHOICES}, \
                f"round {round_}: {len(wins)} confirmed, stored {stored['choices']}"
            assert numbers(stored) == recount(cid)
            totals.update(confirmed=len(wins), refused=30 - len(wins))
    assert totals["confirmed"] >= 20 and totals["refused"] >= 1, dict(totals)
    assert [str(p) for p in verify()] == []
