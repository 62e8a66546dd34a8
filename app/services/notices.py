"""Notices (通知) written by staff to a scope inside their own, and each resident's inbox.

A notice reaches the inbox of every user bound (approved, any relation) to a flat of its scope when
it is written; with `push`, each of them is also queued one subscribe message in the outbox (sent
once, by the dispatcher, where they allowed it). Grid workers write to the buildings of their grid."""
from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Binding, Building, Compound, Flat, InboxItem, Notice, Unit
from app.models.places import utcnow
from app.services import scopes

WRITERS = ("grid_worker", "committee", "community_staff", "street_officer", "district_officer", "admin")
NOTICE_PAGE = "pages/inbox/index"


def _scope_place(scope_type, scope_id):
    """(building or None, compound) a scope names; (None, None) when it names nothing."""
    if scope_type == "compound":
        compound = db.session.get(Compound, scope_id)
        return None, compound
    if scope_type == "building":
        building = db.session.get(Building, scope_id)
    else:
        unit = db.session.get(Unit, scope_id)
        building = unit.building if unit else None
    return (building, building.compound) if building else (None, None)


def may_write(user, scope_type, scope_id):
    """Does one of the user's writer roles cover the whole scope? (A grid covers buildings, never a compound.)"""
    building, compound = _scope_place(scope_type, scope_id)
    if compound is None:
        return False
    for role in scopes.roles_of(user, *WRITERS):
        if scopes.covers(role, building) if building is not None else scopes.covers_compound(role, compound):
            return True
    return False


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


def create(user, data):
    """Write a notice to a scope inside the writer's own; it lands in every bound resident's inbox."""
    scope_type, scope_id = data["scope"]["type"], data["scope"]["id"]
    building, compound = _scope_place(scope_type, scope_id)
    if compound is None:
        raise ApiError(404, "not_found", "没有找到通知范围")
    if not may_write(user, scope_type, scope_id):
        if scopes.roles_of(user, *WRITERS):
            raise ApiError(403, "forbidden", "只能向您负责的范围发通知（网格员：本网格的楼栋或单元）")
        raise ApiError(403, "forbidden", "仅限工作人员发通知")
    notice = Notice(kind="notice", compound_id=compound.id, scope_type=scope_type, scope_id=scope_id,
                    title=data["title"], body=data["body"], push=bool(data.get("push")), created_by_id=user.id)
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
        db.select(Notice).where(Notice.compound_id.in_(compounds)).order_by(Notice.id.desc()).limit(200))
    return [n for n in candidates if _scope_visible(user, n)]


def _scope_visible(user, notice):
    building, compound = _scope_place(notice.scope_type, notice.scope_id)
    if building is not None:
        return scopes.can(user, building, *WRITERS)
    return any(scopes.can(user, b, *WRITERS) for b in compound.buildings)


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
