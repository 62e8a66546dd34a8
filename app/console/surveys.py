"""The console's surveys (app/services/surveys.py): list, create with the four question kinds, open,
close, live results (htmx refreshes them), held texts released or rejected, the results workbook."""
from flask import Response, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.console import bp
from app.console.forms import beijing_time, messages
from app.console.views import _creatable_scopes, committed
from app.errors import ApiError
from app.extensions import db
from app.models.projects import QUESTION_KINDS, SURVEY_KINDS
from app.services import projects, scopes, surveys
from app.services.consultations import CREATORS, as_utc_naive

QUESTION_ROWS = 6


def _survey(survey_id):
    survey = surveys.get(survey_id)
    if not surveys.visible_to_staff(g.user, survey):
        raise ApiError(404, "not_found", surveys.NOT_FOUND)
    return survey


@bp.get("/surveys")
def survey_list():
    if not scopes.roles_of(g.user, *surveys.WATCHERS):
        raise ApiError(403, "forbidden", "只有工作人员可以查看问卷")
    return render_template("console/surveys.html", items=surveys.survey_views(surveys.staff_surveys(g.user), g.user, staff=True),
                           can_create_survey=bool(scopes.roles_of(g.user, *CREATORS)))


def _question(form, i, errors):
    text = (form.get(f"q{i}_text") or "").strip()
    if not text:
        return None
    kind = form.get(f"q{i}_kind") or "single"
    q = {"kind": kind, "text": text, "required": form.get(f"q{i}_required") == "on"}
    if kind in ("single", "multiple"):
        labels = [line.strip() for line in (form.get(f"q{i}_options") or "").splitlines() if line.strip()]
        if len(labels) < 2:
            errors.setdefault(f"第 {i + 1} 题", []).append("单选、多选题请写 2 到 20 个选项，每行一个")
        q["options"] = [{"key": f"o{n}", "label": label} for n, label in enumerate(labels, 1)]
    return q


@bp.route("/surveys/new", methods=["GET", "POST"])
def survey_new():
    from app.api.schemas import SurveyIn

    if not scopes.roles_of(g.user, *CREATORS):
        raise ApiError(403, "forbidden", f"只有{surveys.MANAGERS_TEXT}可以发起问卷")
    options, _ = _creatable_scopes(g.user)
    project_choices = [p for p in projects.projects_for(g.user) if projects.can_manage(g.user, p)]
    errors, form = {}, request.form
    if request.method == "POST":
        scope_type, _, scope_id = (form.get("scope") or "").partition(":")
        questions = [q for q in (_question(form, i, errors) for i in range(QUESTION_ROWS)) if q]
        body = {"scope": {"type": scope_type, "id": int(scope_id) if scope_id.isdigit() else 0},
                "kind": form.get("kind") or "other", "title": (form.get("title") or "").strip(),
                "body": form.get("body") or "", "closes_at": beijing_time(form.get("closes_at"))}
        if questions:
            body["questions"] = questions
        if (form.get("project_id") or "").isdigit():
            body["project_id"] = int(form["project_id"])
        if not errors:
            try:
                data = SurveyIn().load(body)
                data["closes_at"] = as_utc_naive(data["closes_at"])
                survey = surveys.create(g.user, data)
            except ValidationError as exc:
                db.session.rollback()
                errors = {{"title": "标题", "closes_at": "截止时间", "questions": "问题", "scope": "范围"}.get(k, k): v
                          for k, v in exc.messages.items()}
            except ApiError as exc:
                db.session.rollback()
                errors = {"表单": messages(exc)}
            else:
                db.session.commit()
                return redirect(url_for("console.survey", survey_id=survey.id))
    return render_template("console/survey_new.html", scope_options=options, projects=project_choices,
                           kinds=SURVEY_KINDS, question_kinds=QUESTION_KINDS, rows=range(QUESTION_ROWS),
                           errors=errors, form=form)


@bp.get("/surveys/<int:survey_id>")
def survey(survey_id):
    s = _survey(survey_id)
    view = surveys.survey_views([s], g.user, staff=True)[0]
    manager = surveys.can_manage(g.user, s)
    figures = surveys.results(s, True) if s.status != "draft" else None
    held = surveys.review_views(*surveys.held(g.user, s.id)) if manager and s.status != "draft" else []
    return render_template("console/survey.html", s=s, view=view, figures=figures, manager=manager, held=held)


@bp.get("/surveys/<int:survey_id>/results")
def survey_results(survey_id):
    """The results alone, which the survey page's htmx asks for every 15 seconds while it is open."""
    s = _survey(survey_id)
    return render_template("console/_survey_results.html", s=s, figures=surveys.results(s, True))


@bp.post("/surveys/<int:survey_id>/<any(open, close):action>")
@committed
def survey_action(survey_id, action):
    _survey(survey_id)
    if action == "open":
        surveys.open_(g.user, survey_id)
    else:
        surveys.close(survey_id, user=g.user)
    return redirect(url_for("console.survey", survey_id=survey_id))


@bp.get("/surveys/<int:survey_id>/results.xlsx")
def survey_xlsx(survey_id):
    s = _survey(survey_id)
    data = surveys.results_xlsx(s, surveys.results(s, True), surveys.scope_name(s))
    return Response(data, mimetype=surveys.XLSX_MIME, headers={
        "Content-Disposition": surveys.filename(s), "Cache-Control": "no-store"})


@bp.post("/survey-responses/<int:response_id>/<any(release, reject):action>")
@committed
def survey_review(response_id, action):
    if action == "release":
        survey_, _ = surveys.release(g.user, response_id)
    else:
        reason = (request.form.get("reason") or "").strip()
        if not 1 <= len(reason) <= 200:
            raise ApiError(422, "validation_error", "请填写 1 到 200 字的原因")
        survey_, _ = surveys.reject(g.user, response_id, reason)
    return redirect(url_for("console.survey", survey_id=survey_.id))
