"""On MariaDB, do payments, refunds, pledges, Idempotency-Keys and closes of a contribution plan
that arrive at once leave every amount exact?

Real threads send real HTTP requests to werkzeug's threaded server of the app (see harness.py);
the schedulers are real processes of their own. SQLite serialises every writer and hides these
races, so the tests run only on MySQL/MariaDB (CI's second pass)."""
import multiprocessing
import random
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest

from app.extensions import db as _db
from app.models import ContributionPlan, PlanFlat, PlanPayment, PlanResult, Pledge
from app.models.places import utcnow
from app.services import plans as service
from app.services.verification import verify
from config import TestingConfig
from tests import factories
from tests.concurrency.harness import at_once, call, login_all, serve

pytestmark = pytest.mark.skipif(
    not TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("mysql"),
    reason="concurrency tests need TEST_DATABASE_URL=mysql+pymysql://… (SQLite serialises writers and hides races)",
)

SIG = factories.signature_png()
PHOTO = factories.signature_png(width=300, height=200)


def seed(prefix, owners):
    """1栋: 2 units × 5 floors × 4 flats = 40 flats, one owner each; the first `owners` bound as
    <prefix>o<i>; a committee member, the treasurer, community staff and two grid workers."""
    comp = factories.compound(buildings=(("1栋", 2, 5, 4),))
    flats = [f for b in comp.buildings for u in b.units for f in u.flats]
    names = [f"{prefix}o{i}" for i in range(owners)]
    for name, flat in zip(names, flats):
        factories.resident(name, flat)
    grid = factories.grid(comp, comp.buildings)
    factories.staff(f"{prefix}committee", "committee", "compound", comp.id)
    factories.staff(f"{prefix}cash", "treasurer", "compound", comp.id)
    factories.staff(f"{prefix}staff", "community_staff", "community", comp.community_id)
    factories.staff(f"{prefix}gw", "grid_worker", "grid", grid.id)
    factories.staff(f"{prefix}gw2", "grid_worker", "grid", grid.id)
    _db.session.commit()
    staff = [f"{prefix}{s}" for s in ("committee", "cash", "staff", "gw", "gw2")]
    return comp, names, [f.id for f in flats], staff


def open_plan(base, headers, comp, days=10):
    """A plan over the compound (roof by area, required; painting per flat, optional, less allowed), opened."""
    status, body = call("POST", f"{base}/api/v1/plans", headers=headers, json={
        "scope": {"type": "compound", "id": comp.id}, "title": "屋面防水", "methods": ["direct", "provident_fund"],
        "items": [{"key": "roof", "name": "屋面防水", "cost_fen": 4_000_003, "standard": {"type": "area"}},
                  {"key": "paint", "name": "楼道粉刷", "required": False, "allow_less": True, "cost_fen": 400_000,
                   "standard": {"type": "fixed"}}],
        "funding_rule": {"required_items": True},
        "closes_at": (utcnow() + timedelta(days=days)).isoformat() + "Z"})
    assert status == 201, body
    plan_id = body["data"]["id"]
    status, body = call("POST", f"{base}/api/v1/plans/{plan_id}/open", headers=headers)
    assert status == 200, body
    return plan_id


def pledge(base, headers, plan_id, flat_id, paint=10_000, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return call("POST", f"{base}/api/v1/plans/{plan_id}/pledges", headers={**headers, **extra}, json={
        "flat_id": flat_id, "signature": SIG,
        "lines": [{"item": "roof", "method": "direct"}, {"item": "paint", "method": "direct", "amount_fen": paint}]})


def money(base, headers, pledge_id, amount, kind="payments", key=None, **extra_body):
    extra = {"Idempotency-Key": key} if key else {}
    return call("POST", f"{base}/api/v1/pledges/{pledge_id}/{kind}", headers={**headers, **extra},
                json={"amount_fen": amount, "method": "direct", "paid_on": "2026-01-05", **extra_body})


def error_code(answer):
    status, body = answer
    return status, body["error"]["code"] if isinstance(body, dict) and "error" in body else None


def net_paid(pledge_id):
    _db.session.rollback()  # a fresh snapshot: everything the server committed
    rows = _db.session.execute(_db.select(PlanPayment.kind, PlanPayment.amount_fen)
                               .where(PlanPayment.pledge_id == pledge_id)).all()
    paid = sum(a for k, a in rows if k == "payment")
    refunded = sum(a for k, a in rows if k == "refund")
    return paid, refunded


def test_payments_racing_on_one_pledge_never_pay_more_than_pledged(app, db):
    """40 payments of the same amount at once from two cashiers, then 40 of random amounts: exactly
    ⌊total ÷ amount⌋ of the first land, the rest are 422 overpayment; paid never passes the pledge,
    and every refused payment was more than what was left even at the end (no refusal spurious)."""
    comp, names, flat_ids, staff = seed("pp", 1)
    with serve(app) as base:
        h = login_all(base, names + staff)
        plan_id = open_plan(base, h["ppcommittee"], comp)
        status, body = pledge(base, h["ppo0"], plan_id, flat_ids[0])
        assert status == 201, body
        pledge_id, total = body["data"]["id"], body["data"]["total_fen"]
        amount = total // 9 + 1
        cashiers = [h["ppcash"], h["ppstaff"]]
        answers = at_once([lambda i=i: money(base, cashiers[i % 2], pledge_id, amount) for i in range(40)])
        codes = Counter(error_code(a) for a in answers)
        assert codes == {(201, None): total // amount, (422, "overpayment"): 40 - total // amount}, codes
        paid, _ = net_paid(pledge_id)
        assert paid == amount * (total // amount) <= total

        rng = random.Random(40)
        amounts = [rng.randint(1, total // 10) for _ in range(40)]
        answers = at_once([lambda i=i, a=a: money(base, cashiers[i % 2], pledge_id, a) for i, a in enumerate(amounts)])
        status, tally = call("GET", f"{base}/api/v1/plans/{plan_id}/tally", headers=h["ppcommittee"])
    bad = [a for a in answers if error_code(a) not in ((201, None), (422, "overpayment"))]
    assert not bad, bad[:3]
    paid, refunded = net_paid(pledge_id)
    assert refunded == 0 and paid <= total
    accepted = sum(a for a, ans in zip(amounts, answers) if ans[0] == 201)
    assert paid == amount * (total // amount) + accepted
    left = total - paid
    refused = [a for a, ans in zip(amounts, answers) if ans[0] == 422]
    assert all(r > left for r in refused), (left, sorted(refused)[:5])
    assert status == 200 and tally["data"]["totals"]["net_paid_fen"] == paid
    per_item = Counter()
    for allocation, in _db.session.execute(_db.select(PlanPayment.allocation).where(PlanPayment.pledge_id == pledge_id)):
        per_item.update(allocation)
    lines = {line["item"]: line["amount_fen"] for line in _db.session.get(Pledge, pledge_id).lines}
    assert all(per_item[item] <= lines[item] for item in per_item), (per_item, lines)
    assert [str(p) for p in verify()] == []


def test_refunds_racing_never_refund_more_than_was_paid(app, db):
    """Paid in full, then 40 refunds at once, then 20 payments and 20 refunds at once: refunds never
    pass what is paid, payments never pass the pledge, each refusal the right 422."""
    comp, names, flat_ids, staff = seed("pr", 1)
    with serve(app) as base:
        h = login_all(base, names + staff)
        plan_id = open_plan(base, h["prcommittee"], comp)
        status, body = pledge(base, h["pro0"], plan_id, flat_ids[0])
        assert status == 201, body
        pledge_id, total = body["data"]["id"], body["data"]["total_fen"]
        assert money(base, h["prcash"], pledge_id, total)[0] == 201
        cashiers = [h["prcash"], h["prstaff"]]
        amount = total // 7 + 1
        answers = at_once([lambda i=i: money(base, cashiers[i % 2], pledge_id, amount, "refunds") for i in range(40)])
        codes = Counter(error_code(a) for a in answers)
        assert codes == {(201, None): total // amount, (422, "over_refund"): 40 - total // amount}, codes
        paid, refunded = net_paid(pledge_id)
        assert (paid, refunded) == (total, amount * (total // amount))

        rng = random.Random(7)
        jobs = [("payments" if i % 2 else "refunds", rng.randint(1, total // 5)) for i in range(40)]
        answers = at_once([lambda i=i, k=k, a=a: money(base, cashiers[i % 2], pledge_id, a, k)
                           for i, (k, a) in enumerate(jobs)])
    expected = {"payments": "overpayment", "refunds": "over_refund"}
    bad = [(j, a) for j, a in zip(jobs, answers) if error_code(a) not in ((201, None), (422, expected[j[0]]))]
    assert not bad, bad[:3]
    paid, refunded = net_paid(pledge_id)
    assert 0 <= paid - refunded <= total
    assert paid == total + sum(a for (k, a), ans in zip(jobs, answers) if k == "payments" and ans[0] == 201)
    assert refunded == amount * (total // amount) + sum(
        a for (k, a), ans in zip(jobs, answers) if k == "refunds" and ans[0] == 201)
    net_item = Counter()
    for kind, allocation in _db.session.execute(_db.select(PlanPayment.kind, PlanPayment.allocation)
                                                .where(PlanPayment.pledge_id == pledge_id)):
        for item, fen in allocation.items():
            net_item[item] += fen if kind == "payment" else -fen
    lines = {line["item"]: line["amount_fen"] for line in _db.session.get(Pledge, pledge_id).lines}
    assert all(0 <= net_item[item] <= lines[item] for item in lines), (net_item, lines)
    assert [str(p) for p in verify()] == []


def test_an_owner_pledging_thirty_times_at_once_leaves_one_current_pledge(app, db):
    """30 pledges of one owner for one flat at once (each painting amount different), with 10
    other owners pledging at the same time: every answer 201, one current pledge per flat, the
    one the flat counts, the last in the chain, and the chain verifies."""
    comp, names, flat_ids, staff = seed("pm", 11)
    with serve(app) as base:
        h = login_all(base, names + staff)
        plan_id = open_plan(base, h["pmcommittee"], comp)
        sends = [("pmo0", flat_ids[0], 1000 + i) for i in range(30)]
        sends += [(names[i], flat_ids[i], 5000 + i) for i in range(1, 11)]
        random.Random(30).shuffle(sends)
        answers = at_once([lambda s=s: pledge(base, h[s[0]], plan_id, s[1], s[2]) for s in sends])
        status, tally = call("GET", f"{base}/api/v1/plans/{plan_id}/tally", headers=h["pmcommittee"])
    bad = [(s, a) for s, a in zip(sends, answers) if a[0] != 201]
    assert not bad, bad[:3]
    _db.session.rollback()
    mine = _db.session.scalars(_db.select(Pledge).filter_by(plan_id=plan_id, flat_id=flat_ids[0])
                               .order_by(Pledge.id)).all()
    assert len(mine) == 30
    assert Counter(p.status for p in mine) == {"current": 1, "superseded": 29}
    current = next(p for p in mine if p.status == "current")
    counted = dict(_db.session.execute(_db.select(PlanFlat.flat_id, PlanFlat.pledge_id)
                                       .where(PlanFlat.plan_id == plan_id)).all())
    assert counted[flat_ids[0]] == current.id
    from app.models import AuditEntry

    last = _db.session.scalars(_db.select(AuditEntry.subject_id).where(
        AuditEntry.chain == f"plan:{plan_id}", AuditEntry.kind == "pledge").order_by(AuditEntry.seq)).all()
    assert [i for i in last if i in {p.id for p in mine}][-1] == current.id  # the last written counts
    for i in range(1, 11):
        theirs = _db.session.scalars(_db.select(Pledge).filter_by(plan_id=plan_id, flat_id=flat_ids[i])).all()
        assert [p.status for p in theirs] == ["current"] and counted[flat_ids[i]] == theirs[0].id
    assert status == 200 and tally["data"]["flats"]["pledging"] == 11
    paint = next(i for i in tally["data"]["items"] if i["key"] == "paint")
    assert paint["pledged_fen"] == current.lines[1]["amount_fen"] + sum(5000 + i for i in range(1, 11))
    assert [str(p) for p in verify()] == []


def test_two_staff_confirming_one_paper_pledge_at_once_confirm_it_once(app, db):
    """A paper pledge over a flat's online one, confirmed by 10 requests of two staff members at
    once: one confirmation, one current pledge for the flat (the paper one), the chain whole."""
    comp, names, flat_ids, staff = seed("pc", 1)
    with serve(app) as base:
        h = login_all(base, names + staff)
        plan_id = open_plan(base, h["pccommittee"], comp)
        assert pledge(base, h["pco0"], plan_id, flat_ids[0])[0] == 201
        status, body = call("POST", f"{base}/api/v1/plans/{plan_id}/paper-pledges", headers=h["pcgw"], json={
            "flat_id": flat_ids[0], "photo": PHOTO, "lines": [{"item": "roof", "method": "direct"}]})
        assert status == 201, body
        paper = body["data"]["id"]
        confirmers = [h["pcgw2"], h["pccommittee"]]
        answers = at_once([lambda i=i: call("POST", f"{base}/api/v1/paper-pledges/{paper}/confirm",
                                            headers=confirmers[i % 2]) for i in range(10)])
    codes = Counter(error_code(a) for a in answers)
    assert codes == {(200, None): 1, (409, "already_confirmed"): 9}, codes
    _db.session.rollback()
    pledges = {p.id: p for p in _db.session.scalars(_db.select(Pledge).filter_by(plan_id=plan_id, flat_id=flat_ids[0]))}
    assert Counter(p.status for p in pledges.values()) == {"current": 1, "superseded": 1}
    assert pledges[paper].status == "current" and pledges[paper].confirmed_by_id is not None
    counted = _db.session.scalar(_db.select(PlanFlat.pledge_id).filter_by(plan_id=plan_id, flat_id=flat_ids[0]))
    assert counted == paper
    from app.models import AuditEntry

    assert _db.session.scalar(_db.select(_db.func.count(AuditEntry.id)).where(
        AuditEntry.chain == f"plan:{plan_id}", AuditEntry.kind == "paper_pledge_confirmed")) == 1
    assert [str(p) for p in verify()] == []


def test_pledges_racing_the_close_are_counted_or_refused_never_lost(app, db):
    """When a close races 40 owners pledging (rounds: POST /close, the service's close as the
    scheduler calls it), is every 201 counted in the stored outcome and every refused one a 409
    closed with no pledge written?"""
    comp, names, flat_ids, staff = seed("pk", 40)
    totals = Counter()
    with serve(app) as base:
        h = login_all(base, names + staff)
        rounds = 0
        while rounds < 3 or (totals["refused"] == 0 and rounds < 8):
            round_, rounds = rounds, rounds + 1
            plan_id = open_plan(base, h["pkcommittee"], comp)
            signed, lock, enough = [0], threading.Lock(), threading.Event()

            def post(i, plan_id=plan_id, signed=signed, lock=lock, enough=enough):
                time.sleep(i * 0.015)  # arrivals spread over 0.6 s, so pledges keep coming as the close lands
                answer = pledge(base, h[names[i]], plan_id, flat_ids[i], 1000 + i)
                with lock:
                    signed[0] += answer[0] == 201
                    if signed[0] >= 6:
                        enough.set()
                return answer

            def close(plan_id=plan_id, enough=enough, by_http=round_ % 2 == 0):
                enough.wait(30)
                if by_http:
                    return call("POST", f"{base}/api/v1/plans/{plan_id}/close", headers=h["pkcommittee"])
                with app.app_context():  # its own session and connection, as the scheduler process has
                    service.close(plan_id)
                    _db.session.commit()
                return 200, "closed by the service"

            answers = at_once([lambda i=i: post(i) for i in range(40)] + [close])
            closed = answers.pop()
            assert closed[0] == 200, closed
            _db.session.rollback()
            ok = [i for i, a in enumerate(answers) if a[0] == 201]
            refused = [i for i, a in enumerate(answers) if error_code(a) == (409, "closed")]
            others = [(i, a) for i, a in enumerate(answers) if i not in ok and i not in refused]
            assert not others, f"round {round_}: neither counted nor refused as closed: {others[:3]}"
            pledges = _db.session.scalars(_db.select(Pledge).filter_by(plan_id=plan_id)).all()
            assert sorted(p.flat_id for p in pledges) == sorted(flat_ids[i] for i in ok), f"round {round_}"
            result = _db.session.scalar(_db.select(PlanResult).filter_by(plan_id=plan_id))
            stored = result.tally
            assert stored["flats"]["pledging"] == len(ok), f"round {round_}: a 201 not counted"
            assert stored["totals"]["pledged_fen"] == sum(answers[i][1]["data"]["total_fen"] for i in ok)
            plan = _db.session.get(ContributionPlan, plan_id)
            assert plan.status in ("funded", "not_funded") and result.funded == (plan.status == "funded")
            assert all(p.created_at <= plan.closed_at for p in pledges)
            totals["ok"] += len(ok)
            totals["refused"] += len(refused)
    assert totals["refused"] > 0, f"no close cut into pledging in {rounds} rounds: {totals}"
    assert [str(p) for p in verify()] == []


def _scheduler(now_iso, gate, out):
    """One scheduler process: its own application, engine and connections, closing what is due."""
    from app import create_app

    app = create_app("testing")
    with app.app_context():
        gate.wait(60)
        out.put(service.close_due(now=datetime.fromisoformat(now_iso)))


def test_schedulers_closing_at_once_store_each_outcome_once(app, db):
    """4 scheduler processes run close_due at the same instant over 3 plans past their deadline:
    each plan is closed by exactly one of them, with one stored outcome and one result entry."""
    from app.models import AuditEntry

    comp, names, flat_ids, staff = seed("ps", 3)
    with serve(app) as base:
        h = login_all(base, names + staff)
        plans = [open_plan(base, h["pscommittee"], comp, days=1 + i) for i in range(3)]
        for i, plan_id in enumerate(plans):
            assert pledge(base, h[names[i]], plan_id, flat_ids[i])[0] == 201
    deadline = max(service.terms(_db.session.get(ContributionPlan, p))["closes_at"] for p in plans)
    _db.session.rollback()
    ctx = multiprocessing.get_context("spawn")
    gate, out = ctx.Barrier(4), ctx.Queue()
    workers = [ctx.Process(target=_scheduler, args=((deadline + timedelta(seconds=1)).isoformat(), gate, out))
               for _ in range(4)]
    for w in workers:
        w.start()
    closed = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(30)
        assert w.exitcode == 0
    assert sorted(p for c in closed for p in c) == sorted(plans), closed  # each closed once, by one
    _db.session.rollback()
    for plan_id in plans:
        assert _db.session.scalar(_db.select(_db.func.count(PlanResult.id)).filter_by(plan_id=plan_id)) == 1
        assert _db.session.scalar(_db.select(_db.func.count(AuditEntry.id)).where(
            AuditEntry.chain == f"plan:{plan_id}", AuditEntry.kind == "result")) == 1
        assert _db.session.get(ContributionPlan, plan_id).status in ("funded", "not_funded")
    assert [str(p) for p in verify()] == []


def test_one_idempotency_key_raced_gives_one_pledge_and_one_payment(app, db):
    """20 sends of one pledge with one key at once, and 20 of one payment with one key: one row each,
    every answer the same receipt; the key raced by another owner is a 409, never a 500."""
    comp, names, flat_ids, staff = seed("pi", 3)
    with serve(app) as base:
        h = login_all(base, names + staff)
        plan_id = open_plan(base, h["picommittee"], comp)
        answers = at_once([lambda: pledge(base, h["pio0"], plan_id, flat_ids[0], key="race-1")] * 20
                          + [lambda: pledge(base, h["pio1"], plan_id, flat_ids[1], key="race-2")] * 10
                          + [lambda: pledge(base, h["pio2"], plan_id, flat_ids[2], key="race-2")] * 10)
        assert all(a[0] == 201 for a in answers[:20]), [a for a in answers[:20] if a[0] != 201][:3]
        assert len({(a[1]["data"]["id"], a[1]["data"]["receipt"]) for a in answers[:20]}) == 1
        race2 = Counter((error_code(a), a[1]["data"]["id"] if a[0] == 201 else None) for a in answers[20:])
        winners = {pid for (code, pid) in race2 if code == (201, None)}
        assert len(winners) == 1 and set(code for code, _ in race2) == {(201, None), (409, "idempotency_conflict")}, race2
        pledge_id, total = answers[0][1]["data"]["id"], answers[0][1]["data"]["total_fen"]
        cashiers = ["picash"] * 20 + ["pistaff"] * 5
        paid = at_once([lambda c=c: money(base, h[c], pledge_id, 1234, key="pay-race") for c in cashiers])
    _db.session.rollback()
    users = {name: factories.user(name).id for name in ("picash", "pistaff")}
    winner = _db.session.scalar(_db.select(PlanPayment.recorded_by_id).filter_by(plan_id=plan_id))
    for name, answer in zip(cashiers, paid):  # whoever came first: all theirs one payment, all others 409
        assert error_code(answer) == ((201, None) if users[name] == winner else (409, "idempotency_conflict")), answer
    assert len({a[1]["data"]["payments"][0]["id"] for a in paid if a[0] == 201}) == 1
    _db.session.rollback()
    assert _db.session.scalar(_db.select(_db.func.count(Pledge.id)).filter_by(plan_id=plan_id, idempotency_key="race-1")) == 1
    assert _db.session.scalar(_db.select(_db.func.count(Pledge.id)).filter_by(plan_id=plan_id, idempotency_key="race-2")) == 1
    payments = _db.session.scalars(_db.select(PlanPayment).filter_by(plan_id=plan_id)).all()
    assert [(p.idempotency_key, p.amount_fen) for p in payments] == [("pay-race", 1234)]
    assert net_paid(pledge_id) == (1234, 0) and total > 1234
    assert [str(p) for p in verify()] == []
