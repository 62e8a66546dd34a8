"""The console's renovation projects (app/services/projects.py) and their works (works.py): list,
create, link the consultation, plan and surveys, the phase timeline and the move to the next phase
with a reason, the acceptance's defects resolved, and the site reports answered, released or rejected."""
from flask import Response, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.console import bp
from app.console.forms import fen, messages
from app.console.views import committed
from app.errors import ApiError
from app.extensions import db
from app.models import Compound
from app.models.projects import LEVELS, PHASE_NAMES, PHASES
from app.services import consultations as consultation_service
from app.services import plans, projects, scopes, surveys, works
from app.services.consultations import CREATORS

ITEM_ROWS = 5
LINK_NAMES = {"plan_consultation_id": "方案征询", "contribution_plan_id": "出资方案",
              "needs_survey_id": "需求调查", "satisfaction_survey_id": "满意度评价"}


def _project(project_id):
    return projects.visible(g.user, project_id)


def _creatable_compounds(user):
    """Compounds wholly inside one of the user's committee, community, street or district scopes."""
    roles = scopes.roles_of(user, *CREATORS)
    if not roles:
        return []
    return [c for c in db.session.scalars(db.select(Compound).order_by(Compound.id))
            if any(scopes.covers_compound(r, c) for r in roles)]


def _link_choices(user, compound_id=None):
    """What a project may link, among what the user sees: {field: [(id, label)]}."""
    cs = consultation_service.staff_consultations(user)
    ps = plans.staff_plans(user)
    ss = surveys.staff_surveys(user)

    def keep(rows):
        return [r for r in rows if compound_id is None or r.compound_id == compound_id]
    return {"plan_consultation_id": [(c.id, c.title) for c in keep(cs)],
            "contribution_plan_id": [(p.id, p.title) for p in keep(ps)],
            "needs_survey_id": [(s.id, s.title) for s in keep(ss) if s.kind == "needs"],
            "satisfaction_survey_id": [(s.id, s.title) for s in keep(ss) if s.kind == "satisfaction"]}


@bp.get("/projects")
def project_list():
    items = projects.brief_views(projects.projects_for(g.user))
    return render_template("console/projects.html", items=items, can_create_project=bool(_creatable_compounds(g.user)))


@bp.route("/projects/new", methods=["GET", "POST"])
def project_new():
    from app.api.schemas import ProjectIn

    compounds = _creatable_compounds(g.user)
    if not compounds:
        raise ApiError(403, "forbidden", "只有本小区的业委会、社区工作人员、街道或区住建干部可以创建改造项目")
    errors, form = {}, request.form
    if request.method == "POST":
        items = [{"name": (form.get(f"item{i}_name") or "").strip(), "level": form.get(f"item{i}_level") or "basic"}
                 for i in range(ITEM_ROWS) if (form.get(f"item{i}_name") or "").strip()]
        compound_id = form.get("compound_id", "")
        body = {"compound_id": int(compound_id) if compound_id.isdigit() else 0,
                "title": (form.get("title") or "").strip(), "body": form.get("body") or "", "items": items,
                "budget_fen": fen(form.get("budget"), "预算", errors),
                "acceptance_share": (form.get("acceptance_share") or "1/2").strip(),
                "acceptance_strict": form.get("acceptance_strict") == "on"}
        for name in LINK_NAMES:
            if (form.get(name) or "").isdigit():
                body[name] = int(form.get(name))
        if not items:
            errors["改造内容"] = ["请至少填写一项改造内容"]
        if not errors:
            try:
                data = ProjectIn().load(body)
                from fractions import Fraction

                if not 0 < Fraction(data["acceptance_share"]) <= 1:
                    raise ApiError(422, "validation_error", "验收比例应在 0 和 1 之间，例如 1/2")
                project = projects.create(g.user, data)
            except ValidationError as exc:
                db.session.rollback()
                errors = {_FIELDS.get(k, k): v for k, v in exc.messages.items()}
            except ApiError as exc:
                db.session.rollback()
                errors = {"表单": messages(exc)}
            else:
                db.session.commit()
                return redirect(url_for("console.project", project_id=project.id))
    return render_template("console/project_new.html", compounds=compounds, levels=LEVELS, rows=range(ITEM_ROWS),
                           links=_link_choices(g.user), link_names=LINK_NAMES, errors=errors, form=form)


_FIELDS = {"title": "标题", "body": "说明", "items": "改造内容", "budget_fen": "预算", "compound_id": "小区",
           "acceptance_share": "验收比例"}


@bp.get("/projects/<int:project_id>")
def project(project_id):
    p = _project(project_id)
    view = projects.view(p, g.user)
    v = works.viewer(g.user, p)
    return render_template("console/project.html", p=p, view=view, manager=v.manager,
                           acceptance=works.acceptance_state(p, g.user),
                           links=_link_choices(g.user, p.compound_id) if v.manager else {},
                           link_names=LINK_NAMES, phases=PHASES, phase_names=PHASE_NAMES)


@bp.post("/projects/<int:project_id>/phase")
@committed
def project_phase(project_id):
    _project(project_id)
    reason = (request.form.get("reason") or "").strip()
    if len(reason) > 200:
        raise ApiError(422, "validation_error", "说明不超过 200 字")
    projects.advance(g.user, project_id, request.form.get("phase") or "", reason)
    return redirect(url_for("console.project", project_id=project_id))


@bp.post("/projects/<int:project_id>/links")
@committed
def project_links(project_id):
    _project(project_id)
    data = {name: int(request.form[name]) for name in LINK_NAMES if (request.form.get(name) or "").isdigit()}
    projects.link(g.user, project_id, data)
    return redirect(url_for("console.project", project_id=project_id))


@bp.post("/defects/<int:defect_id>/resolve")
@committed
def defect_resolve(defect_id):
    note = (request.form.get("note") or "").strip()
    if not 1 <= len(note) <= 500:
        raise ApiError(422, "validation_error", "请填写 1 到 500 字的整改说明")
    _, project_, _ = works.resolve_defect(g.user, defect_id, note)
    return redirect(url_for("console.project", project_id=project_.id))


# ---------------------------------------------------------------- site reports


@bp.get("/projects/<int:project_id>/reports")
def project_reports(project_id):
    status = request.args.get("status") or None
    if status not in (None, "open", "answered", "resolved", "reopened"):
        status = None
    p, v, rows = works.reports(g.user, project_id, status)
    return render_template("console/reports.html", p=p, listing=works.report_list(p, v, rows), status=status,
                           manager=v.manager)


@bp.get("/reports/<int:report_id>/photos/<int:n>")
def report_photo(report_id, n):
    blob = works.photo(g.user, report_id, n)
    return Response(blob.data, mimetype=blob.mimetype, headers={"Cache-Control": "private, no-store"})


@bp.post("/reports/<int:report_id>/<any(answer, release, reject):action>")
@committed
def report_action(report_id, action):
    text = (request.form.get("text") or "").strip()
    if action == "answer":
        if not 1 <= len(text) <= 1000:
            raise ApiError(422, "validation_error", "请填写 1 到 1000 字的答复")
        report = works.answer(g.user, report_id, text)
    elif action == "release":
        report = works.release(g.user, report_id)
    else:
        if not 1 <= len(text) <= 200:
            raise ApiError(422, "validation_error", "不予公开时请填写 1 到 200 字的原因")
        report = works.reject(g.user, report_id, text)
    return redirect(url_for("console.project_reports", project_id=report.project_id))
