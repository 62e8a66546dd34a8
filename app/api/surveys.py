"""Surveys (问卷): needs before a renovation, satisfaction after it. Staff create, open and close them;
any resident bound to a flat in scope answers for the flat (the last answer counts); results with
counts, shares, means and the satisfaction rate, and as a workbook; held texts reviewed by staff."""
from apiflask import APIBlueprint
from flask import Response

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.consultations import idempotency_key
from app.api.outputs import answer, file
from app.api.schemas import FlatQuery, SurveyIn, SurveyRejectIn, SurveyResponseIn
from app.errors import ApiError
from app.extensions import db
from app.services import scopes
from app.services import surveys as service
from app.services.consultations import as_utc_naive

bp = APIBlueprint("surveys", __name__, url_prefix="/api/v1", tag="surveys")


@bp.post("/surveys")
@bp.auth_required(auth)
@bp.input(SurveyIn, arg_name="body")
@bp.doc(responses=answer(out.Survey, status=201))
def create(body):
    """A draft survey for a compound, building or unit (committee, community staff ... of the scope).
    A satisfaction survey without questions gets the five ratings and a comment."""
    body["closes_at"] = as_utc_naive(body["closes_at"])
    user = current_user()
    survey = service.create(user, body)
    db.session.commit()
    return ok(service.survey_views([survey], user, staff=True)[0], 201)


@bp.get("/surveys")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Survey, many=True))
def index(query):
    """With flat_id: the surveys of a bound flat (not drafts), each with the flat's answer. Without:
    the surveys of the staff member's scope, drafts too."""
    user = current_user()
    flat_id = query["flat_id"]
    if flat_id is not None:
        relation = service.relation_of(user, flat_id)
        if relation is None:
            raise ApiError(404, "not_found", "您尚未绑定该房屋")
        return ok(service.survey_views(service.surveys_for_flat(flat_id), user, flat_id=flat_id, relation=relation))
    if not scopes.roles_of(user, *service.WATCHERS):
        raise ApiError(403, "forbidden", "请带上 flat_id 查看您房屋的问卷")
    return ok(service.survey_views(service.staff_surveys(user), user, staff=True))


@bp.get("/surveys/<int:survey_id>")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Survey))
def show(survey_id, query):
    """One survey with its questions; with flat_id of a bound flat, the flat's current answer."""
    user = current_user()
    survey, staff, relation = service.readable(user, survey_id, query["flat_id"])
    return ok(service.survey_views([survey], user, staff=staff, flat_id=query["flat_id"], relation=relation)[0])


@bp.post("/surveys/<int:survey_id>/open")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Survey))
def open_(survey_id):
    """Open for answers: the flats in scope now are the base of participation."""
    user = current_user()
    survey = service.open_(user, survey_id)
    db.session.commit()
    return ok(service.survey_views([survey], user, staff=True)[0])


@bp.post("/surveys/<int:survey_id>/close")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Survey))
def close(survey_id):
    """Close now (the scheduler closes at the deadline); residents of the scope may then read the results."""
    user = current_user()
    survey = service.close(survey_id, user=user)
    db.session.commit()
    return ok(service.survey_views([survey], user, staff=True)[0])


@bp.post("/surveys/<int:survey_id>/responses")
@bp.auth_required(auth)
@bp.input(SurveyResponseIn, arg_name="body")
@bp.doc(responses=answer(out.SurveyResponse, status=201))
def respond(survey_id, body):
    """A resident bound to the flat (owner, family member or tenant) answers for it; the flat's last
    answer counts. Text passes WeChat's check: refused (422 content_risky, nothing stored) or held for
    staff (text_state held). Accepts Idempotency-Key: a retry answers the same response."""
    key = idempotency_key()
    user = current_user()
    response, _ = service.respond(user, survey_id, body["flat_id"], body["answers"], key)
    view = service.answer_view(response, user)
    db.session.commit()
    return ok(view, 201)


@bp.get("/surveys/<int:survey_id>/results")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.SurveyResults))
def results(survey_id, query):
    """Participation and each question's figures: counts and shares, rating means and the satisfaction
    rate, visible comments (rooms for staff only). Staff of the scope at any time after opening,
    residents of the scope once the survey has closed."""
    survey, staff, _ = service.readable(current_user(), survey_id, query["flat_id"])
    return ok(service.results(survey, staff))


@bp.get("/surveys/<int:survey_id>/results.xlsx")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=file(service.XLSX_MIME, "问卷结果（Excel 工作簿）"))
def results_xlsx(survey_id, query):
    """The results table as a workbook (no formulas; text kept as text)."""
    survey, staff, _ = service.readable(current_user(), survey_id, query["flat_id"])
    figures = service.results(survey, staff)
    data = service.results_xlsx(survey, figures, service.scope_name(survey))
    return Response(data, mimetype=service.XLSX_MIME, headers={
        "Content-Disposition": service.filename(survey), "Cache-Control": "no-store"})


@bp.get("/surveys/<int:survey_id>/held")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.SurveyTextReview, many=True))
def held(survey_id):
    """Texts held by WeChat's check (review), oldest first, for staff to release or reject."""
    survey, rows = service.held(current_user(), survey_id)
    return ok(service.review_views(survey, rows))


@bp.post("/survey-responses/<int:survey_response_id>/release")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.SurveyTextReview))
def release(survey_response_id):
    """Staff make a held text visible in the results."""
    survey, response = service.release(current_user(), survey_response_id)
    view = service.review_views(survey, [response])[0]
    db.session.commit()
    return ok(view)


@bp.post("/survey-responses/<int:survey_response_id>/reject")
@bp.auth_required(auth)
@bp.input(SurveyRejectIn, arg_name="body")
@bp.doc(responses=answer(out.SurveyTextReview))
def reject(survey_response_id, body):
    """Staff keep a held text from the results, with the reason the flat's residents read; the
    flat's other answers still count."""
    survey, response = service.reject(current_user(), survey_response_id, body["reason"])
    view = service.review_views(survey, [response])[0]
    db.session.commit()
    return ok(view)
