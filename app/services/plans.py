"""Contribution plans (资金共筹): draft → open (terms and every flat's amounts frozen) → closed at the
deadline, funded or not funded (the outcome stored once, never recounted).

Amounts are integer fen. Each item's residents' share (cost − subsidies) is divided over the flats of
the scope by the item's standard, as weights: 1 per flat (fixed), the exclusive area (area), area ×
the floor's coefficient (floor_coefficient; a coefficient of 0 exempts the floor), or a coefficient
per flat (flat_coefficient). The rounding rule is the largest remainder: each flat gets the whole fen
of its exact quota share × weight ÷ total weight; the fen left over go one each to the flats with the
largest remainders, ties to the lower flat id. The amounts of an item add up to its share exactly.

Opening writes the terms and a digest over every flat's amounts into the plan's keyed audit chain;
from then on pledges, the tally and closing read the terms from that entry, never from the live row."""
import json
import math
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import AuditEntry, Building, ContributionPlan, Flat, PlanDue, PlanFlat, PlanResult, Unit
from app.models.contributions import METHODS, STANDARDS
from app.models.places import utcnow
from app.services import audit, consultations, scopes
from app.services.consultations import (CREATORS, WATCHERS, _begin_immediate_on_sqlite, co_owners_of, covers_scope, person_key,
                                        scope_building)

PLAN_WATCHERS = WATCHERS + ("treasurer",)
CASHIERS = ("community_staff", "treasurer", "admin")
FEN_MAX = 2**31 - 1
NOT_FOUND = "没有找到该出资方案"
FREEZE_BROKEN = "该出资方案的冻结记录缺失或被改动，已停止认筹和统计；请联系管理员运行 flask audit verify 核查"


def chain_name(plan):
    return f"plan:{getattr(plan, 'id', plan)}"


# ---------------------------------------------------------------- amounts


def item_share(item):
    """The residents' share of an item: its cost less its subsidies, in fen."""
    return item["cost_fen"] - sum(s["amount_fen"] for s in item.get("subsidies", []))


def coefficient(standard, flat_id, floor):
    """The flat's coefficient under a standard (a Fraction), or None where the standard has none."""
    kind = standard["type"]
    if kind == "floor_coefficient":
        value = standard["coefficients"].get(str(floor))
        return None if value is None else Fraction(Decimal(value))
    if kind == "flat_coefficient":
        value = standard.get("coefficients", {}).get(str(flat_id), standard.get("default", "1"))
        return Fraction(Decimal(value))
    return None


def weight(standard, flat_id, floor, area):
    """A flat's weight under a standard, exactly (area has two decimals, coefficients four)."""
    kind = standard["type"]
    if kind == "fixed":
        return Fraction(1)
    if kind == "area":
        return Fraction(Decimal(area))
    coef = coefficient(standard, flat_id, floor)
    if kind == "floor_coefficient":
        return Fraction(Decimal(area)) * coef
    return coef


def allocate(share_fen, weights):
    """Divide share_fen over {flat_id: weight} by the largest remainder (ties to the lower flat id).
    The amounts add up to share_fen exactly; a flat of weight 0 owes 0."""
    weights = {flat_id: Fraction(w) for flat_id, w in weights.items()}
    # The weights over one common denominator: the same division in integers, no Fraction per flat.
    denominator = math.lcm(*{w.denominator for w in weights.values()}) if weights else 1
    ints = {flat_id: w.numerator * (denominator // w.denominator) for flat_id, w in weights.items()}
    total = sum(ints.values())
    if share_fen == 0:
        return {flat_id: 0 for flat_id in weights}
    if total <= 0:
        raise ValueError("no weight to share over")
    amounts, remainders = {}, []
    for flat_id, w in ints.items():
        whole, rest = divmod(share_fen * w, total)
        amounts[flat_id] = whole
        remainders.append((-rest, flat_id))
    left = share_fen - sum(amounts.values())
    for _, flat_id in sorted(remainders)[:left]:
        amounts[flat_id] += 1
    return amounts


def decimal_text(value, places=6):
    """A Decimal or Fraction as exact text without trailing zeros ("102.276", "1")."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    text = f"{Decimal(value):.{places}f}".rstrip("0").rstrip(".")
    return text or "0"


def yuan(fen):
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


# ---------------------------------------------------------------- validation of a draft


def _invalid(field, message):
    raise ApiError(422, "validation_error", message, {field: [message]})


def check_items(items, methods, labour_rate_fen):
    """Items, standards and methods that can be frozen; keys given to items without one."""
    if not items:
        _invalid("items", "至少需要一个出资项目")
    keys = set()
    for index, item in enumerate(items, 1):
        if not item.get("key"):  # PlanIn loads an absent key as None
            item["key"] = f"item{index}"
        if item["key"] in keys:
            _invalid("items", f"项目编号 {item['key']} 重复")
        keys.add(item["key"])
        if item_share(item) < 0:
            _invalid("items", f"「{item['name']}」的补贴合计超过了造价")
        standard = item["standard"]
        if standard["type"] not in STANDARDS:
            _invalid("items", f"「{item['name']}」的分摊标准无效")
        coefs = standard.get("coefficients") or {}
        for key, value in coefs.items():
            try:
                number = Decimal(value)
            except Exception:
                number = None
            if number is None or not number.is_finite() or number < 0 or number > 100 or number.as_tuple().exponent < -4:
                _invalid("items", f"「{item['name']}」的系数 {key}: {value} 无效（0 到 100，最多 4 位小数）")
        if standard["type"] == "floor_coefficient" and not coefs:
            _invalid("items", f"「{item['name']}」按楼层系数分摊，须给出各楼层的系数")
    if not any(i["required"] for i in items):
        _invalid("items", "至少需要一个必选项目")
    if not methods or len(set(methods)) != len(methods) or not set(methods) <= set(METHODS):
        _invalid("methods", "出资方式应为 " + "、".join(METHODS) + " 中的一种或几种，不重复")
    if "labour" in methods and not labour_rate_fen:
        _invalid("labour_rate_fen", "允许投工投劳时，须写明每小时折算金额（分）")
    return items


def create(user, data):
    """A draft plan for a compound, building or unit (committee and community staff of the scope)."""
    scope_type, scope_id = data["scope"]["type"], data["scope"]["id"]
    building, compound = scope_building(scope_type, scope_id)
    if compound is None:
        raise ApiError(404, "not_found", "没有找到出资方案的范围")
    if not covers_scope(user, scope_type, scope_id, CREATORS):
        raise ApiError(403, "forbidden", "您无权在该范围发起出资方案")
    if data["closes_at"] <= utcnow():
        _invalid("closes_at", "截止时间应晚于现在")
    methods = data["methods"]
    items = check_items(data["items"], methods, data.get("labour_rate_fen"))
    for item in items:
        if item.get("applies_to") is None:
            item.pop("applies_to", None)
            continue
        inner_building, inner_compound = scope_building(item["applies_to"]["type"], item["applies_to"]["id"])
        if inner_compound is None or not _within(item["applies_to"], scope_type, scope_id, inner_building):
            _invalid("items", f"「{item['name']}」的分摊范围不在方案范围内")
    rule = data.get("funding_rule") or {}
    rule = {"required_items": rule.get("required_items", True), "min_flat_share": rule.get("min_flat_share"),
            "required_flat_ids": sorted(set(rule.get("required_flat_ids") or []))}
    if not (rule["required_items"] or rule["min_flat_share"] or rule["required_flat_ids"]):
        _invalid("funding_rule", "请至少设定一项达成条件（必选项目足额、认筹户数比例或指定房屋）")
    if rule["min_flat_share"] is not None:
        share = Fraction(rule["min_flat_share"])
        if not 0 < share <= 1:
            _invalid("funding_rule", "认筹户数比例应在 0 和 1 之间，例如 2/3")
    if rule["required_flat_ids"]:
        flat_ids = set(db.session.scalars(_scope_flats(scope_type, scope_id).with_only_columns(Flat.id)))
        outside = sorted(set(rule["required_flat_ids"]) - flat_ids)
        if outside:
            raise ApiError(422, "validation_error", "必须认筹的房屋不在方案范围内", {"required_flat_ids": outside})
    plan = ContributionPlan(
        compound_id=compound.id, scope_type=scope_type, scope_id=scope_id, title=data["title"],
        body=data.get("body") or "", items=items, methods=methods,
        labour_rate_fen=data.get("labour_rate_fen") if "labour" in methods else None, funding_rule=rule,
        status="draft", closes_at=data["closes_at"], created_by_id=user.id,
    )
    db.session.add(plan)
    db.session.flush()
    return plan


def _within(applies_to, scope_type, scope_id, building):
    """Does an item's building or unit lie inside the plan's scope?"""
    if scope_type == "compound":
        return building.compound_id == scope_id
    if scope_type == "building":
        return building.id == scope_id
    return applies_to["type"] == "unit" and applies_to["id"] == scope_id


# ---------------------------------------------------------------- scope and access


def _scope_flats(scope_type, scope_id):
    query = (db.select(Flat.id, Flat.floor, Flat.area, Flat.developer_held, Flat.owner_id, Flat.room,
                       Unit.id.label("unit_id"), Unit.name.label("unit_name"), Building.id.label("building_id"),
                       Building.name.label("building_name"))
             .join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id))
    column = {"compound": Building.compound_id, "building": Building.id, "unit": Unit.id}[scope_type]
    return query.where(column == scope_id).order_by(Flat.id)


def get(plan_id):
    plan = db.session.get(ContributionPlan, plan_id)
    if plan is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return plan


def visible_to_staff(user, plan, roles=PLAN_WATCHERS):
    return consultations.visible_to_staff(user, plan, roles)  # the same scope rule, the plan's watchers


def visible_building_ids(user, plan, roles=PLAN_WATCHERS):
    return consultations.visible_building_ids(user, plan, roles)


def can_manage(user, plan):
    return user is None or covers_scope(user, plan.scope_type, plan.scope_id, CREATORS)


def ensure_manager(user, plan, action):
    if can_manage(user, plan):
        return
    if visible_to_staff(user, plan):
        raise ApiError(403, "forbidden", f"您不能{action}出资方案，请由本范围的业委会或社区工作人员操作",
                       {"allowed_roles": list(CREATORS)})
    raise ApiError(404, "not_found", NOT_FOUND)


def staff_plans(user):
    compounds = scopes.join_place_tree(db.select(Building.compound_id).distinct()).where(
        scopes.buildings_condition(user, *PLAN_WATCHERS))
    candidates = db.session.scalars(db.select(ContributionPlan).where(ContributionPlan.compound_id.in_(compounds))
                                    .order_by(ContributionPlan.id.desc())).all()
    return consultations.visible_among(user, candidates, PLAN_WATCHERS)  # the same scope rule, in bulk


def plans_for_flat(flat_id):
    return db.session.scalars(
        db.select(ContributionPlan).join(PlanFlat, PlanFlat.plan_id == ContributionPlan.id)
        .where(PlanFlat.flat_id == flat_id).order_by(ContributionPlan.closes_at.desc())
    ).all()


def lock(plan_id, shared=False):
    _begin_immediate_on_sqlite()
    plan = db.session.scalar(db.select(ContributionPlan).where(ContributionPlan.id == plan_id)
                             .with_for_update(read=shared).execution_options(populate_existing=True))
    if plan is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return plan


# ---------------------------------------------------------------- the frozen terms


def freeze_entry(plan_id):
    return db.session.scalar(db.select(AuditEntry).where(AuditEntry.chain == chain_name(plan_id), AuditEntry.seq == 1))


def terms_many(plans):
    """{plan id: terms} of opened plans, read in one statement."""
    if not plans:
        return {}
    entries = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.chain.in_([chain_name(p) for p in plans]), AuditEntry.seq == 1))
    by_chain = {e.chain: e for e in entries}
    return {p.id: terms_from(by_chain.get(chain_name(p)), p.id) for p in plans}


def terms(plan):
    return terms_from(freeze_entry(plan.id), plan.id)


def terms_from(entry, plan_id):
    """What opening froze (a dict: items with share_fen and total_weight, methods, labour_rate_fen,
    funding_rule, closes_at as a naive UTC datetime, digest, ...), checked against its keyed hash."""
    if entry is None or entry.kind != "plan_frozen" or not audit.intact(entry):
        current_app.logger.error("plan freeze entry missing or edited: plan %s", plan_id)
        raise ApiError(409, "freeze_broken", FREEZE_BROKEN)
    frozen = json.loads(entry.payload)
    frozen["closes_at"] = datetime.fromisoformat(frozen["closes_at"])
    return frozen


def frozen_terms_of(plan):
    """The terms as frozen, in the shape the row keeps them (verification compares the two)."""
    return {"title": plan.title, "body_sha256": audit.sha256(plan.body or ""), "compound_id": plan.compound_id,
            "scope": [plan.scope_type, plan.scope_id], "methods": plan.methods,
            "labour_rate_fen": plan.labour_rate_fen, "funding_rule": plan.funding_rule,
            "closes_at": plan.closes_at.isoformat()}


def dues_digest(flats, dues):
    """One hash over every flat of the plan and each of its amounts."""
    by_flat = {}
    for flat_id, item, weight_value, amount in dues:
        by_flat.setdefault(flat_id, []).append([item, decimal_text(weight_value), amount])
    rows = [[f.flat_id, f.person_key, f.label, f"{Decimal(f.area):.2f}", f.floor, f.due_fen,
             sorted(by_flat.get(f.flat_id, []))] for f in flats]
    return audit.sha256(audit.canonical(sorted(rows)))


def load_digest_rows(plan_id):
    flats = db.session.execute(db.select(PlanFlat.flat_id, PlanFlat.person_key, PlanFlat.label, PlanFlat.area,
                                         PlanFlat.floor, PlanFlat.due_fen).where(PlanFlat.plan_id == plan_id)).all()
    dues = db.session.execute(db.select(PlanDue.flat_id, PlanDue.item, PlanDue.weight, PlanDue.amount_fen)
                              .where(PlanDue.plan_id == plan_id)).all()
    return flats, dues


def open_(user, plan_id):
    """Compute every flat's amounts, freeze them with the terms and a digest, and open for pledges."""
    plan = lock(plan_id)
    ensure_manager(user, plan, "开始")
    if plan.status != "draft":
        raise ApiError(409, "not_draft", "只有草稿状态的出资方案可以开始", {"status": plan.status})
    if plan.closes_at <= utcnow():
        raise ApiError(409, "deadline_passed", "截止时间已过，请重新创建方案")
    rows = db.session.execute(_scope_flats(plan.scope_type, plan.scope_id)).all()
    co_owners = co_owners_of(_scope_flats(plan.scope_type, plan.scope_id).with_only_columns(Flat.id).order_by(None))
    if not rows:
        raise ApiError(409, "empty_roll", "方案范围内没有房屋，无法开始")
    items, dues, due_total = [], [], {r.id: 0 for r in rows}
    groups = {}
    for r in rows:  # each item's flats looked up, not every flat tested against every item
        groups.setdefault(("unit", r.unit_id), []).append(r)
        groups.setdefault(("building", r.building_id), []).append(r)
    for item in plan.items:
        standard = item["standard"]
        target = item.get("applies_to")
        liable_rows = groups.get((target["type"], target["id"]), []) if target else rows
        if standard["type"] == "floor_coefficient":
            missing = sorted({r.floor for r in liable_rows if str(r.floor) not in standard["coefficients"]})
            if missing:
                raise ApiError(409, "coefficients_missing", f"「{item['name']}」缺少以下楼层的系数：" +
                               "、".join(f"{f}层" for f in missing), {"floors": missing})
        weights = {r.id: weight(standard, r.id, r.floor, r.area) for r in liable_rows}
        share = item_share(item)
        try:
            amounts = allocate(share, weights)
        except ValueError:
            raise ApiError(409, "no_weight", f"「{item['name']}」没有可分摊的房屋（权重合计为 0）")
        for r in liable_rows:
            dues.append({"plan_id": plan.id, "flat_id": r.id, "item": item["key"],
                         "weight": Decimal(weights[r.id].numerator) / Decimal(weights[r.id].denominator),
                         "amount_fen": amounts[r.id]})
            due_total[r.id] += amounts[r.id]
        total_weight = sum(weights.values(), Fraction(0))
        items.append({**item, "share_fen": share, "total_weight": decimal_text(total_weight),
                      "flats_liable": sum(1 for a in amounts.values() if a > 0)})
    required = {i["key"] for i in plan.items if i["required"]}
    liable = {d["flat_id"] for d in dues if d["item"] in required and d["amount_fen"] > 0}
    flats = [{"plan_id": plan.id, "flat_id": r.id, "person_key": person_key(r, co_owners.get(r.id, ())), "building_id": r.building_id,
              "unit_id": r.unit_id, "label": f"{r.building_name}{r.unit_name}{r.room}", "area": r.area,
              "floor": r.floor, "due_fen": due_total[r.id], "liable": r.id in liable, "pledge_id": None} for r in rows]
    execute = db.session.connection().execute
    execute(PlanFlat.__table__.insert(), flats)
    execute(PlanDue.__table__.insert(), dues)
    digest_of_dues = dues_digest([SimpleNamespace(**f) for f in flats], [(d["flat_id"], d["item"], d["weight"], d["amount_fen"]) for d in dues])
    frozen = {**frozen_terms_of(plan), "items": items, "dues_digest": digest_of_dues, "flats": len(flats),
              "persons": len({f["person_key"] for f in flats})}
    plan.digest = audit.sha256(audit.canonical(frozen))
    plan.status, plan.opened_at = "open", utcnow()
    db.session.flush()
    audit.start_chain(chain_name(plan))
    audit.append(chain_name(plan), "plan_frozen", "plan", plan.id,
                 {**frozen, "digest": plan.digest, "by": user.id if user else "scheduler"})
    current_app.logger.info("plan %s opened: %s flats, digest %s", plan.id, len(flats), plan.digest[:12])
    return plan


def is_accepting(plan, frozen, now=None):
    return plan.status == "open" and (now or utcnow()) < frozen["closes_at"]


def ensure_accepting(plan, frozen):
    if plan.status == "draft":
        raise ApiError(409, "not_open", "出资方案尚未开始认筹")
    if not is_accepting(plan, frozen):
        raise ApiError(409, "closed", "出资方案已截止，不能再承诺或修改承诺")


# ---------------------------------------------------------------- a flat's amounts, explained


def flat_amounts(frozen, pf, dues):
    """Each item's amount for one flat (its PlanFlat, and its PlanDue rows by item), with how it was
    computed, in words and figures."""
    lines = []
    for item in frozen["items"]:
        due = dues.get(item["key"])
        if due is None:
            continue  # the item is shared by another building or unit of the plan
        lines.append({"item": item["key"], "name": item["name"], "required": item["required"],
                      "amount_fen": due.amount_fen, "weight": decimal_text(due.weight),
                      "explanation": explain(item, pf, due)})
    return {"flat_id": pf.flat_id, "room": pf.label, "area": f"{pf.area:.2f}", "floor": pf.floor,
            "due_fen": pf.due_fen, "items": lines}


def explain(item, pf, due):
    standard = item["standard"]
    share, total = item["share_fen"], item["total_weight"]
    if due.amount_fen == 0 and Decimal(due.weight) == 0:
        return f"{pf.floor} 层系数为 0，免于分摊" if standard["type"] == "floor_coefficient" else "系数为 0，免于分摊"
    w = decimal_text(due.weight)
    if standard["type"] == "fixed":
        basis = "每户权重 1"
    elif standard["type"] == "area":
        basis = f"专有面积 {pf.area:.2f} m² = 权重 {w}"
    elif standard["type"] == "floor_coefficient":
        basis = (f"专有面积 {pf.area:.2f} m² × {pf.floor} 层系数 "
                 f"{decimal_text(coefficient(standard, pf.flat_id, pf.floor))} = 权重 {w}")
    else:
        basis = f"本户系数 {decimal_text(coefficient(standard, pf.flat_id, pf.floor))} = 权重 {w}"
    quota = Fraction(share) * Fraction(Decimal(due.weight)) / Fraction(Decimal(total)) / 100
    exact = 10**4 % quota.denominator == 0
    return (f"{basis}；{w} ÷ 总权重 {total} × 居民分摊 {yuan(share)} 元 {'=' if exact else '≈'} "
            f"{decimal_text(quota, 4)} 元，"
            f"按最大余数法取整到分：{yuan(due.amount_fen)} 元")


# ---------------------------------------------------------------- tally, closing


def _fraction(text):
    return Fraction(text) if text else None


def live_tally(plan, frozen):
    """Target, pledged and paid by item, method, building and unit; flats, persons and area pledging;
    each part of the funding rule and whether it is met; what is still missing. Pledges that count
    are the flats' current ones; paid is net of refunds.

    The database sums per unit (flats liable for a required item included), per person, per flat's
    payments and per item and method of the pledges that count (their PledgeLine rows); Python reads
    one row per unit, per item and method, and the payments' splits: no row per flat of the plan."""
    from app.models import Pledge, PledgeLine, PlanPayment
    from app.models.contributions import METHODS

    items = frozen["items"]
    keys = [i["key"] for i in items]
    execute = db.session.execute
    pledging = PlanFlat.pledge_id.is_not(None)
    units = execute(
        db.select(PlanFlat.building_id, PlanFlat.unit_id, db.func.count(), db.func.sum(PlanFlat.due_fen),
                  db.func.count(PlanFlat.pledge_id), db.func.sum(db.func.coalesce(Pledge.total_fen, 0)),
                  db.func.sum(PlanFlat.area), db.func.sum(db.case((pledging, PlanFlat.area), else_=0)),
                  db.func.sum(db.case((PlanFlat.liable, 1), else_=0)),
                  db.func.sum(db.case((PlanFlat.liable & pledging, 1), else_=0)))
        .outerjoin(Pledge, Pledge.id == PlanFlat.pledge_id).where(PlanFlat.plan_id == plan.id)
        .group_by(PlanFlat.building_id, PlanFlat.unit_id)).all()
    persons_total, persons_pledging = execute(
        db.select(db.func.count(db.distinct(PlanFlat.person_key)),
                  db.func.count(db.distinct(db.case((pledging, PlanFlat.person_key)))))
        .where(PlanFlat.plan_id == plan.id)).one()
    signed = db.case((PlanPayment.kind == "payment", PlanPayment.amount_fen), else_=-PlanPayment.amount_fen)
    net = (db.select(PlanPayment.flat_id, db.func.sum(signed).label("net")).where(PlanPayment.plan_id == plan.id)
           .group_by(PlanPayment.flat_id).subquery())
    paid_units, paid_in_full = {}, 0
    for b, u, n, full in execute(  # per unit: net paid, and flats that paid their pledge in full
            db.select(PlanFlat.building_id, PlanFlat.unit_id, db.func.sum(net.c.net),
                      db.func.sum(db.case(((net.c.net > 0) & (net.c.net >= Pledge.total_fen), 1), else_=0)))
            .join(net, net.c.flat_id == PlanFlat.flat_id).outerjoin(Pledge, Pledge.id == PlanFlat.pledge_id)
            .where(PlanFlat.plan_id == plan.id).group_by(PlanFlat.building_id, PlanFlat.unit_id)):
        paid_units[(b, u)] = int(n or 0)
        paid_in_full += int(full or 0)
    paid_item, paid_method, paid_gross, refunded = dict.fromkeys(keys, 0), {}, 0, 0
    for kind, allocation, method, amount in execute(
            db.select(PlanPayment.kind, PlanPayment.allocation, PlanPayment.method, PlanPayment.amount_fen)
            .where(PlanPayment.plan_id == plan.id)):
        sign = 1 if kind == "payment" else -1
        for item, fen in allocation.items():
            paid_item[item] = paid_item.get(item, 0) + sign * fen
        paid_method[method] = paid_method.get(method, 0) + sign * amount
        if kind == "payment":
            paid_gross += amount
        else:
            refunded += amount
    pledged_item, flats_item, pledged_method = dict.fromkeys(keys, 0), dict.fromkeys(keys, 0), {}
    for item, method, amount, count in execute(
            db.select(PledgeLine.item, PledgeLine.method, db.func.sum(PledgeLine.amount_fen), db.func.count())
            .join(PlanFlat, PlanFlat.pledge_id == PledgeLine.pledge_id).where(PlanFlat.plan_id == plan.id)
            .group_by(PledgeLine.item, PledgeLine.method)):
        pledged_item[item] += int(amount)
        flats_item[item] += count  # an item appears once per pledge
        pledged_method[method] = pledged_method.get(method, 0) + int(amount)
    buildings = {}
    flats = {"total": 0, "pledging": 0, "paid": int(paid_in_full or 0), "liable": 0, "liable_pledging": 0}
    area_total = area_pledging = Decimal(0)
    for building_id, unit_id, count, due, count_pledging, pledged, area, area_pledged, liable, liable_pledging in units:
        b = buildings.setdefault(building_id, {"id": building_id, "due_fen": 0, "pledged_fen": 0, "paid_fen": 0,
                                               "flats": 0, "flats_pledging": 0, "units": {}})
        u = {"id": unit_id, "due_fen": int(due or 0), "pledged_fen": int(pledged or 0),
             "paid_fen": paid_units.get((building_id, unit_id), 0), "flats": count, "flats_pledging": count_pledging}
        b["units"][unit_id] = u
        for field in ("due_fen", "pledged_fen", "paid_fen", "flats", "flats_pledging"):
            b[field] += u[field]
        flats["total"] += count
        flats["pledging"] += count_pledging
        flats["liable"] += int(liable or 0)
        flats["liable_pledging"] += int(liable_pledging or 0)
        area_total += Decimal(area or 0)
        area_pledging += Decimal(area_pledged or 0)
    item_rows = [{
        "key": i["key"], "name": i["name"], "required": i["required"], "cost_fen": i["cost_fen"],
        "subsidy_fen": i["cost_fen"] - i["share_fen"], "share_fen": i["share_fen"],
        "pledged_fen": pledged_item[i["key"]], "paid_fen": paid_item.get(i["key"], 0),
        "flats_pledging": flats_item[i["key"]], "missing_fen": max(0, i["share_fen"] - pledged_item[i["key"]]),
    } for i in items]
    method_rows = [{"method": m, "name": METHODS.get(m, m), "pledged_fen": pledged_method.get(m, 0),
                    "paid_fen": paid_method.get(m, 0)} for m in frozen["methods"]]
    parts = funding_parts(frozen["funding_rule"], item_rows, flats, plan.id)
    building_rows = _named_buildings(buildings)
    return {
        "plan": {"id": plan.id, "status": plan.status, "digest": frozen["digest"] if "digest" in frozen else plan.digest},
        "target_fen": sum(i["share_fen"] for i in items),
        "required_target_fen": sum(i["share_fen"] for i in items if i["required"]),
        "totals": {"due_fen": sum(b["due_fen"] for b in building_rows), "pledged_fen": sum(pledged_item.values()),
                   "paid_fen": paid_gross, "refunded_fen": refunded, "net_paid_fen": paid_gross - refunded},
        "items": item_rows, "methods": method_rows, "buildings": building_rows,
        "flats": {k: flats[k] for k in ("total", "liable", "pledging", "paid")},
        "persons": {"total": int(persons_total), "pledging": int(persons_pledging)},
        "area": {"total": f"{area_total:.2f}", "pledging": f"{area_pledging:.2f}"},
        "funding_rule": frozen["funding_rule"], "parts": parts, "funded": all(p["met"] for p in parts),
        "still_missing": [p["missing"] for p in parts if not p["met"]],
    }


def funding_parts(rule, item_rows, flats, plan_id):
    """Each part of the funding rule with whether it is met and, if not, what is missing (in words)."""
    parts = []
    if rule.get("required_items"):
        short = [i for i in item_rows if i["required"] and i["pledged_fen"] < i["share_fen"]]
        parts.append({"part": "required_items", "met": not short,
                      "text": "每个必选项目的承诺金额不低于居民分摊额",
                      "missing": "；".join(f"「{i['name']}」还差 {yuan(i['missing_fen'])} 元" for i in short)})
    if rule.get("min_flat_share"):
        share = Fraction(rule["min_flat_share"])
        need = -(-share.numerator * flats["liable"] // share.denominator)
        have = flats["liable_pledging"]
        parts.append({"part": "min_flat_share", "met": have >= need and flats["liable"] > 0,
                      "text": f"承诺户数不少于应分摊户数的 {rule['min_flat_share']}（{need} 户）",
                      "missing": f"还差 {max(need - have, 0)} 户承诺（已 {have} 户，需 {need} 户）"})
    if rule.get("required_flat_ids"):
        pledged_flat_ids = set(db.session.scalars(db.select(PlanFlat.flat_id).where(
            PlanFlat.plan_id == plan_id, PlanFlat.flat_id.in_(rule["required_flat_ids"]), PlanFlat.pledge_id.is_not(None))))
        missing = [f for f in rule["required_flat_ids"] if f not in pledged_flat_ids]
        labels = dict(db.session.execute(db.select(PlanFlat.flat_id, PlanFlat.label).where(
            PlanFlat.plan_id == plan_id, PlanFlat.flat_id.in_(missing))).all()) if missing else {}
        parts.append({"part": "required_flats", "met": not missing, "text": "指定房屋均已承诺",
                      "missing": "尚未承诺：" + "、".join(labels.get(f, str(f)) for f in missing) if missing else ""})
    return parts


def _named_buildings(buildings):
    ids = list(buildings)
    unit_ids = [u for b in buildings.values() for u in b["units"]]
    names = dict(db.session.execute(db.select(Building.id, Building.name).where(Building.id.in_(ids))).all()) if ids else {}
    unit_names = dict(db.session.execute(db.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    out = []
    for b in sorted(buildings.values(), key=lambda b: b["id"]):
        units = [{**u, "name": unit_names.get(u["id"])} for u in sorted(b["units"].values(), key=lambda u: u["id"])]
        out.append({**b, "name": names.get(b["id"]), "units": units})
    return out


def result_of(plan):
    return db.session.scalar(db.select(PlanResult).filter_by(plan_id=plan.id))


def tally_for(plan):
    """The live figures (payments go on after closing) with the outcome stored at closing, if any."""
    if plan.status == "draft":
        raise ApiError(409, "not_open", "出资方案尚未开始，没有统计")
    frozen = terms(plan)
    tally = live_tally(plan, frozen)
    stored = result_of(plan)
    tally["outcome"] = ({"funded": stored.funded, "decided_at": stored.created_at.isoformat() + "Z",
                         "digest": stored.digest, "pledged_fen": stored.tally["totals"]["pledged_fen"]}
                        if stored else None)
    tally["refunds_due"] = refunds_due(plan) if plan.status == "not_funded" else []
    return tally


def refunds_due(plan):
    """Flats of a plan that ended not funded with money still held: what must be refunded."""
    from app.models import PlanPayment

    net = db.func.sum(db.case((PlanPayment.kind == "payment", PlanPayment.amount_fen), else_=-PlanPayment.amount_fen))
    rows = db.session.execute(
        db.select(PlanPayment.flat_id, PlanFlat.label, PlanFlat.pledge_id, net.label("net"))
        .join(PlanFlat, (PlanFlat.plan_id == PlanPayment.plan_id) & (PlanFlat.flat_id == PlanPayment.flat_id))
        .where(PlanPayment.plan_id == plan.id)
        .group_by(PlanPayment.flat_id, PlanFlat.label, PlanFlat.pledge_id).order_by(PlanPayment.flat_id)).all()
    return [{"flat_id": f, "room": label, "pledge_id": pledge_id, "net_paid_fen": int(n)}
            for f, label, pledge_id, n in rows if n and n > 0]


def close(plan_id, user=None, now=None):
    """Lock, count and store the outcome with the plan digest; later pledges are refused. The
    exclusive lock waits for pledges being written (they hold a shared lock)."""
    plan = lock(plan_id)
    ensure_manager(user, plan, "截止")
    if plan.status != "open":
        raise ApiError(409, "not_open", "只有认筹中的出资方案可以截止", {"status": plan.status})
    frozen = terms(plan)
    counted = live_tally(plan, frozen)
    plan.status = "funded" if counted["funded"] else "not_funded"
    plan.closed_at = now or utcnow()
    counted["plan"]["status"] = plan.status
    result = PlanResult(plan_id=plan.id, funded=counted["funded"], tally=counted, digest=frozen["digest"],
                        content_hash=audit.sha256(audit.canonical(counted)))
    db.session.add(result)
    db.session.flush()
    audit.append(chain_name(plan), "result", "plan_result", result.id, {
        "funded": result.funded, "content_hash": result.content_hash, "digest": result.digest,
        "by": user.id if user else "scheduler"})
    current_app.logger.info("plan %s closed: %s", plan.id, plan.status)
    from app.services.projects import on_plan_closed

    on_plan_closed(plan)  # a project waiting for this plan's funds moves on to the works
    return plan, result


def close_due(now=None):
    """Close every open plan whose frozen deadline has passed, each in its own transaction."""
    now = now or utcnow()
    due = []
    for plan in db.session.scalars(db.select(ContributionPlan).where(ContributionPlan.status == "open")):
        try:
            deadline = terms(plan)["closes_at"]
        except ApiError:
            deadline = plan.closes_at
        if deadline <= now:
            due.append(plan.id)
    db.session.rollback()
    closed = []
    for plan_id in due:
        try:
            close(plan_id, now=now)
            db.session.commit()
            closed.append(plan_id)
        except ApiError:
            db.session.rollback()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("closing plan %s failed", plan_id)
    return closed


def pending_flats(user, plan):
    """Flats of the plan with no pledge that counts, in buildings of the user's scope, contacts masked,
    computed in SQL from the frozen flats."""
    from app.models import Owner
    from app.services.privacy import mask_name, mask_phone

    visible = visible_building_ids(user, plan)
    rows = db.session.execute(
        db.select(PlanFlat.flat_id, PlanFlat.label, PlanFlat.floor, PlanFlat.area, PlanFlat.due_fen,
                  PlanFlat.person_key, Owner.name, Owner.phone)
        .join(Flat, PlanFlat.flat_id == Flat.id).outerjoin(Owner, Flat.owner_id == Owner.id)
        .where(PlanFlat.plan_id == plan.id, PlanFlat.pledge_id.is_(None), PlanFlat.building_id.in_(visible))
        .order_by(PlanFlat.building_id, PlanFlat.unit_id, PlanFlat.flat_id)) if visible else []
    return [{"flat_id": f, "room": label, "floor": floor, "area": f"{area:.2f}", "due_fen": due,
             "developer_held": person == "developer",
             "owner": {"name": mask_name(name), "phone": mask_phone(phone)} if name else None}
            for f, label, floor, area, due, person, name, phone in rows]
