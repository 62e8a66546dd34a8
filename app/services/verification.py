"""`flask audit verify`: the chains, and the rows they vouch for, checked against each other."""
import json
from collections import defaultdict

from app.extensions import db
from app.models import AuditChain, AuditEntry, Ballot, Consultation, ConsultationResult, RollEntry, VoteSlot
from app.services import audit
from app.services.audit import Problem
from app.services.ballots import content_hash
from app.services.consultations import chain_name, roll_digest, sealed_heads, slots_digest


def verify():
    """Every problem found, first per chain; an empty list means all is as recorded."""
    db.session.expire_all()  # read what the database holds now, not what this session remembers
    problems = audit.verify_chains()
    broken = {p.chain for p in problems}
    chains = set(db.session.scalars(db.select(AuditChain.name).where(AuditChain.name.like("consultation:%"))))
    consultations = db.session.scalars(db.select(Consultation).order_by(Consultation.id)).all()
    for consultation in consultations:
        name = chain_name(consultation)
        if name in broken:
            continue
        if consultation.status == "draft" and consultation.roll_digest is None and name not in chains:
            if db.session.scalar(db.select(RollEntry.id).where(RollEntry.consultation_id == consultation.id).limit(1)):
                problems.append(Problem(name, "草稿征询却有冻结名册（审计链与状态被抹去） "
                                              "/ a draft holds a frozen roll: its chain and status were erased"))
            continue  # a draft: nothing frozen, nothing to check
        problem = _verify_consultation(consultation, name in chains)
        if problem:
            problems.append(Problem(name, problem))
    for name in sorted(chains - {chain_name(c) for c in consultations}):
        problems.append(Problem(name, "征询记录被删除，审计链仍在 / the consultation's row was deleted"))
    problems.extend(_verify_bindings(broken))
    from app.services.proxies import verify as verify_proxies

    problems.extend(verify_proxies(broken))
    problems.extend(_verify_plans(broken))
    problems.extend(_verify_projects(broken))
    from app.services.works import verify_works

    problems.extend(verify_works(broken))
    return problems


def _verify_projects(broken):
    """Every renovation project against its chain: the phase rows as recorded, one step forward at a
    time from the needs survey, and the project's phase the last one entered."""
    from app.models import Project, ProjectPhase
    from app.models.projects import PHASES
    from app.services.projects import chain_name as project_chain

    problems = []
    chains = set(db.session.scalars(db.select(AuditChain.name).where(AuditChain.name.like("project:%"))))
    projects = db.session.scalars(db.select(Project).order_by(Project.id)).all()
    for project in projects:
        name = project_chain(project)
        if name in broken:
            continue
        if name not in chains:
            problems.append(Problem(name, "改造项目没有审计链（未经系统创建） / the project has no audit chain"))
            continue
        rows = {r.id: r for r in db.session.scalars(db.select(ProjectPhase).where(ProjectPhase.project_id == project.id))}
        seen, expected = set(), 0
        for entry in db.session.scalars(db.select(AuditEntry).where(AuditEntry.chain == name, AuditEntry.kind == "phase")
                                        .order_by(AuditEntry.seq)):
            payload = json.loads(entry.payload)
            row = rows.get(entry.subject_id)
            if payload["phase"] != PHASES[expected]:
                problems.append(Problem(name, f"阶段记录不是依次向前（第 {expected + 1} 个阶段记为 {payload['phase']}） "
                                              "/ the phases recorded do not go forward one by one"))
                break
            if row is None or row.phase != payload["phase"] or row.reason != payload["reason"] \
                    or (row.by_id if row.by_id is not None else "system") != payload["by"] \
                    or row.entered_at.strftime("%Y-%m-%dT%H:%M:%S") != payload["at"]:
                problems.append(Problem(name, f"阶段「{payload['phase']}」的记录被删除或改动 / the phase row was deleted or edited"))
                break
            seen.add(row.id)
            expected += 1
        else:
            if set(rows) - seen:
                problems.append(Problem(name, "有未经系统记录的阶段（被插入） / a phase row was inserted"))
            elif expected == 0 or project.phase != PHASES[expected - 1]:
                problems.append(Problem(name, f"项目阶段被改动（审计链记为 {PHASES[expected - 1] if expected else '无'}，"
                                              f"现为 {project.phase}） / the phase was edited"))
    for name in sorted(chains - {project_chain(p) for p in projects}):
        problems.append(Problem(name, "改造项目记录被删除，审计链仍在 / the project's row was deleted"))
    return problems


def _verify_plans(broken):
    """Every contribution plan against its chain: the live terms against those frozen, every flat's
    amounts against the frozen digest, each pledge, payment and refund against the entry that
    recorded it (edited, inserted or deleted rows named), which pledge counts for each flat, and the
    stored outcome."""
    from app.models import ContributionPlan, PlanFlat
    from app.services.plans import chain_name as plan_chain

    problems = []
    chains = set(db.session.scalars(db.select(AuditChain.name).where(AuditChain.name.like("plan:%"))))
    plans = db.session.scalars(db.select(ContributionPlan).order_by(ContributionPlan.id)).all()
    for plan in plans:
        name = plan_chain(plan)
        if name in broken:
            continue
        if plan.status == "draft" and name not in chains:
            if db.session.scalar(db.select(PlanFlat.id).where(PlanFlat.plan_id == plan.id).limit(1)):
                problems.append(Problem(name, "草稿出资方案却有冻结的各户金额（审计链与状态被抹去） "
                                              "/ a draft plan holds frozen amounts: its chain and status were erased"))
            continue
        problem = _verify_plan(plan, name in chains)
        if problem:
            problems.append(Problem(name, problem))
    for name in sorted(chains - {plan_chain(p) for p in plans}):
        problems.append(Problem(name, "出资方案记录被删除，审计链仍在 / the plan's row was deleted"))
    return problems


def _verify_plan(plan, has_chain):
    from app.models import PlanDue, PlanFlat, PlanPayment, PlanResult, Pledge, PledgeLine
    from app.services import pledges as pledge_service
    from app.services.plans import chain_name as plan_chain
    from app.services.plans import dues_digest, frozen_terms_of, load_digest_rows

    if not has_chain:
        return f"状态为 {plan.status} 但没有审计链（未经系统开始） / opened without an audit chain"
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.chain == plan_chain(plan))
                                 .order_by(AuditEntry.seq)).all()
    if not entries or entries[0].kind != "plan_frozen":
        return "缺少方案冻结记录 / the plan freeze entry is missing"
    frozen = json.loads(entries[0].payload)
    live = frozen_terms_of(plan)
    for key, value in live.items():
        if frozen.get(key) != value:
            return f"方案的 {key} 在开始后被改动（与冻结时不符） / the plan's {key} was edited after opening"
    stripped = [{k: v for k, v in item.items() if k not in ("share_fen", "total_weight", "flats_liable")}
                for item in frozen["items"]]
    if stripped != plan.items:
        return "出资项目、造价、补贴或分摊标准在开始后被改动 / the items were edited after opening"
    if plan.digest != frozen["digest"]:
        return "方案摘要被改动 / the plan digest was edited"
    if dues_digest(*load_digest_rows(plan.id)) != frozen["dues_digest"]:
        return "各户应缴金额或冻结的房屋被改动（摘要不符） / the frozen amounts were changed (digest mismatch)"

    pledges = {p.id: p for p in db.session.scalars(db.select(Pledge).where(Pledge.plan_id == plan.id))}
    payments = {p.id: p for p in db.session.scalars(db.select(PlanPayment).where(PlanPayment.plan_id == plan.id))}
    statuses, current, seen_pledges, seen_payments, reached = {}, {}, set(), set(), "open"
    for entry in entries[1:]:
        payload = json.loads(entry.payload)
        if entry.kind in ("pledge", "paper_pledge_entered", "paper_pledge_confirmed"):
            pledge = pledges.get(payload["pledge"])
            if pledge is None:
                return f"出资承诺 {payload['pledge']} 被删除 / pledge {payload['pledge']} was deleted"
            if pledge_service.content_hash(pledge) != payload["content_hash"] or pledge.content_hash != payload["content_hash"]:
                return _pledge_named(pledge, "被改动 / was edited")
            seen_pledges.add(pledge.id)
            if entry.kind == "paper_pledge_confirmed" and pledge.confirmed_by_id != payload["confirmed_by"]:
                return _pledge_named(pledge, "的确认人被改动 / its confirming staff member was edited")
            if entry.kind == "paper_pledge_entered":
                statuses[pledge.id] = "unconfirmed"
            else:
                previous = current.get(pledge.flat_id)
                if previous is not None:
                    statuses[previous] = "superseded"
                statuses[pledge.id], current[pledge.flat_id] = "current", pledge.id
        elif entry.kind in ("payment", "refund"):
            payment = payments.get(payload["payment"])
            if payment is None:
                return f"缴款/退款记录 {payload['payment']} 被删除 / payment {payload['payment']} was deleted"
            if pledge_service.content_hash(payment, pledge_service.payment_content) != payload["content_hash"] \
                    or payment.content_hash != payload["content_hash"] or payment.kind != entry.kind:
                return f"缴款/退款记录 id {payment.id}（{payment.amount_fen} 分）被改动 / payment {payment.id} was edited"
            seen_payments.add(payment.id)
        elif entry.kind == "result":
            result = db.session.get(PlanResult, entry.subject_id)
            if result is None or result.plan_id != plan.id:
                return "出资方案的结果被删除 / the stored outcome was deleted"
            if audit.sha256(audit.canonical(result.tally)) != payload["content_hash"] \
                    or result.content_hash != payload["content_hash"] or result.funded != payload["funded"] \
                    or result.digest != frozen["digest"]:
                return f"出资方案的结果（id {result.id}）被改动 / the stored outcome (id {result.id}) was edited"
            reached = "funded" if result.funded else "not_funded"
    swapped = blobs_swapped([(p.signature_id, p.signature_sha256) for p in pledges.values()]
                            + [(p.photo_id, p.photo_sha256) for p in payments.values() if p.photo_id is not None])
    if swapped:
        return f"签名或凭证图片（blob id {swapped[0]}）被替换，与记录的哈希不符 / a signature or evidence image was replaced"
    for pledge in pledges.values():
        if pledge.id not in seen_pledges:
            return _pledge_named(pledge, "未经系统记录（被插入） / was inserted behind the application's back")
        if pledge.status != statuses[pledge.id]:
            return _pledge_named(pledge, f"状态被改动（记录为 {statuses[pledge.id]}，现为 {pledge.status}） / status was edited")
    for payment in payments.values():
        if payment.id not in seen_payments:
            return f"缴款/退款记录 id {payment.id} 未经系统记录（被插入） / payment {payment.id} was inserted"
    required = [i["key"] for i in frozen["items"] if i["required"]]
    owing = set(db.session.scalars(db.select(PlanDue.flat_id).where(
        PlanDue.plan_id == plan.id, PlanDue.item.in_(required), PlanDue.amount_fen > 0))) if required else set()
    for flat_id, pledge_id, liable in db.session.execute(db.select(PlanFlat.flat_id, PlanFlat.pledge_id, PlanFlat.liable)
                                                         .where(PlanFlat.plan_id == plan.id)):
        if pledge_id != current.get(flat_id):
            return f"房屋 id {flat_id} 计入的出资承诺被改动 / the pledge counted for flat {flat_id} was changed"
        if bool(liable) != (flat_id in owing):
            return (f"房屋 id {flat_id} 是否应分摊必选项目的标记被改动（与冻结的应缴金额不符） / "
                    f"flat {flat_id}'s liable flag does not match its frozen amounts")
    lines = {}
    for pledge_id, item, method, amount in db.session.execute(
            db.select(PledgeLine.pledge_id, PledgeLine.item, PledgeLine.method, PledgeLine.amount_fen)
            .join(Pledge, Pledge.id == PledgeLine.pledge_id).where(Pledge.plan_id == plan.id)):
        lines.setdefault(pledge_id, []).append((item, method, amount))
    for pledge in pledges.values():
        if sorted(lines.get(pledge.id, [])) != sorted((l["item"], l["method"], l["amount_fen"]) for l in pledge.lines):
            return _pledge_named(pledge, "的统计明细与承诺内容不符（明细行被改动） / its tally lines differ from the pledge")
    stored = db.session.scalar(db.select(PlanResult.id).where(PlanResult.plan_id == plan.id))
    if stored is not None and reached == "open":
        return f"出资方案的结果（id {stored}）未经系统记录（被插入） / an outcome was inserted behind the application's back"
    if plan.status != reached:
        return f"出资方案状态被改动（审计链记为 {reached}，现为 {plan.status}） / the status was edited (the chain says {reached})"
    return None


def blobs_swapped(pairs, batch=500):
    """Ids of the blobs (of (blob id, sha256 recorded for it)) whose bytes no longer hash to what was
    recorded, or that point nowhere: an image replaced behind the application's back. A blob shared by
    several records (one copy per image) is read once and checked against each record's sha256."""
    import hashlib

    from app.models import Blob

    expected = {}
    for blob_id, sha in pairs:
        if blob_id is not None:
            expected.setdefault(blob_id, set()).add(sha)
    found, ids = {}, sorted(expected)
    for start in range(0, len(ids), batch):
        for blob_id, data in db.session.execute(db.select(Blob.id, Blob.data).where(Blob.id.in_(ids[start:start + batch]))):
            found[blob_id] = hashlib.sha256(data).hexdigest()
    return [blob_id for blob_id in ids if expected[blob_id] != {found.get(blob_id)}]


def _pledge_named(pledge, what):
    from app.models import PlanFlat

    label = db.session.scalar(db.select(PlanFlat.label).filter_by(plan_id=pledge.plan_id, flat_id=pledge.flat_id))
    return f"出资承诺 id {pledge.id}（{label or pledge.flat_id}，回执 {pledge.receipt}）{what}"


def _verify_bindings(broken):
    """Every approved binding against the entry that approved it in its compound's bindings chain:
    one set to approved, or given another user, flat, relation or owner, in the database is named
    (the first of each compound)."""
    from app.models import Binding, Building, Flat, Unit
    from app.services.bindings import bindings_chain

    vouched = {}
    for payload in db.session.scalars(db.select(AuditEntry.payload).where(
            AuditEntry.chain.like("%/bindings"), AuditEntry.kind == "binding_approved")):
        entry = json.loads(payload)
        vouched[entry["binding"]] = entry
    level_vouched = {}  # issue 15: who confirmed each binding's level 2 in person
    for payload in db.session.scalars(db.select(AuditEntry.payload).where(
            AuditEntry.chain.like("%/bindings"), AuditEntry.kind == "binding_level")):
        entry = json.loads(payload)
        level_vouched[entry["binding"]] = entry
    problems, named = [], set()
    rows = db.session.execute(
        db.select(Binding, Building.compound_id).join(Flat, Binding.flat_id == Flat.id)
        .join(Unit, Flat.unit_id == Unit.id).join(Building, Unit.building_id == Building.id)
        .where(Binding.status == "approved").order_by(Binding.id))
    for binding, compound_id in rows:
        chain = bindings_chain(compound_id)
        if chain in broken or chain in named:
            continue
        entry = vouched.get(binding.id)
        if entry is None:
            what = (f"绑定 id {binding.id}（房屋 id {binding.flat_id}）未经核验或审核却为已绑定（被插入或改动） "
                    f"/ binding {binding.id} is approved without the entry that approved it")
        elif (entry["user"], entry["flat"], entry["relation"], entry["owner"]) != (
                binding.user_id, binding.flat_id, binding.relation, binding.owner_id):
            what = (f"绑定 id {binding.id}（房屋 id {binding.flat_id}）的用户、房屋、身份或业主与审核记录不符 "
                    f"/ binding {binding.id} differs from the entry that approved it")
        elif binding.level != 1 and (binding.id not in level_vouched or (
                level_vouched[binding.id]["level"], level_vouched[binding.id]["by"]) != (binding.level, binding.level_by_id)):
            what = (f"绑定 id {binding.id}（房屋 id {binding.flat_id}）的核验等级未经网格员当面核验记录（被改动） "
                    f"/ binding {binding.id} has a level no in-person confirmation recorded")
        else:
            continue
        named.add(chain)
        problems.append(Problem(chain, what))
    return problems


STATUS_BY_CHAIN = {"roll_frozen": "open", "result": "closed", "published": "published"}


def _verify_consultation(consultation, has_chain):
    name = chain_name(consultation)
    if not has_chain:
        return f"状态为 {consultation.status} 但没有审计链（未经系统开始） / opened without an audit chain"
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.chain == name).order_by(AuditEntry.seq)).all()
    if not entries or entries[0].kind != "roll_frozen":
        return "缺少名册冻结记录 / the roll freeze entry is missing"
    problem = _compare_terms(consultation, entries)
    if problem:
        return problem
    roll = db.session.scalars(db.select(RollEntry).where(RollEntry.consultation_id == consultation.id)).all()
    frozen = json.loads(entries[0].payload)["roll_digest"]
    if roll_digest(roll) != frozen:
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
    swapped = blobs_swapped([(b.signature_id, b.signature_sha256) for b in ballots.values()])
    if swapped:
        ballot = next(b for b in ballots.values() if b.signature_id == swapped[0])
        return _named(ballot, "的签名或纸质票照片被替换（与记录的哈希不符） / its signature or photo was replaced")
    for slot in slots:
        if slot.ballot_id != counted.get(slot.person_key):
            return f"计票位（{slot.person_key}）指向的表决票被改动 / the counted ballot of {slot.person_key} was changed"

    problem = _check_seals(sealed_heads(consultation), slots, own)
    if problem:
        return problem

    results = [e for e in entries[1:] if e.kind == "result"]
    stored = db.session.scalars(db.select(ConsultationResult).where(
        ConsultationResult.consultation_id == consultation.id)).all()
    if not results and stored:
        return f"计票结果（id {stored[0].id}）未经系统记录（被插入） / a result was inserted behind the application's back"
    for entry in results:
        payload = json.loads(entry.payload)
        result = db.session.get(ConsultationResult, entry.subject_id)
        if result is None or result.consultation_id != consultation.id:
            return "计票结果被删除 / the stored result was deleted"
        if audit.sha256(audit.canonical(result.tally)) != payload["content_hash"] or result.content_hash != payload["content_hash"] \
                or result.passed != payload["passed"] or result.tally.get("passed") != result.passed:
            return f"计票结果（id {result.id}）被改动 / the stored result (id {result.id}) was edited"
        frozen_payload = json.loads(entries[0].payload)
        if result.rule != frozen_payload["rule"] or result.roll_digest != frozen_payload["roll_digest"]:
            return (f"计票结果（id {result.id}）的规则或名册摘要与冻结记录不符 / the stored result (id {result.id}) "
                    "names another rule or roll than the one frozen")
        if "slots_digest" in payload and slots_digest(consultation) != payload["slots_digest"]:
            return "截止后计票位或个人表决记录链被改动 / vote slots or person chains were changed after closing"
    return None


def _compare_terms(consultation, entries):
    """The live row against its chain: the terms frozen at opening, and the status the chain has reached."""
    frozen = json.loads(entries[0].payload)
    if consultation.roll_digest is None:
        return "已开始的征询的名册摘要被清空 / the roll digest of an opened consultation is NULL"
    if consultation.roll_digest != frozen["roll_digest"]:
        return "征询的名册摘要被改动 / the consultation's roll digest was edited"
    if consultation.rule != frozen["rule"]:
        return "表决规则被改动（与冻结时不符） / the rule was edited after opening"
    if "options" in frozen and consultation.options != frozen["options"]:
        return "表决选项被改动（与冻结时不符） / the options were edited after opening"
    if consultation.closes_at.isoformat() != frozen["closes_at"]:
        return (f"截止时间被改动（冻结为 {frozen['closes_at']}，现为 {consultation.closes_at.isoformat()}） "
                "/ the deadline was edited after opening")
    if "scope" in frozen and [consultation.scope_type, consultation.scope_id] != frozen["scope"]:
        return "征询范围被改动 / the scope was edited after opening"
    reached = "open"
    for entry in entries:
        reached = STATUS_BY_CHAIN.get(entry.kind, reached)
    if consultation.status != reached:
        return (f"征询状态被改动（审计链记为 {reached}，现为 {consultation.status}） "
                f"/ the status was edited (the chain says {reached})")
    return None


def _check_seals(sealed, slots, own):
    """Every person chain still holds the entry each seal recorded as its head: a ballot rolled back
    (entries, slot head and all) after a seal is named."""
    by_id = {slot.id: slot for slot in slots}
    for slot_id, (seq, head) in sorted(sealed.items()):
        slot = by_id.get(slot_id)
        if slot is None:
            return f"已封存的计票位 {slot_id} 被删除 / the sealed vote slot {slot_id} was deleted"
        entries = {e.seq: e for e in own[slot.chain]}
        if seq > slot.seq or seq not in entries or entries[seq].hash != head:
            return (f"{slot.person_key} 的表决记录链在封存后被回退或改写（封存时第 {seq} 条） "
                    f"/ the person chain of {slot.person_key} was rolled back after it was sealed")
    return None


def _named(ballot, what):
    entry = db.session.scalar(
        db.select(RollEntry).filter_by(consultation_id=ballot.consultation_id, flat_id=ballot.flat_id)
    )
    room = entry.label if entry else f"flat {ballot.flat_id}"
    return f"表决票 id {ballot.id}（{room}，回执 {ballot.receipt}）{what}"
