"""Written proxies (委托书, issue 15): granted online by an owner, entered on paper by a grid worker and
confirmed by a second staff member, revoked until the deadline; a proxy then signs ballots and pledges
through the usual endpoints (POST /consultations/<id>/ballots, POST /plans/<id>/pledges)."""
from apiflask import APIBlueprint
from flask import Response
from sqlalchemy.exc import IntegrityError

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.consultations import idempotency_key
from app.api.outputs import answer
from app.api.schemas import PaperProxyIn, ProxyIn, ProxyQuery
from app.api.views import flat_view
from app.extensions import db
from app.models import Building, Consultation, ContributionPlan, Flat, Proxy, Unit
from app.models.proxies import CHANNELS, SCOPES, STATUSES
from app.services import proxies as service
from app.services import scopes
from app.services.ballots import PAPER_STAFF
from app.services.privacy import mask_name

bp = APIBlueprint("proxies", __name__, url_prefix="/api/v1", tag="proxies")


def _iso(value):
    return value.isoformat() + "Z" if value else None


def proxy_views(proxies, user):
    """Proxies as the API shows them; owners' names, titles and flats read for all at once."""
    owners = service.owner_names({p.person_key for p in proxies})
    titles = {}
    consultation_ids = {p.consultation_id for p in proxies if p.consultation_id}
    plan_ids = {p.plan_id for p in proxies if p.plan_id}
    if consultation_ids:
        titles.update({("consultation", i): t for i, t in db.session.execute(
            db.select(Consultation.id, Consultation.title).where(Consultation.id.in_(consultation_ids)))})
    if plan_ids:
        titles.update({("plan", i): t for i, t in db.session.execute(
            db.select(ContributionPlan.id, ContributionPlan.title).where(ContributionPlan.id.in_(plan_ids)))})
    from sqlalchemy.orm import joinedload

    flats = {f.id: f for f in db.session.scalars(  # each flat with its unit, building and compound, at once
        db.select(Flat).where(Flat.id.in_({p.flat_id for p in proxies}))
        .options(joinedload(Flat.unit).joinedload(Unit.building).joinedload(Building.compound)))} if proxies else {}
    views = []
    for p in proxies:
        flat = flats[p.flat_id]
        staff = scopes.can(user, flat.unit.building, *PAPER_STAFF)
        role = "holder" if p.proxy_user_id == user.id else "staff" if staff and p.grantor_user_id != user.id else "owner"
        target = p.consultation_id or p.plan_id
        views.append({
            "id": p.id, "number": p.number, "flat": flat_view(flat), "owner": owners[p.person_key],
            "proxy": {"user_id": p.proxy_user_id, "name": mask_name(p.proxy_name)},
            "scope": {"type": p.scope, "type_name": SCOPES[p.scope], "id": target, "title": titles.get((p.scope, target))},
            "channel": p.channel, "channel_name": CHANNELS[p.channel], "status": p.status,
            "status_name": STATUSES[p.status], "created_at": _iso(p.created_at), "confirmed_at": _iso(p.confirmed_at),
            "revoked_at": _iso(p.revoked_at), "role": role,
            "can_revoke": p.status != "revoked" and role != "holder" and not service._deadline_passed(p),
        })
    return views


def _write(make, body, user):
    """A grant or a paper entry under an Idempotency-Key; the same key racing itself answers the one
    that landed."""
    key = idempotency_key()
    try:
        proxy = make(user, body, key)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        proxy = db.session.scalar(db.select(Proxy).filter_by(flat_id=body["flat_id"], idempotency_key=key)) if key else None
        if proxy is None or user.id not in (proxy.grantor_user_id, proxy.entered_by_id):
            raise
    return ok(proxy_views([proxy], user)[0], 201)


@bp.post("/proxies")
@bp.auth_required(auth)
@bp.input(ProxyIn, arg_name="body")
@bp.doc(responses=answer(out.Proxy, status=201))
def grant(body):
    """An owner signs a written proxy (委托书) for one consultation, one plan, or until revoked; the
    proxy must be a verified resident, named as on their binding. At most PROXY_MAX_PER_CONSULTATION
    proxies per holder and consultation (409). Accepts Idempotency-Key."""
    return _write(service.grant, body, current_user())


@bp.post("/proxies/paper")
@bp.auth_required(auth)
@bp.input(PaperProxyIn, arg_name="body")
@bp.doc(responses=answer(out.Proxy, status=201))
def enter_paper(body):
    """A grid worker records a signed paper proxy with its photo; it counts once a second staff member
    confirms it. Accepts Idempotency-Key."""
    return _write(service.enter_paper, body, current_user())


@bp.get("/proxies")
@bp.auth_required(auth)
@bp.input(ProxyQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Proxy, many=True))
def index(query):
    """Without flat_id: the proxies I hold and those granted for flats I own. With flat_id: that flat's
    proxies (its owners; staff of its scope, e.g. paper proxies to confirm)."""
    user = current_user()
    return ok(proxy_views(service.listed(user, query["flat_id"]), user))


@bp.get("/proxies/<int:proxy_id>")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Proxy))
def show(proxy_id):
    """One proxy, for its holder, its owners and staff of its flat's scope."""
    user = current_user()
    return ok(proxy_views([service.visible(user, proxy_id)], user)[0])


@bp.post("/proxies/<int:proxy_id>/confirm")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Proxy))
def confirm(proxy_id):
    """A second staff member (not the one who entered it) confirms a paper proxy beside its photo."""
    user = current_user()
    proxy = service.confirm(user, proxy_id)
    db.session.commit()
    return ok(proxy_views([proxy], user)[0])


@bp.post("/proxies/<int:proxy_id>/revoke")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Proxy))
def revoke(proxy_id):
    """The owner (or a co-owner, or staff at the owner's request) revokes a proxy until the deadline of
    its consultation or plan (a standing one at any time); ballots already cast stay unless the owner
    signs again."""
    user = current_user()
    proxy = service.revoke(user, proxy_id)
    db.session.commit()
    return ok(proxy_views([proxy], user)[0])


@bp.get("/proxies/<int:proxy_id>/photo")
@bp.auth_required(auth)
@bp.doc(responses={200: {"description": "纸质委托书照片（JPEG 或 PNG）",
                         "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                                     "image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def photo(proxy_id):
    """The photo of a paper proxy, for staff of its flat's scope (the second person confirms beside it)."""
    data, mimetype = service.image(current_user(), proxy_id)
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})
