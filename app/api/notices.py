"""Notices written by staff to a scope, and each user's in-app inbox."""
from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Nested
from apiflask.validators import Length

from app.api import outputs as out
from app.api.common import auth, current_user, ok, require_staff
from app.api.inputs import String
from app.api.outputs import answer
from app.api.schemas import ScopeIn
from app.extensions import db
from app.models import Compound
from app.models.notices import NOTICE_KINDS
from app.services import notices as service

bp = APIBlueprint("notices", __name__, url_prefix="/api/v1", tag="notices")


class NoticeIn(Schema):
    scope = Nested(ScopeIn, required=True)
    title = String(required=True, validate=Length(1, 100, error="标题为 1 到 100 个字"))
    body = String(required=True, multiline=True, validate=Length(1, 5000, error="正文为 1 到 5000 个字"))
    push = Boolean(load_default=False, metadata={"description": "同时发送订阅消息（已同意接收的居民）"})


class WritableScope(Schema):
    type = out.Enum(["compound", "building", "unit"])
    id = out.Int()
    name = out.Text()


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


class Inbox(Schema):
    items = out.Many(InboxItemOut)
    unread = out.Int()


class Marked(Schema):
    marked = out.Int()
    unread = out.Int()


def notice_view(n):
    return {"id": n.id, "kind": n.kind, "kind_name": NOTICE_KINDS[n.kind],
            "scope": {"type": n.scope_type, "id": n.scope_id},
            "compound": {"id": n.compound_id, "name": db.session.get(Compound, n.compound_id).name},
            "title": n.title, "body": n.body, "push": n.push, "created_at": n.created_at.isoformat() + "Z"}


def item_view(item):
    return {"id": item.id, "notice_id": item.notice_id, "title": item.title, "body": item.body, "page": item.page,
            "created_at": item.created_at.isoformat() + "Z", "read": item.read_at is not None}


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
    return ok([notice_view(n) for n in service.staff_notices(current_user())])


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
    return ok({"items": [item_view(i) for i in items], "unread": unread})


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
