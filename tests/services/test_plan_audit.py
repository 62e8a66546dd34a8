"""`flask audit verify` on contribution plans, tried as someone with write access to the database:
each edit of a pledge, a payment, a flat's frozen amounts, the plan's row or its stored outcome,
made in SQL behind the application's back, is named by its exact finding in the plan's chain; and
with the freeze entry edited nothing is pledged, paid, counted or closed (409 freeze_broken)."""
import base64
import io
import itertools
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import text

from app.extensions import db as _db
from app.models import (AuditChain, AuditEntry, Blob, ContributionPlan, PlanDue, PlanFlat, PlanPayment, PlanResult,
                        Pledge)
from app.models.places import utcnow
from app.services import audit
from app.services import pledges as pledge_service
from app.services import plans as service
from tests import factories
from tests.tamper import findings, sql

SIG = factories.signature_png()
_people = itertools.count(1)


# ---------------------------------------------------------------- the world


def _row(model):
    """A row's columns as they are now, kept after the session that read them is gone."""
    return SimpleNamespace(**{c.name: getattr(model, c.name) for c in model.__table__.c})


def _post(client, url, headers, body, status=201):
    resp = client.post(url, headers=headers, json=body)
    assert resp.status_code == status, resp.json
    return resp.json["data"]


@pytest.fixture()
def world(app, db, client, login):
    """A compound of 6 flats (1栋 1单元, 3 floors × 2) each with a bound owner, a committee member, a
    grid worker and the treasurer; a plan over it with a required item by area and an optional one
    per flat, opened over HTTP. Flat 0 pledged twice (A superseded, B current), flat 1 once (C),
    flat 2 on paper confirmed by a second person (D), flat 3 on paper not yet confirmed (E);
    on B a payment of 10,000, one of 5,000 and a refund of 2,000. Flats 4 and 5 never pledged."""
    n = next(_people)  # logins of one name are limited per minute: each test has its own people
    comp = factories.compound(buildings=(("1栋", 1, 3, 2),))
    flats = [f for b in comp.buildings for u in b.units for f in u.flats]
    for i, flat in enumerate(flats):
        flat.area = flat.area + i  # areas 80 .. 85, so the amounts by area differ flat by flat
        factories.resident(f"pa{n}o{i}", flat)
    grid = factories.grid(comp, comp.buildings)
    factories.staff(f"pa{n}committee", "committee", "compound", comp.id)
    factories.staff(f"pa{n}gw", "grid_worker", "grid", grid.id)
    factories.staff(f"pa{n}cash", "treasurer", "compound", comp.id)
    _db.session.commit()
    committee, worker, cashier = (login(f"pa{n}{who}") for who in ("committee", "gw", "cash"))
    plan = _post(client, "/api/v1/plans", committee, {
        "scope": {"type": "compound", "id": comp.id}, "title": "屋面防水与楼道粉刷", "body": "按面积分摊。",
        "items": [{"key": "roof", "name": "屋面防水", "cost_fen": 600_001,
                   "subsidies": [{"name": "街道补贴", "amount_fen": 100_000}], "standard": {"type": "area"}},
                  {"key": "paint", "name": "楼道粉刷", "required": False, "cost_fen": 60_000,
                   "standard": {"type": "fixed"}, "allow_less": True}],
        "methods": ["direct", "labour"], "labour_rate_fen": 3000,
        "funding_rule": {"required_items": True, "min_flat_share": "1/2"},
        "closes_at": (utcnow() + timedelta(days=5)).isoformat() + "Z"})
    plan_id = plan["id"]
    _post(client, f"/api/v1/plans/{plan_id}/open", committee, None, 200)
    pledges_url = f"/api/v1/plans/{plan_id}/pledges"
    owner0, owner1 = login(f"pa{n}o0"), login(f"pa{n}o1")
    a = _post(client, pledges_url, owner0, {"flat_id": flats[0].id, "signature": SIG,
                                            "lines": [{"item": "roof", "method": "direct"}]})
    b = _post(client, pledges_url, owner0, {"flat_id": flats[0].id, "signature": SIG, "lines": [
        {"item": "roof", "method": "direct"}, {"item": "paint", "method": "labour", "hours": 3}]})
    c = _post(client, pledges_url, owner1, {"flat_id": flats[1].id, "signature": SIG,
                                            "lines": [{"item": "roof", "method": "direct"}]})
    paper_url = f"/api/v1/plans/{plan_id}/paper-pledges"
    d = _post(client, paper_url, worker, {"flat_id": flats[2].id, "photo": SIG,
                                          "lines": [{"item": "roof", "method": "direct"}]})
    _post(client, f"/api/v1/paper-pledges/{d['id']}/confirm", committee, None, 200)
    e = _post(client, paper_url, worker, {"flat_id": flats[3].id, "photo": SIG,
                                          "lines": [{"item": "roof", "method": "direct"}]})
    pay_url = f"/api/v1/pledges/{b['id']}"
    _post(client, pay_url + "/payments", cashier, {"amount_fen": 10_000, "method": "direct", "paid_on": "2026-01-05"})
    _post(client, pay_url + "/payments", cashier, {"amount_fen": 5_000, "method": "direct", "paid_on": "2026-01-06"})
    _post(client, pay_url + "/refunds", cashier, {"amount_fen": 2_000, "method": "direct", "paid_on": "2026-01-07"})
    _db.session.expire_all()
    payments = _db.session.scalars(_db.select(PlanPayment).where(PlanPayment.plan_id == plan_id)
                                   .order_by(PlanPayment.id)).all()
    assert [(p.kind, p.amount_fen) for p in payments] == [("payment", 10_000), ("payment", 5_000), ("refund", 2_000)]
    labels = dict(_db.session.execute(_db.select(PlanFlat.flat_id, PlanFlat.label)
                                      .where(PlanFlat.plan_id == plan_id)).all())
    pledges = {name: _row(_db.session.get(Pledge, p["id"])) for name, p in zip("ABCDE", (a, b, c, d, e))}
    assert [p.status for p in pledges.values()] == ["superseded", "current", "current", "current", "unconfirmed"]
    assert findings() == []  # the untouched world verifies: every test below can fail
    return {"comp": comp, "plan_id": plan_id, "chain": f"plan:{plan_id}", "flats": [f.id for f in flats],
            "labels": labels, "pledges": pledges, "payments": [p.id for p in payments],
            "committee": committee, "worker": worker, "cashier": cashier,
            "owners": [login(f"pa{n}o{i}") for i in (2, 4, 5)], "n": n}


@pytest.fixture()
def closed(world, client):
    """The world's plan closed over HTTP, its outcome stored once."""
    _post(client, f"/api/v1/plans/{world['plan_id']}/close", world["committee"], None, 200)
    _db.session.expire_all()
    world["result"] = _row(_db.session.scalar(_db.select(PlanResult).filter_by(plan_id=world["plan_id"])))
    assert world["result"] is not None and findings() == []
    return world


def named(world, what):
    """A pledge as the finding names it: id, room, receipt."""
    return lambda p: f"出资承诺 id {p.id}（{world['labels'][p.flat_id]}，回执 {p.receipt}）{what}"


def assert_named(world, cli, finding):
    """verify() and `flask audit verify` both name exactly this problem in the plan's chain."""
    expected = f"[{world['chain']}] {finding}"
    assert findings() == [expected]
    out = cli("audit", "verify")
    assert out.exit_code == 1 and expected in out.output, out.output


def _json(value):
    return json.dumps(value, ensure_ascii=False)


def _update(table, row_id, **values):
    """UPDATE one row by id, the statement built for the database (BLOB and LINES are reserved words of MariaDB)."""
    with _db.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == row_id).values(**values))


def _insert(table, **values):
    """Insert a row as a DBA would: no application, no audit entry. Returns its id."""
    with _db.engine.begin() as conn:
        return conn.execute(table.insert().values(**values)).inserted_primary_key[0]


# ---------------------------------------------------------------- pledges


def test_a_pledges_total_edited_is_named(world, cli):
    b = world["pledges"]["B"]
    sql("UPDATE pledge SET total_fen = total_fen + 100000 WHERE id = :id", id=b.id)
    assert_named(world, cli, named(world, "被改动 / was edited")(b))


def test_a_pledges_lines_edited_with_the_same_total_are_named(world, cli):
    """Money moved from one item to another inside a pledge, its total unchanged."""
    b = world["pledges"]["B"]
    lines = [dict(line) for line in b.lines]
    lines[0]["amount_fen"] -= 1000
    lines[1]["amount_fen"] += 1000
    _update(Pledge.__table__, b.id, lines=lines)
    assert_named(world, cli, named(world, "被改动 / was edited")(b))


def test_a_pledge_edited_with_its_content_hash_recomputed_is_named(world, cli):
    """The forger recomputes the row's content_hash: the entry holds the hash it was written with."""
    b = world["pledges"]["B"]
    content = pledge_service.content(b)
    content["total"] += 100000
    sql("UPDATE pledge SET total_fen = :t, content_hash = :h WHERE id = :id",
        t=content["total"], h=audit.sha256(audit.canonical(content)), id=b.id)
    assert_named(world, cli, named(world, "被改动 / was edited")(b))


def test_a_pledge_inserted_without_the_application_is_named(world, cli):
    """A pledge for flat 4 written in SQL (a valid content hash, a fresh receipt) and made to count."""
    c = world["pledges"]["C"]
    flat4 = world["flats"][4]
    row = {"plan_id": world["plan_id"], "flat_id": flat4, "channel": "online", "status": "current",
           "lines": c.lines, "total_fen": c.total_fen, "user_id": c.user_id, "entered_by_id": None,
           "signature_id": c.signature_id, "signature_sha256": c.signature_sha256, "receipt": "FORGED000001",
           "idempotency_key": None, "created_at": utcnow().replace(microsecond=0),
           "person_key": _db.session.scalar(_db.select(PlanFlat.person_key).filter_by(
               plan_id=world["plan_id"], flat_id=flat4))}
    row["content_hash"] = pledge_service.content_hash(Pledge(**row))
    forged = _insert(Pledge.__table__, **row)
    sql("UPDATE plan_flat SET pledge_id = :p WHERE plan_id = :plan AND flat_id = :f",
        p=forged, plan=world["plan_id"], f=flat4)
    _db.session.expire_all()
    assert_named(world, cli, named(world, "未经系统记录（被插入） / was inserted behind the application's back")(
        _row(_db.session.get(Pledge, forged))))


@pytest.mark.parametrize("which", ["A", "C"], ids=["superseded", "current"])
def test_a_pledge_deleted_is_named(world, cli, which):
    pledge_id = world["pledges"][which].id
    sql("UPDATE plan_flat SET pledge_id = NULL WHERE pledge_id = :id", id=pledge_id)
    sql("DELETE FROM pledge_line WHERE pledge_id = :id", id=pledge_id)
    sql("DELETE FROM pledge WHERE id = :id", id=pledge_id)
    assert_named(world, cli, f"出资承诺 {pledge_id} 被删除 / pledge {pledge_id} was deleted")


def test_a_superseded_pledge_set_back_to_current_is_named(world, cli):
    a = world["pledges"]["A"]
    sql("UPDATE pledge SET status = 'current' WHERE id = :id", id=a.id)
    assert_named(world, cli, named(world, "状态被改动（记录为 superseded，现为 current） / status was edited")(a))


def test_a_paper_pledge_confirmed_behind_the_applications_back_is_named(world, cli):
    """The unconfirmed paper pledge E set to current and counted for its flat, with no second person."""
    e = world["pledges"]["E"]
    sql("UPDATE pledge SET status = 'current' WHERE id = :id", id=e.id)
    sql("UPDATE plan_flat SET pledge_id = :id WHERE plan_id = :plan AND flat_id = :f",
        id=e.id, plan=world["plan_id"], f=e.flat_id)
    assert_named(world, cli, named(world, "状态被改动（记录为 unconfirmed，现为 current） / status was edited")(e))


@pytest.mark.parametrize("flat_index, pledge", [(0, "A"), (1, "B"), (4, "C"), (1, None)],
                         ids=["to-its-superseded-one", "to-another-flats", "on-a-flat-that-never-pledged", "cleared"])
def test_the_pledge_a_flat_counts_pointed_elsewhere_is_named(world, cli, flat_index, pledge):
    flat = world["flats"][flat_index]
    target = world["pledges"][pledge].id if pledge else None
    sql("UPDATE plan_flat SET pledge_id = :p WHERE plan_id = :plan AND flat_id = :f",
        p=target, plan=world["plan_id"], f=flat)
    assert_named(world, cli, f"房屋 id {flat} 计入的出资承诺被改动 / the pledge counted for flat {flat} was changed")


@pytest.mark.parametrize("edit", [
    "UPDATE pledge_line SET amount_fen = amount_fen + 50000 WHERE pledge_id = :id AND item = 'roof'",
    "UPDATE pledge_line SET method = 'labour' WHERE pledge_id = :id AND item = 'roof'",
    "DELETE FROM pledge_line WHERE pledge_id = :id AND item = 'paint'",
    "INSERT INTO pledge_line (pledge_id, item, method, amount_fen) VALUES (:id, 'roof', 'direct', 1)",
], ids=["amount", "method", "deleted", "added"])
def test_a_pledges_tally_lines_edited_are_named(world, cli, client, edit):
    """The rows the tally sums changed behind the pledge's back: the tally moves, verify names the pledge."""
    b = world["pledges"]["B"]
    url = f"/api/v1/plans/{world['plan_id']}/tally"
    before = client.get(url, headers=world["committee"]).get_json()["data"]
    sql(edit, id=b.id)
    after = client.get(url, headers=world["committee"]).get_json()["data"]
    assert (after["items"], after["methods"]) != (before["items"], before["methods"])
    assert_named(world, cli, named(world, "的统计明细与承诺内容不符（明细行被改动） / its tally lines differ from the pledge")(b))


def test_a_flats_liable_flag_edited_is_named(world, cli, client):
    """Flat 5 (never pledged) taken out of the flats owing a required item: the share needed drops."""
    flat = world["flats"][5]
    url = f"/api/v1/plans/{world['plan_id']}/tally"
    assert client.get(url, headers=world["committee"]).get_json()["data"]["flats"]["liable"] == 6
    sql("UPDATE plan_flat SET liable = :no WHERE plan_id = :plan AND flat_id = :f",
        no=False, plan=world["plan_id"], f=flat)
    assert client.get(url, headers=world["committee"]).get_json()["data"]["flats"]["liable"] == 5
    assert_named(world, cli, f"房屋 id {flat} 是否应分摊必选项目的标记被改动（与冻结的应缴金额不符） / "
                             f"flat {flat}'s liable flag does not match its frozen amounts")


def test_who_confirmed_a_paper_pledge_edited_is_named(world, cli):
    """The second person of the two-person rule rewritten: here, to the worker who entered it."""
    d = world["pledges"]["D"]
    sql("UPDATE pledge SET confirmed_by_id = entered_by_id WHERE id = :id", id=d.id)
    problems = findings()
    assert len(problems) == 1 and problems[0].startswith(f"[{world['chain']}] 出资承诺 id {d.id}"), problems


def _other_png():
    out = io.BytesIO()
    Image.new("RGB", (240, 90), (255, 0, 0)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("how", ["data-replaced", "pointed-at-another-blob"])
def test_a_pledges_signature_image_swapped_is_named(world, cli, how):
    b = world["pledges"]["B"]
    forged = _other_png()
    if how == "data-replaced":
        _update(Blob.__table__, b.signature_id, data=forged)
    else:
        blob = _insert(Blob.__table__, sha256=audit.sha256("x"), mimetype="image/png", data=forged)
        sql("UPDATE pledge SET signature_id = :s WHERE id = :id", s=blob, id=b.id)
    problems = findings()
    assert len(problems) == 1 and problems[0].startswith(f"[{world['chain']}]"), problems


# ---------------------------------------------------------------- the frozen flats and amounts

DIGEST = "各户应缴金额或冻结的房屋被改动（摘要不符） / the frozen amounts were changed (digest mismatch)"


def test_an_amount_moved_from_one_flat_to_another_is_named(world, cli):
    """1,000 fen of the roof taken from flat 5 and given to flat 4: the item's sum unchanged."""
    plan, (f4, f5) = world["plan_id"], world["flats"][4:]
    sql("UPDATE plan_due SET amount_fen = amount_fen + 1000 WHERE plan_id = :p AND flat_id = :f AND item = 'roof'",
        p=plan, f=f4)
    sql("UPDATE plan_due SET amount_fen = amount_fen - 1000 WHERE plan_id = :p AND flat_id = :f AND item = 'roof'",
        p=plan, f=f5)
    sql("UPDATE plan_flat SET due_fen = due_fen + 1000 WHERE plan_id = :p AND flat_id = :f", p=plan, f=f4)
    sql("UPDATE plan_flat SET due_fen = due_fen - 1000 WHERE plan_id = :p AND flat_id = :f", p=plan, f=f5)
    _db.session.expire_all()
    dues = _db.session.scalars(_db.select(PlanDue.amount_fen).filter_by(plan_id=plan, item="roof")).all()
    assert sum(dues) == 500_001  # the residents' share still adds up: only the digest tells
    assert_named(world, cli, DIGEST)


@pytest.mark.parametrize("tamper", [
    "UPDATE plan_flat SET area = area + 10 WHERE plan_id = :p AND flat_id = :f",
    "UPDATE plan_flat SET floor = 9 WHERE plan_id = :p AND flat_id = :f",
    "UPDATE plan_flat SET due_fen = 0 WHERE plan_id = :p AND flat_id = :f",
    "UPDATE plan_flat SET person_key = 'owner:999999' WHERE plan_id = :p AND flat_id = :f",
    "UPDATE plan_due SET weight = 1 WHERE plan_id = :p AND flat_id = :f AND item = 'roof'",
    "DELETE FROM plan_due WHERE plan_id = :p AND flat_id = :f AND item = 'paint'",
], ids=["area", "floor", "due", "person", "weight", "a-due-deleted"])
def test_a_frozen_flat_or_amount_edited_is_named(world, cli, tamper):
    sql(tamper, p=world["plan_id"], f=world["flats"][5])
    assert_named(world, cli, DIGEST)


def test_a_flat_removed_from_the_plan_is_named(world, cli):
    plan, flat = world["plan_id"], world["flats"][5]
    sql("DELETE FROM plan_due WHERE plan_id = :p AND flat_id = :f", p=plan, f=flat)
    sql("DELETE FROM plan_flat WHERE plan_id = :p AND flat_id = :f", p=plan, f=flat)
    assert_named(world, cli, DIGEST)


# ---------------------------------------------------------------- the plan's row


def _items_edited(edit):
    def tamper(world):
        plan = _db.session.get(ContributionPlan, world["plan_id"])
        items = json.loads(json.dumps(plan.items))
        edit(items)
        sql("UPDATE contribution_plan SET items = :v WHERE id = :id", v=_json(items), id=plan.id)
    return tamper


def _column(column, value):
    def tamper(world):
        sql(f"UPDATE contribution_plan SET {column} = :v WHERE id = :id", v=value, id=world["plan_id"])
    return tamper


ITEMS = "出资项目、造价、补贴或分摊标准在开始后被改动 / the items were edited after opening"


def _term(key):
    return f"方案的 {key} 在开始后被改动（与冻结时不符） / the plan's {key} was edited after opening"


PLAN_EDITS = {
    "cost": (_items_edited(lambda items: items[0].update(cost_fen=900_001)), ITEMS),
    "subsidy": (_items_edited(lambda items: items[0]["subsidies"][0].update(amount_fen=0)), ITEMS),
    "standard": (_items_edited(lambda items: items[0].update(standard={"type": "fixed"})), ITEMS),
    "required": (_items_edited(lambda items: items[0].update(required=False)), ITEMS),
    "allow_less": (_items_edited(lambda items: items[0].update(allow_less=True)), ITEMS),
    "item-added": (_items_edited(lambda items: items.append({**items[1], "key": "extra", "name": "外墙"})), ITEMS),
    "methods": (_column("methods", _json(["direct", "labour", "goods"])), _term("methods")),
    "labour_rate": (_column("labour_rate_fen", 30000), _term("labour_rate_fen")),
    "deadline": (_column("closes_at", "2099-01-01 00:00:00"), _term("closes_at")),
    "funding_rule": (_column("funding_rule", _json({"required_items": False, "min_flat_share": "1/6",
                                                    "required_flat_ids": []})), _term("funding_rule")),
    "title": (_column("title", "另一个方案"), _term("title")),
    "body": (_column("body", "按户均摊。"), _term("body_sha256")),
    "scope": (_column("scope_type", "building"), _term("scope")),
    "digest": (_column("digest", "e" * 64), "方案摘要被改动 / the plan digest was edited"),
    "status-funded": (_column("status", "funded"),
                      "出资方案状态被改动（审计链记为 open，现为 funded） / the status was edited (the chain says open)"),
    "status-not-funded": (_column("status", "not_funded"), "出资方案状态被改动（审计链记为 open，现为 not_funded） "
                                                           "/ the status was edited (the chain says open)"),
    "status-draft": (_column("status", "draft"),
                     "出资方案状态被改动（审计链记为 open，现为 draft） / the status was edited (the chain says open)"),
}


@pytest.mark.parametrize("edit", PLAN_EDITS.values(), ids=PLAN_EDITS.keys())
def test_the_plans_row_edited_after_opening_is_named(world, cli, edit):
    tamper, finding = edit
    tamper(world)
    assert_named(world, cli, finding)


def test_the_plan_moved_to_another_compound_is_named(world, cli):
    other = factories.compound()
    _db.session.commit()
    sql("UPDATE contribution_plan SET compound_id = :c WHERE id = :id", c=other.id, id=world["plan_id"])
    problems = findings()
    assert len(problems) == 1 and problems[0].startswith(f"[{world['chain']}]"), problems


def test_an_opened_plan_whose_chain_was_erased_is_named(world, cli):
    chain = world["chain"]
    sql("DELETE FROM audit_entry WHERE chain = :c", c=chain)
    sql("DELETE FROM audit_chain WHERE name = :c", c=chain)
    assert_named(world, cli, "状态为 open 但没有审计链（未经系统开始） / opened without an audit chain")


def test_a_plan_set_back_to_draft_with_its_chain_erased_is_named(world, cli):
    chain = world["chain"]
    sql("DELETE FROM audit_entry WHERE chain = :c", c=chain)
    sql("DELETE FROM audit_chain WHERE name = :c", c=chain)
    sql("UPDATE contribution_plan SET status = 'draft' WHERE id = :id", id=world["plan_id"])
    assert_named(world, cli, "草稿出资方案却有冻结的各户金额（审计链与状态被抹去） "
                             "/ a draft plan holds frozen amounts: its chain and status were erased")


def _delete_plan(plan_id):
    for statement in ("DELETE FROM plan_payment WHERE plan_id = :p", "DELETE FROM plan_result WHERE plan_id = :p",
                      "UPDATE plan_flat SET pledge_id = NULL WHERE plan_id = :p", "DELETE FROM plan_due WHERE plan_id = :p",
                      "DELETE FROM plan_flat WHERE plan_id = :p",
                      "DELETE FROM pledge_line WHERE pledge_id IN (SELECT id FROM pledge WHERE plan_id = :p)",
                      "DELETE FROM pledge WHERE plan_id = :p",
                      "DELETE FROM contribution_plan WHERE id = :p"):
        sql(statement, p=plan_id)


def test_the_plans_row_deleted_with_its_chain_left_is_named(world, cli):
    _delete_plan(world["plan_id"])
    assert _db.session.scalar(_db.select(AuditChain.name).filter_by(name=world["chain"])) == world["chain"]
    assert_named(world, cli, "出资方案记录被删除，审计链仍在 / the plan's row was deleted")


def test_a_closed_plans_row_deleted_with_its_chain_left_is_named(closed, cli):
    _delete_plan(closed["plan_id"])
    assert_named(closed, cli, "出资方案记录被删除，审计链仍在 / the plan's row was deleted")


# ---------------------------------------------------------------- payments and refunds


def _payment_edited(world, index):
    _db.session.expire_all()
    payment = _db.session.get(PlanPayment, world["payments"][index])
    return f"缴款/退款记录 id {payment.id}（{payment.amount_fen} 分）被改动 / payment {payment.id} was edited"


PAYMENT_EDITS = {
    "amount": (0, "UPDATE plan_payment SET amount_fen = 100 WHERE id = :id"),
    "allocation": (0, "UPDATE plan_payment SET allocation = '{\"paint\": 10000}' WHERE id = :id"),
    "method": (1, "UPDATE plan_payment SET method = 'labour' WHERE id = :id"),
    "paid_on": (1, "UPDATE plan_payment SET paid_on = '2025-01-01' WHERE id = :id"),
    "refund-made-a-payment": (2, "UPDATE plan_payment SET kind = 'payment' WHERE id = :id"),
    "payment-made-a-refund": (0, "UPDATE plan_payment SET kind = 'refund' WHERE id = :id"),
    "recorded-by-the-grid-worker": (1, "UPDATE plan_payment SET recorded_by_id = :worker WHERE id = :id"),
}


@pytest.mark.parametrize("edit", PAYMENT_EDITS.values(), ids=PAYMENT_EDITS.keys())
def test_a_payment_or_refund_edited_is_named(world, cli, edit):
    index, statement = edit
    sql(statement, id=world["payments"][index], **({"worker": world["pledges"]["D"].entered_by_id}
                                                    if ":worker" in statement else {}))
    assert_named(world, cli, _payment_edited(world, index))


def test_a_payment_moved_to_another_pledge_is_named(world, cli):
    sql("UPDATE plan_payment SET pledge_id = :p WHERE id = :id",
        p=world["pledges"]["A"].id, id=world["payments"][0])
    assert_named(world, cli, _payment_edited(world, 0))


def test_a_payment_inserted_without_the_application_is_named(world, cli):
    _db.session.expire_all()
    model = _db.session.get(PlanPayment, world["payments"][0])
    row = {c.name: getattr(model, c.name) for c in PlanPayment.__table__.c if c.name != "id"}
    row.update(amount_fen=1, allocation={"roof": 1}, idempotency_key=None, reference="伪造")
    row["content_hash"] = pledge_service.content_hash(PlanPayment(**row), pledge_service.payment_content)
    forged = _insert(PlanPayment.__table__, **row)
    assert_named(world, cli, f"缴款/退款记录 id {forged} 未经系统记录（被插入） / payment {forged} was inserted")


@pytest.mark.parametrize("index", [0, 2], ids=["payment", "refund"])
def test_a_payment_or_refund_deleted_is_named(world, cli, index):
    payment_id = world["payments"][index]
    sql("DELETE FROM plan_payment WHERE id = :id", id=payment_id)
    assert_named(world, cli, f"缴款/退款记录 {payment_id} 被删除 / payment {payment_id} was deleted")


def test_a_payments_evidence_photo_swapped_is_named(world, client, cli):
    b = world["pledges"]["B"]
    photo = base64.b64encode(_other_png()).decode()
    _post(client, f"/api/v1/pledges/{b.id}/payments", world["cashier"], {
        "amount_fen": 100, "method": "direct", "paid_on": "2026-01-08", "photo": photo})
    payment = _db.session.scalar(_db.select(PlanPayment).where(PlanPayment.photo_id.is_not(None)))
    assert findings() == []
    _update(Blob.__table__, payment.photo_id, data=base64.b64decode(SIG))
    problems = findings()
    assert len(problems) == 1 and problems[0].startswith(f"[{world['chain']}]"), problems


# ---------------------------------------------------------------- the stored outcome


def test_the_outcomes_funded_flag_flipped_is_named(closed, cli):
    rid = closed["result"].id
    assert closed["result"].funded is False  # 3 of 6 flats pledged the roof: its share is not met
    sql("UPDATE plan_result SET funded = :t WHERE id = :id", t=True, id=rid)
    sql("UPDATE contribution_plan SET status = 'funded' WHERE id = :id", id=closed["plan_id"])
    assert_named(closed, cli, f"出资方案的结果（id {rid}）被改动 / the stored outcome (id {rid}) was edited")


@pytest.mark.parametrize("path", [("totals", "pledged_fen"), ("funded",), ("flats", "pledging")])
def test_the_outcomes_tally_edited_is_named(closed, cli, path):
    rid = closed["result"].id
    tally = json.loads(json.dumps(closed["result"].tally))
    node = tally
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = True if path[-1] == "funded" else node[path[-1]] + 999
    sql("UPDATE plan_result SET tally = :t WHERE id = :id", t=_json(tally), id=rid)
    assert_named(closed, cli, f"出资方案的结果（id {rid}）被改动 / the stored outcome (id {rid}) was edited")


def test_the_outcomes_digest_edited_is_named(closed, cli):
    rid = closed["result"].id
    sql("UPDATE plan_result SET digest = :d WHERE id = :id", d="f" * 64, id=rid)
    assert_named(closed, cli, f"出资方案的结果（id {rid}）被改动 / the stored outcome (id {rid}) was edited")


def test_the_outcome_deleted_is_named(closed, cli):
    sql("DELETE FROM plan_result WHERE id = :id", id=closed["result"].id)
    assert_named(closed, cli, "出资方案的结果被删除 / the stored outcome was deleted")


@pytest.mark.parametrize("status", ["open", "funded", "not_funded"])
def test_an_outcome_inserted_on_an_open_plan_is_named(world, cli, status):
    """A 'funded' outcome written in SQL while the plan is open, with or without the status to match."""
    plan = _db.session.get(ContributionPlan, world["plan_id"])
    tally = {"funded": True, "totals": {"pledged_fen": 10**9}}
    rid = _insert(PlanResult.__table__, plan_id=plan.id, funded=True, tally=tally, digest=plan.digest,
                  content_hash=audit.sha256(audit.canonical(tally)), created_at=utcnow())
    sql("UPDATE contribution_plan SET status = :s WHERE id = :id", s=status, id=plan.id)
    assert_named(world, cli, f"出资方案的结果（id {rid}）未经系统记录（被插入） "
                             "/ an outcome was inserted behind the application's back")


def test_a_closed_plan_set_back_to_open_is_named(closed, cli):
    sql("UPDATE contribution_plan SET status = 'open', closed_at = NULL WHERE id = :id", id=closed["plan_id"])
    assert_named(closed, cli, "出资方案状态被改动（审计链记为 not_funded，现为 open） "
                              "/ the status was edited (the chain says not_funded)")


def test_a_pledge_slipped_in_after_the_close_is_named(closed, cli):
    """After closing, flat 4's pledge inserted and counted, as if signed in time."""
    c = closed["pledges"]["C"]
    flat4 = closed["flats"][4]
    row = {c_.name: getattr(c, c_.name) for c_ in Pledge.__table__.c if c_.name != "id"}
    row.update(flat_id=flat4, receipt="LATE00000001", idempotency_key=None, status="current",
               created_at=closed["result"].created_at.replace(microsecond=0) - timedelta(hours=1))
    row["content_hash"] = pledge_service.content_hash(Pledge(**row))
    forged = _insert(Pledge.__table__, **row)
    sql("UPDATE plan_flat SET pledge_id = :p WHERE plan_id = :plan AND flat_id = :f",
        p=forged, plan=closed["plan_id"], f=flat4)
    _db.session.expire_all()
    assert_named(closed, cli, named(closed, "未经系统记录（被插入） / was inserted behind the application's back")(
        _row(_db.session.get(Pledge, forged))))


# ---------------------------------------------------------------- the chain itself


def test_a_payment_erased_with_its_entry_is_named_by_the_chain(world, cli):
    """The last payment and the entry that recorded it deleted, the head left: the chain is short."""
    refund = world["payments"][2]
    sql("DELETE FROM plan_payment WHERE id = :id", id=refund)
    sql("DELETE FROM audit_entry WHERE chain = :c AND subject_type = 'plan_payment' AND subject_id = :id",
        c=world["chain"], id=refund)
    seq = _db.session.scalar(_db.select(AuditChain.seq).filter_by(name=world["chain"]))
    assert_named(world, cli, f"链尾记录缺失：应有 {seq} 条，实有 {seq - 1} 条 / entries at the end are missing")


def test_a_payment_erased_with_its_entry_and_the_head_rewound_passes_verify_but_not_the_published_head(world):
    """The limit of a chain kept in the database alone: the last entry deleted and the head row set
    back to the entry before it verifies clean, as a consultation's rollback before a seal does. Only
    a head published before (`flask audit head`) tells, so the heads must be published."""
    published = dict((name, (seq, head)) for name, seq, head in audit.heads())
    refund = world["payments"][2]
    last = _db.session.scalar(_db.select(AuditEntry).where(AuditEntry.chain == world["chain"])
                              .order_by(AuditEntry.seq.desc()).limit(1))
    assert last.subject_id == refund and last.kind == "refund"
    before = _db.session.scalar(_db.select(AuditEntry).filter_by(chain=world["chain"], seq=last.seq - 1))
    sql("DELETE FROM plan_payment WHERE id = :id", id=refund)
    sql("DELETE FROM audit_entry WHERE id = :id", id=last.id)
    sql("UPDATE audit_chain SET seq = :s, head = :h WHERE name = :c", s=before.seq, h=before.hash, c=world["chain"])
    assert findings() == []
    _db.session.expire_all()
    now = dict((name, (seq, head)) for name, seq, head in audit.heads())
    assert now[world["chain"]] != published[world["chain"]]


# ---------------------------------------------------------------- the freeze entry edited


def _rows():
    _db.session.expire_all()
    return {m.__name__: _db.session.scalar(_db.select(_db.func.count()).select_from(m))
            for m in (Pledge, PlanPayment, PlanResult, AuditEntry, Blob, PlanFlat)}


def _freeze_edit(world):
    entry = service.freeze_entry(world["plan_id"])
    payload = json.loads(entry.payload)
    payload["items"][0]["share_fen"] = 1  # the roof's residents' share made 1 fen: funded by anyone
    sql("UPDATE audit_entry SET payload = :p WHERE id = :id", p=audit.canonical(payload), id=entry.id)
    return entry


def _freeze_delete(world):
    entry = service.freeze_entry(world["plan_id"])
    sql("DELETE FROM audit_entry WHERE id = :id", id=entry.id)
    return entry


def _freeze_rehashed(world):
    """Rewritten and re-hashed with a guessed key, the chain's later links and head recomputed too."""
    import hashlib
    import hmac

    entries = _db.session.scalars(_db.select(AuditEntry).where(AuditEntry.chain == world["chain"])
                                  .order_by(AuditEntry.seq)).all()
    prev = "0" * 64
    with _db.engine.begin() as conn:
        for e in entries:
            payload = e.payload
            if e.seq == 1:
                data = json.loads(payload)
                data["funding_rule"] = {"required_items": False, "min_flat_share": "1/6", "required_flat_ids": []}
                payload = audit.canonical(data)
            digest = hmac.new(b"guessed-key", "|".join([e.chain, str(e.seq), e.kind, e.subject_type,
                                                         str(e.subject_id), payload, prev]).encode(),
                              hashlib.sha256).hexdigest()
            conn.execute(text("UPDATE audit_entry SET payload = :p, prev_hash = :prev, hash = :h WHERE id = :id"),
                         {"p": payload, "prev": prev, "h": digest, "id": e.id})
            prev = digest
        conn.execute(text("UPDATE audit_chain SET head = :h WHERE name = :n"), {"h": prev, "n": world["chain"]})
    return entries[0]


@pytest.mark.parametrize("tamper, finding", [
    (_freeze_edit, "第 1 条记录（id {id}，plan_frozen）被改动 / entry 1 (id {id}, plan_frozen) was edited"),
    (_freeze_delete, "第 1 条记录缺失（被删除） / entry 1 is missing (deleted)"),
    (_freeze_rehashed, "第 1 条记录（id {id}，plan_frozen）被改动 / entry 1 (id {id}, plan_frozen) was edited"),
], ids=["edited", "deleted", "rehashed-with-a-guessed-key"])
def test_with_the_freeze_entry_broken_nothing_is_pledged_paid_counted_or_closed(world, client, cli, app, tamper,
                                                                                finding):
    entry = tamper(world)
    assert_named(world, cli, finding.format(id=entry.id))
    plan_id, flats = world["plan_id"], world["flats"]
    before = _rows()
    owner2, owner4, _ = world["owners"]
    attempts = {
        "pledge": client.post(f"/api/v1/plans/{plan_id}/pledges", headers=owner4, json={
            "flat_id": flats[4], "lines": [{"item": "roof", "method": "direct"}], "signature": SIG}),
        "pledge-changed": client.post(f"/api/v1/plans/{plan_id}/pledges", headers=owner2, json={
            "flat_id": flats[2], "lines": [{"item": "roof", "method": "direct"}], "signature": SIG}),
        "paper": client.post(f"/api/v1/plans/{plan_id}/paper-pledges", headers=world["worker"], json={
            "flat_id": flats[5], "lines": [{"item": "roof", "method": "direct"}], "photo": SIG}),
        "confirm": client.post(f"/api/v1/paper-pledges/{world['pledges']['E'].id}/confirm", headers=world["committee"]),
        "payment": client.post(f"/api/v1/pledges/{world['pledges']['C'].id}/payments", headers=world["cashier"],
                               json={"amount_fen": 100, "method": "direct", "paid_on": "2026-01-08"}),
        "refund": client.post(f"/api/v1/pledges/{world['pledges']['B'].id}/refunds", headers=world["cashier"],
                              json={"amount_fen": 100, "method": "direct", "paid_on": "2026-01-08"}),
        "tally": client.get(f"/api/v1/plans/{plan_id}/tally", headers=world["committee"]),
        "close": client.post(f"/api/v1/plans/{plan_id}/close", headers=world["committee"]),
    }
    for what, resp in attempts.items():
        assert resp.status_code == 409, (what, resp.get_data(as_text=True)[:300])
        assert resp.json["error"]["code"] == "freeze_broken", (what, resp.json)
        assert resp.json["error"]["message"] == service.FREEZE_BROKEN, what
    # The scheduler, past the frozen (or live) deadline, closes nothing either.
    with app.app_context():
        assert service.close_due(now=utcnow() + timedelta(days=30)) == []
    _db.session.remove()
    assert _rows() == before
    assert _db.session.get(ContributionPlan, plan_id).status == "open"
