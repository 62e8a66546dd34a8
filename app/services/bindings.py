"""Binding a resident to a flat: proof against the roster, a grid worker's review, unbinding."""
from datetime import timedelta

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Binding, BindingAttempt, Flat
from app.models.bindings import ACTIVE, RELATIONS
from app.models.places import utcnow
from app.services import scopes

MAX_FAILURES_PER_HOUR = 5
REVIEWERS = ("grid_worker", "community_staff", "admin")


def _failures_last_hour(user):
    since = utcnow() - timedelta(hours=1)
    return db.session.scalar(
        db.select(db.func.count(BindingAttempt.id)).where(
            BindingAttempt.user_id == user.id, BindingAttempt.matched.is_(False), BindingAttempt.created_at >= since
        )
    )


def _proof(user, flat, relation, name, phone_last4):
    """How the roster vouches for an owner, or None."""
    owner = flat.owner
    if relation != "owner" or owner is None or flat.developer_held:
        return None
    if user.phone and owner.phone and user.phone == owner.phone:
        return "wechat_phone"
    if owner.phone and phone_last4 and name.strip() == owner.name and owner.phone[-4:] == phone_last4:
        return "roster_phone"
    return None


def request_binding(user, flat_id, relation, name, phone_last4=None):
    """A roster match binds an owner at once; anything else waits for the building's grid worker."""
    if relation not in RELATIONS:
        raise ApiError(422, "validation_error", "身份应为 业主、家庭成员 或 租户", {"relation": list(RELATIONS)})
    if _failures_last_hour(user) >= MAX_FAILURES_PER_HOUR:
        current_app.logger.warning("binding attempt refused: user=%s flat=%s too many failures", user.id, flat_id)
        raise ApiError(429, "too_many_attempts", "核对失败次数过多，请一小时后再试，或联系网格员协助绑定")
    flat = db.session.get(Flat, flat_id)
    if flat is None:
        raise ApiError(404, "not_found", "没有找到该房屋")
    active = db.session.scalar(
        db.select(Binding).where(Binding.user_id == user.id, Binding.flat_id == flat.id, Binding.status.in_(ACTIVE))
    )
    if active is not None and active.status == "approved":
        raise ApiError(409, "already_bound", "您已绑定该房屋", {"binding_id": active.id, "status": active.status})
    method = _proof(user, flat, relation, name, phone_last4)
    matched = method is not None
    outcome = "approved" if matched else "pending"
    db.session.add(BindingAttempt(user_id=user.id, flat_id=flat.id, relation=relation, matched=matched or relation != "owner", outcome=outcome))
    current_app.logger.info("binding attempt user=%s flat=%s relation=%s outcome=%s", user.id, flat.id, relation, outcome)
    if active is not None:
        # A second try while waiting: a match now settles it, anything else keeps waiting.
        if not matched:
            db.session.flush()
            raise ApiError(409, "already_pending", "您的绑定申请正在等待网格员审核", {"binding_id": active.id, "status": active.status})
        active.status, active.method, active.relation, active.reviewed_at = "approved", method, relation, utcnow()
        db.session.flush()
        return active
    binding = Binding(
        user=user, flat=flat, relation=relation, name=name.strip(), status=outcome, method=method,
        reviewed_at=utcnow() if matched else None,
    )
    db.session.add(binding)
    db.session.flush()
    return binding


def visible_binding(user, binding_id, for_review=False):
    """A binding its own resident, or staff of its building, may see; 404 to everyone else."""
    binding = db.session.get(Binding, binding_id)
    if binding is None:
        raise ApiError(404, "not_found", "没有找到该绑定申请")
    building = binding.flat.unit.building
    if for_review:
        allowed = scopes.can(user, building, *REVIEWERS)
    else:
        allowed = binding.user_id == user.id or scopes.can(user, building, *REVIEWERS)
    if not allowed:
        raise ApiError(404, "not_found", "没有找到该绑定申请")
    return binding


def review(reviewer, binding_id, approve, reason=None):
    """A grid worker of the building approves or rejects a pending binding."""
    binding = visible_binding(reviewer, binding_id, for_review=True)
    if binding.status != "pending":
        raise ApiError(409, "not_pending", "该申请已处理，无需重复审核", {"status": binding.status})
    if not approve and not (reason or "").strip():
        raise ApiError(422, "validation_error", "驳回时请填写原因", {"reason": ["必填项"]})
    binding.status = "approved" if approve else "rejected"
    binding.method = "staff" if approve else None
    binding.reviewed_by_id = reviewer.id
    binding.reviewed_at = utcnow()
    binding.reason = (reason or "").strip() or None
    db.session.flush()
    current_app.logger.info("binding %s %s by user=%s", binding.id, binding.status, reviewer.id)
    return binding


def unbind(user, binding_id, reason=None):
    """The resident, or staff of the building, ends a binding."""
    binding = visible_binding(user, binding_id)
    if binding.status not in ACTIVE:
        raise ApiError(409, "not_active", "该绑定已失效")
    binding.status = "unbound"
    binding.reason = (reason or "").strip() or ("本人解绑" if binding.user_id == user.id else "工作人员解绑")
    binding.reviewed_by_id = user.id
    binding.reviewed_at = utcnow()
    db.session.flush()
    return binding


def pending_for(reviewer, status="pending"):
    """Bindings of the given status on the buildings in the reviewer's scope, oldest first."""
    from app.models import Building, Unit

    query = (
        db.select(Binding)
        .join(Flat, Binding.flat_id == Flat.id)
        .join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
    )
    query = scopes.join_place_tree(query).where(
        scopes.buildings_condition(reviewer, *REVIEWERS), Binding.status == status
    )
    return db.session.scalars(query.order_by(Binding.created_at, Binding.id)).all()


def user_bindings(user):
    return db.session.scalars(
        db.select(Binding).where(Binding.user_id == user.id, Binding.status.in_(ACTIVE)).order_by(Binding.id)
    ).all()
