"""The outbox, for staff: messages to the residents of their scope and what became of each."""
from apiflask import APIBlueprint, Schema
from apiflask.validators import OneOf

from app.api import outputs as out
from app.api.common import auth, current_user, ok, require_staff
from app.api.inputs import Integer, String
from app.api.outputs import answer
from app.api.views import flat_view
from app.models.messages import OUTBOX_STATUSES
from app.services import outbox as service

bp = APIBlueprint("outbox", __name__, url_prefix="/api/v1", tag="outbox")


class OutboxQuery(Schema):
    status = String(load_default=None, validate=OneOf(list(OUTBOX_STATUSES)),
                    metadata={"description": "queued 待发送、sending 发送中、sent 已发送、failed 未送达、held 已搁置"})
    limit = Integer(in_query=True, minimum=1, maximum=1000, load_default=200)


def _time(value):
    return value.isoformat() + "Z" if value else None


def outbox_view(message, flat):
    templates = service.templates()
    return {
        "id": message.id,
        "template": message.template,
        "template_title": (templates.get(message.template) or {}).get("title") or message.template,
        "status": message.status,
        "status_name": OUTBOX_STATUSES.get(message.status, message.status),
        "attempts": message.attempts,
        "last_error": message.last_error,
        "next_attempt_at": _time(message.next_attempt_at),
        "created_at": _time(message.created_at),
        "sent_at": _time(message.sent_at),
        "subject": message.subject,
        "flat_id": message.flat_id,
        "flat_label": flat_view(flat)["label"] if flat is not None else None,
    }


@bp.get("/outbox")
@bp.auth_required(auth)
@bp.input(OutboxQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.OutboxItem, many=True))
def index(query):
    """Messages to residents bound to flats in the caller's scope (newest first), optionally of one
    status: failed ones with their reason (no_quota, 43101: the flat needs a door visit)."""
    require_staff(*service.READERS)
    items = service.visible(current_user(), query["status"], query["limit"])
    return ok([outbox_view(m, f) for m, f in items])
