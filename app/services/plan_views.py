"""What the API shows of plans and pledges, built in bulk (a constant number of statements for any
number of plans or pledges), and the documents: the ledger and the signed agreement."""
import re
from decimal import Decimal
from urllib.parse import quote

from app.extensions import db
from app.models import Blob, Compound, Flat, Owner, PlanDue, PlanFlat, PlanPayment, PlanResult, Pledge
from app.models.contributions import METHODS, PAYMENT_STATES, PLEDGE_STATUSES, STANDARDS, STATUSES
from app.models.places import utcnow
from app.services import plans as service
from app.services.consultations import scope_names
from app.services.pledges import check_lines, paid_by_item, state_of  # noqa: F401
from app.services.privacy import mask_name

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _iso(value):
    return value.isoformat() + "Z" if value else None


def standard_text(item):
    standard = item["standard"]
    kind = standard["type"]
    if kind == "floor_coefficient":
        coefs = sorted(standard["coefficients"].items(), key=lambda kv: int(kv[0]))
        return "按楼层系数 × 专有面积分摊：" + "，".join(f"{f}层 {c}" for f, c in coefs) + "（系数 0 的楼层免于分摊）"
    if kind == "flat_coefficient":
        return f"按每户系数分摊（未列出的房屋系数 {standard.get('default', '1')}）"
    return {"fixed": "每户均摊", "area": "按专有面积分摊"}[kind]


def _items(plan, frozen):
    source = frozen["items"] if frozen else plan.items
    return [{"key": i["key"], "name": i["name"], "required": i["required"], "cost_fen": i["cost_fen"],
             "subsidies": [{"name": s["name"], "amount_fen": s["amount_fen"]} for s in i.get("subsidies", [])],
             "share_fen": service.item_share(i),
             "standard": {"type": i["standard"]["type"], "type_name": STANDARDS[i["standard"]["type"]],
                          "coefficients": i["standard"].get("coefficients"),
                          "default": i["standard"].get("default")},
             "standard_text": standard_text(i), "allow_less": bool(i.get("allow_less")),
             "applies_to": i.get("applies_to")} for i in source]


def plan_views(plans, user=None, flat_id=None, relation=None):
    """Plans as the API shows them, with flat_id each with the flat's part, in a constant number of
    statements for any number of plans."""
    if not plans:
        return []
    ids = [p.id for p in plans]
    names = scope_names(plans)
    frozen = service.terms_many([p for p in plans if p.status != "draft"])
    results = {r.plan_id: r for r in db.session.scalars(db.select(PlanResult).where(
        PlanResult.plan_id.in_([i for i in ids if i in frozen])))} if frozen else {}
    compounds = dict(db.session.execute(db.select(Compound.id, Compound.name).where(
        Compound.id.in_({p.compound_id for p in plans}))).all())
    flats = _flat_parts([p for p in plans if p.id in frozen], frozen, flat_id, relation, user) if flat_id is not None else {}
    return [_plan_view(p, names, results.get(p.id), frozen.get(p.id), compounds[p.compound_id], flat_id, flats)
            for p in plans]


def plan_view(plan, user=None, flat_id=None, relation=None):
    return plan_views([plan], user, flat_id, relation)[0]


def _plan_view(plan, names, result, frozen, compound_name, flat_id, flats):
    view = {
        "id": plan.id, "title": plan.title, "body": plan.body,
        "scope": {"type": plan.scope_type, "id": plan.scope_id, "name": names.get((plan.scope_type, plan.scope_id))},
        "compound": {"id": plan.compound_id, "name": compound_name},
        "status": plan.status, "status_name": STATUSES[plan.status],
        "closes_at": _iso(frozen["closes_at"] if frozen else plan.closes_at),
        "opened_at": _iso(plan.opened_at), "closed_at": _iso(plan.closed_at), "digest": plan.digest,
        "items": _items(plan, frozen),
        "methods": [{"method": m, "name": METHODS[m]} for m in (frozen["methods"] if frozen else plan.methods)],
        "labour_rate_fen": frozen["labour_rate_fen"] if frozen else plan.labour_rate_fen,
        "funding_rule": frozen["funding_rule"] if frozen else plan.funding_rule,
        "rounding": "最大余数法：各户先取应分摊额的整分，余下的分依次给小数部分最大的户（相同时给房屋编号小的户），"
                    "各户金额之和恰好等于居民分摊额",
        "accepting": bool(frozen) and service.is_accepting(plan, frozen),
        "outcome": {"funded": result.funded, "decided_at": _iso(result.created_at)} if result else None,
        "flat": None,
    }
    if flat_id is not None and frozen:
        view["flat"] = flats.get(plan.id)
    return view


def _flat_parts(plans, frozen, flat_id, relation, user):
    """{plan id: the flat's part} of the opened plans whose roll holds the flat: its amounts, its
    pledge (to its owner and staff), what is paid, and why the resident may not pledge now."""
    from app.models import Binding
    from app.services.pledges import state_of

    ids = [p.id for p in plans]
    pfs = {pf.plan_id: pf for pf in db.session.scalars(db.select(PlanFlat).where(
        PlanFlat.plan_id.in_(ids), PlanFlat.flat_id == flat_id))} if ids else {}
    if not pfs:
        return {}
    dues = {}
    for d in db.session.scalars(db.select(PlanDue).where(PlanDue.plan_id.in_(pfs), PlanDue.flat_id == flat_id)):
        dues.setdefault(d.plan_id, {})[d.item] = d
    pledge_ids = [pf.pledge_id for pf in pfs.values() if pf.pledge_id]
    pledges = {p.plan_id: p for p in db.session.scalars(db.select(Pledge).where(Pledge.id.in_(pledge_ids)))} \
        if pledge_ids else {}
    sums = {}
    if pledges:
        for plan_id, kind, total in db.session.execute(
                db.select(PlanPayment.plan_id, PlanPayment.kind, db.func.sum(PlanPayment.amount_fen))
                .where(PlanPayment.plan_id.in_(pledges), PlanPayment.flat_id == flat_id)
                .group_by(PlanPayment.plan_id, PlanPayment.kind)):
            sums[(plan_id, kind)] = int(total or 0)
    # Family members and tenants see what the flat owes and whether it pledged, not the pledge.
    shown = {p.id: v for p, v in zip(pledges.values(), pledge_views(list(pledges.values())))} \
        if relation in ("owner", "staff", "proxy") else {}
    proxies = {}  # a written proxy's holder pledges for the owner (issue 15)
    if user is not None and relation == "proxy":
        from app.services.proxies import covering

        for plan_id, pf in pfs.items():
            found = covering(user.id, flat_id, pf.person_key, plan_id=plan_id)
            if found is not None:
                proxies[plan_id] = found
    binding = db.session.scalar(db.select(Binding).filter_by(
        user_id=user.id, flat_id=flat_id, status="approved", relation="owner")) if user is not None and relation == "owner" else None
    parts = {}
    for plan in plans:
        pf = pfs.get(plan.id)
        if pf is None:
            continue
        pledge = pledges.get(plan.id)
        paid, refunded = sums.get((plan.id, "payment"), 0), sums.get((plan.id, "refund"), 0)
        state = state_of(pledge.total_fen, paid, refunded) if pledge is not None else "none"
        parts[plan.id] = {
            **service.flat_amounts(frozen[plan.id], pf, dues.get(plan.id, {})), "relation": relation,
            "pledged": pledge is not None,
            "cannot_pledge": cannot_pledge(plan, frozen[plan.id], pf, relation, binding, proxies.get(plan.id)),
            "signing_for": _signing_for(proxies.get(plan.id)),
            "pledge": shown.get(pledge.id) if pledge is not None else None,
            "state": state, "state_name": PAYMENT_STATES[state],
            "paid_fen": (paid - refunded) if pledge is not None else 0}
    return parts


def _signing_for(proxy):
    if proxy is None:
        return None
    from app.services.proxies import owner_names

    return {"proxy_id": proxy.id, "number": proxy.number, "owner": owner_names([proxy.person_key])[proxy.person_key]}


def cannot_pledge(plan, frozen, pf, relation, binding, proxy=None):
    """Why the signed-in resident may not pledge for this flat now, in words; None when they may
    (the checks pledges.sign makes, so the page says so before the owner signs). binding: the
    resident's approved owner binding to the flat, or None; proxy: the written proxy a holder
    (relation "proxy") pledges under, or None."""
    from app.services.consultations import speaks_for

    if not service.is_accepting(plan, frozen):
        return "出资方案已截止或尚未开始认筹"
    if relation == "proxy":
        return None if proxy is not None else "您的委托书已撤销或不涵盖本方案，不能代为承诺"
    if relation != "owner":
        return "只有业主本人可以签署出资承诺；家庭成员和租户可以查看应缴金额" if relation != "staff" else "工作人员请录入纸质承诺"
    if binding is None or not speaks_for(binding.owner_id, pf.flat_id, pf.person_key):
        return "您绑定时核对的业主与本方案登记的业主不一致，不能签署；如房屋已过户，请新业主重新绑定，或联系网格员核实"
    return None


# ---------------------------------------------------------------- pledges


def pledge_views(pledges):
    """Pledges as the API shows them, with their rooms, items' names, dues, payments and state."""
    if not pledges:
        return []
    plan_ids = {p.plan_id for p in pledges}
    flat_ids = {p.flat_id for p in pledges}
    plans = {p.id: p for p in db.session.scalars(db.select(service.ContributionPlan).where(
        service.ContributionPlan.id.in_(plan_ids)))}
    names = {}
    for plan in plans.values():
        source = plan.items
        names[plan.id] = {i["key"]: i["name"] for i in source}
    flats = {(f.plan_id, f.flat_id): f for f in db.session.scalars(db.select(PlanFlat).where(
        PlanFlat.plan_id.in_(plan_ids), PlanFlat.flat_id.in_(flat_ids)))}
    dues = {}
    for d in db.session.scalars(db.select(PlanDue).where(PlanDue.plan_id.in_(plan_ids), PlanDue.flat_id.in_(flat_ids))):
        dues[(d.plan_id, d.flat_id, d.item)] = d.amount_fen
    payments = {}
    for pay in db.session.scalars(db.select(PlanPayment).where(PlanPayment.plan_id.in_(plan_ids),
                                                               PlanPayment.flat_id.in_(flat_ids)).order_by(PlanPayment.id)):
        payments.setdefault((pay.plan_id, pay.flat_id), []).append(pay)
    out = []
    for p in pledges:
        plan, pf = plans[p.plan_id], flats.get((p.plan_id, p.flat_id))
        flat_payments = payments.get((p.plan_id, p.flat_id), [])
        paid = sum(x.amount_fen for x in flat_payments if x.kind == "payment")
        refunded = sum(x.amount_fen for x in flat_payments if x.kind == "refund")
        net_item = {}
        for x in flat_payments:
            for item, fen in x.allocation.items():
                net_item[item] = net_item.get(item, 0) + (fen if x.kind == "payment" else -fen)
        counts = pf is not None and pf.pledge_id == p.id
        state = state_of(p.total_fen, paid, refunded) if counts else None
        out.append({
            "id": p.id, "plan": {"id": plan.id, "title": plan.title, "status": plan.status,
                                 "status_name": STATUSES[plan.status]},
            "flat_id": p.flat_id, "room": pf.label if pf else None, "channel": p.channel,
            "channel_name": "线上签署" if p.channel == "online" else "纸质承诺书",
            "status": p.status, "status_name": PLEDGE_STATUSES[p.status],
            "lines": [{"item": line["item"], "name": names[plan.id].get(line["item"], line["item"]),
                       "method": line["method"], "method_name": METHODS[line["method"]],
                       "amount_fen": line["amount_fen"], "hours": line.get("hours"), "note": line.get("note") or "",
                       "due_fen": dues.get((p.plan_id, p.flat_id, line["item"]), 0),
                       "paid_fen": net_item.get(line["item"], 0) if counts else 0} for line in p.lines],
            "total_fen": p.total_fen, "receipt": p.receipt, "signed_at": _iso(p.created_at),
            "confirmed_at": _iso(p.confirmed_at), "content_hash": p.content_hash,
            "state": state, "state_name": PAYMENT_STATES[state] if state else (
                "待确认，尚未计入" if p.status == "unconfirmed" else "该承诺已不再计入"),
            "paid_fen": paid - refunded if counts else 0, "refunded_fen": refunded if counts else 0,
            "payments": [{"id": x.id, "kind": x.kind, "kind_name": "缴款" if x.kind == "payment" else "退款",
                          "amount_fen": x.amount_fen, "allocation": x.allocation, "method": x.method,
                          "method_name": METHODS.get(x.method, x.method), "paid_on": x.paid_on.isoformat(),
                          "reference": x.reference, "has_photo": x.photo_id is not None,
                          "recorded_at": _iso(x.created_at)} for x in flat_payments if x.pledge_id == p.id]
            if counts else [],
        })
    return out


# ---------------------------------------------------------------- documents


def filename(plan, what, ext):
    title = re.sub(r'[\\/:*?"<>|\s]+', "_", plan.title).strip("_") or "出资方案"
    ascii_name = f"plan-{plan.id}-{'ledger' if ext == 'xlsx' else 'agreement'}.{ext}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(f'{title}-{what}.{ext}', safe='')}"


def ledger_rows(user, plan):
    """One row per flat of the plan in the user's scope, and the totals over those rows."""
    frozen = service.terms(plan)
    keys = [i["key"] for i in frozen["items"]]
    visible = service.visible_building_ids(user, plan)
    flats = db.session.execute(
        db.select(PlanFlat.flat_id, PlanFlat.label, PlanFlat.pledge_id, Owner.name)
        .join(Flat, Flat.id == PlanFlat.flat_id).outerjoin(Owner, Owner.id == Flat.owner_id)
        .where(PlanFlat.plan_id == plan.id, PlanFlat.building_id.in_(visible))
        .order_by(PlanFlat.building_id, PlanFlat.unit_id, PlanFlat.flat_id)).all() if visible else []
    dues = {}
    for flat_id, item, fen in db.session.execute(db.select(PlanDue.flat_id, PlanDue.item, PlanDue.amount_fen)
                                                 .where(PlanDue.plan_id == plan.id)):
        dues.setdefault(flat_id, {})[item] = fen
    pledges = {p.id: p for p in db.session.scalars(db.select(Pledge).where(
        Pledge.plan_id == plan.id, Pledge.status == "current"))}
    paid, paid_at, gross, refunded = {}, {}, {}, {}
    for p in db.session.scalars(db.select(PlanPayment).where(PlanPayment.plan_id == plan.id).order_by(PlanPayment.id)):
        sign = 1 if p.kind == "payment" else -1
        per = paid.setdefault(p.flat_id, {})
        for item, fen in p.allocation.items():
            per[item] = per.get(item, 0) + sign * fen
        target = gross if p.kind == "payment" else refunded
        target[p.flat_id] = target.get(p.flat_id, 0) + p.amount_fen
        paid_at[p.flat_id] = p.paid_on
    totals = {"due": dict.fromkeys(keys, 0), "pledged": dict.fromkeys(keys, 0), "paid": dict.fromkeys(keys, 0)}
    rows = []
    for flat_id, label, pledge_id, owner in flats:
        pledge = pledges.get(pledge_id)
        pledged = {line["item"]: line["amount_fen"] for line in pledge.lines} if pledge else {}
        row = {"room": label, "owner": mask_name(owner), "due": dues.get(flat_id, {}), "pledged": pledged,
               "paid": paid.get(flat_id, {}),
               "methods": "、".join(dict.fromkeys(METHODS[line["method"]] for line in pledge.lines)) if pledge else "",
               "pledged_at": pledge.created_at if pledge else None, "paid_at": paid_at.get(flat_id),
               "receipt": pledge.receipt if pledge else None,
               "state_name": PAYMENT_STATES[state_of(pledge.total_fen, gross.get(flat_id, 0), refunded.get(flat_id, 0))
                                            if pledge else "none"]}
        for part in ("due", "pledged", "paid"):
            for key in keys:
                totals[part][key] += row[part].get(key, 0)
        rows.append(row)
    items = [{"key": i["key"], "name": i["name"]} for i in frozen["items"]]
    return items, rows, totals


def ledger(user, plan):
    from app.services.plan_documents import ledger_xlsx

    items, rows, totals = ledger_rows(user, plan)
    names = scope_names([plan])
    return ledger_xlsx({"title": plan.title, "compound": plan.compound.name,
                        "scope_name": names.get((plan.scope_type, plan.scope_id)) or "",
                        "status_name": STATUSES[plan.status], "digest": plan.digest or "", "generated_at": utcnow()},
                       items, rows, totals)


def agreement_doc(pledge):
    plan = pledge.plan
    frozen = service.terms(plan)
    items = {i["key"]: i for i in frozen["items"]}
    pf = db.session.scalar(db.select(PlanFlat).filter_by(plan_id=plan.id, flat_id=pledge.flat_id))
    flat = db.session.get(Flat, pledge.flat_id)
    dues = dict(db.session.execute(db.select(PlanDue.item, PlanDue.amount_fen)
                                   .filter_by(plan_id=plan.id, flat_id=pledge.flat_id)).all())
    signature = db.session.get(Blob, pledge.signature_id) if pledge.channel == "online" else None
    terms = [f"「{i['name']}」造价 {service.yuan(i['cost_fen'])} 元"
             + "".join(f"，减{s['name']} {service.yuan(s['amount_fen'])} 元" for s in i.get("subsidies", []))
             + f"，居民分摊 {service.yuan(i['share_fen'])} 元；{standard_text(i)}" for i in frozen["items"]
             if i["key"] in dues]  # the items this flat shares, not another unit's elevator
    terms.append("各户金额按最大余数法取整到分，合计恰好等于居民分摊额。")
    if frozen.get("labour_rate_fen"):
        terms.append(f"投工投劳每小时折合 {service.yuan(frozen['labour_rate_fen'])} 元。")
    names = scope_names([plan])
    return {
        "plan": {"id": plan.id, "title": plan.title, "body": plan.body, "compound": plan.compound.name,
                 "scope_name": names.get((plan.scope_type, plan.scope_id)) or "", "closes_at": frozen["closes_at"],
                 "digest": plan.digest or "", "labour_rate_fen": frozen.get("labour_rate_fen"), "terms": terms},
        "flat": {"label": pf.label, "area": Decimal(pf.area), "floor": pf.floor},
        "owner": mask_name(flat.owner.name) if flat.owner else None,
        "lines": [{"item": items[line["item"]]["name"], "required": items[line["item"]]["required"],
                   "method": METHODS[line["method"]], "amount_fen": line["amount_fen"],
                   "due_fen": dues.get(line["item"], 0), "hours": line.get("hours"), "note": line.get("note") or ""}
                  for line in pledge.lines],
        "total_fen": pledge.total_fen, "channel": pledge.channel,
        "signature_png": signature.data if signature else None, "signed_at": pledge.created_at,
        "receipt": pledge.receipt, "content_hash": pledge.content_hash, "status_name": PLEDGE_STATUSES[pledge.status],
    }


def agreement(pledge):
    from app.services.plan_documents import agreement_pdf

    return agreement_pdf(agreement_doc(pledge))
