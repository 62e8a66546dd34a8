"""Consultations: create, open, sign, enter paper ballots, tally, close, publish; receipts."""
from apiflask import APIBlueprint
from flask import Response, request
from sqlalchemy.exc import IntegrityError

from app.api import outputs as out
from app.api.common import auth, auth_deferred, current_user, current_user_id, ok, pending_session
from app.api.outputs import answer
from app.errors import ApiError
from app.api.schemas import BallotIn, ConsultationIn, FlatQuery, PaperBallotIn
from app.extensions import db
from app.models import Binding, RollEntry
from app.models.consultations import KINDS, STATUSES
from app.services import ballots as ballot_service
from app.services import consultations as service
from app.services import scopes

bp = APIBlueprint("consultations", __name__, url_prefix="/api/v1", tag="consultations")


def consultation_view(c, flat_id=None, relation="owner"):
    return consultation_views([c], flat_id, relation)[0]


def consultation_views(items, flat_id=None, relation="owner"):
    """Each consultation as the API shows it; results and the flat's ballots read for all at once."""
    results, ballots = service.consultation_extras(items, flat_id)
    return [_view(c, results.get(c.id), ballots.get(c.id), flat_id, relation) for c in items]


def _view(c, result, ballot, flat_id, relation):
    view = {
        "id": c.id, "title": c.title, "body": c.body, "kind": c.kind, "kind_name": KINDS.get(c.kind, c.kind),
        "scope": {"type": c.scope_type, "id": c.scope_id}, "compound": {"id": c.compound_id, "name": c.compound.name},
        "rule": c.rule, "options": c.options, "status": c.status, "status_name": STATUSES[c.status],
        "opens_at": _iso(c.opens_at), "closes_at": _iso(c.closes_at), "opened_at": _iso(c.opened_at),
        "closed_at": _iso(c.closed_at), "published_at": _iso(c.published_at), "roll_digest": c.roll_digest,
        "accepting": service.is_accepting(c),
    }
    if result is not None and c.status == "published":
        view["result"] = {"passed": result.passed, "still_needed": result.tally.get("still_needed")}
    if flat_id is not None:
        view["flat_id"] = flat_id
        view["answered"] = ballot is not None
        # Family and tenants see whether their flat has answered, not the owner's choice, until publication.
        shown = ballot is not None and (relation == "owner" or c.status == "published")
        view["ballot"] = _ballot_view(c, ballot) if shown else None
    return view


def _ballot_view(c, ballot):
    labels = {o["key"]: o["label"] for o in c.options}
    return {"id": ballot.id, "choice": ballot.choice, "choice_label": labels.get(ballot.choice), "channel": ballot.channel,
            "status": ballot.status, "recorded_at": _iso(ballot.created_at)}


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _bound(flat_id):
    """The signed-in user's relation to the flat (owner, family, tenant), or None if not bound."""
    return db.session.scalar(db.select(Binding.relation).filter_by(user_id=current_user().id, flat_id=flat_id,
                                                                   status="approved"))


def _any_proxy(flat_id):
    """Does the user hold an active written proxy for the flat (issue 15)?"""
    from app.models import Proxy

    return db.session.scalar(db.select(Proxy.id).filter_by(proxy_user_id=current_user().id, flat_id=flat_id,
                                                           status="active").limit(1)) is not None


def _resident_relation(flat_id):
    """The signed-in user's relation to a flat they are bound to (owner, family, tenant); 404 otherwise."""
    relation = _bound(flat_id)
    if relation is None:
        raise ApiError(404, "not_found", "您尚未绑定该房屋")
    return relation


def _on_roll(consultation, flat_id):
    return db.session.scalar(
        db.select(RollEntry.id).filter_by(consultation_id=consultation.id, flat_id=flat_id)
    ) is not None


def _visible(consultation_id, flat_id=None, staff_roles=service.WATCHERS):
    """Staff of the scope see any state; a resident sees it through a bound flat on its roll, and a
    written proxy through the flat whose owner it signs for."""
    c = service.get(consultation_id)
    if service.visible_to_staff(current_user(), c, staff_roles):
        return c
    if flat_id is not None and c.status != "draft" and _on_roll(c, flat_id):
        if _holds_proxy(c, flat_id) or _resident_relation(flat_id):
            return c
    raise ApiError(404, "not_found", "没有找到该征询")


def _holds_proxy(c, flat_id):
    from app.services.proxies import covering

    person = db.session.scalar(db.select(RollEntry.person_key).filter_by(consultation_id=c.id, flat_id=flat_id))
    return covering(current_user().id, flat_id, person, consultation_id=c.id) is not None


@bp.post("/consultations")
@bp.auth_required(auth)
@bp.input(ConsultationIn, arg_name="body")
@bp.doc(responses=answer(out.Consultation, status=201))
def create(body):
    """Create a draft consultation (committee, community or street staff of the scope)."""
    body["closes_at"] = service.as_utc_naive(body["closes_at"])
    body["opens_at"] = service.as_utc_naive(body["opens_at"])
    c = service.create(current_user(), body)
    db.session.commit()
    return ok(consultation_view(c), 201)


@bp.get("/consultations")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Consultation, many=True))
def index(query):
    """With flat_id: the consultations of a bound flat with its current ballot. Without: staff's scope."""
    if query["flat_id"] is not None:
        flat_id = query["flat_id"]
        items = [c for c in service.consultations_for_flat(flat_id) if c.status != "draft"]
        relation = _bound(flat_id)
        if relation is None:
            # The holder of a written proxy for the flat: the consultations it covers, as the owner sees them.
            items = [c for c in items if _holds_proxy(c, flat_id)]
            if not items and not _any_proxy(flat_id):
                raise ApiError(404, "not_found", "您尚未绑定该房屋")
            return ok(consultation_views(items, flat_id, "owner"))
        return ok(consultation_views(items, flat_id, relation))
    user = current_user()
    if not scopes.roles_of(user, *service.WATCHERS):
        raise ApiError(403, "forbidden", "请带上 flat_id 查看您房屋的征询")
    return ok(consultation_views(service.staff_consultations(user)))


@bp.get("/consultations/<int:consultation_id>")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Consultation))
def show(consultation_id, query):
    """One consultation; with flat_id, the ballot that counts for that flat."""
    c = _visible(consultation_id, query["flat_id"])
    flat_id = query["flat_id"]
    if flat_id is None:
        return ok(consultation_view(c))
    relation = _bound(flat_id)
    cannot_sign, proxy = ballot_service.signing(current_user().id, c, flat_id)
    if relation is None and proxy is None:
        cannot_sign = "工作人员请录入纸质表决票"
    # A proxy sees the choice counted for the owner's flat, as the owner would.
    view = consultation_view(c, flat_id, "owner" if proxy is not None else relation or "staff")
    view["cannot_sign"] = cannot_sign
    if proxy is not None:
        from app.services.proxies import owner_names

        view["signing_for"] = {"proxy_id": proxy.id, "number": proxy.number,
                               "owner": owner_names([proxy.person_key])[proxy.person_key]}
    return ok(view)


@bp.post("/consultations/<int:consultation_id>/open")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Consultation))
def open_(consultation_id):
    """Freeze the roll and open for ballots."""
    c = service.open_(current_user(), consultation_id)
    db.session.commit()
    return ok(consultation_view(c))


@bp.post("/consultations/<int:consultation_id>/close")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.ClosedConsultation))
def close(consultation_id):
    """Close now: count and store the result (the scheduler does this at the deadline)."""
    c, result = service.close(consultation_id, user=current_user())
    db.session.commit()
    return ok({**consultation_view(c), "passed": result.passed})


@bp.post("/consultations/<int:consultation_id>/publish")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Consultation))
def publish(consultation_id):
    """Publish the stored result to the residents of the scope."""
    c = service.publish(current_user(), consultation_id)
    db.session.commit()
    return ok(consultation_view(c))


@bp.post("/consultations/<int:consultation_id>/ballots")
@auth_deferred  # the token is read by the checks' statement: no round trip of its own (issue 13)
@bp.input(BallotIn, arg_name="body")
@bp.doc(responses=answer(out.SignReceipt, status=201))
def sign(consultation_id, body):
    """An owner signs: choice and handwritten signature (PNG, base64). Accepts Idempotency-Key."""
    key = idempotency_key()
    signer = pending_session()  # settled by ballot_service.sign's first statement
    try:
        ballot = ballot_service.sign(signer, consultation_id, body["flat_id"], body["choice"], body["signature"], key)
        answer = _sign_answer(ballot)  # before the commit, which would expire it (one SELECT more)
        db.session.commit()
    except IntegrityError:
        # The same Idempotency-Key raced itself: the one that landed is the answer.
        db.session.rollback()
        ballot = ballot_service.by_idempotency_key(consultation_id, key) if key else None
        if ballot is None or ballot.user_id != signer.user_id:
            raise
        answer = _sign_answer(ballot)
    if answer["status"] == "conflict":
        raise ApiError(409, "ballot_conflict", "该户已有经确认的纸质表决票，本次线上表决未计入；如需更改请联系网格员", answer)
    return ok(answer, 201)


def idempotency_key():
    """The request's Idempotency-Key, or None; one longer than 64 characters or not plain printable
    ASCII is a 422, never cut (a cut key could name another request)."""
    key = request.headers.get("Idempotency-Key")
    if key is None or key == "":
        return None
    if len(key) > 64 or not all(33 <= ord(ch) <= 126 for ch in key):
        raise ApiError(422, "validation_error", "请求编号（Idempotency-Key）应为 1 到 64 个可见 ASCII 字符",
                       {"Idempotency-Key": ["1-64 个可见 ASCII 字符"]})
    return key


def _sign_answer(ballot):
    return {"ballot_id": ballot.id, "receipt": ballot.receipt, "status": ballot.status,
            "status_name": ballot_service.STATUS_NAMES[ballot.status]}


@bp.post("/consultations/<int:consultation_id>/paper-ballots")
@bp.auth_required(auth)
@bp.input(PaperBallotIn, arg_name="body")
@bp.doc(responses=answer(out.PaperBallotEntry, status=201))
def enter_paper(consultation_id, body):
    """A grid worker enters a signed paper ballot with its photo; it counts once confirmed."""
    key = idempotency_key()
    try:
        ballot = ballot_service.enter_paper(current_user(), consultation_id, body["flat_id"], body["choice"],
                                            body["photo"], key)
        db.session.commit()
    except IntegrityError:
        # The same Idempotency-Key raced itself: the entry that landed is the answer.
        db.session.rollback()
        ballot = ballot_service.by_idempotency_key(consultation_id, key) if key else None
        if ballot is None or ballot.entered_by_id != current_user_id():
            raise
    return ok({"id": ballot.id, "receipt": ballot.receipt, "status": ballot.status,
               "status_name": ballot_service.STATUS_NAMES[ballot.status]}, 201)


@bp.post("/paper-ballots/<int:ballot_id>/confirm")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.PaperBallotEntry))
def confirm_paper(ballot_id):
    """A second staff member confirms a paper ballot."""
    ballot = ballot_service.confirm_paper(current_user(), ballot_id)
    db.session.commit()
    return ok({"id": ballot.id, "receipt": ballot.receipt, "status": ballot.status,
               "status_name": ballot_service.STATUS_NAMES[ballot.status]})


@bp.get("/paper-ballots/<int:ballot_id>/photo")
@bp.auth_required(auth)
@bp.doc(responses={200: {"description": "纸质票照片（JPEG 或 PNG）",
                         "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                                     "image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def paper_photo(ballot_id):
    """The photo of a paper ballot, for the second staff member who confirms it."""
    data, mimetype = ballot_service.paper_photo(current_user(), ballot_id)
    return Response(data, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})


@bp.get("/consultations/<int:consultation_id>/paper-ballots")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.PaperBallot, many=True))
def paper_index(consultation_id):
    """Paper ballots of the consultation on flats in the caller's scope, for confirmation."""
    c = _visible(consultation_id, staff_roles=ballot_service.PAPER_STAFF)
    return ok([{**_ballot_view(c, b), "room": label, "receipt": b.receipt, "entered_by": b.entered_by_id,
                "confirmed_by": b.confirmed_by_id} for b, label in ballot_service.paper_ballots(current_user(), c)])


@bp.get("/consultations/<int:consultation_id>/tally")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Tally))
def tally(consultation_id):
    """Roll, participation and approval by area and headcount, thresholds, choices, per building."""
    c = _visible(consultation_id, staff_roles=service.WATCHERS)
    return ok(service.tally_for(c))


@bp.get("/consultations/<int:consultation_id>/pending-flats")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.PendingFlat, many=True))
def pending_flats(consultation_id):
    """Flats with no counted ballot, for door visits; contacts masked."""
    c = _visible(consultation_id, staff_roles=service.WATCHERS)
    if c.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始")
    return ok(service.pending_flats(current_user(), c))


@bp.get("/consultations/<int:consultation_id>/results")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Results))
def results(consultation_id, query):
    """The published result and the answer of each room (room numbers only)."""
    c = _visible(consultation_id, query["flat_id"])
    if c.status != "published":
        raise ApiError(409, "not_published", "结果尚未公布")
    stored = service.result_of(c)
    summary = {k: stored.tally[k] for k in ("roll", "participation", "approval", "choices", "passed", "still_needed")}
    return ok({"consultation": consultation_view(c), "result": summary, "rooms": service.published_answers(c)})


@bp.get("/receipts/<code>")
@bp.doc(responses=answer(out.Receipt))
def receipt(code):
    """What was recorded under a receipt code, and when (anyone holding the code)."""
    return ok(ballot_service.receipt_view(code))
