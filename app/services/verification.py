"""`flask audit verify`: the chains, and the rows they vouch for, checked against each other."""
import json
from collections import defaultdict

from app.extensions import db
from app.models import AuditEntry, Ballot, Consultation, ConsultationResult, RollEntry, VoteSlot
from app.services import audit
from app.services.audit import Problem
from app.services.ballots import content_hash
from app.services.consultations import chain_name, roll_digest, slots_digest


def verify():
    """Every problem found, first per chain; an empty list means all is as recorded."""
    db.session.expire_all()  # read what the database holds now, not what this session remembers
    problems = audit.verify_chains()
    broken = {p.chain for p in problems}
    for consultation in db.session.scalars(db.select(Consultation).where(Consultation.roll_digest.is_not(None))):
        name = chain_name(consultation)
        if name in broken:
            continue
        problem = _verify_consultation(consultation)
        if problem:
            problems.append(Problem(name, problem))
    return problems


def _verify_consultation(consultation):
    name = chain_name(consultation)
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.chain == name).order_by(AuditEntry.seq)).all()
    if not entries or entries[0].kind != "roll_frozen":
        return "缺少名册冻结记录 / the roll freeze entry is missing"
    roll = db.session.scalars(db.select(RollEntry).where(RollEntry.consultation_id == consultation.id)).all()
    frozen = json.loads(entries[0].payload)["roll_digest"]
    if consultation.roll_digest != frozen or roll_digest(roll) != frozen:
        return "冻结名册被改动（摘要不符） / the frozen roll was changed (digest mismatch)"

    # Each person's ballot entries in order: any in the consultation's own chain (written before
    # person chains existed, migration 0005), then those of the chain headed in their vote slot.
    by_person = defaultdict(list)
    for entry in entries[1:]:
        if entry.subject_type == "ballot":
            by_person[json.loads(entry.payload)["person"]].append(entry)
    own = defaultdict(list)
    for entry in db.session.scalars(db.select(AuditEntry).where(AuditEntry.chain.startswith(f"{name}/"))
                                    .order_by(AuditEntry.chain, AuditEntry.seq)):
        own[entry.chain].append(entry)
    slots = db.session.scalars(db.select(VoteSlot).where(VoteSlot.consultation_id == consultation.id)).all()
    orphans = set(own) - {slot.chain for slot in slots}
    if orphans:
        return f"记录链 {min(orphans)} 的计票位被删除 / the vote slot of chain {min(orphans)} was deleted"
    for slot in slots:
        problem = audit.check_links(slot.chain, own[slot.chain], slot.seq, slot.head)
        if problem:
            return f"{slot.person_key} 的表决记录链：{problem}"
        by_person[slot.person_key].extend(own[slot.chain])

    ballots = {b.id: b for b in db.session.scalars(db.select(Ballot).where(Ballot.consultation_id == consultation.id))}
    recorded, statuses, counted = set(), {}, {}
    for person, person_entries in by_person.items():
        for entry in person_entries:
            payload = json.loads(entry.payload)
            ballot = ballots.get(payload["ballot"])
            if ballot is None:
                return f"表决票 {payload['ballot']} 被删除 / ballot {payload['ballot']} was deleted"
            if content_hash(ballot) != payload["content_hash"] or ballot.content_hash != payload["content_hash"] \
                    or ballot.person_key != person:
                return _named(ballot, "被改动 / was edited")
            recorded.add(ballot.id)
            statuses[ballot.id] = payload["status"]
            if payload["status"] == "current":
                previous = counted.get(person)
                if previous is not None and entry.kind == "ballot":
                    statuses[previous] = "superseded"
                counted[person] = ballot.id
    for ballot in ballots.values():
        if ballot.id not in recorded:
            return _named(ballot, "未经系统记录（被插入） / was inserted behind the application's back")
        if ballot.status != statuses[ballot.id]:
            return _named(ballot, f"状态被改动（记录为 {statuses[ballot.id]}，现为 {ballot.status}） / status was edited")
    for slot in slots:
        if slot.ballot_id != counted.get(slot.person_key):
            return f"计票位（{slot.person_key}）指向的表决票被改动 / the counted ballot of {slot.person_key} was changed"

    for entry in entries[1:]:
        if entry.kind != "result":
            continue
        payload = json.loads(entry.payload)
        result = db.session.get(ConsultationResult, entry.subject_id)
        if result is None:
            return "计票结果被删除 / the stored result was deleted"
        if audit.sha256(audit.canonical(result.tally)) != payload["content_hash"] or result.content_hash != payload["content_hash"] \
                or result.passed != payload["passed"]:
            return f"计票结果（id {result.id}）被改动 / the stored result (id {result.id}) was edited"
        if "slots_digest" in payload and slots_digest(consultation) != payload["slots_digest"]:
            return "截止后计票位或个人表决记录链被改动 / vote slots or person chains were changed after closing"
    return None


def _named(ballot, what):
    entry = db.session.scalar(
        db.select(RollEntry).filter_by(consultation_id=ballot.consultation_id, flat_id=ballot.flat_id)
    )
    room = entry.label if entry else f"flat {ballot.flat_id}"
    return f"表决票 id {ballot.id}（{room}，回执 {ballot.receipt}）{what}"
