"""Binding a resident to a flat: proof against the roster, a grid worker's review, unbinding."""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import contains_eager, joinedload

from app.errors import ApiError
from app.extensions import db
from app.models import Binding, BindingAttempt, Building, Compound, Flat, Unit, User
from app.models.bindings import ACTIVE, RELATIONS
from app.models.places import utcnow
from app.services import audit, scopes
from app.services.consultations import _begin_immediate_on_sqlite

# Limits on proving a flat is one's own (DESIGN.md §4 flow 3). Every attempt that does not match the
# roster counts, whatever the relation, against its user and against its flat.
USER_FAILURES_PER_HOUR = 5  # then the user's attempts are refused (429) for the rest of the hour
FLAT_FAILURES_PER_HOUR = 5  # then no owner of the flat binds at once for an hour: a grid worker decides
FLAT_FAILURES_PER_DAY = 10  # then the flat is locked until a grid worker of its grid unlocks it
MAX_PENDING = 3  # pending bindings a user may have at once
REVIEWERS = ("grid_worker", "community_staff", "admin")


@dataclass
class Attempt:
    """What one binding attempt came to: the binding (new or settled), or the error to answer with.
    Either way the attempt itself is written and must be committed: it counts towards the limits."""

    binding: Binding | None = None
    error: ApiError | None = None


def _failures(column, value, since):
    return db.session.scalar(
        db.select(db.func.count(BindingAttempt.id)).where(
            column == value, BindingAttempt.matched.is_(False), BindingAttempt.created_at >= since
        )
    )


def _since(flat, span):
    """The start of a counting window: `span` ago, or the last unlock if that was later."""
    start = utcnow() - span
    return max(start, flat.binding_failures_since) if flat.binding_failures_since else start


def _lock_user_and_flat(user, flat_id):
    """Attempts of one user and on one flat are counted one after another: the user's row, then the
    flat's row, locked until the attempt is committed (always in this order: no deadlock)."""
    _begin_immediate_on_sqlite()
    db.session.execute(db.select(User.id).where(User.id == user.id).with_for_update())
    return db.session.scalar(
        db.select(Flat).where(Flat.id == flat_id).with_for_update().execution_options(populate_existing=True)
    )


def flat_owners(flat):
    """The flat's roster owners in the roster's order: the first (Flat.owner_id), then its co-owners."""
    from app.models import FlatCoOwner, Owner

    if flat.owner is None:
        return []
    co = db.session.scalars(db.select(Owner).join(FlatCoOwner, FlatCoOwner.owner_id == Owner.id)
                            .where(FlatCoOwner.flat_id == flat.id).order_by(FlatCoOwner.position)).all()
    return [flat.owner, *co]


def _proof(user, flat, relation, name, phone_last4):
    """How the roster vouches for an owner, and which of the flat's owners (co-owners each bind as
    themselves): (method, owner id), or (None, None)."""
    if relation != "owner" or flat.developer_held:
        return None, None
    owners = flat_owners(flat)
    for owner in owners:
        if user.phone and owner.phone and user.phone == owner.phone:
            return "wechat_phone", owner.id
    for owner in owners:
        if owner.phone and phone_last4 and name.strip() == owner.name and owner.phone[-4:] == phone_last4:
            return "roster_phone", owner.id
    return None, None


def bindings_chain(compound_id):
    """The audit chain of a compound's binding attempts, locks and reviews."""
    return f"compound:{compound_id}/bindings"


def _audit(flat, kind, payload):
    """An entry in the compound's bindings chain: users and flats by id, never names or digits. The
    compound's row is locked first: the first attempts on two of its flats must not both start the
    chain (on InnoDB that race ends in a deadlock)."""
    compound_id = db.session.scalar(
        db.select(Building.compound_id).join(Unit, Unit.building_id == Building.id).where(Unit.id == flat.unit_id)
    )
    db.session.execute(db.select(Compound.id).where(Compound.id == compound_id).with_for_update())
    audit.append(bindings_chain(compound_id), kind, "flat", flat.id, {"flat": flat.id, **payload})


def request_binding(user, flat_id, relation, name, phone_last4=None):
    """A roster match binds an owner at once; anything else waits for the building's grid worker.

    Raises ApiError for a request refused before anything is evaluated (nothing written). Otherwise
    returns an Attempt, whose attempt row (and audit entry) the caller commits even when it carries
    an error."""
    if relation not in RELATIONS:
        raise ApiError(422, "validation_error", "身份应为 业主、家庭成员 或 租户", {"relation": list(RELATIONS)})
    if db.session.get(Flat, flat_id) is None:
        raise ApiError(404, "not_found", "没有找到该房屋")
    flat = _lock_user_and_flat(user, flat_id)
    now = utcnow()
    if _failures(BindingAttempt.user_id, user.id, now - timedelta(hours=1)) >= USER_FAILURES_PER_HOUR:
        current_app.logger.warning("binding attempt refused: user=%s flat=%s too many failures", user.id, flat.id)
        raise ApiError(429, "too_many_attempts", "核对失败次数过多，请一小时后再试，或联系网格员协助绑定")
    if flat.binding_locked_at is not None:
        current_app.logger.warning("binding attempt refused: user=%s flat=%s flat locked", user.id, flat.id)
        raise ApiError(429, "flat_locked", "该房屋因多次核对失败已被锁定，请联系所在网格的网格员核实并解锁")
    active = db.session.scalar(
        db.select(Binding).where(Binding.user_id == user.id, Binding.flat_id == flat.id, Binding.status.in_(ACTIVE))
    )
    if active is not None and active.status == "approved":
        raise ApiError(409, "already_bound", "您已绑定该房屋", {"binding_id": active.id, "status": active.status})
    if active is None:
        pending = db.session.scalar(
            db.select(db.func.count(Binding.id)).where(Binding.user_id == user.id, Binding.status == "pending")
        )
        if pending >= MAX_PENDING:
            raise ApiError(429, "too_many_pending",
                           f"您已有 {pending} 个绑定申请在等待审核，请等网格员处理后再申请", {"pending": pending})

    # Five failures on the flat in the last hour: nobody is evaluated against the roster for it, so a
    # guess (right or wrong) from the sixth on learns nothing and binds nothing at once.
    guarded = _failures(BindingAttempt.flat_id, flat.id, _since(flat, timedelta(hours=1))) >= FLAT_FAILURES_PER_HOUR
    method, owner_id = (None, None) if guarded else _proof(user, flat, relation, name, phone_last4)
    matched = method is not None
    outcome = "approved" if matched else "pending"
    db.session.add(BindingAttempt(user_id=user.id, flat_id=flat.id, relation=relation, matched=matched,
                                  outcome="guarded" if guarded else outcome))
    _audit(flat, "binding_attempt", {"user": user.id, "relation": relation, "matched": matched,
                                     "guarded": guarded})
    current_app.logger.info("binding attempt user=%s flat=%s relation=%s outcome=%s guarded=%s",
                            user.id, flat.id, relation, outcome, guarded)
    if not matched:
        db.session.flush()
        if _failures(BindingAttempt.flat_id, flat.id, _since(flat, timedelta(days=1))) >= FLAT_FAILURES_PER_DAY:
            flat.binding_locked_at = utcnow()
            _audit(flat, "flat_locked", {"user": user.id, "failures": FLAT_FAILURES_PER_DAY})
            current_app.logger.warning("flat %s locked for binding after repeated failures", flat.id)
    if active is not None:
        # A second try while waiting: a match now settles it, anything else keeps waiting.
        if not matched:
            db.session.flush()
            return Attempt(error=ApiError(409, "already_pending", "您的绑定申请正在等待网格员审核",
                                          {"binding_id": active.id, "status": active.status}))
        active.status, active.method, active.relation, active.reviewed_at = "approved", method, relation, utcnow()
        active.owner_id = owner_id
        db.session.flush()
        record_approval(active)
        return Attempt(binding=active)
    binding = Binding(
        user=user, flat=flat, relation=relation, name=name.strip(), status=outcome, method=method,
        reviewed_at=utcnow() if matched else None, owner_id=owner_id,
    )
    db.session.add(binding)
    db.session.flush()
    if matched:
        record_approval(binding)
    return Attempt(binding=binding)


def record_approval(binding, by=None):
    """The entry in the compound's bindings chain that vouches for an approved binding (who, which
    flat, which relation, verified against which roster owner, how, approved by whom). `flask audit
    verify` names every approved binding without one, or that differs from it: a binding set to
    approved, or pointed at another owner, in the database alone signs nothing unnoticed."""
    _audit(binding.flat, "binding_approved", {
        "binding": binding.id, "user": binding.user_id, "relation": binding.relation, "owner": binding.owner_id,
        "method": binding.method, "by": by,
    })


def flat_places(flat=None):
    """Loader options for what flat_view (app/api/views.py) reads of each flat of a list: its unit,
    building and compound, from the joins the list's query already has to filter by scope."""
    unit = flat.contains_eager(Flat.unit) if flat is not None else contains_eager(Flat.unit)
    return (unit.contains_eager(Unit.building).contains_eager(Building.compound),)


def locked_flats(reviewer):
    """Flats locked for binding on the buildings in the reviewer's scope, oldest lock first."""
    query = (
        db.select(Flat).join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
    )
    query = scopes.join_place_tree(query).where(
        scopes.buildings_condition(reviewer, *REVIEWERS), Flat.binding_locked_at.is_not(None)
    )
    return db.session.scalars(query.order_by(Flat.binding_locked_at, Flat.id).options(*flat_places())).all()


def unlock_flat(reviewer, flat_id, reason=None):
    """A grid worker of the flat's grid unlocks it; failures count again from now."""
    flat = db.session.get(Flat, flat_id)
    if flat is None or not scopes.can(reviewer, flat.unit.building, *REVIEWERS):
        raise ApiError(404, "not_found", "没有找到该房屋")
    flat = _lock_user_and_flat(reviewer, flat_id)
    if flat.binding_locked_at is None:
        raise ApiError(409, "not_locked", "该房屋未被锁定")
    flat.binding_locked_at = None
    # The next whole second: MariaDB keeps whole seconds, and an attempt of this second came before.
    flat.binding_failures_since = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    _audit(flat, "flat_unlocked", {"by": reviewer.id, "reason": (reason or "").strip() or None})
    db.session.flush()
    return flat


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
    visible_binding(reviewer, binding_id, for_review=True)
    # The row as locked: a second reviewer's approval waits, then finds it no longer pending.
    binding = db.session.scalar(db.select(Binding).where(Binding.id == binding_id).with_for_update()
                                .execution_options(populate_existing=True))
    if binding.status != "pending":
        raise ApiError(409, "not_pending", "该申请已处理，无需重复审核", {"status": binding.status})
    if not approve and not (reason or "").strip():
        raise ApiError(422, "validation_error", "驳回时请填写原因", {"reason": ["必填项"]})
    binding.status = "approved" if approve else "rejected"
    binding.method = "staff" if approve else None
    # The person the grid worker vouched for: the flat's roster owner at the time of approval.
    # (of co-owners, the one whose name the resident gave, else the first).
    owner_id = None
    if approve and binding.relation == "owner":
        owners = flat_owners(binding.flat)
        named = [o.id for o in owners if o.name == binding.name]
        owner_id = named[0] if named else binding.flat.owner_id
    binding.owner_id = owner_id
    binding.reviewed_by_id = reviewer.id
    binding.reviewed_at = utcnow()
    binding.reason = (reason or "").strip() or None
    db.session.flush()
    if approve:
        record_approval(binding, by=reviewer.id)
    else:
        _audit(binding.flat, "binding_rejected", {"binding": binding.id, "user": binding.user_id, "by": reviewer.id})
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
    query = (
        db.select(Binding)
        .join(Flat, Binding.flat_id == Flat.id)
        .join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
    )
    query = scopes.join_place_tree(query).where(
        scopes.buildings_condition(reviewer, *REVIEWERS), Binding.status == status
    )
    flat = contains_eager(Binding.flat)
    return db.session.scalars(query.order_by(Binding.created_at, Binding.id).options(
        *flat_places(flat), flat.joinedload(Flat.owner), joinedload(Binding.user))).all()


def user_bindings(user):
    """The user's bindings that are active, and those a roster change ended (with their reason), so
    a resident whose flat changed hands sees why they can no longer sign."""
    return db.session.scalars(
        db.select(Binding).where(Binding.user_id == user.id, Binding.status.in_(ACTIVE + ("ended",)))
        .order_by(Binding.id)
    ).all()


LEVEL_CONFIRMERS = ("grid_worker", "community_staff", "admin")


def confirm_in_person(staff, binding_id):
    """Level 2 (issue 15): a grid worker of the flat's grid (or community staff of its community) has
    met the resident and checked who they are. Who and when are kept on the binding and in the
    compound's bindings chain; staff outside the flat's scope get a 404, as for reviews."""
    binding = db.session.get(Binding, binding_id)
    if binding is None or not scopes.can(staff, binding.flat.unit.building, *LEVEL_CONFIRMERS):
        raise ApiError(404, "not_found", "没有找到该绑定")
    binding = db.session.scalar(db.select(Binding).where(Binding.id == binding_id).with_for_update()
                                .execution_options(populate_existing=True))
    if binding.status != "approved":
        raise ApiError(409, "not_approved", "只有已绑定的居民可以当面核验；请先审核其绑定申请", {"status": binding.status})
    if binding.level >= 2:
        raise ApiError(409, "already_confirmed", "该居民已经当面核验过", {"level": binding.level})
    binding.level, binding.level_by_id, binding.level_at = 2, staff.id, utcnow().replace(microsecond=0)
    db.session.flush()
    _audit(binding.flat, "binding_level", {"binding": binding.id, "user": binding.user_id, "level": 2, "by": staff.id,
                                           "at": binding.level_at.strftime("%Y-%m-%dT%H:%M:%S")})
    current_app.logger.info("binding %s confirmed in person by user=%s", binding.id, staff.id)
    return binding


def grid_contact(flat_id):
    """What a resident is told to reach level 2: the name of the flat's grid (or its compound)."""
    from app.models import Grid

    row = db.session.execute(
        db.select(Grid.name, Compound.name).select_from(Flat).join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id).join(Compound, Building.compound_id == Compound.id)
        .outerjoin(Grid, Building.grid_id == Grid.id).where(Flat.id == flat_id)).first()
    if row is None:
        return "所在社区"
    grid, compound = row
    return f"{compound}{grid}的网格员" if grid else f"{compound}所在社区的工作人员"


def level_required_message(flat_id):
    return (f"本次表决要求业主经网格员当面核验（核验等级 2）后才能线上签署；您的绑定目前是名册核验（等级 1）。"
            f"请联系{grid_contact(flat_id)}上门或到社区当面核验身份，核验后即可签署；也可以填写纸质表决票")
