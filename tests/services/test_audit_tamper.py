"""`flask audit verify`, tried as someone with write access to the database would: each edit of a
consultation's live row, its result, its chain or a person's chain is named by its exact finding,
and a chain recomputed without AUDIT_KEY does not pass (issue 8)."""
import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.extensions import db as _db
from app.models import AuditChain, AuditEntry, Ballot, VoteSlot
from app.models.places import utcnow
from app.services import consultations as service
from tests import factories
from tests.tamper import SIG, findings, owned_compound, sign, sql

@pytest.fixture()
def place(app, db):
    """16 flats, one owner each; everyone of them a bound resident dev-o<i>."""
    return owned_compound((("1栋", 2, 4, 2),))


def test_a_rule_edited_while_open_counts_nothing_and_is_named(client, login, place, cli):
    """The attack that worked: 1 of 16 owners agrees, the rule is UPDATEd to 'one agreeing person
    passes'; the close counts with the frozen rule (failed) and verify names the edit."""
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0])
    lax = {"preset": "none", "thresholds": [{"what": "agree", "measure": "persons", "base": "participants",
                                             "share": "1/2", "strict": True}],
           "required_consent_flat_ids": [], "objection_veto": False}
    sql("UPDATE consultation SET rule = :rule WHERE id = :id", rule=json.dumps(lax), id=c.id)
    _db.session.expire_all()
    _, result = service.close(c.id)
    _db.session.commit()
    assert result.passed is False and result.rule["preset"] == "major"
    assert findings() == [f"[consultation:{c.id}] 表决规则被改动（与冻结时不符） / the rule was edited after opening"]
    out = cli("audit", "verify")
    assert out.exit_code == 1 and "表决规则被改动" in out.output


@pytest.mark.parametrize("tamper, finding", [
    ("UPDATE consultation SET closes_at = '2099-01-01 00:00:00' WHERE id = :id",
     "截止时间被改动（冻结为 {frozen}，现为 2099-01-01T00:00:00） / the deadline was edited after opening"),
    ("UPDATE consultation SET options = '[{\"key\": \"agree\", \"label\": \"同意\"}]' WHERE id = :id",
     "表决选项被改动（与冻结时不符） / the options were edited after opening"),
    ("UPDATE consultation SET roll_digest = NULL WHERE id = :id",
     "已开始的征询的名册摘要被清空 / the roll digest of an opened consultation is NULL"),
    ("UPDATE consultation SET roll_digest = '" + "e" * 64 + "' WHERE id = :id",
     "征询的名册摘要被改动 / the consultation's roll digest was edited"),
    ("UPDATE consultation SET status = 'draft' WHERE id = :id",
     "征询状态被改动（审计链记为 open，现为 draft） / the status was edited (the chain says open)"),
    ("UPDATE consultation SET status = 'closed' WHERE id = :id",
     "征询状态被改动（审计链记为 open，现为 closed） / the status was edited (the chain says open)"),
    ("UPDATE consultation SET scope_type = 'building', scope_id = 1 WHERE id = :id",
     "征询范围被改动 / the scope was edited after opening"),
])
def test_edits_of_an_open_consultations_row_are_named(client, login, place, tamper, finding):
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    frozen = c.closes_at.isoformat()
    sign(client, login, c.id, 0, flats[0])
    assert findings() == []
    sql(tamper, id=c.id)
    assert findings() == [f"[consultation:{c.id}] " + finding.format(frozen=frozen)]


def test_a_closed_consultation_set_back_to_open_is_named(client, login, place):
    comp, flats = place
    c = factories.consultation(("compound", comp))
    service.close(c.id)
    _db.session.commit()
    sql("UPDATE consultation SET status = 'open', closed_at = NULL WHERE id = :id", id=c.id)
    assert findings() == [f"[consultation:{c.id}] 征询状态被改动（审计链记为 closed，现为 open） "
                          "/ the status was edited (the chain says closed)"]


def test_an_opened_consultation_without_its_chain_is_named(client, login, place):
    """A row set to open by hand, never opened through the application."""
    comp, _ = place
    c = factories.consultation(("compound", comp), open_=False)
    _db.session.commit()
    sql("UPDATE consultation SET status = 'open' WHERE id = :id", id=c.id)
    assert findings() == [f"[consultation:{c.id}] 状态为 open 但没有审计链（未经系统开始） / opened without an audit chain"]


@pytest.mark.parametrize("tamper, finding", [
    ("UPDATE consultation_result SET passed = NOT passed",
     "计票结果（id {rid}）被改动 / the stored result (id {rid}) was edited"),
    ("UPDATE consultation_result SET rule = '{{}}'",
     "计票结果（id {rid}）的规则或名册摘要与冻结记录不符 / the stored result (id {rid}) names another rule or roll "
     "than the one frozen"),
    ("DELETE FROM consultation_result", "计票结果被删除 / the stored result was deleted"),
])
def test_a_result_that_disagrees_with_its_entry_is_named(client, login, place, tamper, finding):
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0])
    _, result = service.close(c.id)
    _db.session.commit()
    rid = result.id
    assert findings() == []
    sql(tamper.replace("{{}}", "{}"))
    assert findings() == [f"[consultation:{c.id}] " + finding.format(rid=rid)]


def _rewrite_chain(name, edit, hasher):
    """Edit one entry's payload, then recompute every hash of the chain and its head with `hasher`
    (what a forger with the database but not AUDIT_KEY can do)."""
    entries = _db.session.scalars(_db.select(AuditEntry).where(AuditEntry.chain == name).order_by(AuditEntry.seq)).all()
    prev = "0" * 64
    with _db.engine.begin() as conn:
        for e in entries:
            payload = edit(e)
            digest = hasher("|".join([e.chain, str(e.seq), e.kind, e.subject_type, str(e.subject_id), payload, prev]))
            conn.execute(text("UPDATE audit_entry SET payload = :p, prev_hash = :prev, hash = :h WHERE id = :id"),
                         {"p": payload, "prev": prev, "h": digest, "id": e.id})
            prev = digest
        conn.execute(text("UPDATE audit_chain SET head = :h WHERE name = :n"), {"h": prev, "n": name})
    return entries[0].id


@pytest.mark.parametrize("hasher", [
    lambda t: hashlib.sha256(t.encode()).hexdigest(),
    lambda t: __import__("hmac").new(b"guessed-key", t.encode(), hashlib.sha256).hexdigest(),
], ids=["plain-sha256", "wrong-key"])
def test_a_chain_recomputed_without_the_key_is_named(client, login, place, hasher):
    """Rule and freeze entry rewritten together, every hash recomputed: the first entry is named."""
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    lax = {"preset": "none", "thresholds": [{"what": "agree", "measure": "persons", "base": "all", "share": "1/16",
                                             "strict": False}], "required_consent_flat_ids": [], "objection_veto": False}

    def edit(entry):
        if entry.kind != "roll_frozen":
            return entry.payload
        payload = json.loads(entry.payload)
        payload["rule"] = lax
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    first_id = _rewrite_chain(service.chain_name(c), edit, hasher)
    sql("UPDATE consultation SET rule = :rule WHERE id = :id", rule=json.dumps(lax), id=c.id)
    assert findings() == [f"[consultation:{c.id}] 第 1 条记录（id {first_id}，roll_frozen）被改动 "
                          f"/ entry 1 (id {first_id}, roll_frozen) was edited"]
    # ... and nothing is counted or signed under a freeze entry that does not hash under our key.
    resp = client.post(f"/api/v1/consultations/{c.id}/ballots", headers=login("o1"),
                       json={"flat_id": flats[1].id, "choice": "agree", "signature": SIG})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "freeze_broken"
    with pytest.raises(Exception) as refused:
        service.close(c.id)
    assert getattr(refused.value, "extra_data", {}).get("code") == "freeze_broken"


def _roll_back_last_ballot(c, person):
    """Erase a person's latest ballot with its whole trail, leaving the first one counted."""
    slot = _db.session.scalar(_db.select(VoteSlot).filter_by(consultation_id=c.id, person_key=person))
    first, last = _db.session.scalars(_db.select(Ballot).filter_by(consultation_id=c.id, person_key=person)
                                      .order_by(Ballot.id)).all()
    entry1 = _db.session.scalar(_db.select(AuditEntry).filter_by(chain=slot.chain, seq=1))
    with _db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE chain = :c AND seq = 2"), {"c": slot.chain})
        conn.execute(text("UPDATE vote_slot SET seq = 1, head = :h, ballot_id = :b WHERE id = :id"),
                     {"h": entry1.hash, "b": first.id, "id": slot.id})
        conn.execute(text("DELETE FROM ballot WHERE id = :id"), {"id": last.id})
        conn.execute(text("UPDATE ballot SET status = 'current' WHERE id = :id"), {"id": first.id})
    return slot


def test_a_ballot_rolled_back_after_a_seal_is_named(client, login, place):
    """A person's changed answer erased with its trail passes unseen until the next seal; after the
    seal (the scheduler's 10-minute job) it is named."""
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0], "agree")
    sign(client, login, c.id, 0, flats[0], "disagree")
    person = f"owner:{flats[0].owner_id}"
    assert service.seal_open() == {c.id: 1}
    _db.session.commit()
    assert service.seal_open() == {c.id: 0}  # nothing moved: nothing sealed again
    _roll_back_last_ballot(c, person)
    assert findings() == [f"[consultation:{c.id}] {person} 的表决记录链在封存后被回退或改写（封存时第 2 条） "
                          f"/ the person chain of {person} was rolled back after it was sealed"]


def test_a_rollback_before_any_seal_is_not_seen_until_a_seal_or_the_close(client, login, place):
    """Without a seal, the same rollback is invisible: the test above is not vacuous."""
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0], "agree")
    sign(client, login, c.id, 0, flats[0], "disagree")
    _roll_back_last_ballot(c, f"owner:{flats[0].owner_id}")
    assert findings() == []


def test_seals_are_split_into_entries_that_fit_a_text_column(client, login, place, monkeypatch):
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    for i in range(5):
        sign(client, login, c.id, i, flats[i])
    monkeypatch.setattr(service, "SEAL_CHUNK", 2)
    assert service.seal_open() == {c.id: 5}
    _db.session.commit()
    seals = _db.session.scalars(_db.select(AuditEntry).filter_by(chain=service.chain_name(c), kind="seal")).all()
    assert [len(json.loads(s.payload)["slots"]) for s in seals] == [2, 2, 1]
    assert findings() == []


def test_the_scheduler_closes_at_the_frozen_deadline_not_an_edited_one(client, login, place):
    comp, _ = place
    c = factories.consultation(("compound", comp), hours=1)
    _db.session.commit()
    sql("UPDATE consultation SET closes_at = :later WHERE id = :id", later=utcnow() + timedelta(days=30), id=c.id)
    assert service.close_due(now=utcnow() + timedelta(hours=2)) == [c.id]


def test_audit_head_prints_every_chain_head(client, login, place, cli):
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0])
    name = service.chain_name(c)
    chain = _db.session.get(AuditChain, name)
    expected_chain = [name, str(chain.seq), chain.head]
    slot = _db.session.scalar(_db.select(VoteSlot).filter_by(consultation_id=c.id).where(VoteSlot.seq > 0))
    expected_slot = [slot.chain, "1", slot.head]
    out = cli("audit", "head")
    assert out.exit_code == 0
    lines = [line.split("\t") for line in out.output.strip().splitlines()]
    assert expected_chain in lines and expected_slot in lines
    assert all(re.fullmatch(r"[0-9a-f]{64}", line[2]) for line in lines)


def test_the_scheduler_seals_open_consultations_every_ten_minutes(app):
    """The seal is a job of the scheduler process, at most ten minutes apart."""
    from app.jobs import build_scheduler, seal_open_consultations

    job = build_scheduler(app).get_job("seal_open_consultations")
    assert job is not None and job.func is seal_open_consultations
    assert job.trigger.interval.total_seconds() <= 600


def test_an_opened_consultation_erased_back_to_a_draft_is_named(client, login, place):
    """Its whole chain deleted, status draft and digest NULL again: the roll left behind names it."""
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0])
    sql("DELETE FROM audit_entry WHERE chain = :c", c=service.chain_name(c))
    sql("DELETE FROM audit_chain WHERE name = :c", c=service.chain_name(c))
    sql("UPDATE consultation SET status = 'draft', roll_digest = NULL WHERE id = :id", id=c.id)
    assert findings() == [f"[consultation:{c.id}] 草稿征询却有冻结名册（审计链与状态被抹去） "
                          "/ a draft holds a frozen roll: its chain and status were erased"]


def test_a_chain_whose_head_row_was_deleted_is_named(client, login, place):
    """The bindings chain's head row deleted, its entries left: named; a slot chain's entries have no such row."""
    from app.services.bindings import bindings_chain

    comp, flats = place
    resp = client.post("/api/v1/bindings", headers=login("stranger"), json={
        "flat_id": flats[0].id, "relation": "tenant", "name": "租客"})
    assert resp.status_code == 201
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0])
    assert findings() == []
    sql("DELETE FROM audit_chain WHERE name = :c", c=bindings_chain(comp.id))
    assert findings() == [f"[{bindings_chain(comp.id)}] 链头记录被删除，链上记录仍在 / the chain's head row was deleted"]


def test_bindings_approved_through_the_application_verify(client, login, place):
    """A roster match, a corrected retry and a grid worker's approval each leave the entry verify wants."""
    comp, flats = place
    extra = factories.compound(buildings=(("9栋", 1, 1, 3),))
    grid = factories.grid(extra, extra.buildings)
    factories.staff("gw", "grid_worker", "grid", grid.id)
    _db.session.commit()
    a, b, c = extra.buildings[0].units[0].flats
    bind = lambda who, flat, digits, relation="owner": client.post("/api/v1/bindings", headers=login(who), json={
        "flat_id": flat.id, "relation": relation, "name": flat.owner.name, "phone_last4": digits})
    assert bind("match", a, a.owner.phone[-4:]).json["data"]["status"] == "approved"
    bind("typo", b, "0000" if b.owner.phone[-4:] != "0000" else "1111")
    assert bind("typo", b, b.owner.phone[-4:]).json["data"]["status"] == "approved"
    pending = bind("kid", c, None, relation="family").json["data"]["id"]
    assert client.post(f"/api/v1/bindings/{pending}/approve", headers=login("gw")).status_code == 200
    assert findings() == []


@pytest.mark.parametrize("tamper, finding", [
    ("UPDATE binding SET status = 'approved' WHERE relation = 'tenant'",
     "绑定 id {bid}（房屋 id {fid}）未经核验或审核却为已绑定（被插入或改动） / binding {bid} is approved without the entry that approved it"),
    ("UPDATE binding SET owner_id = NULL, relation = 'owner', status = 'approved' WHERE relation = 'tenant'",
     "绑定 id {bid}（房屋 id {fid}）未经核验或审核却为已绑定（被插入或改动） / binding {bid} is approved without the entry that approved it"),
])
def test_a_binding_approved_in_the_database_is_named(client, login, place, tamper, finding):
    """A pending tenant request turned into an approved (owner) binding by SQL: named in its compound's chain."""
    from app.services.bindings import bindings_chain

    comp, flats = place
    resp = client.post("/api/v1/bindings", headers=login("sneak"), json={
        "flat_id": flats[1].id, "relation": "tenant", "name": "租客"})
    bid = resp.json["data"]["id"]
    assert findings() == []
    sql(tamper)
    assert findings() == [f"[{bindings_chain(comp.id)}] " + finding.format(bid=bid, fid=flats[1].id)]


def test_a_binding_pointed_at_another_owner_is_named(client, login, place):
    """The seller's binding given the buyer's owner id by SQL, to pass the roll's person check: named."""
    from app.models import Binding, Owner
    from app.services.bindings import bindings_chain

    comp, flats = place
    buyer = Owner(name="买家", phone="13900005555")
    _db.session.add(buyer)
    _db.session.commit()
    binding = _db.session.scalar(_db.select(Binding).filter_by(flat_id=flats[0].id))
    sql("UPDATE binding SET owner_id = :o WHERE id = :id", o=buyer.id, id=binding.id)
    assert findings() == [f"[{bindings_chain(comp.id)}] 绑定 id {binding.id}（房屋 id {flats[0].id}）的用户、房屋、身份或业主"
                          f"与审核记录不符 / binding {binding.id} differs from the entry that approved it"]


def test_the_evidence_shows_the_frozen_rule_and_deadline_not_an_edited_row(client, login, place):
    """A rule and deadline edited in the database after opening: the evidence header still shows
    what was frozen (what the count used)."""
    from app.models import Consultation
    from app.services.evidence import evidence_header

    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sql("UPDATE consultation SET rule = :r, closes_at = '2099-01-01 00:00:00' WHERE id = :id", id=c.id,
        r=json.dumps({"preset": "none", "thresholds": [{"what": "agree", "measure": "persons", "base": "all",
                      "share": "1/16", "strict": False}], "required_consent_flat_ids": [], "objection_veto": False}))
    _db.session.expire_all()
    rows = dict(evidence_header(_db.session.get(Consultation, c.id))["rows"])
    assert "同意人数 ≥ 3/4（参与者）" in rows["表决规则"] and "1/16" not in rows["表决规则"]
    assert "2099" not in rows["截止时间"]
