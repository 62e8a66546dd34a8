"""Renovation projects: created by committee or community staff, their phases moved forward on their
conditions, and the whole story shown to the compound's residents and staff."""
from apiflask import APIBlueprint

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.outputs import answer
from app.api.schemas import FlatQuery, PhaseIn, ProjectIn, ProjectLinksIn
from app.errors import ApiError
from app.extensions import db
from app.services import projects as service

bp = APIBlueprint("projects", __name__, url_prefix="/api/v1", tag="projects")


@bp.post("/projects")
@bp.auth_required(auth)
@bp.input(ProjectIn, arg_name="body")
@bp.doc(responses=answer(out.Project, status=201))
def create(body):
    """A project of a compound in its first phase, the needs survey (committee or community staff)."""
    from fractions import Fraction

    if not 0 < Fraction(body["acceptance_share"]) <= 1:
        raise ApiError(422, "validation_error", "验收比例应在 0 和 1 之间，例如 1/2", {"acceptance_share": ["0 到 1"]})
    project = service.create(current_user(), body)
    db.session.commit()
    return ok(service.view(project), 201)


@bp.get("/projects")
@bp.auth_required(auth)
@bp.input(FlatQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.ProjectBrief, many=True))
def index(query):
    """With flat_id: the projects of a bound flat's compound. Without: the staff's scope."""
    return ok(service.brief_views(service.projects_for(current_user(), query["flat_id"])))


@bp.get("/projects/<int:project_id>")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Project))
def show(project_id):
    """The whole story: phases with dates, the consultation's result, funds pledged and paid, site
    reports, acceptance, satisfaction (the compound's residents and staff)."""
    return ok(service.view(service.visible(current_user(), project_id)))


@bp.post("/projects/<int:project_id>/phase")
@bp.auth_required(auth)
@bp.input(PhaseIn, arg_name="body")
@bp.doc(responses=answer(out.Project))
def phase(project_id, body):
    """Move to the next phase, only when its condition holds (the reason is recorded)."""
    project = service.advance(current_user(), project_id, body["phase"], body["reason"])
    db.session.commit()
    return ok(service.view(project))


@bp.post("/projects/<int:project_id>/links")
@bp.auth_required(auth)
@bp.input(ProjectLinksIn, arg_name="body")
@bp.doc(responses=answer(out.Project))
def links(project_id, body):
    """Link the consultation, contribution plan and surveys the phases wait for."""
    project = service.link(current_user(), project_id, body)
    db.session.commit()
    return ok(service.view(project))
