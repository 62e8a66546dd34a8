"""Pledges (出资承诺), paper pledges, payments and refunds of a contribution plan.

An owner whose binding person is the person the frozen plan names for the flat signs a pledge for
that flat: the items (every required one), a method each, the amounts (the amount due by default;
more is allowed, less only where the item allows it), a handwritten signature. Until the deadline
the flat's pledge may be changed; every version is kept and the last counts. A grid worker enters a
signed paper pledge with its photo; it counts once a second staff member confirms it.

Community staff and the compound's treasurer record payments and refunds against the pledge that
counts, split over its items; nobody pays more than the pledge or is refunded more than was paid.
Every pledge, confirmation, payment and refund is an entry of the plan's audit chain, hashing the
row's content, so `flask audit verify` names any edit behind the application's back."""
import hashlib
from datetime import timedelta
from types import SimpleNamespace

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Binding, Blob, Flat, PlanDue, PlanFlat, PlanPayment, Pledge, PledgeLine
from app.models.contributions import METHODS
from app.models.places import utcnow
from app.services import audit, scopes
from app.services.ballots import (PAPER_STAFF, PHOTO_MAX_BYTES, SIGNATURE_MAX_BYTES, _receipt,
                                  decode_image, store_image)
from app.services.consultations import speaks_for
from app.services.plans import (CASHIERS, PLAN_WATCHERS, chain_name, ensure_accepting, lock, terms,
                                visible_to_staff, yuan)

NOT_FOUND = "没有找到该出资承诺"


def content(pledge):
    return {"plan": pledge.plan_id, "flat": pledge.flat_id, "person": pledge.person_key, "channel": pledge.channel,
            "lines": pledge.lines, "total": pledge.total_fen, "user": pledge.user_id,
            "entered_by": pledge.entered_by_id, "signature": pledge.signature_sha256, "receipt": pledge.receipt,
            "at": pledge.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
            **({"proxy": pledge.proxy_id} if getattr(pledge, "proxy_id", None) else {})}


def payment_content(payment):
    return {"plan": payment.plan_id, "pledge": payment.pledge_id, "flat": payment.flat_id, "kind": payment.kind,
            "amount": payment.amount_fen, "allocation": payment.allocation, "method": payment.method,
            "paid_on": payment.paid_on.isoformat(), "reference": payment.reference, "photo": payment.photo_sha256,
            "recorded_by": payment.recorded_by_id, "at": payment.created_at.strftime("%Y-%m-%dT%H:%M:%S")}


def content_hash(row, of=content):
    return audit.sha256(audit.canonical(of(row)))


# ---------------------------------------------------------------- what a flat owes and has paid


def dues_of(plan_id, flat_id):
    return dict(db.session.execute(db.select(PlanDue.item, PlanDue.amount_fen)
                                   .filter_by(plan_id=plan_id, flat_id=flat_id)).all())


def paid_by_item(plan_id, flat_id):
    """{item: fen} paid less refunded, over every payment of the flat under the plan."""
    net = {}
    for kind, allocation in db.session.execute(db.select(PlanPayment.kind, PlanPayment.allocation)
                                               .filter_by(plan_id=plan_id, flat_id=flat_id)):
        sign = 1 if kind == "payment" else -1
        for item, fen in allocation.items():
            net[item] = net.get(item, 0) + sign * fen
    return net


def state_of(total_fen, paid, refunded):
    net = paid - refunded
    if refunded and net == 0:
        return "refunded"
    if net <= 0:
        return "pledged"
    return "paid" if net >= total_fen else "partly_paid"


def check_lines(frozen, dues, paid, lines):
    """The pledge's lines in the plan's item order, each with its amount, and their total; 422 in
    Chinese for an unknown or repeated item, a missing required item, a method the plan does not
    allow, an amount below what is due where the item does not allow less, or below what is paid."""
    items = {i["key"]: i for i in frozen["items"] if i["key"] in dues}  # the items this flat shares
    given = {}
    for line in lines:
        if line["item"] not in items:
            raise ApiError(422, "validation_error", "方案中没有该出资项目，或该项目不由本户分摊", {"lines": [line["item"]]})
        if line["item"] in given:
            raise ApiError(422, "validation_error", "同一出资项目只能填写一次", {"lines": [line["item"]]})
        given[line["item"]] = line
    missing = [i["name"] for i in items.values() if i["required"] and i["key"] not in given]
    if missing:
        raise ApiError(422, "validation_error", "必选项目必须包含：" + "、".join(missing), {"lines": missing})
    dropped = [i["name"] for i in items.values() if i["key"] not in given and paid.get(i["key"], 0) > 0]
    if dropped:
        raise ApiError(422, "below_paid", "已缴款的项目不能从承诺中去掉：" + "、".join(dropped), {"lines": dropped})
    out = []
    for item in items.values():
        line = given.get(item["key"])
        if line is None:
            continue
        name, method, due = item["name"], line["method"], dues.get(item["key"], 0)
        if method not in frozen["methods"]:
            allowed = "、".join(METHODS[m] for m in frozen["methods"])
            raise ApiError(422, "validation_error", f"「{name}」的出资方式不在本方案允许的范围内（{allowed}）",
                           {"lines": [method]})
        hours = line.get("hours")
        if method == "labour":
            if not hours:
                raise ApiError(422, "validation_error", f"「{name}」以投工投劳出资，请填写工时", {"lines": ["hours"]})
            amount = hours * frozen["labour_rate_fen"]
            if line.get("amount_fen") is not None and line["amount_fen"] != amount:
                raise ApiError(422, "validation_error", f"「{name}」投工 {hours} 小时折合 {yuan(amount)} 元，"
                               "金额应与工时一致", {"lines": ["amount_fen"]})
        else:
            if hours:
                raise ApiError(422, "validation_error", "只有投工投劳填写工时", {"lines": ["hours"]})
            amount = due if line.get("amount_fen") is None else line["amount_fen"]
        if amount < due and not item.get("allow_less"):
            raise ApiError(422, "below_due", f"「{name}」应缴 {yuan(due)} 元，本方案不允许少于应缴金额",
                           {"lines": [item["key"]], "due_fen": due})
        if amount < paid.get(item["key"], 0):
            raise ApiError(422, "below_paid", f"「{name}」已缴 {yuan(paid[item['key']])} 元，承诺不能低于已缴金额",
                           {"lines": [item["key"]]})
        if amount == 0 and due > 0:
            raise ApiError(422, "validation_error", f"「{name}」的金额应大于 0", {"lines": [item["key"]]})
        if amount > 2**31 - 1:
            raise ApiError(422, "validation_error", f"「{name}」的金额过大", {"lines": [item["key"]]})
        out.append({"item": item["key"], "method": method, "amount_fen": amount, "hours": hours,
                    "note": line.get("note") or ""})
    total = sum(line["amount_fen"] for line in out)
    if total == 0:
        raise ApiError(422, "nothing_pledged", "本户在所填项目中免于分摊，承诺金额合计为 0；如愿出资，请选择自选项目或填写金额",
                       {"lines": ["amount_fen"]})
    if total > 2**31 - 1:
        raise ApiError(422, "validation_error", "承诺金额合计过大", {"lines": ["amount_fen"]})
    return out, total


# ---------------------------------------------------------------- signing


def _plan_flat(plan_id, flat_id, for_update=True):
    query = db.select(PlanFlat).filter_by(plan_id=plan_id, flat_id=flat_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def same_lines(pledge, lines, frozen, dues):
    """Do the requested lines say what a stored pledge's lines say (an amount left out meaning the
    amount due, labour meaning hours × the frozen rate)?"""
    def normal(line):
        hours = line.get("hours")
        if line["method"] == "labour" and hours:
            amount = hours * (frozen.get("labour_rate_fen") or 0)
        else:
            amount = dues.get(line["item"], 0) if line.get("amount_fen") is None else line["amount_fen"]
        return (line["item"], line["method"], amount, hours or None, line.get("note") or "")

    return sorted(map(normal, lines)) == sorted(map(normal, pledge.lines))


def _replay(plan_id, key, who, same):
    replay = db.session.scalar(db.select(Pledge).filter_by(plan_id=plan_id, idempotency_key=key))
    if replay is None:
        return None
    if who(replay):
        if not same(replay):
            raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一份内容不同的承诺，请勿重复使用",
                           {"Idempotency-Key": ["已用于另一份承诺"]})
        return replay
    raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")


def sign(user, plan_id, flat_id, lines, signature, idempotency_key=None):
    """The online pledge of an owner for one flat; it replaces the flat's pledge that counts now."""
    raw, mimetype = decode_image(signature, ("PNG",), SIGNATURE_MAX_BYTES, "签名")
    digest = hashlib.sha256(raw).hexdigest()
    binding = db.session.scalar(db.select(Binding).filter_by(user_id=user.id, flat_id=flat_id, status="approved"))
    plan = lock(plan_id, shared=True)
    pf = _plan_flat(plan.id, flat_id)
    proxy = None
    if pf is not None and not (binding is not None and binding.relation == "owner"
                               and speaks_for(binding.owner_id, flat_id, pf.person_key)):
        from app.services.proxies import covering  # a written proxy for the flat's person (issue 15)

        proxy = covering(user.id, flat_id, pf.person_key, plan_id=plan.id)
    if pf is None or (binding is None and proxy is None):
        raise ApiError(404, "not_found", "没有找到该出资方案，或您尚未绑定该房屋")
    frozen = terms(plan)
    if idempotency_key:
        replay = _replay(plan.id, idempotency_key, lambda p: p.user_id == user.id,
                         lambda p: p.flat_id == flat_id and p.signature_sha256 == digest
                         and same_lines(p, lines, frozen, dues_of(plan.id, flat_id)))
        if replay is not None:
            return replay
    ensure_accepting(plan, frozen)
    if proxy is None and binding.relation != "owner":
        raise ApiError(403, "not_owner", "只有业主本人（或其书面委托人）可以签署出资承诺；家庭成员和租户可以查看应缴金额")
    if proxy is None and not speaks_for(binding.owner_id, flat_id, pf.person_key):
        raise ApiError(403, "not_roll_owner", "您绑定时核对的业主与本方案登记的业主不一致，不能签署；"
                       "如房屋已过户，请新业主重新绑定，或联系网格员核实")
    checked, total = check_lines(frozen, dues_of(plan.id, flat_id), paid_by_item(plan.id, flat_id), lines)
    blob = SimpleNamespace(id=store_image(raw, mimetype, digest), sha256=digest)  # one copy per image
    return _write(plan, pf, "online", checked, total, user_id=user.id, signature=blob, key=idempotency_key,
                  proxy_id=proxy.id if proxy is not None else None)


def _write(plan, pf, channel, lines, total, *, user_id=None, entered_by_id=None, signature=None, key=None,
           proxy_id=None):
    pledge = Pledge(plan_id=plan.id, flat_id=pf.flat_id, person_key=pf.person_key, channel=channel, proxy_id=proxy_id,
                    status="unconfirmed" if channel == "paper" else "current", lines=lines, total_fen=total,
                    user_id=user_id, entered_by_id=entered_by_id, signature_id=signature.id,
                    signature_sha256=signature.sha256, receipt=_receipt(), idempotency_key=key,
                    created_at=utcnow().replace(microsecond=0))
    pledge.content_hash = content_hash(pledge)
    db.session.add(pledge)
    db.session.flush()
    db.session.execute(PledgeLine.__table__.insert(), line_rows(pledge))
    replaces = _make_current(pf, pledge) if channel == "online" else None
    audit.append(chain_name(plan), "pledge" if channel == "online" else "paper_pledge_entered", "pledge", pledge.id,
                 {"pledge": pledge.id, "content_hash": pledge.content_hash, "flat": pf.flat_id,
                  "status": pledge.status, "replaces": replaces})
    current_app.logger.info("plan %s %s pledge %s", plan.id, channel, pledge.id)
    return pledge


def line_rows(pledge):
    """The pledge's lines as PledgeLine rows (what the tally sums)."""
    return [{"pledge_id": pledge.id, "item": line["item"], "method": line["method"], "amount_fen": line["amount_fen"]}
            for line in pledge.lines]


def _make_current(pf, pledge):
    """The pledge counts for its flat now; the one that counted before is superseded (its id returned)."""
    replaces = pf.pledge_id
    if replaces is not None:
        db.session.execute(db.update(Pledge).where(Pledge.id == replaces).values(status="superseded"))
    pledge.status = "current"
    pf.pledge_id = pledge.id
    db.session.flush()
    return replaces


def _staff_flat(user, flat_id, roles):
    flat = db.session.get(Flat, flat_id)
    if flat is None or not scopes.can(user, flat.unit.building, *roles):
        raise ApiError(404, "not_found", "没有找到该房屋")
    return flat


def enter_paper(user, plan_id, flat_id, lines, photo, idempotency_key=None):
    """A grid worker records a signed paper pledge with its photo; it counts once confirmed."""
    raw, mimetype = decode_image(photo, ("JPEG", "PNG"), PHOTO_MAX_BYTES, "纸质承诺书照片")
    digest = hashlib.sha256(raw).hexdigest()
    plan = lock(plan_id, shared=True)
    if not visible_to_staff(user, plan, PAPER_STAFF):
        raise ApiError(404, "not_found", "没有找到该出资方案")
    _staff_flat(user, flat_id, PAPER_STAFF)
    frozen = terms(plan)
    if idempotency_key:
        replay = _replay(plan.id, idempotency_key, lambda p: p.entered_by_id == user.id,
                         lambda p: p.flat_id == flat_id and p.signature_sha256 == digest
                         and same_lines(p, lines, frozen, dues_of(plan.id, flat_id)))
        if replay is not None:
            return replay
    ensure_accepting(plan, frozen)
    pf = _plan_flat(plan.id, flat_id)
    if pf is None:
        raise ApiError(422, "not_on_roll", "该房屋不在本出资方案范围内", {"flat_id": flat_id})
    checked, total = check_lines(frozen, dues_of(plan.id, flat_id), paid_by_item(plan.id, flat_id), lines)
    blob = SimpleNamespace(id=store_image(raw, mimetype, digest), sha256=digest)  # one copy per image
    return _write(plan, pf, "paper", checked, total, entered_by_id=user.id, signature=blob, key=idempotency_key)


def confirm_paper(user, pledge_id):
    """A second staff member confirms a paper pledge beside its photo; it then counts for the flat."""
    pledge = _paper_for_staff(user, pledge_id)
    if pledge.entered_by_id == user.id:
        raise ApiError(403, "same_person", "录入人不能确认自己录入的纸质承诺，请由另一名工作人员确认")
    plan = lock(pledge.plan_id, shared=True)
    frozen = terms(plan)
    ensure_accepting(plan, frozen)
    pf = _plan_flat(plan.id, pledge.flat_id)
    pledge = db.session.scalar(db.select(Pledge).where(Pledge.id == pledge_id).with_for_update()
                               .execution_options(populate_existing=True))
    if pledge.status != "unconfirmed":
        raise ApiError(409, "already_confirmed", "该纸质承诺已确认过", {"status": pledge.status})
    later = db.session.get(Pledge, pf.pledge_id) if pf.pledge_id else None
    if later is not None and later.id > pledge.id:  # signed after this paper pledge was entered
        raise ApiError(409, "superseded_by_later", "该户在这份纸质承诺录入之后又签署了新的承诺，以后签署的为准；"
                       "这份纸质承诺不再确认", {"current_pledge_id": later.id})
    paid = paid_by_item(plan.id, pledge.flat_id)
    short = [line["item"] for line in pledge.lines if line["amount_fen"] < paid.get(line["item"], 0)]
    if short or any(item not in {line["item"] for line in pledge.lines} for item, fen in paid.items() if fen > 0):
        raise ApiError(409, "below_paid", "该户已缴金额高于这份纸质承诺，不能确认；请核对后重新录入", {"items": short})
    pledge.confirmed_by_id, pledge.confirmed_at = user.id, utcnow().replace(microsecond=0)
    replaces = _make_current(pf, pledge)
    audit.append(chain_name(plan), "paper_pledge_confirmed", "pledge", pledge.id,
                 {"pledge": pledge.id, "content_hash": pledge.content_hash, "flat": pf.flat_id,
                  "confirmed_by": user.id, "status": "current", "replaces": replaces})
    return pledge


def paper_pledges(user, plan):
    """Paper pledges on flats of the user's scope, oldest first, with their rooms."""
    from app.services.plans import visible_building_ids

    visible = visible_building_ids(user, plan, PAPER_STAFF)
    rows = db.session.execute(
        db.select(Pledge, PlanFlat.label, PlanFlat.building_id)
        .join(PlanFlat, (PlanFlat.plan_id == Pledge.plan_id) & (PlanFlat.flat_id == Pledge.flat_id))
        .where(Pledge.plan_id == plan.id, Pledge.channel == "paper").order_by(Pledge.id))
    return [(pledge, label) for pledge, label, building_id in rows if building_id in visible]


def current_pledges(user, plan):
    """The pledges that count, on flats of the user's scope, by building, unit and flat."""
    from app.services.plans import visible_building_ids

    visible = visible_building_ids(user, plan)
    if not visible:
        return []
    return db.session.scalars(
        db.select(Pledge).join(PlanFlat, PlanFlat.pledge_id == Pledge.id)
        .where(PlanFlat.plan_id == plan.id, PlanFlat.building_id.in_(visible))
        .order_by(PlanFlat.building_id, PlanFlat.unit_id, PlanFlat.flat_id)).all()


# ---------------------------------------------------------------- who sees a pledge


def owner_can_see(user, pledge):
    """An owner bound to the flat as the person the plan names for it (the pledging owner, or the
    flat's owner for a paper pledge)."""
    pf = db.session.scalar(db.select(PlanFlat).filter_by(plan_id=pledge.plan_id, flat_id=pledge.flat_id))
    for binding in db.session.scalars(db.select(Binding).filter_by(user_id=user.id, flat_id=pledge.flat_id,
                                                                 status="approved", relation="owner")):
        if pf is not None and speaks_for(binding.owner_id, pledge.flat_id, pf.person_key):
            return True
    return False


def visible(user, pledge_id, roles=PLAN_WATCHERS):
    """The pledge, for its owner or staff of its flat's scope; 404 to everyone else."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is not None:
        flat = db.session.get(Flat, pledge.flat_id)
        if scopes.can(user, flat.unit.building, *roles) or (pledge.status != "unconfirmed" and owner_can_see(user, pledge)):
            return pledge
    raise ApiError(404, "not_found", NOT_FOUND)


def my_pledges(user):
    """Every pledge (not waiting for confirmation) of the flats where the user is the plan's owner,
    newest first."""
    rows = db.session.execute(
        db.select(Pledge, PlanFlat.person_key, Binding.owner_id)
        .join(Binding, (Binding.flat_id == Pledge.flat_id) & (Binding.user_id == user.id)
              & (Binding.status == "approved") & (Binding.relation == "owner"))
        .join(PlanFlat, (PlanFlat.plan_id == Pledge.plan_id) & (PlanFlat.flat_id == Pledge.flat_id))
        .where(Pledge.status != "unconfirmed").order_by(Pledge.id.desc()))
    seen, out = set(), []
    for pledge, person, owner_id in rows:
        if pledge.id not in seen and speaks_for(owner_id, pledge.flat_id, person):
            seen.add(pledge.id)
            out.append(pledge)
    return out


# ---------------------------------------------------------------- payments and refunds


def record(user, pledge_id, kind, data, idempotency_key=None):
    """A payment or refund against the pledge that counts for its flat, by community staff or the
    compound's treasurer. Split over the pledge's items (the one named, or in the plan's order);
    a payment beyond what is pledged, or a refund beyond what is paid, is refused."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    flat = db.session.get(Flat, pledge.flat_id)
    if not scopes.can(user, flat.unit.building, *CASHIERS):
        if scopes.can(user, flat.unit.building, *PLAN_WATCHERS):
            raise ApiError(403, "forbidden", "只有社区工作人员或本小区出纳可以登记缴款和退款",
                           {"allowed_roles": list(CASHIERS)})
        raise ApiError(404, "not_found", NOT_FOUND)
    photo = None
    if data.get("photo"):
        raw, mimetype = decode_image(data["photo"], ("JPEG", "PNG"), PHOTO_MAX_BYTES, "凭证照片")
        photo = SimpleNamespace(raw=raw, mimetype=mimetype, sha256=hashlib.sha256(raw).hexdigest())
    plan = lock(pledge.plan_id, shared=True)
    frozen = terms(plan)
    if idempotency_key:
        replay = db.session.scalar(db.select(PlanPayment).filter_by(plan_id=plan.id, idempotency_key=idempotency_key))
        if replay is not None:
            if replay.recorded_by_id != user.id:
                raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
            if not same_payment(replay, pledge_id, kind, data, photo):
                raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一笔内容不同的登记，请勿重复使用",
                               {"Idempotency-Key": ["已用于另一笔登记"]})
            return replay
    pf = _plan_flat(plan.id, pledge.flat_id)  # locks the flat: its payments are checked and written alone
    if pf.pledge_id != pledge.id:
        raise ApiError(409, "not_current", "这份承诺已被该户后来的承诺替代或尚未确认，请在当前有效的承诺上登记",
                       {"current_pledge_id": pf.pledge_id})
    if kind == "payment" and plan.status == "not_funded":
        raise ApiError(409, "not_funded", "该方案未达成，不能再登记缴款；已缴款项请登记退款")
    if kind == "payment" and data["method"] not in frozen["methods"]:
        allowed = "、".join(METHODS[m] for m in frozen["methods"])
        raise ApiError(422, "validation_error", f"缴款方式应为本方案允许的方式之一（{allowed}）", {"method": [data["method"]]})
    today = (utcnow() + timedelta(hours=8)).date()
    if data["paid_on"] > today:
        raise ApiError(422, "validation_error", "缴款日期不能晚于今天", {"paid_on": ["不能晚于今天"]})
    allocation = _allocate(kind, pledge, frozen, paid_by_item(plan.id, pledge.flat_id), data["amount_fen"],
                           data.get("item"))
    blob = None
    if photo is not None:
        blob = Blob(sha256=photo.sha256, mimetype=photo.mimetype, data=photo.raw)
        db.session.add(blob)
        db.session.flush()
    payment = PlanPayment(plan_id=plan.id, pledge_id=pledge.id, flat_id=pledge.flat_id, kind=kind,
                          amount_fen=data["amount_fen"], allocation=allocation, method=data["method"],
                          paid_on=data["paid_on"], reference=data.get("reference") or "",
                          photo_id=blob.id if blob else None, photo_sha256=photo.sha256 if photo else None,
                          recorded_by_id=user.id, idempotency_key=idempotency_key,
                          created_at=utcnow().replace(microsecond=0))
    payment.content_hash = content_hash(payment, payment_content)
    db.session.add(payment)
    db.session.flush()
    audit.append(chain_name(plan), kind, "plan_payment", payment.id,
                 {"payment": payment.id, "content_hash": payment.content_hash, "pledge": pledge.id,
                  "flat": pledge.flat_id})
    return payment


def same_payment(payment, pledge_id, kind, data, photo=None):
    """Is a stored payment what this request asks for (pledge, kind, amount, method, date, reference,
    item and photo)?"""
    return ((payment.pledge_id, payment.kind, payment.amount_fen, payment.method, payment.paid_on,
             payment.reference, payment.photo_sha256)
            == (pledge_id, kind, data["amount_fen"], data["method"], data["paid_on"], data.get("reference") or "",
                photo.sha256 if photo is not None else None)
            and (data.get("item") is None or payment.allocation == {data["item"]: data["amount_fen"]}))


def _allocate(kind, pledge, frozen, paid, amount, item=None):
    """{item: fen} of a payment (up to what is still owed on each line) or a refund (up to what was
    paid on each line, the last items first)."""
    names = {i["key"]: i["name"] for i in frozen["items"]}
    lines = {line["item"]: line["amount_fen"] for line in pledge.lines}
    room = ({k: v - paid.get(k, 0) for k, v in lines.items()} if kind == "payment"
            else {k: v for k, v in paid.items() if v > 0})
    if item is not None:
        if item not in (lines if kind == "payment" else room):
            raise ApiError(422, "validation_error", "这份承诺没有该出资项目" if kind == "payment" else "该项目没有已缴款项",
                           {"item": [item]})
        room = {item: room.get(item, 0)}
    order = [k for k in names if k in room]
    if kind == "refund":
        order.reverse()
    available = sum(max(room[k], 0) for k in order)
    if amount > available:
        if kind == "payment":
            raise ApiError(422, "overpayment", f"超额缴纳：{_what(names, item)}承诺 {yuan(sum(lines[k] for k in order))} 元，"
                           f"已缴 {yuan(sum(paid.get(k, 0) for k in order))} 元，本次最多可登记 {yuan(available)} 元",
                           {"amount_fen": [f"最多 {available}"], "available_fen": available})
        raise ApiError(422, "over_refund", f"退款超过已缴金额：{_what(names, item)}已缴 {yuan(available)} 元",
                       {"amount_fen": [f"最多 {available}"], "available_fen": available})
    allocation, left = {}, amount
    for key in order:
        take = min(max(room[key], 0), left)
        if take:
            allocation[key] = take
            left -= take
    return allocation


def _what(names, item):
    return f"「{names[item]}」" if item else "该户"


def payments_of(pledge_ids):
    if not pledge_ids:
        return []
    return db.session.scalars(db.select(PlanPayment).where(PlanPayment.pledge_id.in_(pledge_ids))
                              .order_by(PlanPayment.id)).all()


def payment_photo(user, payment_id):
    payment = db.session.get(PlanPayment, payment_id)
    if payment is None or payment.photo_id is None:
        raise ApiError(404, "not_found", "没有找到该凭证")
    flat = db.session.get(Flat, payment.flat_id)
    if not scopes.can(user, flat.unit.building, *PLAN_WATCHERS):
        raise ApiError(404, "not_found", "没有找到该凭证")
    blob = db.session.get(Blob, payment.photo_id)
    return blob.data, blob.mimetype


def _paper_for_staff(user, pledge_id):
    """A paper pledge on a flat of the user's scope; the same 404 for every other id, so nobody
    learns which ids are paper pledges."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is not None and pledge.channel == "paper":
        flat = db.session.get(Flat, pledge.flat_id)
        if scopes.can(user, flat.unit.building, *PAPER_STAFF):
            return pledge
    raise ApiError(404, "not_found", "没有找到该纸质承诺")


def paper_photo(user, pledge_id):
    pledge = _paper_for_staff(user, pledge_id)
    blob = db.session.get(Blob, pledge.signature_id)
    return blob.data, blob.mimetype
