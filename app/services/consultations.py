"""Consultations: draft → open (roll frozen) → closed (result stored) → published.

Opening freezes the terms (rule, options, deadline, scope) with the roll in the consultation's
keyed audit chain; from then on ballots, the count and the scheduler read the terms from that entry,
never from the live row, which anyone with database access could edit (verify names such edits)."""
import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import joinedload

from app.errors import ApiError
from app.extensions import db
from app.models import (AuditEntry, Ballot, Building, Compound, Consultation, ConsultationResult, Flat, RollEntry,
                        Unit, VoteSlot)
from app.models.consultations import DEVELOPER, KINDS, SCOPES  # noqa: F401
from app.models.places import utcnow
from app.services import audit, scopes, tally

DEFAULT_OPTIONS = [
    {"key": "agree", "label": "同意"},
    {"key": "disagree", "label": "不同意"},
    {"key": "abstain", "label": "弃权"},
]
CREATORS = ("committee", "community_staff", "street_officer", "district_officer", "admin")
WATCHERS = CREATORS + ("grid_worker",)


def chain_name(consultation):
    """The audit chain of a consultation (given as the object or its id)."""
    return f"consultation:{getattr(consultation, 'id', consultation)}"


# ---------------------------------------------------------------- the frozen terms


@dataclass(frozen=True)
class Terms:
    """What opening fixed: the rule, the options, the deadline (naive UTC) and the roll's digest."""

    rule: dict
    options: list
    closes_at: datetime
    roll_digest: str
    scope: tuple | None


FREEZE_BROKEN = "该征询的名册冻结记录缺失或被改动，已停止表决和计票；请联系管理员运行 flask audit verify 核查"


def terms_from(entry, live_options=None):
    """The terms in a roll-freeze entry (a row, or anything with its columns), checked against its
    keyed hash; a 409 when the entry is missing or was edited. Entries written before the options
    were frozen (before issue 8) fall back to live_options."""
    if entry is None or entry.kind != "roll_frozen" or entry.seq != 1 or not audit.intact(entry):
        current_app.logger.error("roll freeze entry missing or edited: %s", getattr(entry, "chain", None))
        raise ApiError(409, "freeze_broken", FREEZE_BROKEN)
    payload = json.loads(entry.payload)
    return Terms(rule=payload["rule"], options=payload.get("options", live_options),
                 closes_at=datetime.fromisoformat(payload["closes_at"]), roll_digest=payload["roll_digest"],
                 scope=tuple(payload["scope"]) if "scope" in payload else None)


def freeze_entry(consultation_id):
    return db.session.scalar(db.select(AuditEntry).where(AuditEntry.chain == chain_name(consultation_id),
                                                         AuditEntry.seq == 1))


def terms(consultation):
    """The frozen terms of an opened consultation."""
    return terms_from(freeze_entry(consultation.id), consultation.options)


# ---------------------------------------------------------------- scope


def scope_flats_query(scope_type, scope_id):
    query = db.select(Flat, Unit, Building).join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
    column = {"compound": Building.compound_id, "building": Building.id, "unit": Unit.id}[scope_type]
    return query.where(column == scope_id)


def scope_building(scope_type, scope_id):
    """A building standing for the scope (to check staff scopes), and the compound; None if absent."""
    if scope_type == "compound":
        compound = db.session.get(Compound, scope_id)
        return (None, compound) if compound else (None, None)
    if scope_type == "building":
        building = db.session.get(Building, scope_id)
    else:
        unit = db.session.get(Unit, scope_id)
        building = unit.building if unit else None
    return (building, building.compound) if building else (None, None)


def can_manage(user, consultation_or_scope):
    """Creators may manage a consultation when their scope contains all of its flats."""
    if isinstance(consultation_or_scope, Consultation):
        scope_type, scope_id = consultation_or_scope.scope_type, consultation_or_scope.scope_id
    else:
        scope_type, scope_id = consultation_or_scope
    return covers_scope(user, scope_type, scope_id, CREATORS)


def covers_scope(user, scope_type, scope_id, roles):
    """Does one of these roles of the user contain the whole scope (compound, building or unit)?
    A grid contains its buildings, never a whole compound."""
    building, compound = scope_building(scope_type, scope_id)
    if compound is None:
        return False
    for role in scopes.roles_of(user, *roles):
        if scopes.covers(role, building) if building is not None else scopes.covers_compound(role, compound):
            return True
    return False


MANAGERS_TEXT = "业委会/居民代表、社区工作人员、街道或区住建干部"


def _ensure_manager(user, consultation, action):
    """Only creators of the scope open, close and publish (user None: the scheduler). Staff who can
    see the consultation but not manage it (a grid worker) are told who may; others get a 404."""
    if user is None or can_manage(user, consultation):
        return
    if visible_to_staff(user, consultation):
        raise ApiError(403, "forbidden", f"网格员不能{action}征询，请由本范围的{MANAGERS_TEXT}操作",
                       {"allowed_roles": list(CREATORS)})
    raise ApiError(404, "not_found", "没有找到该征询")


def visible_to_staff(user, consultation, roles=WATCHERS):
    """Staff see a consultation when any building of it lies in their scope."""
    return bool(visible_among(user, [consultation], roles))


def visible_building_ids(user, consultation, roles=WATCHERS):
    """Ids of the consultation's buildings that lie in the user's scope for these roles."""
    held = scopes.roles_of(user, *roles)
    buildings = scope_chains([consultation]).get((consultation.scope_type, consultation.scope_id), {}) if held else {}
    return {b for b, chain in buildings.items() if any(scopes.covers_chain(r, chain) for r in held)}


def visible_among(user, subjects, roles=WATCHERS):
    """The consultations, plans or surveys (anything with scope_type and scope_id) of which a building
    lies in the user's scope for these roles, in their order; the buildings read in one statement."""
    held = scopes.roles_of(user, *roles)
    if not held or not subjects:
        return []
    chains = scope_chains(subjects)
    return [s for s in subjects
            if any(scopes.covers_chain(r, chain) for chain in chains.get((s.scope_type, s.scope_id), {}).values()
                   for r in held)]


def staff_consultations(user, roles=WATCHERS):
    """Consultations in the user's scope, newest first: compounds narrowed in SQL, scopes checked here."""
    compounds = scopes.join_place_tree(db.select(Building.compound_id).distinct()).where(
        scopes.buildings_condition(user, *roles)
    )
    candidates = db.session.scalars(
        db.select(Consultation).where(Consultation.compound_id.in_(compounds)).order_by(Consultation.id.desc())
        .options(joinedload(Consultation.compound))
    ).all()
    return visible_among(user, candidates, roles)


def scope_chains(subjects):
    """{(scope_type, scope_id): {building id: chain}} of the buildings of each subject's scope
    (consultations, plans, surveys, notices: the unit's building, the building, or every building of
    the compound), in one statement whatever the number of subjects."""
    keys = {(s.scope_type, s.scope_id) for s in subjects}
    ids = {kind: {i for t, i in keys if t == kind} for kind in SCOPES}
    unit_match = Unit.id.in_(ids["unit"]) if ids["unit"] else db.false()
    query = scopes.join_place_tree(
        db.select(Building.id, Unit.id, *scopes.CHAIN_COLUMNS).select_from(Building)
        .outerjoin(Unit, (Unit.building_id == Building.id) & unit_match)
    ).where(db.or_(Building.compound_id.in_(ids["compound"]), Building.id.in_(ids["building"]), Unit.id.is_not(None)))
    found = {key: {} for key in keys}
    for building_id, unit_id, *values in db.session.execute(query):
        chain = scopes.chain_from_row(values)
        for key in (("compound", chain["compound"]), ("building", building_id), ("unit", unit_id)):
            if key in found:
                found[key][building_id] = chain
    return found


def scope_names(subjects):
    """{(type, id): name} of the scopes of consultations, plans or surveys ("阳光里小区1栋2单元"), in one
    statement."""
    by_type = {}
    for s in subjects:
        by_type.setdefault(s.scope_type, set()).add(s.scope_id)
    blank = db.literal("")
    parts = {
        "compound": db.select(db.literal("compound"), Compound.id, Compound.name, blank, blank)
        .where(Compound.id.in_(by_type.get("compound", ()))),
        "building": db.select(db.literal("building"), Building.id, Compound.name, Building.name, blank)
        .join(Compound, Building.compound_id == Compound.id).where(Building.id.in_(by_type.get("building", ()))),
        "unit": db.select(db.literal("unit"), Unit.id, Compound.name, Building.name, Unit.name)
        .join(Building, Unit.building_id == Building.id).join(Compound, Building.compound_id == Compound.id)
        .where(Unit.id.in_(by_type.get("unit", ()))),
    }
    selects = [query for kind, query in parts.items() if by_type.get(kind)]
    if not selects:
        return {}
    rows = db.session.execute(db.union_all(*selects) if len(selects) > 1 else selects[0])
    return {(kind, i): f"{compound}{building}{unit}" for kind, i, compound, building, unit in rows}


def consultation_extras(consultations, flat_id=None):
    """What the consultation list shows beside each row, read in bulk: {id: stored result} of the
    published ones and, with flat_id, {id: the ballot that counts for that flat's person now}."""
    ids = [c.id for c in consultations]
    published = [c.id for c in consultations if c.status == "published"]
    results = {r.consultation_id: r for r in db.session.scalars(
        db.select(ConsultationResult).where(ConsultationResult.consultation_id.in_(published)))} if published else {}
    ballots = {}
    if flat_id is not None and ids:
        ballots = dict(db.session.execute(
            db.select(RollEntry.consultation_id, Ballot)
            .join(VoteSlot, (VoteSlot.consultation_id == RollEntry.consultation_id)
                  & (VoteSlot.person_key == RollEntry.person_key))
            .join(Ballot, Ballot.id == VoteSlot.ballot_id)
            .where(RollEntry.flat_id == flat_id, RollEntry.consultation_id.in_(ids))).all())
    return results, ballots


def get(consultation_id):
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise ApiError(404, "not_found", "没有找到该征询")
    return consultation


# ---------------------------------------------------------------- lifecycle


def create(user, data):
    """A draft consultation; the rule is expanded and stored in full."""
    scope_type, scope_id = data["scope"]["type"], data["scope"]["id"]
    if scope_type not in SCOPES:
        raise ApiError(422, "validation_error", "范围应为 小区、楼栋 或 单元", {"scope": ["compound / building / unit"]})
    building, compound = scope_building(scope_type, scope_id)
    if compound is None:
        raise ApiError(404, "not_found", "没有找到征询范围")
    if not can_manage(user, (scope_type, scope_id)):
        raise ApiError(403, "forbidden", "您无权在该范围发起征询")
    closes_at, opens_at = data["closes_at"], data.get("opens_at")
    if closes_at <= utcnow():
        raise ApiError(422, "validation_error", "截止时间应晚于现在", {"closes_at": ["应晚于现在"]})
    if opens_at and opens_at >= closes_at:
        raise ApiError(422, "validation_error", "开始时间应早于截止时间", {"opens_at": ["应早于截止时间"]})
    rule_in = data.get("rule") or {}
    try:
        rule = tally.expand_rule(
            preset=rule_in.get("preset", "major"),
            thresholds=rule_in.get("thresholds", []),
            required_consent_flat_ids=rule_in.get("required_consent_flat_ids", []),
            objection_veto=rule_in.get("objection_veto", False),
            objection_notice_id=rule_in.get("objection_notice_id"),
        )
    except (ValueError, KeyError, ZeroDivisionError) as exc:
        raise ApiError(422, "validation_error", "表决规则有误", {"rule": [str(exc)]})
    if rule_in.get("required_level", 1) not in (1, 2):
        raise ApiError(422, "validation_error", "核验等级应为 1（名册核验）或 2（网格员当面核验）", {"rule": ["required_level"]})
    if rule_in.get("required_level") == 2:
        rule["required_level"] = 2  # only when asked: every other rule stays as it was
    if rule.get("objection_notice_id") is not None:
        from app.services.notices import check_objection_notice

        check_objection_notice(compound.id, rule["objection_notice_id"])
    options = data.get("options") or DEFAULT_OPTIONS
    keys = [o["key"] for o in options]
    if len(set(keys)) != len(keys) or not {"agree", "disagree"} <= set(keys):
        raise ApiError(422, "validation_error", "选项须包含 agree（同意）和 disagree（不同意），且不能重复", {"options": keys})
    if rule["required_consent_flat_ids"]:
        flat_ids = set(db.session.scalars(scope_flats_query(scope_type, scope_id).with_only_columns(Flat.id)))
        outside = sorted(set(rule["required_consent_flat_ids"]) - flat_ids)
        if outside:
            raise ApiError(422, "validation_error", "必须同意的房屋不在征询范围内", {"required_consent_flat_ids": outside})
    consultation = Consultation(
        compound_id=compound.id, scope_type=scope_type, scope_id=scope_id, title=data["title"],
        body=data.get("body") or "", kind=data.get("kind") or "other", rule=rule, options=options,
        opens_at=opens_at, closes_at=closes_at, created_by_id=user.id, status="draft",
    )
    db.session.add(consultation)
    db.session.flush()
    return consultation


def lock(consultation_id, shared=False):
    """The consultation row, locked: shared while a ballot is written, exclusive to open or close."""
    _begin_immediate_on_sqlite()
    query = db.select(Consultation).where(Consultation.id == consultation_id)
    # populate_existing: the status as locked, not a copy the session loaded before waiting for the lock.
    consultation = db.session.scalar(query.with_for_update(read=shared).execution_options(populate_existing=True))
    if consultation is None:
        raise ApiError(404, "not_found", "没有找到该征询")
    return consultation


def _begin_immediate_on_sqlite():
    """SQLite ignores FOR UPDATE / FOR SHARE, and pysqlite begins its transaction only at the first
    write: without this, the status, vote slot and ballots read after "locking" could be changed by
    another process or thread before this transaction writes. BEGIN IMMEDIATE takes SQLite's one
    write lock now, so those reads and the writes after them happen alone."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def person_key(flat, co_owners=()):
    """DESIGN.md §3: developer-held flats are one person together; one buyer of several is one person.
    co_owners: the ids of the flat's owners after the first (co_owners_of): the set of a flat's owners
    is one person ("owners:3+9", sorted ids), so several flats of the same co-owners stay one person."""
    if flat.developer_held:
        return DEVELOPER
    if flat.owner_id is not None:
        if co_owners:
            return "owners:" + "+".join(str(i) for i in sorted({flat.owner_id, *co_owners}))
        return f"owner:{flat.owner_id}"
    return f"flat:{flat.id}"  # owner unknown: the flat counts as a person of its own


def co_owners_of(flat_ids):
    """{flat id: [owner ids after the first]} of the flats with co-owners among flat_ids (a list or a
    select of ids), in one statement."""
    from app.models import FlatCoOwner

    found = {}
    rows = db.session.execute(db.select(FlatCoOwner.flat_id, FlatCoOwner.owner_id)
                              .where(FlatCoOwner.flat_id.in_(flat_ids)).order_by(FlatCoOwner.flat_id, FlatCoOwner.position))
    for flat_id, owner_id in rows:
        found.setdefault(flat_id, []).append(owner_id)
    return found


def speaks_for(owner_id, flat_id, person):
    """Does an owner binding verified against roster owner `owner_id` (None: the flat had no owner on
    the roster) speak for `person`, the roll's person of flat `flat_id`? "owner:X" is owner X;
    "owners:a+b" any of the co-owners a, b; "flat:F" a flat without an owner; the developer nobody."""
    kind, _, ident = (person or "").partition(":")
    if kind == "owner":
        return owner_id is not None and str(owner_id) == ident
    if kind == "owners":
        return owner_id is not None and str(owner_id) in ident.split("+")
    if kind == "flat":
        return owner_id is None and str(flat_id) == ident
    return False


def roll_digest(entries):
    rows = sorted([e.flat_id, e.person_key, f"{e.area:.2f}", e.label] for e in entries)
    return audit.sha256(audit.canonical(rows))


def slots_digest(consultation):
    """One hash over every vote slot: the ballot it counts and the head of the person's chain.
    Stored in the result's entry, it seals the person chains into the consultation's chain."""
    rows = db.session.execute(
        db.select(VoteSlot.id, VoteSlot.person_key, VoteSlot.ballot_id, VoteSlot.seq, VoteSlot.head)
        .where(VoteSlot.consultation_id == consultation.id).order_by(VoteSlot.id)
    )
    return audit.sha256(audit.canonical([list(row) for row in rows]))


def open_(user, consultation_id):
    """Freeze the roll (flats, persons, areas) with its digest and open for ballots.
    user None is the scheduler opening a draft at its opens_at."""
    consultation = lock(consultation_id)
    _ensure_manager(user, consultation, "开始")
    if consultation.status != "draft":
        raise ApiError(409, "not_draft", "只有草稿状态的征询可以开始", {"status": consultation.status})
    if consultation.closes_at <= utcnow():
        raise ApiError(409, "deadline_passed", "截止时间已过，请先修改截止时间")
    entries = []
    scope = scope_flats_query(consultation.scope_type, consultation.scope_id)
    co_owners = co_owners_of(scope.with_only_columns(Flat.id))
    for flat, unit, building in db.session.execute(scope):
        entries.append(RollEntry(
            consultation_id=consultation.id, flat_id=flat.id, person_key=person_key(flat, co_owners.get(flat.id, ())),
            area=flat.area,
            building_id=building.id, unit_id=unit.id, label=f"{building.name}{unit.name}{flat.room}",
        ))
    if not entries:
        raise ApiError(409, "empty_roll", "征询范围内没有房屋，无法开始")
    db.session.add_all(entries)
    db.session.add_all(VoteSlot(consultation_id=consultation.id, person_key=k) for k in sorted({e.person_key for e in entries}))
    consultation.roll_digest = roll_digest(entries)
    consultation.status = "open"
    consultation.opened_at = utcnow()
    db.session.flush()
    audit.start_chain(chain_name(consultation))
    audit.append(chain_name(consultation), "roll_frozen", "consultation", consultation.id, {
        "roll_digest": consultation.roll_digest, "flats": len(entries),
        "persons": len({e.person_key for e in entries}), "rule": consultation.rule,
        "options": consultation.options, "scope": [consultation.scope_type, consultation.scope_id],
        "closes_at": consultation.closes_at.isoformat(), "by": user.id if user else "scheduler",
    })
    current_app.logger.info("consultation %s opened, roll %s", consultation.id, consultation.roll_digest[:12])
    return consultation


def load_roll_and_votes(consultation, rule):
    """The frozen roll as the count reads it, and {person_key: choice} of the ballots that count now,
    in one read: each roll entry with the choice counted for its person. Room labels only for
    required consenters (the count names those still missing): thousands of labels cost time."""
    required = rule.get("required_consent_flat_ids") or []
    columns = [RollEntry.flat_id, RollEntry.person_key, RollEntry.area, RollEntry.building_id, RollEntry.unit_id,
               Ballot.choice]
    if required:
        columns.append(db.case((RollEntry.flat_id.in_(required), RollEntry.label), else_=""))
    rows = db.session.execute(
        db.select(*columns)
        .outerjoin(VoteSlot, (VoteSlot.consultation_id == RollEntry.consultation_id)
                   & (VoteSlot.person_key == RollEntry.person_key))
        .outerjoin(Ballot, Ballot.id == VoteSlot.ballot_id)
        .where(RollEntry.consultation_id == consultation.id)
    )
    roll, votes = [], {}
    for flat_id, person_key, area, building_id, unit_id, choice, *label in rows:
        roll.append(tally.RollFlat(flat_id, person_key, area, building_id, unit_id, *label))
        if choice is not None:
            votes[person_key] = choice
    return roll, votes


def load_objecting_flats(rule):
    """Flats with a visible objection to the 公示 the frozen rule names (none when it names none)."""
    if rule.get("objection_notice_id") is None:
        return set()
    from app.services.notices import objecting_flats

    return objecting_flats(rule["objection_notice_id"])


def load_votes(consultation):
    """{person_key: choice} of the ballots that count now."""
    rows = db.session.execute(
        db.select(VoteSlot.person_key, Ballot.choice)
        .join(Ballot, VoteSlot.ballot_id == Ballot.id)
        .where(VoteSlot.consultation_id == consultation.id)
    )
    return dict(rows.all())


def live_tally(consultation, frozen=None):
    """The count from the frozen roll and the ballots that count now, under the frozen rule and
    options, with names for the breakdown."""
    frozen = frozen or terms(consultation)
    labels = {o["key"]: o["label"] for o in frozen.options}
    result = tally.count(*load_roll_and_votes(consultation, frozen.rule), frozen.rule, labels,
                         objecting_flats=load_objecting_flats(frozen.rule))
    result["roll"]["digest"] = frozen.roll_digest
    _name_places(result["buildings"])
    return result


def _name_places(buildings):
    ids = [b["id"] for b in buildings]
    names = dict(db.session.execute(db.select(Building.id, Building.name).where(Building.id.in_(ids))).all()) if ids else {}
    unit_ids = [u["id"] for b in buildings for u in b["units"]]
    unit_names = dict(db.session.execute(db.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    for b in buildings:
        b["name"] = names.get(b["id"])
        for u in b["units"]:
            u["name"] = unit_names.get(u["id"])
    buildings.sort(key=lambda b: b["id"])


def result_of(consultation):
    return db.session.scalar(db.select(ConsultationResult).filter_by(consultation_id=consultation.id))


def tally_for(consultation):
    """The stored result once closed (never recounted), the live count while open."""
    stored = result_of(consultation)
    if stored is not None:
        return {**stored.tally, "stored": True, "counted_at": stored.created_at.isoformat() + "Z"}
    if consultation.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始，没有计票")
    return {**live_tally(consultation), "stored": False}


def close(consultation_id, user=None, now=None):
    """Lock, count and store the result with the rule and the roll digest. Later ballots are refused.

    The exclusive lock waits for every ballot already being written (they hold a shared lock),
    so a ballot racing the close is either counted here or refused after: never lost.
    """
    consultation = lock(consultation_id)
    _ensure_manager(user, consultation, "截止")
    if consultation.status != "open":
        raise ApiError(409, "not_open", "只有征询中的事项可以截止", {"status": consultation.status})
    frozen = terms(consultation)
    consultation.status = "closed"
    consultation.closed_at = now or utcnow()
    db.session.flush()
    counted = live_tally(consultation, frozen)
    result = ConsultationResult(
        consultation_id=consultation.id, passed=counted["passed"], tally=counted, rule=frozen.rule,
        roll_digest=frozen.roll_digest, content_hash=audit.sha256(audit.canonical(counted)),
    )
    db.session.add(result)
    db.session.flush()
    audit.append(chain_name(consultation), "result", "consultation_result", result.id, {
        "passed": result.passed, "content_hash": result.content_hash, "roll_digest": result.roll_digest,
        "slots_digest": slots_digest(consultation), "by": user.id if user else "scheduler",
    })
    current_app.logger.info("consultation %s closed: %s", consultation.id, "passed" if result.passed else "failed")
    from app.services.projects import on_consultation_closed

    on_consultation_closed(consultation, result)  # a project waiting for this plan consultation moves on
    return consultation, result


def open_due(now=None):
    """Open every draft whose opens_at has come (and whose deadline has not); each in its own transaction."""
    now = now or utcnow()
    due = db.session.scalars(
        db.select(Consultation.id).where(
            Consultation.status == "draft", Consultation.opens_at.is_not(None), Consultation.opens_at <= now,
            Consultation.closes_at > now,
        )
    ).all()
    db.session.rollback()
    opened = []
    for consultation_id in due:
        try:
            open_(None, consultation_id)
            db.session.commit()
            opened.append(consultation_id)
        except ApiError:
            db.session.rollback()  # opened by hand meanwhile, or nothing to put on the roll
        except Exception:
            db.session.rollback()
            current_app.logger.exception("opening consultation %s failed", consultation_id)
    return opened


def close_due(now=None):
    """Close every open consultation whose frozen deadline has passed (a deadline edited in the live
    row moves nothing); each in its own transaction."""
    now = now or utcnow()
    due = []
    for consultation in db.session.scalars(db.select(Consultation).where(Consultation.status == "open")):
        try:
            deadline = terms(consultation).closes_at
        except ApiError:
            deadline = consultation.closes_at  # close() refuses it and says why in the log
        if deadline <= now:
            due.append(consultation.id)
    db.session.rollback()
    closed = []
    for consultation_id in due:
        try:
            close(consultation_id, now=now)
            db.session.commit()
            closed.append(consultation_id)
        except ApiError:
            db.session.rollback()  # closed by someone else meanwhile
        except Exception:
            # One consultation that cannot be counted must not keep the others open.
            db.session.rollback()
            current_app.logger.exception("closing consultation %s failed", consultation_id)
    return closed


SEAL_CHUNK = 400  # slots per seal entry: an entry's payload stays well inside a 64 KB TEXT column


def sealed_heads(consultation):
    """{slot id: (seq, head)} as the seals of the consultation's chain last recorded them."""
    sealed = {}
    for payload in db.session.scalars(db.select(AuditEntry.payload).where(
            AuditEntry.chain == chain_name(consultation), AuditEntry.kind == "seal").order_by(AuditEntry.seq)):
        sealed.update({int(k): tuple(v) for k, v in json.loads(payload)["slots"].items()})
    return sealed


def seal(consultation_id):
    """Seal into the consultation's chain the head of every person chain that moved since the last
    seal, so that rolling back a person's latest ballot (with its entries and slot head) is caught by
    verify after the next seal, not only after closing. Returns how many heads were sealed."""
    consultation = lock(consultation_id)  # exclusive: the slots as no ballot is being written
    if consultation.status != "open":
        return 0
    sealed = sealed_heads(consultation)
    moved = {
        str(slot_id): [seq, head]
        for slot_id, seq, head in db.session.execute(
            db.select(VoteSlot.id, VoteSlot.seq, VoteSlot.head)
            .where(VoteSlot.consultation_id == consultation.id, VoteSlot.seq > 0).order_by(VoteSlot.id))
        if sealed.get(slot_id) != (seq, head)
    }
    keys = list(moved)
    for start in range(0, len(keys), SEAL_CHUNK):
        audit.append(chain_name(consultation), "seal", "consultation", consultation.id,
                     {"slots": {k: moved[k] for k in keys[start:start + SEAL_CHUNK]}})
    return len(moved)


def seal_open():
    """Seal every open consultation, each in its own transaction; {consultation id: heads sealed}."""
    ids = db.session.scalars(db.select(Consultation.id).where(Consultation.status == "open")).all()
    db.session.rollback()
    done = {}
    for consultation_id in ids:
        try:
            done[consultation_id] = seal(consultation_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("sealing consultation %s failed", consultation_id)
    return done


def publish(user, consultation_id):
    consultation = lock(consultation_id)
    _ensure_manager(user, consultation, "公布")
    if consultation.status != "closed":
        raise ApiError(409, "not_closed", "只有已截止的征询可以公布结果", {"status": consultation.status})
    consultation.status = "published"
    consultation.published_at = utcnow()
    db.session.flush()
    audit.append(chain_name(consultation), "published", "consultation", consultation.id, {"by": user.id})
    return consultation


def published_answers(consultation):
    """Each room and the answer counted for it: rooms only, never names (DESIGN.md §7)."""
    votes = load_votes(consultation)
    labels = {o["key"]: o["label"] for o in terms(consultation).options}
    rows = db.session.execute(
        db.select(RollEntry.label, RollEntry.person_key).where(RollEntry.consultation_id == consultation.id)
        .order_by(RollEntry.building_id, RollEntry.unit_id, RollEntry.flat_id)
    )
    return [{"room": label, "choice": votes.get(key), "choice_label": labels.get(votes.get(key), "未表决")}
            for label, key in rows]


def pending_flats(user, consultation):
    """Flats of the roll with no ballot counted, in buildings of the user's scope, contacts masked:
    chosen by the database (the roll entries whose person's vote slot counts no ballot), read as rows."""
    from app.models import OutboxMessage, Owner
    from app.services.privacy import mask_name, mask_phone

    visible = visible_building_ids(user, consultation)
    if not visible:
        return []
    # Flats a message about this consultation could not reach (no consent, refused: final): a visit.
    unreachable = set(db.session.scalars(db.select(OutboxMessage.flat_id).where(
        OutboxMessage.subject == f"consultation:{consultation.id}", OutboxMessage.status == "failed",
        OutboxMessage.flat_id.is_not(None))))
    rows = db.session.execute(
        db.select(RollEntry.flat_id, RollEntry.label, RollEntry.area, RollEntry.person_key, Flat.floor, Owner.name,
                  Owner.phone)
        .join(Flat, RollEntry.flat_id == Flat.id)
        .outerjoin(Owner, Flat.owner_id == Owner.id)
        .outerjoin(VoteSlot, (VoteSlot.consultation_id == RollEntry.consultation_id)
              & (VoteSlot.person_key == RollEntry.person_key))
        .where(RollEntry.consultation_id == consultation.id, RollEntry.building_id.in_(visible),
               VoteSlot.ballot_id.is_(None))
        .order_by(RollEntry.building_id, RollEntry.unit_id, RollEntry.flat_id)
    )
    return [
        {"flat_id": flat_id, "room": label, "floor": floor, "area": f"{area:.2f}",
         "developer_held": key == DEVELOPER, "unreachable": flat_id in unreachable,
         "owner": {"name": mask_name(name), "phone": mask_phone(phone)} if name else None}
        for flat_id, label, area, key, floor, name, phone in rows
    ]


def consultations_for_flat(flat_id):
    """The consultations whose roll holds the flat, latest deadline first, with their compounds."""
    return db.session.scalars(
        db.select(Consultation).join(RollEntry, RollEntry.consultation_id == Consultation.id)
        .where(RollEntry.flat_id == flat_id).order_by(Consultation.closes_at.desc())
        .options(joinedload(Consultation.compound))
    ).all()


def is_accepting(consultation, now=None, closes_at=None):
    """Are ballots taken now? closes_at: the frozen deadline where the caller has read it."""
    return consultation.status == "open" and (now or utcnow()) < (closes_at or consultation.closes_at)


def as_utc_naive(value):
    """Datetimes from the API arrive with a zone; the database keeps naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        from datetime import timezone

        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
