"""The console's contribution plans (资金共筹): list, create, open, the tally, pending flats, paper
pledges entered and confirmed beside their photos, payments and refunds, the ledger and agreements,
closing. Each page calls the services the API calls (app/services/plans.py, pledges.py,
plan_views.py), which decide what the user's scope allows."""
from datetime import date

from flask import Response, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.console import bp
from app.console.forms import beijing_time, fen, messages, photo, place
from app.console.views import _creatable_scopes, committed
from app.errors import ApiError
from app.extensions import db
from app.models import Flat, PlanFlat
from app.models.contributions import METHODS, PLEDGE_STATUSES, STANDARDS, STATUSES
from app.services import plan_views, plans, pledges, scopes
from app.services.ballots import PAPER_STAFF
from app.services.consultations import CREATORS, as_utc_naive, scope_names

ITEM_ROWS = 4


def _plan(plan_id, roles=plans.PLAN_WATCHERS):
    plan = plans.get(plan_id)
    if not plans.visible_to_staff(g.user, plan, roles):
        raise ApiError(404, "not_found", plans.NOT_FOUND)
    return plan


def _opened(plan):
    if plan.status == "draft":
        raise ApiError(409, "not_open", "出资方案尚未开始")
    return plan


def scope_name(plan):
    return place(scope_names([plan]).get((plan.scope_type, plan.scope_id)), plan.compound.name)


@bp.get("/plans")
def plan_list():
    if not scopes.roles_of(g.user, *plans.PLAN_WATCHERS):
        raise ApiError(403, "forbidden", "只有工作人员可以查看出资方案")
    items = plan_views.plan_views(plans.staff_plans(g.user), g.user)
    return render_template("console/plans.html", items=items,
                           can_create_plan=bool(scopes.roles_of(g.user, *CREATORS)))


# ---------------------------------------------------------------- create


@bp.route("/plans/new", methods=["GET", "POST"])
def plan_new():
    """Items with cost, subsidy and standard; methods; the funding rule; the deadline. The form is
    turned into the API's body and checked by its schema (PlanIn), then by plans.create."""
    from app.api.schemas import PlanIn

    if not scopes.roles_of(g.user, *CREATORS):
        raise ApiError(403, "forbidden", "只有业委会、社区工作人员、街道或区住建干部可以发起出资方案")
    options, flats = _creatable_scopes(g.user)
    parts = [(v, label) for v, label in options if not v.startswith("compound:")]
    errors, form = {}, request.form
    if request.method == "POST":
        body = _plan_body(form, flats, errors)
        if not errors:
            try:
                data = PlanIn().load(body)
            except ValidationError as exc:
                errors = _readable(exc.messages)
            else:
                data["closes_at"] = as_utc_naive(data["closes_at"])
                try:
                    plan = plans.create(g.user, data)
                except ApiError as exc:
                    db.session.rollback()
                    errors = {"表单": messages(exc)}
                else:
                    db.session.commit()
                    return redirect(url_for("console.plan", plan_id=plan.id))
    return render_template("console/plan_new.html", scope_options=options, parts=parts, flats=flats,
                           methods=METHODS, standards=STANDARDS, rows=range(ITEM_ROWS), errors=errors, form=form,
                           required=set(form.getlist("required_flats")),
                           checked_methods=set(form.getlist("methods")) if request.method == "POST" else {"direct"})


FIELD_NAMES = {"scope": "范围", "title": "标题", "body": "说明", "items": "出资项目", "methods": "出资方式",
               "labour_rate_fen": "投工投劳折算", "funding_rule": "达成条件", "closes_at": "截止时间",
               "name": "名称", "cost_fen": "造价", "subsidies": "补贴", "amount_fen": "金额", "standard": "分摊标准",
               "coefficients": "系数", "default": "默认系数", "applies_to": "分摊范围", "min_flat_share": "认筹户数比例",
               "type": "类型", "id": "编号"}


def _readable(messages_, prefix=""):
    """The schema's nested messages as {"出资项目 第 1 项 造价": "…"}: field names in Chinese."""
    out = {}
    for key, value in messages_.items():
        name = f"第 {int(key) + 1} 项" if isinstance(key, int) or str(key).isdigit() else FIELD_NAMES.get(key, key)
        label = f"{prefix} {name}".strip()
        if isinstance(value, dict):
            out.update(_readable(value, label))
        else:
            out[label] = value
    return out


def _coefficients(text, kind, flats, n, errors):
    """"1:0，2:0.6" (floor: coefficient) or "1栋1单元101:1.2" (room: coefficient) → {key: "coefficient"}."""
    import re

    labels = {label: str(i) for i, label in flats}
    out = {}
    for part in re.split(r"[,，;；\s]+", (text or "").strip()):
        if not part:
            continue
        match = re.match(r"^(.+?)[:：=](.+)$", part)
        if not match:
            errors.setdefault(f"第 {n} 项 系数", []).append(f"「{part}」应写成 楼层:系数 或 房屋:系数，例如 2:0.6")
            continue
        key, value = match.group(1).strip(), match.group(2)
        if kind == "flat_coefficient":
            if key not in labels:
                errors.setdefault(f"第 {n} 项 系数", []).append(f"没有找到房屋「{key}」（应写成 1栋1单元101:1.2）")
                continue
            key = labels[key]
        out[key] = value.strip()
    return out or None


def _plan_body(form, flats, errors):
    scope_type, _, scope_id = (form.get("scope") or "").partition(":")
    items = []
    for i in range(ITEM_ROWS):
        name = (form.get(f"i{i}_name") or "").strip()
        if not name:
            continue
        n = len(items) + 1
        kind = form.get(f"i{i}_standard") or "fixed"
        item = {"name": name, "required": form.get(f"i{i}_required") == "on",
                "cost_fen": fen(form.get(f"i{i}_cost"), f"第 {n} 项 造价", errors),
                "standard": {"type": kind}, "allow_less": form.get(f"i{i}_allow_less") == "on"}
        if kind in ("floor_coefficient", "flat_coefficient"):
            item["standard"]["coefficients"] = _coefficients(form.get(f"i{i}_coefs"), kind, flats, n, errors)
            if kind == "flat_coefficient" and (form.get(f"i{i}_default") or "").strip():
                item["standard"]["default"] = form.get(f"i{i}_default").strip()
        subsidy_name = (form.get(f"i{i}_subsidy_name") or "").strip()
        subsidy = fen(form.get(f"i{i}_subsidy"), f"第 {n} 项 补贴", errors, required=bool(subsidy_name))
        if subsidy:
            item["subsidies"] = [{"name": subsidy_name or "补贴", "amount_fen": subsidy}]
        applies = form.get(f"i{i}_applies") or ""
        if applies:
            kind_, _, id_ = applies.partition(":")
            item["applies_to"] = {"type": kind_, "id": int(id_) if id_.isdigit() else 0}
        items.append(item)
    if not items:
        errors.setdefault("出资项目", []).append("请至少填写一个出资项目（名称和造价）")
    methods = [m for m in form.getlist("methods") if m in METHODS]
    body = {"scope": {"type": scope_type, "id": int(scope_id) if scope_id.isdigit() else 0},
            "title": (form.get("title") or "").strip(), "body": form.get("body") or "", "items": items,
            "methods": methods,
            "funding_rule": {"required_items": form.get("required_items") == "on",
                             "required_flat_ids": [int(i) for i in form.getlist("required_flats") if i.isdigit()]},
            "closes_at": beijing_time(form.get("closes_at"))}
    share = (form.get("min_flat_share") or "").strip()
    if share:
        body["funding_rule"]["min_flat_share"] = share
    if "labour" in methods:
        body["labour_rate_fen"] = fen(form.get("labour_rate"), "投工投劳每小时折算", errors)
    return body


# ---------------------------------------------------------------- one plan and its tally


@bp.get("/plans/<int:plan_id>")
def plan(plan_id):
    user = g.user
    p = _plan(plan_id)
    view = plan_views.plan_view(p, user)
    tally = plans.tally_for(p) if p.status != "draft" else None
    if tally is not None:  # a grid worker's breakdown: the grid's buildings only, as the pending list
        visible = plans.visible_building_ids(user, p)
        tally = {**tally, "buildings": [b for b in tally["buildings"] if b["id"] in visible]}
    names = _place_names(view["items"])
    return render_template("console/plan.html", p=p, view=view, tally=tally, names=names,
                           can_manage=plans.can_manage(user, p),
                           can_paper=plans.visible_to_staff(user, p, PAPER_STAFF),
                           can_cash=plans.visible_to_staff(user, p, plans.CASHIERS), statuses=STATUSES)


def _place_names(items):
    """{(type, id): "1栋2单元"} of the items' applies_to, without the compound's name."""
    from app.models import Building, Unit

    out = {}
    for item in items:
        a = item.get("applies_to")
        if not a:
            continue
        if a["type"] == "building":
            b = db.session.get(Building, a["id"])
            out[(a["type"], a["id"])] = b.name if b else "—"
        else:
            u = db.session.get(Unit, a["id"])
            out[(a["type"], a["id"])] = f"{u.building.name}{u.name}" if u else "—"
    return out


@bp.post("/plans/<int:plan_id>/<any(open, close):action>")
@committed
def plan_action(plan_id, action):
    _plan(plan_id)
    if action == "open":
        plans.open_(g.user, plan_id)
    else:
        plans.close(plan_id, user=g.user)
    return redirect(url_for("console.plan", plan_id=plan_id))


@bp.get("/plans/<int:plan_id>/pending")
def plan_pending(plan_id):
    p = _opened(_plan(plan_id))
    return render_template("console/plan_pending.html", p=p, rows=plans.pending_flats(g.user, p), scope=scope_name(p))


@bp.get("/plans/<int:plan_id>/ledger.xlsx")
def plan_ledger(plan_id):
    from flask import current_app

    p = _opened(_plan(plan_id))
    current_app.logger.info("ledger of plan %s exported by user %s from the console", p.id, g.user.id)
    return Response(plan_views.ledger(g.user, p), mimetype=plan_views.XLSX_MIME, headers={
        "Content-Disposition": plan_views.filename(p, "出资台账", "xlsx"), "Cache-Control": "no-store"})


# ---------------------------------------------------------------- paper pledges


def _visible_plan_flats(plan, roles=PAPER_STAFF):
    visible = plans.visible_building_ids(g.user, plan, roles)
    if not visible:
        return []
    return db.session.execute(db.select(PlanFlat.flat_id, PlanFlat.label).where(
        PlanFlat.plan_id == plan.id, PlanFlat.building_id.in_(visible))
        .order_by(PlanFlat.building_id, PlanFlat.unit_id, PlanFlat.flat_id)).all()


@bp.route("/plans/<int:plan_id>/paper", methods=["GET", "POST"])
def plan_paper(plan_id):
    """Enter a signed paper pledge with its photo; confirm another person's beside its photo."""
    p = _opened(_plan(plan_id, PAPER_STAFF))
    view = plan_views.plan_view(p, g.user)
    errors, form = {}, request.form
    if request.method == "POST":
        lines = []
        for item in view["items"]:
            if form.get(f"take_{item['key']}") != "on":
                continue
            line = {"item": item["key"], "method": form.get(f"method_{item['key']}") or "direct"}
            amount = fen(form.get(f"amount_{item['key']}"), f"「{item['name']}」金额", errors, required=False)
            if amount is not None:
                line["amount_fen"] = amount
            lines.append(line)
        if not lines:
            errors.setdefault("出资项目", []).append("请至少勾选一个承诺的项目")
        flat_id = form.get("flat_id", "")
        if not flat_id.isdigit():
            errors.setdefault("房屋", []).append("请选择房屋")
        image = photo(request.files.get("photo"), "照片", errors)
        if not errors:
            try:
                pledges.enter_paper(g.user, p.id, int(flat_id), lines, image)
            except ApiError as exc:
                db.session.rollback()
                errors = {"表单": messages(exc)}
            else:
                db.session.commit()
                return redirect(url_for("console.plan_paper", plan_id=p.id))
    rows = pledges.paper_pledges(g.user, p)
    return render_template("console/plan_paper.html", p=p, view=view, rows=plan_views.pledge_views([r for r, _ in rows]),
                           entered_by={r.id: r.entered_by_id for r, _ in rows}, flats=_visible_plan_flats(p),
                           methods=METHODS, errors=errors, form=form, scope=scope_name(p))


@bp.get("/paper-pledges/<int:pledge_id>/photo")
def paper_pledge_photo(pledge_id):
    data, mimetype = pledges.paper_photo(g.user, pledge_id)
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})


@bp.post("/paper-pledges/<int:pledge_id>/confirm")
@committed
def paper_pledge_confirm(pledge_id):
    pledge = pledges.confirm_paper(g.user, pledge_id)
    return redirect(url_for("console.plan_paper", plan_id=pledge.plan_id))


# ---------------------------------------------------------------- pledges, payments and refunds


@bp.get("/plans/<int:plan_id>/pledges")
def plan_pledges(plan_id):
    p = _opened(_plan(plan_id))
    return render_template("console/plan_pledges.html", p=p, rows=plan_views.pledge_views(pledges.current_pledges(g.user, p)),
                           scope=scope_name(p), can_cash=plans.visible_to_staff(g.user, p, plans.CASHIERS))


@bp.route("/pledges/<int:pledge_id>", methods=["GET", "POST"])
def pledge(pledge_id):
    """One pledge with its lines and payments; community staff and the treasurer record a payment or
    a refund (amount in yuan, stored as fen; method, date, reference, evidence photo)."""
    row = pledges.visible(g.user, pledge_id)
    flat_building = db.session.get(Flat, row.flat_id).unit.building
    if not scopes.can(g.user, flat_building, *plans.PLAN_WATCHERS):  # owners use the mini-program
        raise ApiError(404, "not_found", pledges.NOT_FOUND)
    can_cash = scopes.can(g.user, flat_building, *plans.CASHIERS)
    errors, form = {}, request.form
    if request.method == "POST":
        from app.api.schemas import PaymentIn

        kind = "refund" if form.get("kind") == "refund" else "payment"
        body = {"amount_fen": fen(form.get("amount"), "金额", errors), "method": form.get("method") or "",
                "paid_on": form.get("paid_on") or "", "reference": (form.get("reference") or "").strip()}
        if form.get("item"):
            body["item"] = form.get("item")
        image = photo(request.files.get("photo"), "凭证照片", errors, required=False)
        if image:
            body["photo"] = image
        if not errors:
            try:
                data = PaymentIn().load(body)
                pledges.record(g.user, pledge_id, kind, data)
            except ValidationError as exc:
                db.session.rollback()
                errors = {{"amount_fen": "金额", "method": "方式", "paid_on": "日期", "reference": "凭证号"}.get(k, k): v
                          for k, v in exc.messages.items()}
            except ApiError as exc:
                db.session.rollback()
                errors = {"表单": messages(exc)}
            else:
                db.session.commit()
                return redirect(url_for("console.pledge", pledge_id=pledge_id))
    view = plan_views.pledge_views([row])[0]
    return render_template("console/pledge.html", pledge=view, plan=row.plan, can_cash=can_cash, errors=errors,
                           form=form, methods=METHODS, today=date.today().isoformat(), statuses=PLEDGE_STATUSES)


@bp.get("/pledges/<int:pledge_id>/agreement.pdf")
def pledge_agreement(pledge_id):
    row = pledges.visible(g.user, pledge_id)
    return Response(plan_views.agreement(row), mimetype="application/pdf", headers={
        "Content-Disposition": plan_views.filename(row.plan, f"出资协议-{row.receipt}", "pdf"),
        "Cache-Control": "private, no-store"})


@bp.get("/payments/<int:payment_id>/photo")
def payment_photo(payment_id):
    data, mimetype = pledges.payment_photo(g.user, payment_id)
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})
