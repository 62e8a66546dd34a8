"""Contribution plans (资金共筹): create, open, close; a flat's amounts explained; pledges online and on
paper; payments and refunds; tally, door-visit list, ledger and the signed agreement."""
from apiflask import APIBlueprint
from flask import Response
from sqlalchemy.exc import IntegrityError

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.consultations import idempotency_key
from app.api.outputs import answer, file
from app.api.schemas import FlatQuery, PaperPledgeIn, PaymentIn, PlanIn, PledgeIn
from app.errors import ApiError
from app.extensions import db
from app.models import Binding, PlanFlat, PlanPayment, Pledge
from app.models.contributions import PLEDGE_STATUSES
from app.services import plan_views as views
from app.services import plans as service
from app.services import pledges as pledge_service
from app.services import scopes
from app.services.ballots import PAPER_STAFF
from app.services.consultations import as_utc_naive

bp = APIBlueprint("plans", __name__, url_prefix="/api/v1", tag="plans")
PHOTO = {200: {"description": "照片（JPEG 或 PNG）",
               "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                           "image/png": {"schema": {"type": "string", "format": "binary"}}}}}


def _bound(flat_id):
    """The signed-in user's relation to the flat (owner, family, tenant), or None if not bound."""
    return db.session.scalar(db.select(Binding.relation).filter_by(
        user_id=current_user().id, flat_id=flat_id, status="approved"))


def _relation(flat_id):
    relation = _bound(flat_id)
    if relation is None:
        raise ApiError(404, "not_found", "您尚未绑定该房屋")
    return relation


def _visible(plan_id, flat_id=None, staff_roles=service.PLAN_WATCHERS):
    """Staff of the scope see a plan in any state; a resident through a bound flat of an opened plan,
    and a written proxy's holder through the flat whose owner it pledges for."""
    plan = service.get(plan_id)
    if service.visible_to_staff(current_user(), plan, staff_roles):
        return plan
    if flat_id is not None and plan.status != "draft":
        pf = db.session.scalar(db.select(PlanFlat).filter_by(plan_id=plan.id, flat_id=flat_id))
        if pf is not None and (_holds_proxy(plan, pf) or _relation(flat_id)):
            return plan
    raise ApiError(404, "not_found", service.NOT_FOUND)


def _holds_proxy(plan, pf):
    from app.services.proxies import covering

    return covering(current_user().id, pf.flat_id, pf.person_key, plan_id=plan.id) is not None


def _opened(plan):
    if plan.status == "draft":
        raise ApiError(409, "not_open", "出资方案尚未开始", {"status": plan.status})
    return plan


@bp.post("/plans")
@bp.auth_required(auth)
@bp.input(PlanIn, arg_name="body")
@bp.doc(responses=answer(out.Plan, status=201))
def create(body):
    """A draft contribution plan for a compound, building or unit (committee or community staff)."""
    body["closes_at"] = as_utc_naive(body["closes_at"])
    plan = service.create(current_user(), body)
    db.session.commit()
    return ok(views.plan_view(plan), 201)


@bp.get("/plans")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Plan, many=True))
def index(query):
    """With flat_id: the plans of a bound flat, each with its amounts. Without: the staff's scope."""
    flat_id = query["flat_id"]
    if flat_id is not None:
        opened = [p for p in service.plans_for_flat(flat_id) if p.status != "draft"]
        bound = _bound(flat_id)
        if bound is None:  # the holder of a written proxy for the flat: the plans it covers (issue 15)
            pfs = {pf.plan_id: pf for pf in db.session.scalars(db.select(PlanFlat).where(
                PlanFlat.flat_id == flat_id, PlanFlat.plan_id.in_([p.id for p in opened])))} if opened else {}
            covered = [p for p in opened if p.id in pfs and _holds_proxy(p, pfs[p.id])]
            if not covered:
                _relation(flat_id)  # 404: not their flat
            return ok(views.plan_views(covered, current_user(), flat_id, "proxy"))
        return ok(views.plan_views(opened, current_user(), flat_id, bound))
    user = current_user()
    if not scopes.roles_of(user, *service.PLAN_WATCHERS):
        raise ApiError(403, "forbidden", "请带上 flat_id 查看您房屋的出资方案")
    return ok(views.plan_views(service.staff_plans(user), user))


@bp.get("/plans/<int:plan_id>")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Plan))
def show(plan_id, query):
    """One plan: its text, items and terms; with flat_id, the flat's amount per item and how it was
    computed, its pledge and what is paid."""
    flat_id = query["flat_id"]
    plan = _visible(plan_id, flat_id)
    relation = None
    if flat_id is not None:
        relation = _bound(flat_id)
        if relation != "owner" and not service.visible_to_staff(current_user(), plan):
            pf = db.session.scalar(db.select(PlanFlat).filter_by(plan_id=plan.id, flat_id=flat_id))
            if pf is not None and _holds_proxy(plan, pf):
                relation = "proxy"  # pledges for the owner under a written proxy (issue 15)
        relation = relation or "staff"
    return ok(views.plan_view(plan, current_user(), flat_id, relation))


@bp.post("/plans/<int:plan_id>/open")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Plan))
def open_(plan_id):
    """Compute and freeze every flat's amounts with the terms; open for pledges."""
    plan = service.open_(current_user(), plan_id)
    db.session.commit()
    return ok(views.plan_view(plan))


@bp.post("/plans/<int:plan_id>/close")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Plan))
def close(plan_id):
    """Close now and store the outcome, funded or not (the scheduler does this at the deadline)."""
    plan, _ = service.close(plan_id, user=current_user())
    db.session.commit()
    return ok(views.plan_view(plan))


def _pledge_answer(pledge):
    return {"id": pledge.id, "receipt": pledge.receipt, "status": pledge.status,
            "status_name": PLEDGE_STATUSES[pledge.status], "total_fen": pledge.total_fen}


def _landed(plan_id, key, mine, flat_id):
    """After an IntegrityError (the same Idempotency-Key raced itself): the pledge that landed first,
    when it is ours and for the same flat."""
    db.session.rollback()
    pledge = db.session.scalar(db.select(Pledge).filter_by(plan_id=plan_id, idempotency_key=key)) if key else None
    if pledge is None or not mine(pledge):
        raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
    if pledge.flat_id != flat_id:
        raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一份内容不同的承诺，请勿重复使用",
                       {"Idempotency-Key": ["已用于另一份承诺"]})
    return pledge


@bp.post("/plans/<int:plan_id>/pledges")
@bp.auth_required(auth)
@bp.input(PledgeIn, arg_name="body")
@bp.doc(responses=answer(out.PledgeReceipt, status=201))
def pledge(plan_id, body):
    """An owner pledges for a flat: items, a method each, amounts, handwritten signature (PNG, base64).
    Until the deadline a new pledge replaces the flat's last one. Accepts Idempotency-Key."""
    key = idempotency_key()
    user = current_user()
    try:
        pledge = pledge_service.sign(user, plan_id, body["flat_id"], body["lines"], body["signature"], key)
        answer_ = _pledge_answer(pledge)
        db.session.commit()
    except IntegrityError:
        answer_ = _pledge_answer(_landed(plan_id, key, lambda p: p.user_id == user.id, body["flat_id"]))
    return ok(answer_, 201)


@bp.post("/plans/<int:plan_id>/paper-pledges")
@bp.auth_required(auth)
@bp.input(PaperPledgeIn, arg_name="body")
@bp.doc(responses=answer(out.PledgeReceipt, status=201))
def enter_paper(plan_id, body):
    """A grid worker enters a signed paper pledge with its photo; it counts once a second staff
    member confirms it."""
    key = idempotency_key()
    user = current_user()
    try:
        pledge = pledge_service.enter_paper(user, plan_id, body["flat_id"], body["lines"], body["photo"], key)
        answer_ = _pledge_answer(pledge)
        db.session.commit()
    except IntegrityError:
        answer_ = _pledge_answer(_landed(plan_id, key, lambda p: p.entered_by_id == user.id, body["flat_id"]))
    return ok(answer_, 201)


@bp.get("/plans/<int:plan_id>/paper-pledges")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Pledge, many=True))
def paper_index(plan_id):
    """Paper pledges on flats of the caller's scope, for confirmation beside their photos."""
    plan = _opened(_visible(plan_id, staff_roles=PAPER_STAFF))
    return ok(views.pledge_views([p for p, _ in pledge_service.paper_pledges(current_user(), plan)]))


@bp.post("/paper-pledges/<int:pledge_id>/confirm")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.PledgeReceipt))
def confirm_paper(pledge_id):
    """A second staff member confirms a paper pledge."""
    pledge = pledge_service.confirm_paper(current_user(), pledge_id)
    answer_ = _pledge_answer(pledge)
    db.session.commit()
    return ok(answer_)


@bp.get("/paper-pledges/<int:pledge_id>/photo")
@bp.auth_required(auth)
@bp.doc(responses=PHOTO)
def paper_photo(pledge_id):
    """The photo of a paper pledge, for staff of its flat's scope."""
    data, mimetype = pledge_service.paper_photo(current_user(), pledge_id)
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})


@bp.get("/plans/<int:plan_id>/pledges")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Pledge, many=True))
def pledges(plan_id):
    """The pledges that count on flats of the caller's scope, with what is paid: where staff record
    payments and refunds."""
    plan = _opened(_visible(plan_id))
    return ok(views.pledge_views(pledge_service.current_pledges(current_user(), plan)))


@bp.get("/plans/<int:plan_id>/tally")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.PlanTally))
def tally(plan_id):
    """Target, pledged and paid by item, method, building and unit; flats, persons and area pledging;
    the funding rule part by part; what is missing; refunds due when the plan was not funded."""
    plan = _visible(plan_id)
    return ok(service.tally_for(plan))


@bp.get("/plans/<int:plan_id>/pending-flats")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.PlanPendingFlat, many=True))
def pending_flats(plan_id):
    """Flats with no pledge that counts, for door visits; contacts masked."""
    plan = _opened(_visible(plan_id))
    return ok(service.pending_flats(current_user(), plan))


@bp.get("/plans/<int:plan_id>/ledger.xlsx")
@bp.auth_required(auth)
@bp.doc(responses=file(views.XLSX_MIME, "出资台账（Excel 工作簿）"))
def ledger(plan_id):
    """One row per flat of the caller's scope for the finance office: room, masked owner, amounts
    due, pledged and paid per item, methods, dates, receipt; totals that match the tally."""
    plan = _opened(_visible(plan_id))
    return Response(views.ledger(current_user(), plan), mimetype=views.XLSX_MIME, headers={
        "Content-Disposition": views.filename(plan, "出资台账", "xlsx"), "Cache-Control": "no-store"})


@bp.get("/pledges")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Pledge, many=True))
def mine():
    """My pledges and receipts: every pledge of the flats I own under each plan, newest first."""
    return ok(views.pledge_views(pledge_service.my_pledges(current_user())))


@bp.get("/pledges/<int:pledge_id>")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Pledge))
def show_pledge(pledge_id):
    """One pledge with its lines, payments and refunds (its owner, or staff of its flat's scope)."""
    return ok(views.pledge_views([pledge_service.visible(current_user(), pledge_id)])[0])


@bp.get("/pledges/<int:pledge_id>/agreement.pdf")
@bp.auth_required(auth)
@bp.doc(responses=file("application/pdf", "出资协议（PDF，A4）"))
def agreement(pledge_id):
    """The one-page 出资协议 of a pledge, with its signature, amounts in figures and in capitals."""
    pledge = pledge_service.visible(current_user(), pledge_id)
    return Response(views.agreement(pledge), mimetype="application/pdf", headers={
        "Content-Disposition": views.filename(pledge.plan, f"出资协议-{pledge.receipt}", "pdf"),
        "Cache-Control": "private, no-store"})


def _payment(pledge_id, body, kind):
    key = idempotency_key()
    user = current_user()
    try:
        payment = pledge_service.record(user, pledge_id, kind, body, key)
        db.session.commit()
    except IntegrityError:
        # The same Idempotency-Key raced itself: the payment that landed is the answer, if it is this one.
        db.session.rollback()
        pledge = db.session.get(Pledge, pledge_id)
        payment = db.session.scalar(db.select(PlanPayment).filter_by(
            plan_id=pledge.plan_id, idempotency_key=key)) if key and pledge else None
        if payment is None or payment.recorded_by_id != user.id:
            raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
        if (payment.pledge_id, payment.kind, payment.amount_fen, payment.method, payment.paid_on) != (
                pledge_id, kind, body["amount_fen"], body["method"], body["paid_on"]):
            raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一笔内容不同的登记，请勿重复使用",
                           {"Idempotency-Key": ["已用于另一笔登记"]})
    return ok(views.pledge_views([db.session.get(Pledge, payment.pledge_id)])[0], 201)


@bp.post("/pledges/<int:pledge_id>/payments")
@bp.auth_required(auth)
@bp.input(PaymentIn, arg_name="body")
@bp.doc(responses=answer(out.Pledge, status=201))
def pay(pledge_id, body):
    """Community staff or the treasurer record a payment (amount, method, date, reference, photo);
    more than is pledged is refused. Answers the pledge with its payments."""
    return _payment(pledge_id, body, "payment")


@bp.post("/pledges/<int:pledge_id>/refunds")
@bp.auth_required(auth)
@bp.input(PaymentIn, arg_name="body")
@bp.doc(responses=answer(out.Pledge, status=201))
def refund(pledge_id, body):
    """Record a refund, as payments are recorded; more than is paid is refused."""
    return _payment(pledge_id, body, "refund")


@bp.get("/payments/<int:payment_id>/photo")
@bp.auth_required(auth)
@bp.doc(responses=PHOTO)
def payment_photo(payment_id):
    """The evidence photo of a payment or refund, for staff of the flat's scope."""
    data, mimetype = pledge_service.payment_photo(current_user(), payment_id)
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})

