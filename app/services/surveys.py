"""Surveys (问卷): needs before a renovation (决策共谋), satisfaction after it (效果共评).

draft → open (the base of participation, the flats in scope, counted then) → closed (by staff, or by
the scheduler at closes_at). One answer per flat counts: any resident bound to the flat (owner,
family, tenant) may answer, the last answer counts and the earlier ones are kept, not current.

Free text goes through WeChat's msgSecCheck v2 (app.services.content): risky is refused with nothing
stored, review is stored held (its texts hidden from results) until staff release or reject it.

Results are counted from the current answers: participation, rating and single-choice counts in one
SQL aggregate, multiple choices and comments from one read of the current answers; a constant number
of statements whatever the number of answers. Shares and means are exact fractions, with a rounded
display beside them.
"""
import io
from functools import partial
import re
import time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from flask import current_app
from sqlalchemy.exc import IntegrityError, OperationalError

from app.errors import ApiError
from app.extensions import db, is_transient
from app.models import Binding, Building, Compound, Flat, Project, Survey, SurveyResponse, Unit
from app.models.bindings import RELATIONS
from app.models.places import utcnow
from app.models.projects import QUESTION_KINDS, SURVEY_KINDS, SURVEY_STATUSES, TEXT_STATES
from app.services import content, scopes
from app.services.consultations import (CREATORS, WATCHERS, _begin_immediate_on_sqlite, covers_scope,
                                        scope_building, scope_names, visible_among)

NOT_FOUND = "没有找到该问卷"
TEXT_MAX = 500
RATINGS = (1, 2, 3, 4, 5)
SATISFIED = (4, 5)
WRITE_ATTEMPTS = 5
MANAGERS_TEXT = "业委会/居民代表、社区工作人员、街道或区住建干部"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The satisfaction survey after completion (DESIGN.md §4 flow 6): five ratings and a comment.
SATISFACTION_PRESET = [
    {"key": "quality", "kind": "rating", "text": "工程质量", "options": [], "required": True},
    {"key": "site_management", "kind": "rating", "text": "施工管理", "options": [], "required": True},
    {"key": "environment", "kind": "rating", "text": "环境改善", "options": [], "required": True},
    {"key": "management", "kind": "rating", "text": "后续管理", "options": [], "required": True},
    {"key": "overall", "kind": "rating", "text": "总体满意度", "options": [], "required": True},
    {"key": "comment", "kind": "text", "text": "其他意见和建议", "options": [], "required": False},
]

# Text a resident writes: no control characters (line breaks and tabs allowed), no bidirectional
# overrides, no lone surrogates (what app.api.inputs refuses in multiline text; answers arrive as raw JSON).
_FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _invalid(field, message):
    raise ApiError(422, "validation_error", message, {field: [message]})


# ---------------------------------------------------------------- exact figures


def fraction_text(numerator, denominator):
    """An exact share as "n/d" in lowest terms ("37/40", "1/2", "0/1", "1/1"); None without a base."""
    if not denominator:
        return None
    value = Fraction(numerator, denominator)
    return f"{value.numerator}/{value.denominator}"


def rounded(value, places):
    """An exact Fraction as a decimal string rounded half up ("83.3", "4.25")."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else Decimal(value)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def percent_text(numerator, denominator):
    """The share as a percentage with one decimal ("92.5"); None without a base."""
    if not denominator:
        return None
    return rounded(Fraction(100 * numerator, denominator), 1)


def share(numerator, denominator):
    return {"share": fraction_text(numerator, denominator), "percent": percent_text(numerator, denominator)}


# ---------------------------------------------------------------- questions of a draft


def check_questions(kind, questions):
    """The questions as stored: keys given to those without one (q1, q2, ...), options only where
    they belong, unique keys; the satisfaction preset when a satisfaction survey gives none."""
    if not questions:
        if kind == "satisfaction":
            return [dict(q) for q in SATISFACTION_PRESET]
        _invalid("questions", "请至少设置一个问题（满意度评价可不填，使用预设的五项评分和一项意见）")
    given = [q.get("key") for q in questions if q.get("key")]
    duplicated = sorted({k for k in given if given.count(k) > 1})
    if duplicated:
        _invalid("questions", f"问题编号重复：{'、'.join(duplicated)}")
    used, stored = set(given), []
    for index, question in enumerate(questions, 1):
        key = question.get("key")
        if not key:
            n = index
            while f"q{n}" in used:
                n += 1
            key = f"q{n}"
            used.add(key)
        options = question.get("options") or []
        label = f"第 {index} 题「{question['text']}」"
        if question["kind"] in ("single", "multiple"):
            if not 2 <= len(options) <= 20:
                _invalid("questions", f"{label}是{QUESTION_KINDS[question['kind']]}题，须有 2 到 20 个选项")
            keys = [o["key"] for o in options]
            if len(set(keys)) != len(keys):
                _invalid("questions", f"{label}的选项编号重复")
            labels = [o["label"] for o in options]
            if len(set(labels)) != len(labels):
                _invalid("questions", f"{label}的选项文字重复")
        elif options:
            _invalid("questions", f"{label}是{QUESTION_KINDS[question['kind']]}题，不设选项")
        stored.append({"key": key, "kind": question["kind"], "text": question["text"],
                       "options": [{"key": o["key"], "label": o["label"]} for o in options],
                       "required": question.get("required", True)})
    return stored


def create(user, data):
    """A draft survey for a compound, building or unit (committee, community staff ... of the scope)."""
    scope_type, scope_id = data["scope"]["type"], data["scope"]["id"]
    building, compound = scope_building(scope_type, scope_id)
    if compound is None:
        raise ApiError(404, "not_found", "没有找到问卷的范围")
    if not covers_scope(user, scope_type, scope_id, CREATORS):
        raise ApiError(403, "forbidden", "您无权在该范围发起问卷", {"allowed_roles": list(CREATORS)})
    kind = data.get("kind") or "other"
    project_id = data.get("project_id")
    if project_id is not None:
        project = db.session.get(Project, project_id)
        if project is None or project.compound_id != compound.id:
            _invalid("project_id", "关联的改造项目应为本小区的项目")
    if data["closes_at"] <= utcnow():
        _invalid("closes_at", "截止时间应晚于现在")
    questions = check_questions(kind, data.get("questions"))
    survey = Survey(compound_id=compound.id, scope_type=scope_type, scope_id=scope_id, project_id=project_id,
                    kind=kind, title=data["title"], body=data.get("body") or "", questions=questions,
                    status="draft", closes_at=data["closes_at"], created_by_id=user.id)
    db.session.add(survey)
    db.session.flush()
    return survey


# ---------------------------------------------------------------- scope and access


def _scope_column(scope_type):
    return {"compound": Building.compound_id, "building": Building.id, "unit": Unit.id}[scope_type]


def scope_flats(survey):
    """SELECT of the ids of the flats in the survey's scope (live)."""
    return (db.select(Flat.id).join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .where(_scope_column(survey.scope_type) == survey.scope_id))


def holds_flat(survey, flat_id):
    return db.session.scalar(scope_flats(survey).where(Flat.id == flat_id)) is not None


def visible_to_staff(user, survey, roles=WATCHERS):
    """Staff see a survey when any building of its scope lies in their scope (the consultations' rule)."""
    return bool(visible_among(user, [survey], roles))


def can_manage(user, survey):
    """Creators whose scope holds the whole scope open, close and review (None: the scheduler)."""
    return user is None or covers_scope(user, survey.scope_type, survey.scope_id, CREATORS)


def ensure_manager(user, survey, action):
    """Staff who see the survey but may not act are told who may (403); anyone else gets a 404."""
    if can_manage(user, survey):
        return
    if visible_to_staff(user, survey):
        raise ApiError(403, "forbidden", f"您不能{action}，请由本范围的{MANAGERS_TEXT}操作",
                       {"allowed_roles": list(CREATORS)})
    raise ApiError(404, "not_found", NOT_FOUND)


def relation_of(user, flat_id):
    """The user's relation to a flat they are bound to (approved binding), else None."""
    return db.session.scalar(db.select(Binding.relation).filter_by(user_id=user.id, flat_id=flat_id,
                                                                   status="approved").limit(1))


def resident_of_scope(user, survey):
    """Is the user bound (approved, any relation) to a flat in the survey's scope?"""
    mine = db.select(Binding.flat_id).where(Binding.user_id == user.id, Binding.status == "approved")
    return db.session.scalar(scope_flats(survey).where(Flat.id.in_(mine)).limit(1)) is not None


def get(survey_id):
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return survey


def readable(user, survey_id, flat_id=None):
    """(survey, staff?, relation) for whoever may read it: staff of the scope in any state; a resident
    through a bound flat in scope (flat_id, or any of theirs), not a draft. 404 for anyone else."""
    survey = get(survey_id)
    staff = visible_to_staff(user, survey)
    relation = relation_of(user, flat_id) if flat_id is not None else None
    if flat_id is not None and relation is not None and (survey.status == "draft" or not holds_flat(survey, flat_id)):
        relation = None
    if staff:
        return survey, True, relation
    if survey.status != "draft":
        if flat_id is not None and relation is not None:
            return survey, False, relation
        if flat_id is None and resident_of_scope(user, survey):
            return survey, False, None
    raise ApiError(404, "not_found", NOT_FOUND)


def staff_surveys(user):
    """Surveys in the user's scope, newest first: compounds narrowed in SQL, scopes checked here."""
    compounds = scopes.join_place_tree(db.select(Building.compound_id).distinct()).where(
        scopes.buildings_condition(user, *WATCHERS))
    candidates = db.session.scalars(db.select(Survey).where(Survey.compound_id.in_(compounds))
                                    .order_by(Survey.id.desc())).all()
    return visible_among(user, candidates, WATCHERS)


def surveys_for_flat(flat_id):
    """Surveys (not drafts) whose scope holds the flat, the latest deadline first."""
    place = db.session.execute(
        db.select(Unit.id, Building.id, Building.compound_id).join(Building, Unit.building_id == Building.id)
        .join(Flat, Flat.unit_id == Unit.id).where(Flat.id == flat_id)).first()
    if place is None:
        return []
    unit_id, building_id, compound_id = place
    return db.session.scalars(db.select(Survey).where(
        Survey.status != "draft",
        db.or_(db.and_(Survey.scope_type == "compound", Survey.scope_id == compound_id),
               db.and_(Survey.scope_type == "building", Survey.scope_id == building_id),
               db.and_(Survey.scope_type == "unit", Survey.scope_id == unit_id)))
        .order_by(Survey.closes_at.desc(), Survey.id.desc())).all()


def lock(survey_id, shared=False):
    """The survey row, locked: shared while an answer is written, exclusive to open or close."""
    _begin_immediate_on_sqlite()
    survey = db.session.scalar(db.select(Survey).where(Survey.id == survey_id)
                               .with_for_update(read=shared).execution_options(populate_existing=True))
    if survey is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return survey


# ---------------------------------------------------------------- lifecycle


def open_(user, survey_id):
    """Open for answers; the flats in scope now are the base of participation."""
    survey = lock(survey_id)
    ensure_manager(user, survey, "开始问卷")
    if survey.status != "draft":
        raise ApiError(409, "not_draft", "只有草稿状态的问卷可以开始", {"status": survey.status})
    if survey.closes_at <= utcnow():
        raise ApiError(409, "deadline_passed", "截止时间已过，请重新创建问卷")
    flats = db.session.scalar(db.select(db.func.count()).select_from(scope_flats(survey).subquery()))
    if not flats:
        raise ApiError(409, "empty_scope", "问卷范围内没有房屋，无法开始")
    survey.flats, survey.status, survey.opened_at = flats, "open", utcnow()
    db.session.flush()
    current_app.logger.info("survey %s opened over %s flats", survey.id, flats)
    return survey


def close(survey_id, user=None, now=None):
    """Close now; answers being written (they hold the shared lock) land first, later ones are refused."""
    survey = lock(survey_id)
    ensure_manager(user, survey, "结束问卷")
    if survey.status != "open":
        raise ApiError(409, "not_open", "只有进行中的问卷可以结束", {"status": survey.status})
    survey.status, survey.closed_at = "closed", now or utcnow()
    db.session.flush()
    current_app.logger.info("survey %s closed", survey.id)
    return survey


def close_due(now=None):
    """Close every open survey whose deadline has passed, each in its own transaction."""
    now = now or utcnow()
    due = db.session.scalars(db.select(Survey.id).where(Survey.status == "open", Survey.closes_at <= now)
                             .order_by(Survey.id)).all()
    db.session.rollback()
    closed = []
    for survey_id in due:
        try:
            close(survey_id, now=now)
            db.session.commit()
            closed.append(survey_id)
        except ApiError:
            db.session.rollback()  # closed by hand meanwhile
        except Exception:
            db.session.rollback()
            current_app.logger.exception("closing survey %s failed", survey_id)
    return closed


def is_accepting(survey, now=None):
    return survey.status == "open" and (now or utcnow()) < survey.closes_at


def ensure_accepting(survey):
    if survey.status == "draft":
        raise ApiError(404, "not_found", NOT_FOUND)
    if survey.status != "open":
        raise ApiError(409, "closed", "问卷已结束，不能再提交或修改答案", {"status": survey.status})
    if not is_accepting(survey):
        raise ApiError(409, "deadline_passed", "问卷已过截止时间，不能再提交或修改答案",
                       {"closes_at": _iso(survey.closes_at)})


# ---------------------------------------------------------------- answers


def check_answers(questions, answers):
    """The answers cleaned (texts stripped, unanswered optional questions left out), or a 422 that
    names every wrong answer by its question key, in Chinese. Nothing is stored before this passes."""
    errors = {}
    by_key = {q["key"]: (i, q) for i, q in enumerate(questions, 1)}

    def wrong(key, message):
        index, question = by_key[key] if key in by_key else (None, None)
        where = f"第 {index} 题「{question['text']}」：" if question else ""
        errors.setdefault(key, []).append(message)
        wrong.first = wrong.first or where + message

    wrong.first = None
    if not isinstance(answers, dict):
        raise ApiError(422, "validation_error", "答案应为 {题目编号: 答案} 的对象", {"answers": ["应为对象"]})
    for key in answers:
        if key not in by_key:
            wrong(key, "问卷中没有这道题")
    cleaned = {}
    for key, (_, question) in by_key.items():
        value = answers.get(key)
        kind = question["kind"]
        if kind == "text" and isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if question["required"]:
                wrong(key, "请填写这道题" if kind == "text" else "请回答这道题")
            continue
        offered = {o["key"] for o in question["options"]}
        if kind == "single":
            if not isinstance(value, str):
                wrong(key, "应选择一个选项（选项编号）")
            elif value not in offered:
                wrong(key, "没有这个选项")
            else:
                cleaned[key] = value
        elif kind == "multiple":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                wrong(key, "应为所选选项编号的列表")
            elif not value:
                wrong(key, "请至少选择一项")
            elif len(set(value)) != len(value):
                wrong(key, "同一选项只能选一次")
            elif not set(value) <= offered:
                wrong(key, "没有这个选项")
            else:
                cleaned[key] = value
        elif kind == "rating":
            if isinstance(value, bool) or not isinstance(value, int) or value not in RATINGS:
                wrong(key, "评分应为 1 到 5 的整数")
            else:
                cleaned[key] = value
        else:  # text
            if not isinstance(value, str):
                wrong(key, "应为文字")
            elif len(value) > TEXT_MAX:
                wrong(key, f"不能超过 {TEXT_MAX} 个字（现有 {len(value)} 个字）")
            elif _FORBIDDEN_TEXT.search(value):
                wrong(key, "不能包含控制字符或无效的字符")
            else:
                cleaned[key] = value
    if not errors and not cleaned:
        raise ApiError(422, "validation_error", "请至少回答一道题", {"answers": ["请至少回答一道题"]})
    if errors:
        several = sum(len(v) for v in errors.values()) > 1
        message = f"有 {len(errors)} 道题的答案有误：{wrong.first} 等" if several else wrong.first
        raise ApiError(422, "validation_error", message, {"answers": errors})
    return cleaned


def screen_texts(user, questions, cleaned):
    """msgSecCheck v2 on each text answer: risky is a 422 (nothing stored); review holds the
    response's texts for staff. The text state to store (None when the answers hold no text)."""
    texts = [(q["key"], cleaned[q["key"]]) for q in questions if q["kind"] == "text" and q["key"] in cleaned]
    if not texts:
        return None
    held = False
    for key, text in texts:
        try:
            held |= content.check_text(user, text, key) == "review"
        except ApiError as exc:
            if exc.extra_data.get("code") == "content_risky":
                raise ApiError(422, "content_risky", content.RISKY_MESSAGE + "，请修改后重新提交",
                               {"answers": {key: [content.RISKY_MESSAGE]}}) from None
            raise
    return "held" if held else "visible"


def _replay(rows, user_id, flat_id, key, cleaned):
    """The response an earlier request with this Idempotency-Key wrote, if any (same user and answers)."""
    for row in rows:
        if key and row.idempotency_key == key:
            if row.user_id != user_id:
                raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
            if row.flat_id != flat_id or row.answers != cleaned:
                raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一份内容不同的答卷，请勿重复使用",
                               {"Idempotency-Key": ["已用于另一份答卷"]})
            return row
    return None


def _flat_rows(survey_id, flat_id, for_update=False):
    query = (db.select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                             SurveyResponse.flat_id == flat_id).order_by(SurveyResponse.id))
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(query).all()


def respond(user, survey_id, flat_id, answers, key=None):
    """One flat's answers by a resident bound to it (any relation); the flat's earlier answer stops
    counting. Returns (response, replayed?). Accepts an Idempotency-Key: a retry answers the same
    response. Two residents of one flat answering at once leave exactly one current answer: the
    survey row is locked shared (closing waits), the flat's answers FOR UPDATE, and a race on the
    unique key (survey, flat, current) or a deadlock between two first answers is run again."""
    survey = get(survey_id)
    if relation_of(user, flat_id) is None or survey.status == "draft" or not holds_flat(survey, flat_id):
        raise ApiError(404, "not_found", "没有找到该问卷，或您尚未绑定该房屋")
    if key:
        rows = _flat_rows(survey_id, flat_id)
        if any(r.idempotency_key == key for r in rows):  # a retry: the same response, whatever happened since
            return _replay(rows, user.id, flat_id, key, check_answers(survey.questions, answers)), True
    ensure_accepting(survey)
    questions = survey.questions
    cleaned = check_answers(questions, answers)
    text_state = screen_texts(user, questions, cleaned)
    user_id = user.id
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return _write(user_id, survey_id, flat_id, cleaned, text_state, key)
        except (IntegrityError, OperationalError) as exc:
            db.session.rollback()
            if attempt == WRITE_ATTEMPTS or (isinstance(exc, OperationalError) and not is_transient(exc)):
                raise
            current_app.logger.info("survey %s flat %s: answer raced another, run again (%s)", survey_id, flat_id,
                                    type(exc).__name__)
            time.sleep(0.02 * attempt)


def _write(user_id, survey_id, flat_id, cleaned, text_state, key):
    survey = lock(survey_id, shared=True)
    rows = _flat_rows(survey_id, flat_id, for_update=True)
    if key:
        replay = _replay(rows, user_id, flat_id, key, cleaned)
        if replay is not None:
            return replay, True
    ensure_accepting(survey)
    replaced = [r for r in rows if r.current]
    for row in replaced:
        row.current = None
    if replaced:
        db.session.flush()  # the old answer stops counting before the new one takes the unique key
    response = SurveyResponse(survey_id=survey_id, flat_id=flat_id, user_id=user_id, answers=dict(cleaned),
                              current=True, text_state=text_state, idempotency_key=key, created_at=utcnow())
    db.session.add(response)
    db.session.flush()
    current_app.logger.info("survey %s: flat %s answered by user=%s (response %s, text %s, replaces %s)", survey_id,
                            flat_id, user_id, response.id, text_state, [r.id for r in replaced])
    return response, False


# ---------------------------------------------------------------- what the API shows


def flat_labels(flat_ids):
    """{flat_id: "1栋1单元101"}."""
    if not flat_ids:
        return {}
    return {fid: f"{b}{u}{room}" for fid, b, u, room in db.session.execute(
        db.select(Flat.id, Building.name, Unit.name, Flat.room).join(Unit, Flat.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id).where(Flat.id.in_(set(flat_ids))))}


def question_views(questions):
    return [{"key": q["key"], "kind": q["kind"], "kind_name": QUESTION_KINDS[q["kind"]], "text": q["text"],
             "options": [{"key": o["key"], "label": o["label"]} for o in q["options"]], "required": q["required"]}
            for q in questions]


def answer_view(response, user=None):
    """A flat's answer as residents of the flat see it (texts included: they are the flat's own)."""
    state = response.text_state
    return {"id": response.id, "survey_id": response.survey_id, "flat_id": response.flat_id,
            "answers": response.answers, "current": bool(response.current), "text_state": state,
            "text_state_name": TEXT_STATES.get(state) if state else None,
            "review_reason": response.review_reason if state == "rejected" else None,
            "by_me": user is not None and response.user_id == user.id, "answered_at": _iso(response.created_at)}


def survey_views(surveys, user=None, staff=False, flat_id=None, relation=None):
    """Surveys in a constant number of statements; with a bound flat, that flat's current answer."""
    if not surveys:
        return []
    ids = [s.id for s in surveys]
    names = scope_names(surveys)
    compounds = dict(db.session.execute(db.select(Compound.id, Compound.name).where(
        Compound.id.in_({s.compound_id for s in surveys}))).all())
    answered = dict(db.session.execute(
        db.select(SurveyResponse.survey_id, db.func.count()).where(
            SurveyResponse.survey_id.in_(ids), SurveyResponse.current.is_(True))
        .group_by(SurveyResponse.survey_id)).all())
    mine, room = {}, None
    if flat_id is not None and relation is not None:
        mine = {r.survey_id: r for r in db.session.scalars(db.select(SurveyResponse).where(
            SurveyResponse.survey_id.in_(ids), SurveyResponse.flat_id == flat_id, SurveyResponse.current.is_(True)))}
        room = flat_labels([flat_id]).get(flat_id)
    views = []
    for s in surveys:
        view = {
            "id": s.id, "title": s.title, "body": s.body, "kind": s.kind, "kind_name": SURVEY_KINDS[s.kind],
            "scope": {"type": s.scope_type, "id": s.scope_id, "name": names.get((s.scope_type, s.scope_id))},
            "compound": {"id": s.compound_id, "name": compounds[s.compound_id]}, "project_id": s.project_id,
            "questions": question_views(s.questions), "status": s.status, "status_name": SURVEY_STATUSES[s.status],
            "closes_at": _iso(s.closes_at), "opened_at": _iso(s.opened_at), "closed_at": _iso(s.closed_at),
            "created_at": _iso(s.created_at), "flats": s.flats, "answered": int(answered.get(s.id, 0)),
            "accepting": is_accepting(s),
            "results_available": s.status != "draft" if staff else s.status == "closed",
            "flat": None,
        }
        if flat_id is not None and relation is not None:
            response = mine.get(s.id)
            view["flat"] = {"flat_id": flat_id, "room": room, "relation": relation,
                            "relation_name": RELATIONS.get(relation, relation), "answered": response is not None,
                            "response": answer_view(response, user) if response is not None else None}
        views.append(view)
    return views


# ---------------------------------------------------------------- held texts and their review


def text_questions(survey):
    return [q for q in survey.questions if q["kind"] == "text"]


def review_views(survey, responses):
    """Responses as reviewers see them: the room (no name), the texts with their questions."""
    labels = flat_labels({r.flat_id for r in responses})
    questions = text_questions(survey)
    views = []
    for r in responses:
        given = r.answers
        state = r.text_state
        views.append({
            "id": r.id, "survey_id": r.survey_id, "flat_id": r.flat_id, "room": labels.get(r.flat_id),
            "current": bool(r.current),
            "texts": [{"key": q["key"], "question": q["text"], "text": given[q["key"]]} for q in questions
                      if q["key"] in given],
            "text_state": state, "text_state_name": TEXT_STATES.get(state) if state else None,
            "review_reason": r.review_reason if state == "rejected" else None,
            "reviewed_at": _iso(r.reviewed_at), "answered_at": _iso(r.created_at)})
    return views


def held(user, survey_id):
    """The held texts of a survey's current answers, oldest first, for its reviewers (the creators of
    its scope). A held text the flat has since replaced counts nowhere and waits for no one."""
    survey = get(survey_id)
    ensure_manager(user, survey, "审核问卷中的文字意见")
    rows = db.session.scalars(db.select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.current.is_(True),
        SurveyResponse.text_state == "held").order_by(SurveyResponse.id)).all()
    return survey, rows


def _reviewable(user, response_id):
    response = db.session.scalar(db.select(SurveyResponse).where(SurveyResponse.id == response_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if response is None:
        raise ApiError(404, "not_found", "没有找到该答卷")
    survey = get(response.survey_id)
    if not can_manage(user, survey):
        if visible_to_staff(user, survey):
            raise ApiError(403, "forbidden", f"您不能审核问卷中的文字意见，请由本范围的{MANAGERS_TEXT}操作",
                           {"allowed_roles": list(CREATORS)})
        raise ApiError(404, "not_found", "没有找到该答卷")
    if response.text_state != "held":
        raise ApiError(409, "not_held", "只有待审核的文字意见可以审核", {"text_state": response.text_state})
    return survey, response


def release(user, response_id):
    """A held text (msgSecCheck said review) made visible by staff who read it."""
    survey, response = _reviewable(user, response_id)
    response.text_state, response.reviewed_by_id, response.reviewed_at = "visible", user.id, utcnow()
    db.session.flush()
    current_app.logger.info("survey %s response %s text released by user=%s", survey.id, response.id, user.id)
    return survey, response


def reject(user, response_id, reason):
    """A held text kept from being shown, with the reason the flat's residents read. The answers
    themselves (ratings, choices) still count."""
    survey, response = _reviewable(user, response_id)
    response.text_state, response.reviewed_by_id, response.reviewed_at = "rejected", user.id, utcnow()
    response.review_reason = reason
    db.session.flush()
    current_app.logger.info("survey %s response %s text rejected by user=%s", survey.id, response.id, user.id)
    return survey, response


# ---------------------------------------------------------------- results


def _rating_block(distribution):
    """{count, sum, mean, mean_display, distribution, satisfied, satisfaction_rate, satisfaction_percent}."""
    count = sum(distribution.values())
    total = sum(score * n for score, n in distribution.items())
    satisfied = sum(distribution[s] for s in SATISFIED)
    mean = Fraction(total, count) if count else None
    return {"count": count, "sum": total, "mean": fraction_text(total, count), "mean_display": rounded(mean, 2),
            "distribution": {str(s): distribution[s] for s in RATINGS}, "satisfied": satisfied,
            "satisfaction_rate": fraction_text(satisfied, count),
            "satisfaction_percent": percent_text(satisfied, count)}


def results(survey, staff):
    """The results for staff of the scope (after opening) or residents of the scope (once closed)."""
    if survey.status == "draft":
        raise ApiError(409, "not_open", "问卷尚未开始，没有结果")
    if not staff and survey.status != "closed":
        raise ApiError(409, "not_closed", "问卷结束后公布结果", {"closes_at": _iso(survey.closes_at)})
    return figures(survey, staff)


def summary(survey_id, live=False):
    """A survey in brief for a project's story: participation, and for a satisfaction survey the
    satisfaction rate and mean over its ratings. The rate and mean only once closed (residents read
    the project), unless live (staff)."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        return None
    counted = figures(survey, staff=False)
    shown = counted["overall"] if survey.kind == "satisfaction" and (live or survey.status == "closed") else None
    number = (lambda text: None if text is None else float(text))
    return {"id": survey.id, "title": survey.title, "status": survey.status, "flats": survey.flats,
            "answered": counted["participation"]["answered"],
            "participation_percent": number(counted["participation"]["percent"]),
            "rate_percent": number(shown["satisfaction_percent"]) if shown else None,
            "mean": shown["mean_display"] if shown else None}


def figures(survey, staff):
    """Participation and each question's figures, from the current answers. Staff see the rooms of
    comments; residents the texts only. Two statements whatever the number of answers."""
    questions = survey.questions
    R = SurveyResponse
    counted = (R.survey_id == survey.id, R.current.is_(True))
    # 1. in SQL: how many flats answered, and per rating score and per single-choice option
    columns, slots = [db.func.count(R.id)], []
    for q in questions:
        if q["kind"] == "rating":
            value = R.answers[q["key"]].as_integer()
            for score in RATINGS:
                slots.append((q["key"], score))
                columns.append(db.func.sum(db.case((value == score, 1), else_=0)))
        elif q["kind"] == "single":
            value = R.answers[q["key"]].as_string()
            for option in q["options"]:
                slots.append((q["key"], option["key"]))
                columns.append(db.func.sum(db.case((value == option["key"], 1), else_=0)))
    row = db.session.execute(db.select(*columns).where(*counted)).one()
    answered = int(row[0] or 0)
    sums = {slot: int(v or 0) for slot, v in zip(slots, row[1:])}
    # 2. in Python over one read of the current answers: multiple choices and comments
    multiple = {q["key"]: {o["key"]: 0 for o in q["options"]} for q in questions if q["kind"] == "multiple"}
    texts = {q["key"]: {"comments": [], "held": 0, "answered": 0} for q in questions if q["kind"] == "text"}
    multiple_answered = dict.fromkeys(multiple, 0)
    if multiple or texts:
        columns = [R.answers, R.text_state]
        query = db.select(*columns).where(*counted).order_by(R.id)
        if staff:
            query = (db.select(*columns, Building.name, Unit.name, Flat.room).join(Flat, R.flat_id == Flat.id)
                     .join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
                     .where(*counted).order_by(R.id))
        for given, state, *place in db.session.execute(query):
            for key, counts in multiple.items():
                chosen = given.get(key)
                if isinstance(chosen, list) and chosen:
                    multiple_answered[key] += 1
                    for option in chosen:
                        if option in counts:
                            counts[option] += 1
            for key, block in texts.items():
                text = given.get(key)
                if not isinstance(text, str) or not text:
                    continue
                block["answered"] += 1
                if state == "visible":
                    block["comments"].append({"text": text, **({"room": "".join(place)} if staff else {})})
                elif state == "held":
                    block["held"] += 1
    blocks, pooled = [], dict.fromkeys(RATINGS, 0)
    for q in questions:
        kind = q["kind"]
        block = {"key": q["key"], "kind": kind, "kind_name": QUESTION_KINDS[kind], "text": q["text"],
                 "required": q["required"], "answered": 0, "options": [], "rating": None, "comments": [], "held": 0}
        if kind == "rating":
            distribution = {s: sums[(q["key"], s)] for s in RATINGS}
            for s in RATINGS:
                pooled[s] += distribution[s]
            block["rating"] = _rating_block(distribution)
            block["answered"] = block["rating"]["count"]
        elif kind in ("single", "multiple"):
            counts = ({o["key"]: sums[(q["key"], o["key"])] for o in q["options"]} if kind == "single"
                      else multiple[q["key"]])
            base = sum(counts.values()) if kind == "single" else multiple_answered[q["key"]]
            block["answered"] = base
            block["options"] = [{"key": o["key"], "label": o["label"], "count": counts[o["key"]],
                                 **share(counts[o["key"]], base)} for o in q["options"]]
        else:
            block.update(answered=texts[q["key"]]["answered"], comments=texts[q["key"]]["comments"],
                         held=texts[q["key"]]["held"])
        blocks.append(block)
    participation = {"flats": survey.flats or 0, "answered": answered, **share(answered, survey.flats or 0)}
    overall = None
    if survey.kind == "satisfaction":
        pooled_block = _rating_block(pooled)
        overall = {"ratings": pooled_block["count"], "mean": pooled_block["mean"],
                   "mean_display": pooled_block["mean_display"], "satisfied": pooled_block["satisfied"],
                   "satisfaction_rate": pooled_block["satisfaction_rate"],
                   "satisfaction_percent": pooled_block["satisfaction_percent"], "participation": participation}
    return {
        "survey": {"id": survey.id, "title": survey.title, "kind": survey.kind, "kind_name": SURVEY_KINDS[survey.kind],
                   "status": survey.status, "status_name": SURVEY_STATUSES[survey.status],
                   "closes_at": _iso(survey.closes_at), "closed_at": _iso(survey.closed_at)},
        "final": survey.status == "closed", "participation": participation, "questions": blocks, "overall": overall,
        "generated_at": _iso(utcnow()),
    }


# ---------------------------------------------------------------- the results as a workbook


def results_xlsx(survey, figures, scope_name=None):
    """The results table as an Excel workbook: the same figures as GET /results, counts and shares as
    numbers, no cell a formula; text stored as text, and text Excel would read as a formula (= + - @)
    gets Excel's quote prefix, as the plan ledger does (app/services/plan_documents.py)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from app.services.plan_documents import beijing

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("问卷结果")
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDDDDD")
    wrap = Alignment(wrap_text=True, vertical="top")

    from app.services import sheets

    cell = partial(sheets.cell, ws)

    def number(text):
        return None if text is None else Decimal(text)

    for letter, width in zip("ABCDEF", (8, 30, 34, 10, 14, 12)):
        ws.column_dimensions[letter].width = width
    p = figures["participation"]
    header = [
        ("问卷", survey.title), ("类型", SURVEY_KINDS[survey.kind]), ("范围", scope_name or "—"),
        ("状态", SURVEY_STATUSES[survey.status] + ("（最终结果）" if figures["final"] else "（实时统计）")),
        ("截止时间（北京时间）", beijing(survey.closes_at, "%Y-%m-%d %H:%M")),
        ("参与", f"{p['answered']} / {p['flats']} 户（{p['percent'] or '0.0'}%，开始时范围内的房屋为基数）"),
        ("生成时间（北京时间）", beijing(utcnow(), "%Y-%m-%d %H:%M:%S")),
        ("说明", "比例：选择题为回答该题的户数中的占比；满意率为 4 分和 5 分在该题全部评分中的占比；不含姓名。"),
    ]
    ws.append([cell(f"问卷结果：{survey.title}", font=Font(bold=True, size=14))])
    for label, value in header:
        ws.append([cell(label, font=bold), cell(value)])
    ws.append([])
    ws.append([cell(name, font=bold, fill=head_fill)
               for name in ("题号", "题目（意见：房号）", "项目", "户数/条数", "比例（分数）", "比例（%）")])
    for index, q in enumerate(figures["questions"], 1):
        title = f"{q['text']}（{q['kind_name']}{'' if q['required'] else '，选答'}）"
        ws.append([cell(index), cell(title, font=bold, alignment=wrap), cell("回答户数"), cell(q["answered"])])
        if q["kind"] in ("single", "multiple"):
            for o in q["options"]:
                ws.append([cell(None), cell(None), cell(o["label"], alignment=wrap), cell(o["count"]),
                           cell(o["share"]), cell(number(o["percent"]), "0.0")])
        elif q["kind"] == "rating":
            r = q["rating"]
            for score in RATINGS:
                count = r["distribution"][str(score)]
                ws.append([cell(None), cell(None), cell(f"{score} 分"), cell(count), cell(fraction_text(count, r["count"])),
                           cell(number(percent_text(count, r["count"])), "0.0")])
            ws.append([cell(None), cell(None), cell("平均分"), cell(r["count"]), cell(r["mean"]),
                       cell(number(r["mean_display"]), "0.00")])
            ws.append([cell(None), cell(None), cell("满意率（4-5 分）"), cell(r["satisfied"]),
                       cell(r["satisfaction_rate"]), cell(number(r["satisfaction_percent"]), "0.0")])
        else:
            for comment in q["comments"]:  # the room (staff only) beside the text, never inside it
                ws.append([cell(None), cell(comment.get("room")), cell(comment["text"], alignment=wrap)])
            ws.append([cell(None), cell(None), cell("待审核（未公开）"), cell(q["held"])])
    overall = figures["overall"]
    if overall is not None:
        ws.append([])
        ws.append([cell("总体", font=bold), cell("全部评分题合计", font=bold), cell("平均分"), cell(overall["ratings"]),
                   cell(overall["mean"]), cell(number(overall["mean_display"]), "0.00")])
        ws.append([cell(None), cell(None), cell("满意率（4-5 分）"), cell(overall["satisfied"]),
                   cell(overall["satisfaction_rate"]), cell(number(overall["satisfaction_percent"]), "0.0")])
        ws.append([cell(None), cell(None), cell("参与率"), cell(p["answered"]), cell(p["share"]),
                   cell(number(p["percent"]), "0.0")])
    wb.properties.title = f"问卷结果：{survey.title}"
    wb.properties.creator = "共建"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(survey, ext="xlsx"):
    from urllib.parse import quote

    title = re.sub(r'[\\/:*?"<>|\s]+', "_", survey.title).strip("_") or "问卷"
    return (f"attachment; filename=\"survey-{survey.id}-results.{ext}\"; "
            f"filename*=UTF-8''{quote(f'{title}-问卷结果.{ext}', safe='')}")


def scope_name(survey):
    return scope_names([survey]).get((survey.scope_type, survey.scope_id))
