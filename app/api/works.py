"""Works supervision (项目共管): site reports with photos, answered by staff, confirmed or reopened by
the reporter or a supervisor; and the acceptance (验收) the compound's representatives sign."""
from apiflask import APIBlueprint
from flask import Response

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.consultations import idempotency_key
from app.api.outputs import answer
from app.api.schemas import AcceptanceIn, DefectResolveIn, ReportAnswerIn, ReportQuery, ReportReasonIn, SiteReportIn
from app.extensions import db
from app.models import Project
from app.services import works as service

bp = APIBlueprint("works", __name__, url_prefix="/api/v1", tag="works")
PHOTO = {200: {"description": "现场照片（JPEG 或 PNG）",
               "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                           "image/png": {"schema": {"type": "string", "format": "binary"}}}}}


def _shown(report):
    """A report as the signed-in user sees it (read again: the answer shows what was stored)."""
    project = db.session.get(Project, report.project_id)
    return service.report_view(report, project, service.viewer(current_user(), project))


@bp.post("/projects/<int:project_id>/reports")
@bp.auth_required(auth)
@bp.input(SiteReportIn, arg_name="body")
@bp.doc(responses=answer(out.SiteReport, status=201))
def file_report(project_id, body):
    """Report a problem on site during works (a resident of the compound or a supervisor): text
    checked by WeChat (refused: 422; to be reviewed: held until staff release it), a place, up to 3
    photos. Accepts an Idempotency-Key."""
    report, _ = service.file_report(current_user(), project_id, body, idempotency_key())
    db.session.commit()
    return ok(_shown(report), 201)


@bp.get("/projects/<int:project_id>/reports")
@bp.auth_required(auth)
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.SiteReportList))
def reports(project_id, query):
    """The project's site reports with their answers, newest first: residents see those shown and
    their own; staff see all, reporters' names masked."""
    project, viewer, rows = service.reports(current_user(), project_id, query["status"])
    return ok(service.report_list(project, viewer, rows))


@bp.get("/reports/<int:report_id>")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.SiteReport))
def show(report_id):
    """One site report with its history."""
    report, project, viewer = service.report(current_user(), report_id)
    return ok(service.report_view(report, project, viewer))


@bp.get("/reports/<int:report_id>/photos/<int:n>")
@bp.auth_required(auth)
@bp.doc(responses=PHOTO)
def photo(report_id, n):
    """The n-th photo (from 1) of a site report."""
    blob = service.photo(current_user(), report_id, n)
    return Response(blob.data, mimetype=blob.mimetype, headers={"Cache-Control": "private, no-store"})


@bp.post("/reports/<int:report_id>/answer")
@bp.auth_required(auth)
@bp.input(ReportAnswerIn, arg_name="body")
@bp.doc(responses=answer(out.SiteReport))
def answer_report(report_id, body):
    """Staff of the compound answer an open or reopened report."""
    report = service.answer(current_user(), report_id, body["answer"])
    db.session.commit()
    return ok(_shown(report))


@bp.post("/reports/<int:report_id>/resolve")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.SiteReport))
def resolve(report_id):
    """The reporter or a supervisor confirms an answered report resolved."""
    report = service.resolve(current_user(), report_id)
    db.session.commit()
    return ok(_shown(report))


@bp.post("/reports/<int:report_id>/reopen")
@bp.auth_required(auth)
@bp.input(ReportReasonIn, arg_name="body")
@bp.doc(responses=answer(out.SiteReport))
def reopen(report_id, body):
    """The reporter or a supervisor reopens an answered or resolved report, saying why."""
    report = service.reopen(current_user(), report_id, body["reason"])
    db.session.commit()
    return ok(_shown(report))


@bp.post("/reports/<int:report_id>/release")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.SiteReport))
def release(report_id):
    """Staff make a held report (WeChat's check said review) visible to the compound."""
    report = service.release(current_user(), report_id)
    db.session.commit()
    return ok(_shown(report))


@bp.post("/reports/<int:report_id>/reject")
@bp.auth_required(auth)
@bp.input(ReportReasonIn, arg_name="body")
@bp.doc(responses=answer(out.SiteReport))
def reject(report_id, body):
    """Staff keep a held report from the compound, with the reason its reporter reads."""
    report = service.reject(current_user(), report_id, body["reason"])
    db.session.commit()
    return ok(_shown(report))


@bp.post("/projects/<int:project_id>/acceptance")
@bp.auth_required(auth)
@bp.input(AcceptanceIn, arg_name="body")
@bp.doc(responses=answer(out.Acceptance, status=201))
def sign(project_id, body):
    """A representative of the compound signs the acceptance once, while the project is in
    acceptance: pass, pass with remarks, or fail with its defects, and a handwritten signature.
    Accepts an Idempotency-Key. Answers the acceptance as it stands."""
    signature, _ = service.sign_acceptance(current_user(), project_id, body, idempotency_key())
    db.session.commit()
    return ok(service.acceptance_state(db.session.get(Project, signature.project_id), current_user()), 201)


@bp.get("/projects/<int:project_id>/acceptance")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Acceptance))
def acceptance(project_id):
    """The acceptance: representatives, signatures (names masked), the rule, whether it passed and
    why, what is still needed, and the defects open and resolved."""
    return ok(service.acceptance(current_user(), project_id))


@bp.post("/defects/<int:defect_id>/resolve")
@bp.auth_required(auth)
@bp.input(DefectResolveIn, arg_name="body")
@bp.doc(responses=answer(out.Defect))
def resolve_defect(defect_id, body):
    """Staff of the compound record a defect resolved, saying how."""
    defect, _, _ = service.resolve_defect(current_user(), defect_id, body["note"])
    db.session.commit()
    return ok(service.defect_view(defect))
