"""Binding residents to flats, and the grid worker's review queue."""
from apiflask import APIBlueprint

from app.api import outputs as out
from app.api.common import auth, current_user, ok, require_staff
from app.api.outputs import answer
from app.api.schemas import BindingIn, BindingQuery, ReasonIn
from app.api.views import binding_view, flat_view
from app.extensions import db
from app.services import bindings as service

bp = APIBlueprint("bindings", __name__, url_prefix="/api/v1", tag="bindings")


@bp.post("/bindings")
@bp.auth_required(auth)
@bp.input(BindingIn, arg_name="body")
@bp.doc(responses=answer(out.BindingCreated, status=201))
def create(body):
    """Ask to bind to a flat: a roster match binds an owner at once, otherwise a grid worker decides."""
    attempt = service.request_binding(
        current_user(), body["flat_id"], body["relation"], body["name"], body["phone_last4"]
    )
    db.session.commit()  # on purpose, error or not: every attempt counts towards the limits
    if attempt.error is not None:
        raise attempt.error
    binding = attempt.binding
    return ok({"id": binding.id, "status": binding.status, "binding": binding_view(binding)}, 201)


@bp.get("/bindings")
@bp.auth_required(auth)
@bp.input(BindingQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.StaffBinding, many=True))
def index(query):
    """Bindings awaiting review (or of another status) on the buildings in the caller's scope."""
    require_staff(*service.REVIEWERS)
    items = service.pending_for(current_user(), query["status"])
    return ok([binding_view(b, for_staff=True) for b in items])


@bp.get("/bindings/locked-flats")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.LockedFlat, many=True))
def locked_flats():
    """Flats locked after repeated failed attempts, on the buildings in the caller's scope."""
    require_staff(*service.REVIEWERS)
    return ok([{**flat_view(f), "locked_at": f.binding_locked_at.isoformat() + "Z"}
               for f in service.locked_flats(current_user())])


@bp.post("/flats/<int:flat_id>/unlock")
@bp.auth_required(auth)
@bp.input(ReasonIn, arg_name="body")
@bp.doc(responses=answer(out.LockedFlat))
def unlock_flat(flat_id, body):
    """Unlock a flat for binding (grid worker of its grid), after checking with its owner."""
    flat = service.unlock_flat(current_user(), flat_id, body["reason"])
    db.session.commit()
    return ok({**flat_view(flat), "locked_at": None})


@bp.get("/bindings/<int:binding_id>")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.either(out.Binding, out.StaffBinding), name="BindingOrStaffBindingAnswer",
                                description="居民本人看到 Binding；工作人员看到 StaffBinding"))
def show(binding_id):
    """One binding, to its resident or to staff of its building."""
    binding = service.visible_binding(current_user(), binding_id)
    return ok(binding_view(binding, for_staff=binding.user_id != current_user().id))


@bp.post("/bindings/<int:binding_id>/approve")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.StaffBinding))
def approve(binding_id):
    """Approve a pending binding (grid worker of the building)."""
    binding = service.review(current_user(), binding_id, approve=True)
    db.session.commit()
    return ok(binding_view(binding, for_staff=True))


@bp.post("/bindings/<int:binding_id>/reject")
@bp.auth_required(auth)
@bp.input(ReasonIn, arg_name="body")
@bp.doc(responses=answer(out.StaffBinding))
def reject(binding_id, body):
    """Reject a pending binding with a reason (grid worker of the building)."""
    binding = service.review(current_user(), binding_id, approve=False, reason=body["reason"])
    db.session.commit()
    return ok(binding_view(binding, for_staff=True))


@bp.delete("/bindings/<int:binding_id>")
@bp.auth_required(auth)
@bp.input(ReasonIn, arg_name="body")
@bp.doc(responses=answer(out.Binding))
def unbind(binding_id, body):
    """End a binding: the resident's own, or one on a building in the staff member's scope."""
    binding = service.unbind(current_user(), binding_id, body["reason"])
    db.session.commit()
    return ok(binding_view(binding))


@bp.post("/bindings/<int:binding_id>/confirm-in-person")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.StaffBinding))
def confirm_in_person(binding_id):
    """A grid worker of the flat's grid (or community staff) confirms, having met the resident, who
    they are: the binding reaches level 2 (网格员当面核验), needed where a consultation requires it."""
    binding = service.confirm_in_person(current_user(), binding_id)
    db.session.commit()
    return ok(binding_view(binding, for_staff=True))
