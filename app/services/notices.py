"""Notices (通知) written by staff to a scope inside their own, and each resident's inbox.

A notice reaches the inbox of every user bound (approved, any relation) to a flat of its scope when
it is written; with `push`, each of them is also queued one subscribe message in the outbox (sent
once, by the dispatcher, where they allowed it). Grid workers write to the buildings of their grid.

A 公示 (kind publicity) is a notice with an objection period: during it, users bound to a flat of
its scope file one objection (异议) or opinion (意见) per flat, checked by WeChat's msgSecCheck
(risky: refused, nothing stored; review: held until staff release or reject it). Staff of the scope
see and answer them; `end_due` records the end and the number of flats that objected, once."""
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.errors import ApiError
from app.extensions import db
from app.models import Binding, Building, Compound, Consultation, Flat, InboxItem, Notice, Objection, Unit
from app.models.places import utcnow
from app.services import content, scopes
from app.services.consultations import covers_scope, scope_building, visible_among

WRITERS = ("grid_worker", "committee", "community_staff", "street_officer", "district_officer", "admin")
NOTICE_PAGE = "pages/inbox/index"


def may_write(user, scope_type, scope_id):
    """Does one of the user's writer roles cover the whole scope? (A grid covers buildings, never a compound.)"""
    return covers_scope(user, scope_type, scope_id, WRITERS)


def writable_scopes(user):
    """The places the user may write a notice to: each compound their role covers whole, and each
    building of their scope (a grid worker: the buildings of the grid), by name, at most 300."""
    rows = db.session.execute(
        scopes.join_place_tree(db.select(Building.id, Building.name, Compound.id, Compound.name))
        .where(scopes.buildings_condition(user, *WRITERS)).order_by(Compound.id, Building.id).limit(300)).all()
    places, seen = [], set()
    for building_id, building_name, compound_id, compound_name in rows:
        if compound_id not in seen:
            seen.add(compound_id)
            if may_write(user, "compound", compound_id):
                places.append({"type": "compound", "id": compound_id, "name": f"{compound_name}（全小区）"})
        places.append({"type": "building", "id": building_id, "name": f"{compound_name} {building_name}"})
    return places


def _recipients(scope_type, scope_id):
    column = {"compound": Building.compound_id, "building": Building.id, "unit": Unit.id}[scope_type]
    return db.session.scalars(
        db.select(Binding.user_id).distinct()
        .join(Flat, Binding.flat_id == Flat.id).join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(column == scope_id, Binding.status == "approved")
        .order_by(Binding.user_id)
    ).all()


def _publicity_terms(user, compound, data):
    """A 公示's period (naive UTC) and subject, checked: the end after the start and after now, the
    start not in the past (a minute of clock slack), the subject a consultation of the same compound
    the writer may see."""
    from app.services.consultations import as_utc_naive, visible_to_staff

    period = data.get("period")
    if not period:
        raise ApiError(422, "validation_error", "公示须有公示期（开始和结束时间）", {"period": ["必填项"]})
    start, end = as_utc_naive(period["start"]), as_utc_naive(period["end"])
    now = utcnow()
    if start < now - timedelta(minutes=1):
        raise ApiError(422, "validation_error", "公示开始时间不能早于现在", {"period": {"start": ["不能早于现在"]}})
    if end <= start:
        raise ApiError(422, "validation_error", "公示结束时间应晚于开始时间", {"period": {"end": ["应晚于开始时间"]}})
    subject = data.get("subject")
    if subject:
        consultation = db.session.get(Consultation, subject["id"])
        if consultation is None or consultation.compound_id != compound.id or not visible_to_staff(user, consultation):
            raise ApiError(404, "not_found", "没有找到公示的事项（应为本小区、您可查看的征询）")
    return start, end, subject


def create(user, data):
    """Write a notice (or a 公示 with its period) to a scope inside the writer's own; it lands in
    every bound resident's inbox."""
    scope_type, scope_id = data["scope"]["type"], data["scope"]["id"]
    building, compound = scope_building(scope_type, scope_id)
    if compound is None:
        raise ApiError(404, "not_found", "没有找到通知范围")
    if not may_write(user, scope_type, scope_id):
        if scopes.roles_of(user, *WRITERS):
            raise ApiError(403, "forbidden", "只能向您负责的范围发通知（网格员：本网格的楼栋或单元）")
        raise ApiError(403, "forbidden", "仅限工作人员发通知")
    kind = data.get("kind") or "notice"
    extra = {}
    if kind == "publicity":
        start, end, subject = _publicity_terms(user, compound, data)
        extra = {"period_start": start, "period_end": end,
                 "subject_type": subject["type"] if subject else None, "subject_id": subject["id"] if subject else None}
    elif data.get("period") or data.get("subject"):
        raise ApiError(422, "validation_error", "只有公示有公示期和公示事项", {"kind": ["应为 publicity"]})
    notice = Notice(kind=kind, compound_id=compound.id, scope_type=scope_type, scope_id=scope_id,
                    title=data["title"], body=data["body"], push=bool(data.get("push")), created_by_id=user.id, **extra)
    db.session.add(notice)
    db.session.flush()
    recipients = _recipients(scope_type, scope_id)
    page = f"{NOTICE_PAGE}?notice_id={notice.id}"
    if recipients:
        db.session.execute(db.insert(InboxItem), [
            {"user_id": uid, "notice_id": notice.id, "title": notice.title, "body": notice.body, "page": page,
             "created_at": notice.created_at} for uid in recipients
        ])
    queued = _push(notice, recipients, page) if notice.push else 0
    current_app.logger.info("notice %s to %s:%s by user=%s: %d inboxes, %d pushes", notice.id, scope_type, scope_id,
                            user.id, len(recipients), queued)
    return notice, len(recipients), queued


def _push(notice, recipients, page):
    """One subscribe message per recipient, queued once (the dedupe key names notice and user)."""
    from app.models import User
    from app.models.accounts import ROLES
    from app.services import outbox

    writer = db.session.get(User, notice.created_by_id)
    roles = scopes.roles_of(writer, *WRITERS)
    sender = ROLES[roles[0].role][0].split("/")[0] if roles else "社区"  # "网格员", "业委会", ...
    queued = 0
    for uid in recipients:
        queued += bool(outbox.enqueue(uid, "notice", {"thing1": notice.title, "name2": sender,
                                                      "time3": notice.created_at},
                                      page=page, dedupe_key=f"notice:{notice.id}:user:{uid}",
                                      subject=f"notice:{notice.id}"))
    return queued


def staff_notices(user):
    """Notices of compounds in the user's scope, newest first, that the user may see (its own scope)."""
    compounds = scopes.join_place_tree(db.select(Building.compound_id).distinct()).where(
        scopes.buildings_condition(user, *WRITERS))
    candidates = db.session.scalars(
        db.select(Notice).where(Notice.compound_id.in_(compounds)).order_by(Notice.id.desc()).limit(200)).all()
    return visible_among(user, candidates, WRITERS)  # a building of its scope in one of the user's


def inbox(user, limit=100):
    """The user's inbox, newest first, and how many are unread."""
    items = db.session.scalars(
        db.select(InboxItem).where(InboxItem.user_id == user.id).order_by(InboxItem.id.desc()).limit(limit)).all()
    unread = db.session.scalar(db.select(db.func.count(InboxItem.id)).where(
        InboxItem.user_id == user.id, InboxItem.read_at.is_(None)))
    return items, unread


def mark_read(user, item_id=None):
    """Mark one item (or, without an id, all) of the user's own inbox read; 404 for anyone else's."""
    query = db.update(InboxItem).where(InboxItem.user_id == user.id, InboxItem.read_at.is_(None))
    if item_id is not None:
        if db.session.scalar(db.select(InboxItem.id).where(InboxItem.id == item_id, InboxItem.user_id == user.id)) is None:
            raise ApiError(404, "not_found", "没有找到该消息")
        query = query.where(InboxItem.id == item_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


def notices_of(ids):
    """{id: Notice} for the inbox: one read for every notice its items name."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {n.id: n for n in db.session.scalars(db.select(Notice).where(Notice.id.in_(ids)))}


# ---------------------------------------------------------------- 公示: objections

OBJECTION_TEXT_MAX = 500


def _scope_column(scope_type):
    return {"compound": Building.compound_id, "building": Building.id, "unit": Unit.id}[scope_type]


def _flats_in_scope(notice, flat_ids):
    """The flats among flat_ids that lie in the notice's scope."""
    if not flat_ids:
        return set()
    return set(db.session.scalars(
        db.select(Flat.id).join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
        .where(_scope_column(notice.scope_type) == notice.scope_id, Flat.id.in_(flat_ids))))


def bound_flats(user, notice):
    """The flats of the notice's scope the user is bound to (approved, any relation)."""
    mine = set(db.session.scalars(db.select(Binding.flat_id).where(
        Binding.user_id == user.id, Binding.status == "approved")))
    return _flats_in_scope(notice, mine)


def readable_notice(user, notice_id):
    """(notice, staff?) for a notice the user may read: staff who may write to its scope, or a user
    bound to a flat of it. 404 for anyone else, as for a notice that does not exist."""
    notice = db.session.get(Notice, notice_id)
    if notice is not None:
        if may_write(user, notice.scope_type, notice.scope_id):
            return notice, True
        if bound_flats(user, notice):
            return notice, False
    raise ApiError(404, "not_found", "没有找到该通知")


def is_open(notice, now=None):
    now = now or utcnow()
    return notice.kind == "publicity" and notice.period_start <= now < notice.period_end


def object_to(user, notice_id, data, now=None):
    """File an objection or an opinion to a 公示 for one flat the user is bound to, during its period."""
    notice, _ = readable_notice(user, notice_id)
    flat_id = data["flat_id"]
    if flat_id not in bound_flats(user, notice):
        raise ApiError(404, "not_found", "没有找到该房屋或公示（须是您已绑定、在公示范围内的房屋）")
    if notice.kind != "publicity":
        raise ApiError(409, "not_publicity", "这条通知不是公示，不能提出异议")
    now = now or utcnow()
    if now < notice.period_start:
        raise ApiError(409, "not_started", "公示期未开始", {"starts_at": notice.period_start.isoformat() + "Z"})
    if now >= notice.period_end:
        raise ApiError(409, "ended", "公示期已结束", {"ended_at": notice.period_end.isoformat() + "Z"})
    if _existing(notice.id, user.id, flat_id) is not None:
        raise ApiError(409, "already_filed", "您已为这户提交过异议或意见")
    text = data["text"].strip()
    if not text:
        raise ApiError(422, "validation_error", "请填写内容", {"text": ["必填项"]})
    check = content.check_text(user, text)
    photo_id = content.store_photo(data["photo"]) if data.get("photo") else None
    objection = Objection(notice_id=notice.id, user_id=user.id, flat_id=flat_id, kind=data["kind"], text=text,
                          photo_id=photo_id, check=check, status="visible" if check == "pass" else "held")
    try:
        with db.session.begin_nested():
            db.session.add(objection)
    except IntegrityError:
        raise ApiError(409, "already_filed", "您已为这户提交过异议或意见")
    current_app.logger.info("objection %s to notice %s by user=%s for flat %s: %s", objection.id, notice.id,
                            user.id, flat_id, objection.status)
    return objection


def _existing(notice_id, user_id, flat_id):
    return db.session.scalar(db.select(Objection.id).where(
        Objection.notice_id == notice_id, Objection.user_id == user_id, Objection.flat_id == flat_id))


def objections(user, notice_id):
    """(notice, staff?, objections, flats the user may still object for): staff of the scope see
    every objection, a resident their own."""
    notice, staff = readable_notice(user, notice_id)
    query = db.select(Objection).where(Objection.notice_id == notice.id).order_by(Objection.id)
    if not staff:
        query = query.where(Objection.user_id == user.id)
    rows = db.session.scalars(query).all()
    free = []
    if notice.kind == "publicity":
        used = {o.flat_id for o in rows if o.user_id == user.id}
        free = sorted(bound_flats(user, notice) - used)
    return notice, staff, rows, free


def flat_labels(flat_ids):
    """{flat_id: "1栋1单元101"}."""
    if not flat_ids:
        return {}
    return {fid: f"{b}{u}{room}" for fid, b, u, room in db.session.execute(
        db.select(Flat.id, Building.name, Unit.name, Flat.room).join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id).where(Flat.id.in_(set(flat_ids))))}


def labels_and_names(objections_):
    """{flat_id: "1栋1单元101"} and {(user_id, flat_id): the binding's name} for these objections."""
    flat_ids = {o.flat_id for o in objections_}
    if not flat_ids:
        return {}, {}
    labels = flat_labels(flat_ids)
    names = {(uid, fid): name for uid, fid, name in db.session.execute(
        db.select(Binding.user_id, Binding.flat_id, Binding.name).where(
            Binding.flat_id.in_(flat_ids), Binding.status == "approved"))}
    return labels, names


def _staff_objection(user, objection_id):
    """The objection, for staff who may write to its 公示's scope; 404 for anyone else."""
    objection = db.session.get(Objection, objection_id)
    if objection is not None:
        notice = db.session.get(Notice, objection.notice_id)
        if may_write(user, notice.scope_type, notice.scope_id):
            return objection
    raise ApiError(404, "not_found", "没有找到该异议")


def photo_of(user, objection_id):
    """An objection with a photo, for staff of its scope or its writer; 404 for anyone else."""
    objection = db.session.get(Objection, objection_id)
    if objection is not None and objection.photo_id is not None:
        if objection.user_id == user.id:
            return objection
        notice = db.session.get(Notice, objection.notice_id)
        if may_write(user, notice.scope_type, notice.scope_id):
            return objection
    raise ApiError(404, "not_found", "没有找到该照片")


def answer(user, objection_id, text):
    objection = _staff_objection(user, objection_id)
    if objection.status == "rejected":
        raise ApiError(409, "rejected", "该内容已不予公开，无需答复")
    objection.answer, objection.answered_by_id, objection.answered_at = text, user.id, utcnow()
    return objection


def release(user, objection_id):
    """A held objection (msgSecCheck said review) made visible by staff who read it."""
    objection = _staff_objection(user, objection_id)
    if objection.status != "held":
        raise ApiError(409, "not_held", "只有待审核的内容可以公开", {"status": objection.status})
    objection.status = "visible"
    return objection


def reject(user, objection_id, reason):
    """A held objection not made visible, with the reason its writer reads."""
    objection = _staff_objection(user, objection_id)
    if objection.status != "held":
        raise ApiError(409, "not_held", "只有待审核的内容可以不予公开", {"status": objection.status})
    objection.status, objection.reason = "rejected", reason
    return objection


def objecting_flats(notice_id):
    """Flats with a visible objection (kind objection) to this 公示: the veto's explicit objectors."""
    return set(db.session.scalars(db.select(Objection.flat_id).distinct().where(
        Objection.notice_id == notice_id, Objection.kind == "objection", Objection.status == "visible")))


def check_objection_notice(compound_id, notice_id):
    """A consultation's rule may name a 公示 of its own compound only."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.kind != "publicity" or notice.compound_id != compound_id:
        raise ApiError(422, "validation_error", "表决规则有误",
                       {"rule": ["objection_notice_id 应为本小区的一条公示"]})


def end_due(now=None):
    """Record the end of every 公示 whose period is over: ended_at and the number of flats with a
    visible objection. Once: the UPDATE only takes a row whose ended_at is still empty, so a second
    scheduler's run changes nothing."""
    now = now or utcnow()
    due = db.session.scalars(db.select(Notice.id).where(
        Notice.kind == "publicity", Notice.ended_at.is_(None), Notice.period_end <= now).order_by(Notice.id)).all()
    ended = []
    for notice_id in due:
        count = len(objecting_flats(notice_id))
        done = db.session.execute(db.update(Notice).where(Notice.id == notice_id, Notice.ended_at.is_(None))
                                  .values(ended_at=now, objection_count=count)).rowcount
        db.session.commit()
        if done:
            ended.append(notice_id)
            current_app.logger.info("publicity %s ended with %d objecting flats", notice_id, count)
    return ended
