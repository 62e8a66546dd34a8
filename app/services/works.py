"""Works supervision (项目共管) and acceptance (验收) of a renovation project.

Site reports. While a project is in works (or acceptance), a resident of its compound (an approved
binding, any relation) or a supervisor of the compound reports a problem on site: text checked by
WeChat's msgSecCheck (risky: refused, nothing stored; review: held until staff release or reject it),
a place (a building or unit of the compound, or a few words), up to 3 photos. Staff of the compound
answer; the reporter or a supervisor confirms it resolved, or reopens it with a reason. Every step is
an entry of the project's site-report chain (`site_reports:<project id>`), which keeps the history
(answers, reasons, who acted: reporter, supervisor or staff) and lets `verify_works` name a report
edited behind the application's back.

Acceptance. Each representative of the compound signs once, while the project is in acceptance:
an opinion (pass, pass with remarks, fail with its defects), remarks and a handwritten signature.
The signature's content hash is an entry of the project's chain (`project:<id>`), as is each defect
resolved by staff. The acceptance passes when the pass and pass-with-remarks signatures of the
current representatives are more than (or, not strict, at least) the project's share of their
number, compared as exact fractions."""
import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import (AcceptanceSignature, AuditChain, AuditEntry, Binding, Blob, Building, Defect, Flat,
                        InboxItem, Project, SiteReport, StaffRole, Unit, User)
from app.models.projects import OPINIONS, PHASE_NAMES, REPORT_STATUSES, TEXT_STATES
from app.models.places import utcnow
from app.services import audit, content, projects, scopes
from app.services.audit import Problem
from app.services.ballots import SIGNATURE_MAX_BYTES, decode_image
from app.services.consultations import CREATORS
from app.services.privacy import mask_name

REPORTING_PHASES = ("works", "acceptance")
MAX_PHOTOS = 3
REPORT_NOT_FOUND = "没有找到该现场问题"
DEFECT_NOT_FOUND = "没有找到该缺陷"
DEFECT_STATUSES = {"open": "待整改", "resolved": "已整改"}
EVENTS = {"filed": "提交", "released": "审核后公开", "rejected": "不予公开", "answered": "工作人员答复",
          "resolved": "确认已解决", "reopened": "重新打开"}
ACTORS = {"reporter": "反映人", "supervisor": "居民监督员", "staff": "工作人员"}
STAFF_TEXT = "本小区的业委会、社区工作人员、街道或区住建干部"


def reports_chain(project):
    """The chain of a project's site reports (not `project:<id>/...`: that prefix names projects)."""
    return f"site_reports:{getattr(project, 'id', project)}"


# ---------------------------------------------------------------- who is asking


@dataclass(frozen=True)
class Viewer:
    """What one user is to a project: staff who manage (CREATORS of the compound), staff who watch
    (also grid workers of a building of it), a resident, a supervisor, a representative."""

    user: User
    manager: bool
    staff: bool
    resident: bool
    supervisor: bool
    representative: bool


def _holds(user, compound, role):
    return any(scopes.covers_compound(r, compound) for r in scopes.roles_of(user, role))


def viewer(user, project):
    """The user's standing towards the project; a 404 for anyone who has none (as for no project)."""
    compound = project.compound
    v = Viewer(user=user, manager=projects.can_manage(user, project), staff=projects.staff_can(user, compound),
               resident=projects.is_resident(user, project.compound_id),
               supervisor=_holds(user, compound, "supervisor"), representative=_holds(user, compound, "representative"))
    if not (v.staff or v.resident or v.supervisor or v.representative):
        raise ApiError(404, "not_found", projects.NOT_FOUND)
    return v


def _visible_project(user, project_id):
    project = projects.get(project_id)
    return project, viewer(user, project)


def _ensure_manager(v, action):
    if not v.manager:
        raise ApiError(403, "forbidden", f"只有{STAFF_TEXT}可以{action}", {"allowed_roles": list(CREATORS)})


# ---------------------------------------------------------------- site reports: reading


def _sees(v, report):
    """Staff see every report; residents those shown, and their own whatever WeChat's check said."""
    return v.staff or report.text_state == "visible" or report.user_id == v.user.id


def _report(user, report_id):
    """(report, project, viewer) for a report the user may see; 404 for anyone else."""
    report = db.session.get(SiteReport, report_id)
    if report is not None:
        project = db.session.get(Project, report.project_id)
        try:
            v = viewer(user, project)
        except ApiError:
            v = None
        if v is not None and _sees(v, report):
            return report, project, v
    raise ApiError(404, "not_found", REPORT_NOT_FOUND)


def reports(user, project_id, status=None):
    """(project, viewer, reports the user may see, newest first)."""
    project, v = _visible_project(user, project_id)
    query = db.select(SiteReport).where(SiteReport.project_id == project.id)
    if status:
        query = query.where(SiteReport.status == status)
    if not v.staff:
        query = query.where(db.or_(SiteReport.text_state == "visible", SiteReport.user_id == user.id))
    return project, v, db.session.scalars(query.order_by(SiteReport.id.desc()).limit(500)).all()


def report(user, report_id):
    return _report(user, report_id)


def photo(user, report_id, n):
    """The n-th photo (from 1) of a report the user may see; 404 otherwise."""
    report_, _, _ = _report(user, report_id)
    if not 1 <= n <= len(report_.photo_ids):
        raise ApiError(404, "not_found", "没有找到该照片")
    return db.session.get(Blob, report_.photo_ids[n - 1])


def report_counts(project):
    """How many reports a project has, by status (those not refused by staff)."""
    rows = dict(db.session.execute(
        db.select(SiteReport.status, db.func.count(SiteReport.id))
        .where(SiteReport.project_id == project.id, SiteReport.text_state != "rejected")
        .group_by(SiteReport.status)).all())
    return {"total": sum(rows.values()), **{s: rows.get(s, 0) for s in REPORT_STATUSES}}


# ---------------------------------------------------------------- site reports: filing


def reporting_open(project):
    return project.phase in REPORTING_PHASES


def _ensure_reporting(project):
    if not reporting_open(project):
        raise ApiError(409, "wrong_phase", f"项目当前处于「{PHASE_NAMES[project.phase]}」阶段，"
                       "只有在施工和竣工验收阶段可以反映现场问题", {"phase": project.phase})


def can_report(v):
    return v.resident or v.supervisor


def _place(project, place):
    """(building, unit, label) of a place: a building or unit of the project's compound, or free text."""
    building_id, unit_id = place.get("building_id"), place.get("unit_id")
    text = (place.get("text") or "").strip()
    if text and (building_id or unit_id):
        raise ApiError(422, "validation_error", "地点请选择楼栋或单元，或者填写文字，二选一",
                       {"place": ["楼栋/单元与文字只能选一种"]})
    if not (text or building_id or unit_id):
        raise ApiError(422, "validation_error", "请选择楼栋或单元，或者填写问题所在的地点", {"place": ["必填项"]})
    if text:
        return None, None, text
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit_id:
        building = unit.building if unit is not None else None
    else:
        building = db.session.get(Building, building_id)
    if building is None or building.compound_id != project.compound_id:
        raise ApiError(422, "validation_error", "所选楼栋或单元不属于本小区", {"place": ["不属于本小区"]})
    if unit is not None and building_id and unit.building_id != building_id:
        raise ApiError(422, "validation_error", "所选单元不在所选楼栋", {"place": ["单元不在该楼栋"]})
    return building, unit, f"{building.name}{unit.name if unit else ''}"


def _raw_digest(photo_):
    """SHA-256 of a photo as it will be stored (the same bytes content.store_photo keeps)."""
    data = photo_.partition(",")[2] if photo_.startswith("data:") else photo_
    try:
        return hashlib.sha256(base64.b64decode(data, validate=True)).hexdigest()
    except (binascii.Error, ValueError):
        return None  # store_photo refuses it


def report_content(r, photo_digests):
    """What a report says, as hashed in its chain: fixed when it is filed."""
    return {"project": r.project_id, "user": r.user_id, "text": r.text, "place": r.place, "building": r.building_id,
            "unit": r.unit_id, "photos": photo_digests, "at": r.created_at.strftime("%Y-%m-%dT%H:%M:%S")}


def _photo_digests(r):
    if not r.photo_ids:
        return []
    by_id = dict(db.session.execute(db.select(Blob.id, Blob.sha256).where(Blob.id.in_(r.photo_ids))).all())
    return [by_id.get(i) for i in r.photo_ids]


def _entries(project_id, subject_ids=None, kinds=None):
    query = db.select(AuditEntry).where(AuditEntry.chain == reports_chain(project_id),
                                        AuditEntry.subject_type == "site_report")
    if subject_ids is not None:
        query = query.where(AuditEntry.subject_id.in_(subject_ids))
    if kinds:
        query = query.where(AuditEntry.kind.in_(kinds))
    return db.session.scalars(query.order_by(AuditEntry.seq)).all()


def _replay(project, user, key, text, place, building, unit, digests):
    """The report this user filed with this Idempotency-Key (the same content), or None; 422 when the
    key was used for another report."""
    mine = db.session.scalars(db.select(SiteReport.id).where(
        SiteReport.project_id == project.id, SiteReport.user_id == user.id).order_by(SiteReport.id.desc())
        .limit(200)).all()
    if not mine:
        return None
    for entry in _entries(project.id, mine, ["report_filed"]):
        if json.loads(entry.payload).get("key") == key:
            found = db.session.get(SiteReport, entry.subject_id)
            if (found.text, found.place, found.building_id, found.unit_id, _photo_digests(found)) != (
                    text, place, building.id if building else None, unit.id if unit else None, digests):
                raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一条内容不同的反映，请勿重复使用",
                               {"Idempotency-Key": ["已用于另一条反映"]})
            return found
    return None


def file_report(user, project_id, data, key=None):
    """A resident or supervisor reports a problem on site; (report, replayed)."""
    project, v = _visible_project(user, project_id)
    if not can_report(v):
        raise ApiError(403, "forbidden", "现场问题由本小区居民或居民监督员反映（工作人员请直接答复）",
                       {"allowed_roles": ["supervisor"]})
    _ensure_reporting(project)
    text = data["text"].strip()
    if not text:
        raise ApiError(422, "validation_error", "请写下现场的问题", {"text": ["必填项"]})
    photos = data.get("photos") or []
    if len(photos) > MAX_PHOTOS:
        raise ApiError(422, "validation_error", f"最多 {MAX_PHOTOS} 张照片", {"photos": [f"最多 {MAX_PHOTOS} 张"]})
    building, unit, place = _place(project, data["place"])
    digests = [_raw_digest(p) for p in photos]
    if key:
        found = _replay(project, user, key, text, place, building, unit, digests)
        if found is not None:
            return found, True
    # WeChat is asked before any lock is taken; risky text is a 422 and nothing is stored.
    state = content.check_text(user, text if building else f"{text}\n{place}")
    photo_ids = [content.store_photo(p, f"第 {i} 张照片") for i, p in enumerate(photos, 1)]
    project = projects.lock(project.id)  # the phase as it is now; serialises the chain's first entry
    _ensure_reporting(project)
    if key:
        found = _replay(project, user, key, text, place, building, unit, digests)
        if found is not None:
            return found, True
    r = SiteReport(project_id=project.id, user_id=user.id, text=text, place=place,
                   building_id=building.id if building else None, unit_id=unit.id if unit else None,
                   photo_ids=photo_ids, text_state="visible" if state == "pass" else "held", status="open",
                   created_at=utcnow().replace(microsecond=0))
    db.session.add(r)
    db.session.flush()
    _append(project, r, "report_filed", v, "reporter",
            content_hash=audit.sha256(audit.canonical(report_content(r, _photo_digests(r)))),
            text_state=r.text_state, key=key)
    current_app.logger.info("site report %s on project %s by user=%s: %s, %d photos", r.id, project.id, user.id,
                            r.text_state, len(photo_ids))
    return r, False


def _follower(v, r):
    return "reporter" if v.user.id == r.user_id else "supervisor"


# ---------------------------------------------------------------- site reports: what happens next


def _locked_report(user, report_id):
    """(report, project, viewer): the report as it is now, the project row locked (the chain's order)."""
    r, project, v = _report(user, report_id)
    project = projects.lock(project.id)
    r = db.session.scalar(db.select(SiteReport).where(SiteReport.id == r.id).with_for_update()
                          .execution_options(populate_existing=True))
    return r, project, v


def _wrong_status(r, action):
    return ApiError(409, "wrong_status", f"该反映当前为「{REPORT_STATUSES[r.status]}」，不能{action}",
                    {"status": r.status})


def _append(project, r, kind, v, actor, **payload):
    """An entry of the project's site-report chain: what happened to the report, by whom (the user and
    as what: reporter, supervisor or staff)."""
    audit.append(reports_chain(project), kind, "site_report", r.id,
                 {"report": r.id, "by": actor, "user": v.user.id, **payload})


def answer(user, report_id, text):
    """Staff answer an open or reopened report: it is answered; the reporter finds the answer in the inbox."""
    r, project, v = _locked_report(user, report_id)
    _ensure_manager(v, "答复现场问题")
    if r.text_state == "rejected":
        raise ApiError(409, "not_shown", "该反映已不予公开，无需答复", {"text_state": r.text_state})
    if r.status not in ("open", "reopened"):
        raise _wrong_status(r, "答复（已答复的问题可由反映人或监督员重新打开）")
    text = text.strip()
    if not text:
        raise ApiError(422, "validation_error", "请填写答复", {"answer": ["必填项"]})
    r.status, r.answer, r.answered_by_id, r.answered_at = "answered", text, user.id, utcnow().replace(microsecond=0)
    db.session.flush()
    _append(project, r, "report_answered", v, "staff", answer=text)
    db.session.add(InboxItem(user_id=r.user_id, title="您反映的现场问题有了答复", body=f"{r.place}：{text}"[:2000]))
    return r


def _ensure_follower(v, r, action):
    """The reporter or a supervisor of the compound confirms or reopens a report."""
    if v.user.id == r.user_id or v.supervisor:
        return
    raise ApiError(403, "forbidden", f"只有反映人或本小区的居民监督员可以{action}", {"allowed_roles": ["supervisor"]})


def resolve(user, report_id):
    """The reporter or a supervisor confirms an answered report resolved."""
    r, project, v = _locked_report(user, report_id)
    _ensure_follower(v, r, "确认问题已解决")
    if r.status != "answered":
        raise _wrong_status(r, "确认已解决（须先有工作人员答复）")
    r.status, r.resolved_by_id, r.resolved_at = "resolved", user.id, utcnow().replace(microsecond=0)
    db.session.flush()
    _append(project, r, "report_resolved", v, _follower(v, r))
    return r


def reopen(user, report_id, reason):
    """The reporter or a supervisor reopens an answered or resolved report, with a reason (checked by
    WeChat: risky refused; doubtful kept for staff and the writer only); counted."""
    r, project, v = _report(user, report_id)
    _ensure_follower(v, r, "重新打开")
    if r.status not in ("answered", "resolved"):
        raise _wrong_status(r, "重新打开（只有已答复或已解决的问题可以重新打开）")
    reason = reason.strip()
    if not reason:
        raise ApiError(422, "validation_error", "请说明为什么重新打开", {"reason": ["必填项"]})
    state = content.check_text(user, reason, "reason")
    r, project, v = _locked_report(user, report_id)
    if r.status not in ("answered", "resolved"):
        raise _wrong_status(r, "重新打开")
    r.status, r.reopened = "reopened", r.reopened + 1
    r.resolved_by_id = r.resolved_at = None
    db.session.flush()
    _append(project, r, "report_reopened", v, _follower(v, r), reason=reason, shown=state == "pass")
    return r


def release(user, report_id):
    """Staff make a held report (WeChat's check said review) visible to the compound."""
    r, project, v = _locked_report(user, report_id)
    _ensure_manager(v, "审核现场问题")
    if r.text_state != "held":
        raise ApiError(409, "not_held", f"只有待审核的反映可以公开（当前为「{TEXT_STATES[r.text_state]}」）",
                       {"text_state": r.text_state})
    r.text_state = "visible"
    db.session.flush()
    _append(project, r, "report_released", v, "staff")
    return r


def reject(user, report_id, reason):
    """Staff keep a held report from the compound, with the reason its reporter reads."""
    r, project, v = _locked_report(user, report_id)
    _ensure_manager(v, "审核现场问题")
    if r.text_state != "held":
        raise ApiError(409, "not_held", f"只有待审核的反映可以不予公开（当前为「{TEXT_STATES[r.text_state]}」）",
                       {"text_state": r.text_state})
    r.text_state = "rejected"
    db.session.flush()
    _append(project, r, "report_rejected", v, "staff", reason=reason.strip())
    return r


# ---------------------------------------------------------------- site reports: as shown


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _reporter_names(reports_, compound_id):
    """{user id: name} of reporters: the name of their binding in the compound, else their own."""
    ids = {r.user_id for r in reports_}
    if not ids:
        return {}
    names = dict(db.session.execute(db.select(User.id, User.name).where(User.id.in_(ids))).all())
    for uid, name in db.session.execute(
            db.select(Binding.user_id, Binding.name).join(Flat, Binding.flat_id == Flat.id)
            .join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
            .where(Binding.user_id.in_(ids), Binding.status == "approved", Building.compound_id == compound_id)
            .order_by(Binding.id)):
        names[uid] = name
    return names


def _supervisors(compound_id, user_ids):
    if not user_ids:
        return set()
    return set(db.session.scalars(db.select(StaffRole.user_id).where(
        StaffRole.role == "supervisor", StaffRole.scope_type == "compound", StaffRole.scope_id == compound_id,
        StaffRole.user_id.in_(user_ids))))


def _history(entries, v, r):
    out = []
    for entry in entries:
        payload = json.loads(entry.payload)
        event = entry.kind.removeprefix("report_")
        note = None
        if event == "answered":
            note = payload["answer"]
        elif event == "reopened":
            note = payload["reason"] if payload.get("shown") or v.staff or payload.get("user") == v.user.id else None
        elif event == "rejected":
            if not (v.staff or r.user_id == v.user.id):
                continue
            note = payload["reason"]
        out.append({"event": event, "event_name": EVENTS[event], "by": payload["by"], "by_name": ACTORS[payload["by"]],
                    "note": note, "at": _iso(entry.created_at)})
    return out


def _actions(v, r):
    actions = []
    if v.manager:
        if r.status in ("open", "reopened") and r.text_state != "rejected":
            actions.append("answer")
        if r.text_state == "held":
            actions += ["release", "reject"]
    if v.user.id == r.user_id or v.supervisor:
        if r.status == "answered":
            actions.append("resolve")
        if r.status in ("answered", "resolved"):
            actions.append("reopen")
    return actions


def report_views(reports_, project, v):
    """Reports as the viewer sees them: reporters' names masked for staff and never shown to residents."""
    names = _reporter_names(reports_, project.compound_id) if v.staff else {}
    supervisors = _supervisors(project.compound_id, {r.user_id for r in reports_})
    building_ids = {r.building_id for r in reports_ if r.building_id}
    unit_ids = {r.unit_id for r in reports_ if r.unit_id}
    places = {("building", i): n for i, n in db.session.execute(
        db.select(Building.id, Building.name).where(Building.id.in_(building_ids)))} if building_ids else {}
    places.update({("unit", i): n for i, n in db.session.execute(
        db.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))} if unit_ids else {})
    history = {}
    for entry in _entries(project.id, [r.id for r in reports_]) if reports_ else []:
        history.setdefault(entry.subject_id, []).append(entry)
    out = []
    for r in reports_:
        out.append({
            "id": r.id, "project_id": r.project_id, "text": r.text,
            "place": {"text": r.place,
                      "building": {"id": r.building_id, "name": places[("building", r.building_id)]}
                      if r.building_id else None,
                      "unit": {"id": r.unit_id, "name": places[("unit", r.unit_id)]} if r.unit_id else None},
            "photos": [f"/api/v1/reports/{r.id}/photos/{n}" for n in range(1, len(r.photo_ids) + 1)],
            "text_state": r.text_state, "text_state_name": TEXT_STATES[r.text_state],
            "status": r.status, "status_name": REPORT_STATUSES[r.status],
            "answer": r.answer, "answered_at": _iso(r.answered_at), "resolved_at": _iso(r.resolved_at),
            "reopened": r.reopened, "created_at": _iso(r.created_at),
            "mine": r.user_id == v.user.id, "by_supervisor": r.user_id in supervisors,
            "reporter": {"name": mask_name(names.get(r.user_id)) or "居民"} if v.staff else None,
            "history": _history(history.get(r.id, []), v, r),
            "actions": _actions(v, r),
        })
    return out


def report_view(r, project, v):
    return report_views([r], project, v)[0]


def report_list(project, v, reports_):
    return {"project_id": project.id, "phase": project.phase, "phase_name": PHASE_NAMES[project.phase],
            "reporting_open": reporting_open(project), "can_report": can_report(v) and reporting_open(project),
            "staff": v.staff, "counts": report_counts(project), "reports": report_views(reports_, project, v)}


# ---------------------------------------------------------------- acceptance


def representatives(compound_id):
    """The users who represent the compound now (role representative scoped to it), by id."""
    return db.session.execute(
        db.select(User.id, User.name).join(StaffRole, StaffRole.user_id == User.id)
        .where(StaffRole.role == "representative", StaffRole.scope_type == "compound",
               StaffRole.scope_id == compound_id).distinct().order_by(User.id)).all()


def signature_content(sig, defects):
    return {"project": sig.project_id, "user": sig.user_id, "opinion": sig.opinion, "remarks": sig.remarks,
            "defects": list(defects), "signature": sig.signature_sha256,
            "at": sig.created_at.strftime("%Y-%m-%dT%H:%M:%S")}


def _signed_entry(sig):
    return db.session.scalar(db.select(AuditEntry).where(
        AuditEntry.chain == projects.chain_name(sig.project_id), AuditEntry.kind == "acceptance_signed",
        AuditEntry.subject_id == sig.id))


def _check_opinion(data):
    opinion, remarks = data["opinion"], (data.get("remarks") or "").strip()
    defects = [d.strip() for d in data.get("defects") or []]
    if any(not d for d in defects):
        raise ApiError(422, "validation_error", "缺陷不能为空白", {"defects": ["每一项须填写内容"]})
    if opinion == "fail" and not defects:
        raise ApiError(422, "validation_error", "不通过时请逐条列出缺陷", {"defects": ["不通过时必填"]})
    if opinion != "fail" and defects:
        raise ApiError(422, "validation_error", "只有不通过时列出缺陷；通过（附意见）请把意见写在意见栏",
                       {"defects": ["仅在不通过时填写"]})
    if opinion == "pass_with_remarks" and not remarks:
        raise ApiError(422, "validation_error", "通过（附意见）时请填写意见", {"remarks": ["必填项"]})
    return opinion, remarks, defects


def sign_acceptance(user, project_id, data, key=None):
    """A representative of the compound signs the acceptance once; (signature, replayed)."""
    project, v = _visible_project(user, project_id)
    if not v.representative:
        raise ApiError(403, "forbidden", "只有本小区的居民代表可以签署验收", {"allowed_roles": ["representative"]})
    opinion, remarks, defects = _check_opinion(data)
    raw, mimetype = decode_image(data["signature"], ("PNG",), SIGNATURE_MAX_BYTES, "签名")
    digest = hashlib.sha256(raw).hexdigest()
    if remarks or defects:
        content.check_text(user, "\n".join([remarks, *defects]).strip(), "remarks")
    project = projects.lock(project.id)
    existing = db.session.scalar(db.select(AcceptanceSignature).filter_by(project_id=project.id, user_id=user.id))
    if existing is not None:
        entry = _signed_entry(existing)
        if key and entry is not None and json.loads(entry.payload).get("key") == key:
            same = (existing.opinion, existing.remarks, existing.signature_sha256, _defect_texts(existing)) == (
                opinion, remarks, digest, defects)
            if not same:
                raise ApiError(422, "idempotency_mismatch", "该请求编号已用于另一份内容不同的验收签署，请勿重复使用",
                               {"Idempotency-Key": ["已用于另一份签署"]})
            return existing, True
    if project.phase != "acceptance":
        raise ApiError(409, "wrong_phase", f"项目当前处于「{PHASE_NAMES[project.phase]}」阶段，"
                       "只有在竣工验收阶段可以签署验收", {"phase": project.phase})
    if existing is not None:
        raise ApiError(409, "already_signed", "您已签署过本项目的验收，每位居民代表只签署一次",
                       {"signed_at": _iso(existing.created_at)})
    blob = Blob(sha256=digest, mimetype=mimetype, data=raw)
    db.session.add(blob)
    db.session.flush()
    sig = AcceptanceSignature(project_id=project.id, user_id=user.id, opinion=opinion, remarks=remarks,
                              signature_id=blob.id, signature_sha256=digest, created_at=utcnow().replace(microsecond=0))
    sig.content_hash = audit.sha256(audit.canonical(signature_content(sig, defects)))
    db.session.add(sig)
    db.session.flush()
    for text in defects:
        db.session.add(Defect(project_id=project.id, signature_id=sig.id, text=text, status="open"))
    db.session.flush()
    audit.append(projects.chain_name(project), "acceptance_signed", "acceptance_signature", sig.id,
                 {"signature": sig.id, "user": user.id, "opinion": opinion, "content_hash": sig.content_hash,
                  "defects": len(defects), "key": key})
    current_app.logger.info("acceptance of project %s signed by user=%s: %s, %d defects", project.id, user.id,
                            opinion, len(defects))
    return sig, False


def _defect_texts(sig):
    return list(db.session.scalars(db.select(Defect.text).where(Defect.signature_id == sig.id).order_by(Defect.id)))


def resolve_defect(user, defect_id, note):
    """Staff of the compound record a defect resolved, with a note; an entry of the project's chain."""
    defect = db.session.get(Defect, defect_id)
    if defect is None:
        raise ApiError(404, "not_found", DEFECT_NOT_FOUND)
    project = db.session.get(Project, defect.project_id)
    try:
        v = viewer(user, project)
    except ApiError:
        raise ApiError(404, "not_found", DEFECT_NOT_FOUND) from None
    _ensure_manager(v, "确认缺陷已整改")
    note = note.strip()
    if not note:
        raise ApiError(422, "validation_error", "请说明整改情况", {"note": ["必填项"]})
    project = projects.lock(project.id)
    defect = db.session.scalar(db.select(Defect).where(Defect.id == defect_id).with_for_update()
                               .execution_options(populate_existing=True))
    if defect.status != "open":
        raise ApiError(409, "already_resolved", "该缺陷已确认整改", {"status": defect.status})
    defect.status, defect.note, defect.resolved_by_id = "resolved", note, user.id
    defect.resolved_at = utcnow().replace(microsecond=0)
    db.session.flush()
    audit.append(projects.chain_name(project), "defect_resolved", "defect", defect.id,
                 {"defect": defect.id, "by": user.id, "note": note,
                  "at": defect.resolved_at.strftime("%Y-%m-%dT%H:%M:%S")})
    return defect, project, v


def _share(project):
    try:
        share = Fraction(project.acceptance_share)
    except (ValueError, ZeroDivisionError):
        raise ApiError(409, "rule_invalid", f"项目的验收比例「{project.acceptance_share}」无效，请联系管理员")
    return share


def rule_text(share, strict):
    return f"{'超过' if strict else '达到'} {share.numerator}/{share.denominator} 的居民代表签署通过（含附意见通过）"


def _count(project, reps=None, sigs=None):
    """(representatives [(id, name)], signatures, passing, share, strict, passed, required); the
    representatives and signatures read here unless given."""
    reps = representatives(project.compound_id) if reps is None else reps
    current = {uid for uid, _ in reps}
    if sigs is None:
        sigs = db.session.scalars(db.select(AcceptanceSignature).where(AcceptanceSignature.project_id == project.id)
                                  .order_by(AcceptanceSignature.id)).all()
    passing = sum(1 for s in sigs if s.user_id in current and s.opinion in ("pass", "pass_with_remarks"))
    share, strict, n = _share(project), project.acceptance_strict, len(reps)
    # Exact: passing / n against a / b, as passing * b against a * n.
    a, b = share.numerator, share.denominator
    if n == 0:
        passed, required = False, None
    elif strict:
        passed, required = passing * b > a * n, a * n // b + 1
    else:
        passed, required = passing * b >= a * n, -(-a * n // b)
    return reps, sigs, passing, share, strict, passed, required


def acceptance_passed(project):
    """Has the acceptance passed (the phase machine asks before acceptance → evaluation)?"""
    return acceptance_passed_many([project])[project.id]


def acceptance_passed_many(projects):
    """{project id: has its acceptance passed}, the representatives and signatures of all read at once."""
    if not projects:
        return {}
    reps = {}
    for compound_id, user_id, name in db.session.execute(
            db.select(StaffRole.scope_id, User.id, User.name).join(StaffRole, StaffRole.user_id == User.id)
            .where(StaffRole.role == "representative", StaffRole.scope_type == "compound",
                   StaffRole.scope_id.in_({p.compound_id for p in projects})).distinct().order_by(User.id)):
        reps.setdefault(compound_id, []).append((user_id, name))
    sigs = {}
    for sig in db.session.scalars(db.select(AcceptanceSignature).where(
            AcceptanceSignature.project_id.in_([p.id for p in projects])).order_by(AcceptanceSignature.id)):
        sigs.setdefault(sig.project_id, []).append(sig)
    return {p.id: _count(p, reps.get(p.compound_id, []), sigs.get(p.id, []))[5] for p in projects}


def acceptance_summary(project):
    """The acceptance in brief, for the project's story."""
    reps, sigs, passing, _, _, passed, _ = _count(project)
    current = {uid for uid, _ in reps}
    open_defects = db.session.scalar(db.select(db.func.count(Defect.id)).where(
        Defect.project_id == project.id, Defect.status == "open"))
    return {"representatives": len(reps), "signed": sum(1 for s in sigs if s.user_id in current),
            "passing": passing, "passed": passed, "defects_open": open_defects}


def defect_view(d):
    return {"id": d.id, "text": d.text, "status": d.status, "status_name": DEFECT_STATUSES[d.status],
            "note": d.note or None, "resolved_at": _iso(d.resolved_at), "signature_id": d.signature_id}


def acceptance_state(project, user=None):
    """Who represents the compound, who signed what, the rule, whether it passed and why, what is
    still needed, and the defects open and resolved. The same dict GET /projects/<id>/acceptance answers."""
    reps, sigs, passing, share, strict, passed, required = _count(project)
    current = {uid for uid, _ in reps}
    names = dict(db.session.execute(db.select(User.id, User.name).where(
        User.id.in_({s.user_id for s in sigs}))).all()) if sigs else {}
    defects = db.session.scalars(db.select(Defect).where(Defect.project_id == project.id).order_by(Defect.id)).all()
    by_signature = {}
    for d in defects:
        by_signature.setdefault(d.signature_id, []).append(d.text)
    signed_current = sum(1 for s in sigs if s.user_id in current)
    n = len(reps)
    needed = None if required is None else max(0, required - passing)
    if n == 0:
        status = "本小区还没有居民代表，验收无法通过；请社区为居民代表设置“居民代表（验收）”角色"
    elif passed:
        status = f"验收已通过：{n} 位居民代表中 {passing} 位签署通过，{rule_text(share, strict)}"
    elif required > n:
        status = f"按当前比例，{n} 位居民代表即使全部签署通过也达不到要求（需 {required} 位）"
    else:
        left = n - signed_current
        status = f"还需 {needed} 位居民代表签署通过（共 {n} 位，已通过 {passing} 位，尚未签署 {left} 位）"
        if needed > left:
            status += "；尚未签署的人数已不足，验收本轮无法通过"
    mine = next((s for s in sigs if user is not None and s.user_id == user.id), None)
    is_rep = user is not None and user.id in current
    return {
        "project_id": project.id, "phase": project.phase, "phase_name": PHASE_NAMES[project.phase],
        "signing_open": project.phase == "acceptance",
        "rule": {"share": f"{share.numerator}/{share.denominator}", "strict": strict, "text": rule_text(share, strict)},
        "representatives": {"count": n, "names": [mask_name(name) or "居民代表" for _, name in reps],
                            "signed": signed_current},
        "signatures": [{"id": s.id, "name": mask_name(names.get(s.user_id)) or "居民代表", "opinion": s.opinion,
                        "opinion_name": OPINIONS[s.opinion], "remarks": s.remarks,
                        "defects": by_signature.get(s.id, []), "signed_at": _iso(s.created_at),
                        "current": s.user_id in current, "mine": user is not None and s.user_id == user.id}
                       for s in sigs],
        "passing": passing, "required": required, "needed": needed, "passed": passed, "status": status,
        "defects": {"open": [defect_view(d) for d in defects if d.status == "open"],
                    "resolved": [defect_view(d) for d in defects if d.status == "resolved"]},
        "me": {"representative": is_rep, "signed": mine is not None,
               "can_sign": is_rep and mine is None and project.phase == "acceptance"},
    }


def acceptance(user, project_id):
    project, _ = _visible_project(user, project_id)
    return acceptance_state(project, user)


# ---------------------------------------------------------------- verification


def verify_works(broken=frozenset()):
    """Site reports against their chains and acceptance signatures and defects against their
    projects' chains: rows edited, inserted or deleted behind the application's back are named
    (the first of each chain). For app.services.verification.verify."""
    problems = []
    chains = set(db.session.scalars(db.select(AuditChain.name).where(AuditChain.name.like("site_reports:%"))))
    project_ids = set(db.session.scalars(db.select(Project.id)))
    for name in sorted(chains):
        project_id = int(name.split(":", 1)[1])
        if name in broken:
            continue
        if project_id not in project_ids:
            problems.append(Problem(name, "改造项目记录被删除，现场问题链仍在 / the project's row was deleted"))
            continue
        problem = _verify_reports(project_id)
        if problem:
            problems.append(Problem(name, problem))
    orphans = db.session.scalars(db.select(SiteReport.project_id).distinct().where(
        SiteReport.project_id.notin_([int(c.split(":", 1)[1]) for c in chains] or [0]))).all()
    for project_id in orphans:
        problems.append(Problem(reports_chain(project_id), "现场问题未经系统记录（被插入） / site reports were inserted"))
    for project_id in sorted(project_ids):
        name = projects.chain_name(project_id)
        if name in broken:
            continue
        problem = _verify_acceptance(project_id)
        if problem:
            problems.append(Problem(name, problem))
    return problems


def _verify_reports(project_id):
    rows = {r.id: r for r in db.session.scalars(db.select(SiteReport).where(SiteReport.project_id == project_id))}
    state = {}
    for entry in _entries(project_id):
        payload = json.loads(entry.payload)
        r = rows.get(entry.subject_id)
        if r is None:
            return f"现场问题 id {entry.subject_id} 被删除 / site report {entry.subject_id} was deleted"
        if entry.kind == "report_filed":
            if audit.sha256(audit.canonical(report_content(r, _photo_digests(r)))) != payload["content_hash"]:
                return f"现场问题 id {r.id} 的内容、地点或照片被改动 / site report {r.id} was edited"
            state[r.id] = {"status": "open", "text_state": payload["text_state"], "answer": None, "reopened": 0}
            continue
        s = state.get(r.id)
        if s is None:
            return f"现场问题 id {r.id} 的记录顺序不符 / site report {r.id} has entries before it was filed"
        if entry.kind == "report_answered":
            s.update(status="answered", answer=payload["answer"])
        elif entry.kind == "report_resolved":
            s["status"] = "resolved"
        elif entry.kind == "report_reopened":
            s["status"], s["reopened"] = "reopened", s["reopened"] + 1
        elif entry.kind == "report_released":
            s["text_state"] = "visible"
        elif entry.kind == "report_rejected":
            s["text_state"] = "rejected"
    for r in rows.values():
        s = state.get(r.id)
        if s is None:
            return f"现场问题 id {r.id} 未经系统记录（被插入） / site report {r.id} was inserted"
        if (r.status, r.text_state, r.answer, r.reopened) != (s["status"], s["text_state"], s["answer"], s["reopened"]):
            return (f"现场问题 id {r.id} 的状态、审核或答复被改动（记录为 {s['status']}/{s['text_state']}） "
                    f"/ the status, review or answer of site report {r.id} was edited")
    return None


def _verify_acceptance(project_id):
    sigs = {s.id: s for s in db.session.scalars(db.select(AcceptanceSignature)
                                                .where(AcceptanceSignature.project_id == project_id))}
    defects = {d.id: d for d in db.session.scalars(db.select(Defect).where(Defect.project_id == project_id))}
    seen, resolved = set(), {}
    for entry in db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.chain == projects.chain_name(project_id),
            AuditEntry.kind.in_(["acceptance_signed", "defect_resolved"])).order_by(AuditEntry.seq)):
        payload = json.loads(entry.payload)
        if entry.kind == "defect_resolved":
            resolved[payload["defect"]] = payload
            continue
        sig = sigs.get(payload["signature"])
        if sig is None:
            return f"验收签署 id {payload['signature']} 被删除 / acceptance signature {payload['signature']} was deleted"
        texts = [d.text for d in sorted(defects.values(), key=lambda d: d.id) if d.signature_id == sig.id]
        digest = audit.sha256(audit.canonical(signature_content(sig, texts)))
        if digest != payload["content_hash"] or sig.content_hash != payload["content_hash"]:
            return f"验收签署 id {sig.id} 的意见、缺陷或签名被改动 / acceptance signature {sig.id} was edited"
        seen.add(sig.id)
    for sig in sigs.values():
        if sig.id not in seen:
            return f"验收签署 id {sig.id} 未经系统记录（被插入） / acceptance signature {sig.id} was inserted"
    for d in defects.values():
        if d.signature_id not in seen:
            return f"缺陷 id {d.id} 未经系统记录（被插入） / defect {d.id} was inserted"
        entry = resolved.get(d.id)
        if (d.status == "resolved") != (entry is not None) or (entry is not None and (
                d.note != entry["note"] or d.resolved_by_id != entry["by"])):
            return f"缺陷 id {d.id} 的整改状态被改动 / the resolution of defect {d.id} was edited"
    for defect_id in resolved:
        if defect_id not in defects:
            return f"缺陷 id {defect_id} 被删除 / defect {defect_id} was deleted"
    return None
