"""Subscribe messages: the templates a user accepted in wx.requestSubscribeMessage (each acceptance
allows one send of that template to that user)."""
from apiflask import APIBlueprint, Schema
from apiflask.fields import List
from apiflask.validators import Length
from flask import current_app
from marshmallow import ValidationError

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.inputs import String
from app.api.outputs import answer
from app.extensions import db
from app.services import outbox as service

bp = APIBlueprint("subscriptions", __name__, url_prefix="/api/v1", tag="subscriptions")


def _known_templates(names):
    known = current_app.config["SUBSCRIBE_TEMPLATES"]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValidationError(f"没有这些订阅消息模板：{'、'.join(unknown)}（可用：{'、'.join(known)}）")
    if len(set(names)) != len(names):
        raise ValidationError("模板名称重复")


class SubscriptionsIn(Schema):
    accepted = List(
        String(validate=Length(1, 32)), required=True,
        validate=[Length(0, service.MAX_SUBSCRIBE_PER_CALL, error="一次最多订阅 3 个模板（微信的限制）"), _known_templates],
        metadata={"description": "用户在 wx.requestSubscribeMessage 中点了「允许」的模板名称（配置中的名字，"
                                 "见 GET /subscriptions），每次最多 3 个"},
    )


@bp.get("/subscriptions")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Subscriptions))
def index():
    """The subscribe-message templates (with their WeChat ids, for wx.requestSubscribeMessage) and
    how many sends of each the signed-in user allows."""
    return ok({"quotas": service.quotas(current_user().id)})


@bp.post("/subscriptions")
@bp.auth_required(auth)
@bp.input(SubscriptionsIn, arg_name="body")
@bp.doc(responses=answer(out.Subscriptions))
def accept(body):
    """Record the templates the user accepted: one more send of each. Answers the user's quotas."""
    user_id = current_user().id
    service.accept(user_id, body["accepted"])
    db.session.commit()
    return ok({"quotas": service.quotas(user_id)})
