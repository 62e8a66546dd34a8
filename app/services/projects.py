"""Renovation projects (改造项目): content items, a budget, and phases that only go forward, each only
when its condition holds:

    survey → plan        the needs survey, where one is linked, has closed
    plan → funding       the consultation on the plan has passed (DESIGN.md §3); moves by itself at closing
    funding → works      the contribution plan, where one is linked, is funded; moves by itself at closing
    works → acceptance   staff declare the works complete (a reason is required)
    acceptance → evaluation  the representatives' acceptance has passed
    evaluation → done    the satisfaction survey has closed

Every phase change is a ProjectPhase row and an entry of the project's keyed audit chain
(`project:<id>`) with who (None: the system, on its condition) and why; `flask audit verify` compares
the two and the project's phase."""
from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Binding, Building, Compound, Consultation, ConsultationResult, ContributionPlan, Flat, Unit
from app.models.projects import LEVELS, PHASE_NAMES, PHASES, Project, ProjectPhase, Survey
from app.models.places import utcnow
from app.services import audit, scopes
from app.services.consultations import CREATORS, WATCHERS, _begin_immediate_on_sqlite

NOT_FOUND = "没有找到该改造项目"
LINKS = {
    "plan_consultation_id": (Consultation, "方案征询"),
    "contribution_plan_id": (ContributionPlan, "出资方案"),
    "needs_survey_id": (Survey, "需求调查"),
    "satisfaction_survey_id": (Survey, "满意度评价"),
}
# The phase after which a link no longer changes: what a phase waited for stays what it was.
LINK_FIXED_AFTER = {"needs_survey_id": "survey", "plan_consultation_id": "plan", "contribution_plan_id": "funding",
                    "satisfaction_survey_id": "evaluation"}
CONDITIONS = {
    "plan": "需求调查已结束（如有）",
    "funding": "方案征询已通过",
    "works": "出资方案已达成（如有）",
    "acceptance": "施工完成（工作人员填写说明）",
    "evaluation": "居民代表验收通过",
    "done": "满意度评价已结束",
}


def chain_name(project):
    return f"project:{getattr(project, 'id', project)}"


def get(project_id):
    project = db.session.get(Project, project_id)
    if project is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return project


def lock(project_id):
    _begin_immediate_on_sqlite()
    project = db.session.scalar(db.select(Project).where(Project.id == project_id).with_for_update()
                                .execution_options(populate_existing=True))
    if project is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return project


# ---------------------------------------------------------------- who sees and manages


def staff_can(user, compound, roles=WATCHERS):
    """Does one of these roles of the user cover the compound (a grid worker: a building of it)?"""
    for role in scopes.roles_of(user, *roles):
        if scopes.covers_compound(role, compound) or any(scopes.covers(role, b) for b in compound.buildings):
            return True
    return False


def can_manage(user, project):
    return any(scopes.covers_compound(r, project.compound) for r in scopes.roles_of(user, *CREATORS))


def is_resident(user, compound_id):
    """Has the user an approved binding (any relation) to a flat of the compound?"""
    return db.session.scalar(
        db.select(Binding.id).join(Flat, Binding.flat_id == Flat.id).join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Binding.user_id == user.id, Binding.status == "approved", Building.compound_id == compound_id)
        .limit(1)) is not None


# Residents' roles of a compound: they follow its projects without being bound to a flat of it.
RESIDENT_ROLES = ("supervisor", "representative")
READERS = WATCHERS + RESIDENT_ROLES


def visible(user, project_id):
    """The project, for staff of its compound, its supervisors and representatives, and its residents;
    404 to everyone else."""
    project = get(project_id)
    if staff_can(user, project.compound, READERS) or is_resident(user, project.compound_id):
        return project
    raise ApiError(404, "not_found", NOT_FOUND)


def ensure_manager(user, project, action):
    if user is None or can_manage(user, project):
        return
    if staff_can(user, project.compound, READERS):
        raise ApiError(403, "forbidden", f"您不能{action}，请由本小区的业委会或社区工作人员操作",
                       {"allowed_roles": list(CREATORS)})
    raise ApiError(404, "not_found", NOT_FOUND)


def projects_for(user, flat_id=None):
    """With flat_id: the projects of the compound of a flat the user is bound to. Without: those of
    the staff's scope. Newest first."""
    if flat_id is not None:
        compound_id = db.session.scalar(
            db.select(Building.compound_id).join(Unit, Unit.building_id == Building.id).join(Flat, Flat.unit_id == Unit.id)
            .join(Binding, Binding.flat_id == Flat.id)
            .where(Flat.id == flat_id, Binding.user_id == user.id, Binding.status == "approved").limit(1))
        if compound_id is None:
            raise ApiError(404, "not_found", "您尚未绑定该房屋")
        return db.session.scalars(db.select(Project).where(Project.compound_id == compound_id)
                                  .order_by(Project.id.desc())).all()
    if not scopes.roles_of(user, *READERS):
        raise ApiError(403, "forbidden", "请带上 flat_id 查看您小区的改造项目")
    compounds = scopes.join_place_tree(db.select(Building.compound_id).distinct()).where(
        scopes.buildings_condition(user, *READERS))
    return db.session.scalars(db.select(Project).where(Project.compound_id.in_(compounds))
                              .order_by(Project.id.desc())).all()


# ---------------------------------------------------------------- lifecycle


def _check_link(project_or_compound_id, name, value):
    model, what = LINKS[name]
    target = db.session.get(model, value)
    compound_id = getattr(project_or_compound_id, "compound_id", project_or_compound_id)
    if target is None or target.compound_id != compound_id:
        raise ApiError(422, "validation_error", f"{what}不存在或不属于本小区", {name: [value]})
    if name in ("needs_survey_id", "satisfaction_survey_id"):
        kind = "needs" if name == "needs_survey_id" else "satisfaction"
        if target.kind != kind:
            raise ApiError(422, "validation_error", f"所选问卷不是{what}问卷", {name: [value]})
    return target


def create(user, data):
    compound = db.session.get(Compound, data["compound_id"])
    if compound is None:
        raise ApiError(404, "not_found", "没有找到该小区")
    if not any(scopes.covers_compound(r, compound) for r in scopes.roles_of(user, *CREATORS)):
        if staff_can(user, compound):
            raise ApiError(403, "forbidden", "只有本小区的业委会或社区工作人员可以创建改造项目", {"allowed_roles": list(CREATORS)})
        raise ApiError(404, "not_found", "没有找到该小区")
    for name in LINKS:
        if data.get(name) is not None:
            _check_link(compound.id, name, data[name])
    project = Project(compound_id=compound.id, title=data["title"], body=data.get("body") or "",
                      items=[{"name": i["name"], "level": i["level"]} for i in data["items"]],
                      budget_fen=data["budget_fen"], phase="survey",
                      acceptance_share=data.get("acceptance_share") or "1/2",
                      acceptance_strict=data.get("acceptance_strict", True), created_by_id=user.id,
                      **{name: data.get(name) for name in LINKS})
    db.session.add(project)
    db.session.flush()
    audit.start_chain(chain_name(project))
    _enter(project, "survey", user, "项目创建")
    return project


def link(user, project_id, data):
    """Link (or change) the consultation, contribution plan and surveys the phases wait for; a link
    whose phase has passed no longer changes."""
    project = lock(project_id)
    ensure_manager(user, project, "修改项目")
    changed = {}
    for name, value in data.items():
        if value is None or name not in LINKS or getattr(project, name) == value:
            continue
        if PHASES.index(project.phase) > PHASES.index(LINK_FIXED_AFTER[name]):
            raise ApiError(409, "phase_passed", f"{LINKS[name][1]}所在阶段已结束，不能再更改",
                           {"phase": project.phase})
        _check_link(project, name, value)
        setattr(project, name, value)
        changed[name] = value
    if changed:
        db.session.flush()
        audit.append(chain_name(project), "linked", "project", project.id, {**changed, "by": user.id})
    return project


def _enter(project, phase, user, reason, at=None):
    at = at or utcnow().replace(microsecond=0)
    project.phase, project.phase_changed_at = phase, at
    row = ProjectPhase(project_id=project.id, phase=phase, entered_at=at, by_id=user.id if user else None,
                       reason=reason)
    db.session.add(row)
    db.session.flush()
    audit.append(chain_name(project), "phase", "project_phase", row.id, {
        "phase": phase, "by": user.id if user else "system", "reason": reason,
        "at": at.strftime("%Y-%m-%dT%H:%M:%S")})
    current_app.logger.info("project %s enters %s: %s", project.id, phase, reason)
    return row


def _known(pairs):
    """What the conditions of these (project, phase) pairs read, one statement per kind for all."""
    from app.services.works import acceptance_passed_many

    def by_id(model, ids):
        ids = ids - {None}
        return {o.id: o for o in db.session.scalars(db.select(model).where(model.id.in_(ids)))} if ids else {}

    consultation_ids = {p.plan_consultation_id for p, phase in pairs if phase == "funding"} - {None}
    return {
        "surveys": by_id(Survey, {p.needs_survey_id for p, phase in pairs if phase == "plan"}
                         | {p.satisfaction_survey_id for p, phase in pairs if phase == "done"}),
        "consultations": by_id(Consultation, consultation_ids),
        "results": {r.consultation_id: r for r in db.session.scalars(db.select(ConsultationResult).where(
            ConsultationResult.consultation_id.in_(consultation_ids)))} if consultation_ids else {},
        "plans": by_id(ContributionPlan, {p.contribution_plan_id for p, phase in pairs if phase == "works"}),
        "accepted": acceptance_passed_many([p for p, phase in pairs if phase == "evaluation"]),
    }


def condition(project, phase, known=None):
    """(met, why) for entering `phase` from the phase before it; `known` is what _known() read for
    a list of projects (read here for this one when not given)."""
    known = known if known is not None else _known([(project, phase)])
    if phase == "plan":
        if project.needs_survey_id is None:
            return True, "未关联需求调查"
        survey = known["surveys"][project.needs_survey_id]
        return survey.status == "closed", f"需求调查「{survey.title}」{'已结束' if survey.status == 'closed' else '尚未结束'}"
    if phase == "funding":
        if project.plan_consultation_id is None:
            return False, "尚未关联方案征询"
        consultation = known["consultations"][project.plan_consultation_id]
        result = known["results"].get(consultation.id)
        if result is None:
            return False, f"方案征询「{consultation.title}」尚未截止计票"
        return result.passed, f"方案征询「{consultation.title}」{'已通过' if result.passed else '未通过'}"
    if phase == "works":
        if project.contribution_plan_id is None:
            return True, "未关联出资方案"
        plan = known["plans"][project.contribution_plan_id]
        return plan.status == "funded", f"出资方案「{plan.title}」{'已达成' if plan.status == 'funded' else '尚未达成'}"
    if phase == "acceptance":
        return True, "施工完成由工作人员说明"
    if phase == "evaluation":
        passed = known["accepted"][project.id]
        return passed, "居民代表验收已通过" if passed else "居民代表验收尚未通过"
    if phase == "done":
        if project.satisfaction_survey_id is None:
            return False, "尚未关联满意度评价"
        survey = known["surveys"][project.satisfaction_survey_id]
        return survey.status == "closed", f"满意度评价「{survey.title}」{'已结束' if survey.status == 'closed' else '尚未结束'}"
    return False, ""


def advance(user, project_id, to, reason=""):
    """Move a project to the next phase (only the next one), when its condition holds."""
    project = lock(project_id)
    ensure_manager(user, project, "推进项目阶段")
    if to not in PHASES:
        raise ApiError(422, "validation_error", "未知的阶段", {"phase": list(PHASES)})
    current = PHASES.index(project.phase)
    if PHASES.index(to) != current + 1:
        next_name = PHASE_NAMES[PHASES[current + 1]] if current + 1 < len(PHASES) else None
        raise ApiError(409, "phase_order", f"项目阶段只能依次向前：当前为「{PHASE_NAMES[project.phase]}」，"
                       + (f"下一阶段为「{next_name}」" if next_name else "已是最后阶段"),
                       {"phase": project.phase, "next": PHASES[current + 1] if next_name else None})
    met, why = condition(project, to)
    if not met:
        raise ApiError(409, "condition_unmet", f"不能进入「{PHASE_NAMES[to]}」：{why}",
                       {"phase": project.phase, "condition": CONDITIONS[to]})
    if to == "acceptance" and not reason:
        raise ApiError(422, "validation_error", "请说明施工完成情况", {"reason": ["必填项"]})
    _enter(project, to, user, reason or why)
    return project


def on_consultation_closed(consultation, result):
    """A consultation on a plan closed: each project in phase plan waiting for it moves to funding
    when it passed (by the system, the reason naming the consultation)."""
    if not result.passed:
        return []
    return _auto(Project.plan_consultation_id == consultation.id, "plan", "funding",
                 f"方案征询「{consultation.title}」已通过（系统按计票结果推进）")


def on_plan_closed(plan):
    """A contribution plan closed funded: each project in phase funding waiting for it moves to works."""
    if plan.status != "funded":
        return []
    return _auto(Project.contribution_plan_id == plan.id, "funding", "works",
                 f"出资方案「{plan.title}」已达成（系统按认筹结果推进）")


def _auto(where, phase, to, reason):
    moved = []
    for project_id in db.session.scalars(db.select(Project.id).where(where, Project.phase == phase)).all():
        project = lock(project_id)
        if project.phase == phase:
            _enter(project, to, None, reason)
            moved.append(project.id)
    return moved


# ---------------------------------------------------------------- what residents and staff see


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _next_phase(project):
    current = PHASES.index(project.phase)
    return PHASES[current + 1] if current + 1 < len(PHASES) else None


def brief_views(projects):
    """The list's views, in a constant number of statements: the phases entered, the compounds' names
    and what each project's next phase waits for, read for all the projects at once."""
    ids = [p.id for p in projects]
    entered = {i: {} for i in ids}
    for row in db.session.scalars(db.select(ProjectPhase).where(ProjectPhase.project_id.in_(ids))
                                  .order_by(ProjectPhase.id)) if ids else ():
        entered[row.project_id][row.phase] = row
    names = dict(db.session.execute(db.select(Compound.id, Compound.name).where(
        Compound.id.in_({p.compound_id for p in projects}))).all()) if ids else {}
    known = _known([(p, _next_phase(p)) for p in projects])
    return [_brief(p, entered[p.id], names[p.compound_id], known) for p in projects]


def _brief(project, entered, compound_name, known):
    nxt = _next_phase(project)
    out = {
        "id": project.id, "title": project.title, "body": project.body,
        "compound": {"id": project.compound_id, "name": compound_name},
        "items": [{"name": i["name"], "level": i["level"], "level_name": LEVELS[i["level"]]} for i in project.items],
        "budget_fen": project.budget_fen, "phase": project.phase, "phase_name": PHASE_NAMES[project.phase],
        "phases": [{"phase": p, "name": PHASE_NAMES[p], "entered_at": _iso(entered[p].entered_at) if p in entered else None,
                    "by_system": p in entered and entered[p].by_id is None,
                    "reason": entered[p].reason if p in entered else None} for p in PHASES],
        "next": None, "acceptance_rule": {"share": project.acceptance_share, "strict": project.acceptance_strict},
        "links": {name: getattr(project, name) for name in LINKS},
    }
    if nxt:
        met, why = condition(project, nxt, known)
        out["next"] = {"phase": nxt, "name": PHASE_NAMES[nxt], "condition": CONDITIONS[nxt], "met": met, "status": why}
    return out


def view(project, user=None):
    """The project's whole story: phases with dates, what the next waits for, the consultation's
    result, funds pledged and paid, site reports, acceptance and satisfaction."""
    out = brief_views([project])[0]
    out.update(_consultation_part(project), **_funds_part(project), **_works_part(project), **_survey_parts(project))
    return out


def _consultation_part(project):
    if project.plan_consultation_id is None:
        return {"consultation": None}
    c = db.session.get(Consultation, project.plan_consultation_id)
    result = db.session.scalar(db.select(ConsultationResult).filter_by(consultation_id=c.id))
    shown = result is not None and c.status == "published"
    return {"consultation": {"id": c.id, "title": c.title, "status": c.status, "closes_at": _iso(c.closes_at),
                             "passed": result.passed if shown else None,
                             "participation": {k: result.tally["participation"][k] for k in ("persons", "area", "met")}
                             if shown else None}}


def _funds_part(project):
    if project.contribution_plan_id is None:
        return {"funds": None}
    from app.services import plans

    plan = db.session.get(ContributionPlan, project.contribution_plan_id)
    if plan.status == "draft":
        return {"funds": {"plan_id": plan.id, "title": plan.title, "status": plan.status, "target_fen": None,
                          "pledged_fen": 0, "paid_fen": 0, "flats_pledging": 0, "flats": 0}}
    tally = plans.live_tally(plan, plans.terms(plan))
    return {"funds": {"plan_id": plan.id, "title": plan.title, "status": plan.status, "target_fen": tally["target_fen"],
                      "pledged_fen": tally["totals"]["pledged_fen"], "paid_fen": tally["totals"]["net_paid_fen"],
                      "flats_pledging": tally["flats"]["pledging"], "flats": tally["flats"]["total"]}}


def _works_part(project):
    from app.services import works

    return {"reports": works.report_counts(project), "acceptance": works.acceptance_summary(project)}


def _survey_parts(project):
    from app.services import surveys

    return {"needs_survey": surveys.summary(project.needs_survey_id) if project.needs_survey_id else None,
            "satisfaction": surveys.summary(project.satisfaction_survey_id) if project.satisfaction_survey_id else None}

