"""Notices written by staff to a scope, and each user's in-app inbox."""
from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Nested
from apiflask.validators import Length, OneOf
from flask import Response

from app.api import outputs as out
from app.api.common import auth, current_user, ok, require_staff
from app.api.inputs import DateTime, Id, String
from app.api.outputs import answer
from app.api.schemas import ScopeIn
from app.extensions import db
from app.models import Blob, Compound
from app.models.notices import NOTICE_KINDS, OBJECTION_KINDS, OBJECTION_STATUSES
from app.services import notices as service
from app.services.privacy import mask_name

bp = APIBlueprint("notices", __name__, url_prefix="/api/v1", tag="notices")


class PeriodIn(Schema):
    start = DateTime(required=True)
    end = DateTime(required=True)


class SubjectIn(Schema):
    type = String(required=True, validate=OneOf(["consultation"], error="应为 consultation"))
    id = Id(required=True)


class NoticeIn(Schema):
    kind = String(load_default="notice", validate=OneOf(list(NOTICE_KINDS), error="应为 notice（通知）或 publicity（公示）"))
    scope = Nested(ScopeIn, required=True)
    title = String(required=True, validate=Length(1, 100, error="标题为 1 到 100 个字"))
    body = String(required=True, multiline=True, validate=Length(1, 5000, error="正文为 1 到 5000 个字"))
    push = Boolean(load_default=False, metadata={"description": "同时发送订阅消息（已同意接收的居民）"})
    period = Nested(PeriodIn, load_default=None, metadata={"description": "公示期（仅公示，必填）"})
    subject = Nested(SubjectIn, load_default=None, metadata={"description": "公示的事项（仅公示，可选）"})


class ObjectionIn(Schema):
    flat_id = Id(required=True)
    kind = String(required=True, validate=OneOf(list(OBJECTION_KINDS), error="应为 objection（异议）或 opinion（意见）"))
    text = String(required=True, multiline=True, validate=Length(1, service.OBJECTION_TEXT_MAX, error="内容为 1 到 500 个字"))
    photo = String(load_default=None)  # size and format: ballots.decode_image (413, 422)


class AnswerIn(Schema):
    answer = String(required=True, multiline=True, validate=Length(1, 1000, error="答复为 1 到 1000 个字"))


class RejectIn(Schema):
    reason = String(required=True, validate=Length(1, 200, error="原因为 1 到 200 个字"))


class WritableScope(Schema):
    type = out.Enum(["compound", "building", "unit"])
    id = out.Int()
    name = out.Text()


class Period(Schema):
    start = out.Time()
    end = out.Time()


class Subject(Schema):
    type = out.Enum(["consultation"])
    id = out.Int()


class Publicity(Schema):
    period = out.One(Period)
    subject = out.One(Subject, nullable=True)
    objections_open = out.Bool(metadata={"description": "现在是否在公示期内（可提出异议或意见）"})
    ended_at = out.Time(nullable=True, metadata={"description": "公示结束的记录时间"})
    objection_count = out.Int(nullable=True, metadata={"description": "公示结束时提出异议的户数"})


class NoticeOut(Schema):
    id = out.Int()
    kind = out.Enum(list(NOTICE_KINDS))
    kind_name = out.Text()
    scope = out.One(out.ScopeRef)
    compound = out.One(out.PlaceRef)
    title = out.Text()
    body = out.Text()
    push = out.Bool()
    created_at = out.Time()
    publicity = out.One(Publicity, nullable=True, metadata={"description": "公示的公示期等；通知为 null"})


class NoticeCreated(NoticeOut):
    recipients = out.Int(metadata={"description": "收到站内消息的居民人数"})
    pushes_queued = out.Int(metadata={"description": "排队发送的订阅消息条数"})


class InboxItemOut(Schema):
    id = out.Int()
    notice_id = out.Int(nullable=True)
    title = out.Text()
    body = out.Text()
    page = out.Text(nullable=True)
    created_at = out.Time()
    read = out.Bool()
    publicity = out.One(Publicity, nullable=True, metadata={"description": "这条消息是公示时：公示期等"})


class Inbox(Schema):
    items = out.Many(InboxItemOut)
    unread = out.Int()


class FlatLabel(Schema):
    id = out.Int()
    label = out.Text()


class ObjectionOut(Schema):
    id = out.Int()
    notice_id = out.Int()
    kind = out.Enum(list(OBJECTION_KINDS))
    kind_name = out.Text()
    flat = out.One(FlatLabel)
    name = out.Text(nullable=True, metadata={"description": "提出人（已遮挡，如 张*）"})
    mine = out.Bool()
    text = out.Text()
    has_photo = out.Bool()
    status = out.Enum(list(OBJECTION_STATUSES))
    status_name = out.Text()
    reason = out.Text(nullable=True, metadata={"description": "不予公开的原因"})
    answer = out.Text(nullable=True)
    answered_at = out.Time(nullable=True)
    created_at = out.Time()


class Objections(Schema):
    notice = out.One(NoticeOut)
    staff = out.Bool(metadata={"description": "true：工作人员，看到全部；false：居民，只看到自己的"})
    objections = out.Many(ObjectionOut)
    flats = out.Many(FlatLabel, metadata={"description": "我还可以为之提出异议或意见的房屋"})


class Marked(Schema):
    marked = out.Int()
    unread = out.Int()


def _time(value):
    return value.isoformat() + "Z" if value is not None else None


def publicity_view(n):
    if n is None or n.kind != "publicity":
        return None
    return {"period": {"start": _time(n.period_start), "end": _time(n.period_end)},
            "subject": {"type": n.subject_type, "id": n.subject_id} if n.subject_type else None,
            "objections_open": service.is_open(n), "ended_at": _time(n.ended_at), "objection_count": n.objection_count}


def notice_view(n):
    return notice_views([n])[0]


def notice_views(notices):
    """Notices as the API shows them; their compounds' names read in one statement."""
    names = dict(db.session.execute(db.select(Compound.id, Compound.name).where(
        Compound.id.in_({n.compound_id for n in notices}))).all()) if notices else {}
    return [_notice_view(n, names[n.compound_id]) for n in notices]


def _notice_view(n, compound_name):
    return {"id": n.id, "kind": n.kind, "kind_name": NOTICE_KINDS[n.kind],
            "scope": {"type": n.scope_type, "id": n.scope_id},
            "compound": {"id": n.compound_id, "name": compound_name},
            "title": n.title, "body": n.body, "push": n.push, "created_at": n.created_at.isoformat() + "Z",
            "publicity": publicity_view(n)}


def item_view(item, notices=None):
    notice = (notices or {}).get(item.notice_id)
    return {"id": item.id, "notice_id": item.notice_id, "title": item.title, "body": item.body, "page": item.page,
            "created_at": item.created_at.isoformat() + "Z", "read": item.read_at is not None,
            "publicity": publicity_view(notice)}


def objection_view(o, user, labels, names):
    return {"id": o.id, "notice_id": o.notice_id, "kind": o.kind, "kind_name": OBJECTION_KINDS[o.kind],
            "flat": {"id": o.flat_id, "label": labels.get(o.flat_id, str(o.flat_id))},
            "name": mask_name(names.get((o.user_id, o.flat_id))), "mine": o.user_id == user.id,
            "text": o.text, "has_photo": o.photo_id is not None, "status": o.status,
            "status_name": OBJECTION_STATUSES[o.status], "reason": o.reason, "answer": o.answer,
            "answered_at": _time(o.answered_at), "created_at": _time(o.created_at)}


def _one_objection(objection):
    user = current_user()
    labels, names = service.labels_and_names([objection])
    return objection_view(objection, user, labels, names)


@bp.post("/notices")
@bp.auth_required(auth)
@bp.input(NoticeIn, arg_name="body")
@bp.doc(responses=answer(NoticeCreated, status=201))
def create(body):
    """Write a notice to a scope inside your own; every bound resident of it finds it in the inbox."""
    notice, recipients, queued = service.create(current_user(), body)
    db.session.commit()
    return ok({**notice_view(notice), "recipients": recipients, "pushes_queued": queued}, 201)


@bp.get("/notices")
@bp.auth_required(auth)
@bp.doc(responses=answer(NoticeOut, many=True))
def index():
    """Notices written in the caller's scope, newest first (staff)."""
    require_staff(*service.WRITERS)
    return ok(notice_views(service.staff_notices(current_user())))


@bp.get("/notices/scopes")
@bp.auth_required(auth)
@bp.doc(responses=answer(WritableScope, many=True))
def writable_scopes():
    """The places the caller may write a notice to (a grid worker: the buildings of the grid)."""
    require_staff(*service.WRITERS)
    return ok(service.writable_scopes(current_user()))


@bp.get("/inbox")
@bp.auth_required(auth)
@bp.doc(responses=answer(Inbox))
def inbox():
    """My inbox: notices of my flats' scopes and copies of the messages pushed to me, with the unread count."""
    items, unread = service.inbox(current_user())
    notices = service.notices_of(i.notice_id for i in items)
    return ok({"items": [item_view(i, notices) for i in items], "unread": unread})


@bp.post("/inbox/<int:item_id>/read")
@bp.auth_required(auth)
@bp.doc(responses=answer(Marked))
def read(item_id):
    """Mark one message of my inbox read."""
    marked = service.mark_read(current_user(), item_id)
    db.session.commit()
    return ok({"marked": marked, "unread": service.inbox(current_user(), limit=0)[1]})


@bp.post("/inbox/read-all")
@bp.auth_required(auth)
@bp.doc(responses=answer(Marked))
def read_all():
    """Mark every message of my inbox read."""
    marked = service.mark_read(current_user())
    db.session.commit()
    return ok({"marked": marked, "unread": 0})


@bp.get("/notices/<int:notice_id>/objections")
@bp.auth_required(auth)
@bp.doc(responses=answer(Objections))
def objections(notice_id):
    """A 公示's objections and opinions: staff of its scope see all (names masked, rooms shown), a
    resident their own and the flats they may still file for."""
    user = current_user()
    notice, staff, rows, free = service.objections(user, notice_id)
    labels, names = service.labels_and_names(rows)
    flat_labels = service.flat_labels(free)
    return ok({"notice": notice_view(notice), "staff": staff,
               "objections": [objection_view(o, user, labels, names) for o in rows],
               "flats": [{"id": f, "label": flat_labels.get(f, str(f))} for f in free]})


@bp.post("/notices/<int:notice_id>/objections")
@bp.auth_required(auth)
@bp.input(ObjectionIn, arg_name="body")
@bp.doc(responses=answer(ObjectionOut, status=201))
def object_to(notice_id, body):
    """File an objection (异议) or an opinion (意见) to a 公示 for a flat I am bound to, during its
    period; text checked by WeChat (refused: 422; to be reviewed: held until staff release it)."""
    objection = service.object_to(current_user(), notice_id, body)
    db.session.commit()
    return ok(_one_objection(objection), 201)


@bp.post("/objections/<int:objection_id>/answer")
@bp.auth_required(auth)
@bp.input(AnswerIn, arg_name="body")
@bp.doc(responses=answer(ObjectionOut))
def answer_objection(objection_id, body):
    """Staff of the 公示's scope answer an objection or opinion."""
    objection = service.answer(current_user(), objection_id, body["answer"])
    db.session.commit()
    return ok(_one_objection(objection))


@bp.post("/objections/<int:objection_id>/release")
@bp.auth_required(auth)
@bp.doc(responses=answer(ObjectionOut))
def release_objection(objection_id):
    """Staff make a held objection (WeChat's check said review) visible."""
    objection = service.release(current_user(), objection_id)
    db.session.commit()
    return ok(_one_objection(objection))


@bp.post("/objections/<int:objection_id>/reject")
@bp.auth_required(auth)
@bp.input(RejectIn, arg_name="body")
@bp.doc(responses=answer(ObjectionOut))
def reject_objection(objection_id, body):
    """Staff keep a held objection from being shown, with the reason its writer reads."""
    objection = service.reject(current_user(), objection_id, body["reason"])
    db.session.commit()
    return ok(_one_objection(objection))


@bp.get("/objections/<int:objection_id>/photo")
@bp.auth_required(auth)
@bp.doc(responses={200: {"description": "异议附带的照片（JPEG 或 PNG）",
                         "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                                     "image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def objection_photo(objection_id):
    """The photo of an objection, for staff of the 公示's scope and for its writer."""
    objection = service.photo_of(current_user(), objection_id)
    blob = db.session.get(Blob, objection.photo_id)
    return Response(blob.data, mimetype=blob.mimetype, headers={"Cache-Control": "private, no-store"})
