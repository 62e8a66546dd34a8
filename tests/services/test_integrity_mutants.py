"""The integrity checks that scripts/mutants.py found no test for: each test here fails when the one
check it names is broken (each section names, in parentheses, the mutations its tests kill)."""
import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from app.extensions import db as _db
from app.models import AuditEntry, Ballot, BindingAttempt, Flat, VoteSlot
from app.models.places import utcnow
from app.services import audit, evidence
from app.services import consultations as service
from tests import factories
from tests.tamper import findings, owned_compound, sign, sql

@pytest.fixture()
def place(app, db):
    """6 flats, one owner each, every owner a bound resident dev-o<i>; a committee member."""
    return owned_compound((("1栋", 1, 3, 2),))


# ---------------------------------------------------------------- audit.check_links (audit-prev-hash)


def test_an_entry_spliced_from_a_rolled_back_branch_does_not_follow_its_predecessor(app, db):
    """A chain rolled back to entry 1, appended to again, then given back its old entry 3 (a genuine
    entry, hashed under our key, with the right number): is entry 3 named for not following the new
    entry 2, though every entry on its own is intact and the head is entry 3's?"""
    name = "test:splice"
    for n in (1, 2, 3):
        audit.append(name, "note", "test", n, {"n": n})
    _db.session.commit()
    first, _, old_third = _db.session.scalars(
        _db.select(AuditEntry).where(AuditEntry.chain == name).order_by(AuditEntry.seq)).all()
    kept = {c.name: getattr(old_third, c.name) for c in AuditEntry.__table__.c}
    sql("DELETE FROM audit_entry WHERE chain = :c AND seq > 1", c=name)
    sql("UPDATE audit_chain SET seq = 1, head = :h WHERE name = :c", h=first.hash, c=name)
    _db.session.expire_all()
    audit.append(name, "note", "test", 20, {"n": 20})  # the new entry 2
    _db.session.commit()
    with _db.engine.begin() as conn:
        conn.execute(AuditEntry.__table__.insert(), kept)
    sql("UPDATE audit_chain SET seq = 3, head = :h WHERE name = :c", h=kept["hash"], c=name)
    assert audit.intact(old_third)
    assert findings() == [f"[{name}] 第 3 条记录（id {kept['id']}）的前一哈希不符 "
                          f"/ entry 3 (id {kept['id']}) does not follow its predecessor"]


# ---------------------------------------------------------------- verify: the stored result
# (verify-result-tally-hash, verify-result-hash-column)


def _closed(client, login, place):
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0])
    _, result = service.close(c.id)
    _db.session.commit()
    assert findings() == []
    return c, result.id


def test_a_result_whose_tally_was_edited_keeping_passed_is_named(client, login, place):
    """The stored tally edited (the agreeing persons raised from 1 to 5) while passed, the content_hash
    column and the entry are left alone: is the result named as edited?"""
    c, rid = _closed(client, login, place)
    tally = json.loads(_db.session.execute(text("SELECT tally FROM consultation_result WHERE id = :id"),
                                           {"id": rid}).scalar())
    assert tally["approval"]["persons"] == 1
    tally["approval"]["persons"] = 5
    sql("UPDATE consultation_result SET tally = :t WHERE id = :id", t=json.dumps(tally, ensure_ascii=False), id=rid)
    assert findings() == [f"[consultation:{c.id}] 计票结果（id {rid}）被改动 / the stored result (id {rid}) was edited"]


def test_a_result_whose_content_hash_column_was_edited_is_named(client, login, place):
    """Only the result's content_hash column rewritten (what a forger would make match an edited tally):
    is the result named as edited?"""
    c, rid = _closed(client, login, place)
    sql("UPDATE consultation_result SET content_hash = :h WHERE id = :id", h="e" * 64, id=rid)
    assert findings() == [f"[consultation:{c.id}] 计票结果（id {rid}）被改动 / the stored result (id {rid}) was edited"]


# ---------------------------------------------------------------- verify: seals (verify-seal-head)


def test_a_sealed_answer_rolled_back_and_signed_again_is_named(client, login, place):
    """A person answers agree then disagree; the chains are sealed; the second answer is erased with its
    whole trail and the person signs again (a new, genuine entry 2 with another hash): the chain is
    whole and as long as sealed, but is it named as rolled back after the seal?"""
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    sign(client, login, c.id, 0, flats[0], "agree")
    sign(client, login, c.id, 0, flats[0], "disagree")
    person = f"owner:{flats[0].owner_id}"
    assert service.seal_open() == {c.id: 1}
    _db.session.commit()
    slot = _db.session.scalar(_db.select(VoteSlot).filter_by(consultation_id=c.id, person_key=person))
    first, last = _db.session.scalars(_db.select(Ballot).filter_by(consultation_id=c.id, person_key=person)
                                      .order_by(Ballot.id)).all()
    entry1 = _db.session.scalar(_db.select(AuditEntry).filter_by(chain=slot.chain, seq=1))
    sql("DELETE FROM audit_entry WHERE chain = :c AND seq = 2", c=slot.chain)
    sql("UPDATE vote_slot SET seq = 1, head = :h, ballot_id = :b WHERE id = :id", h=entry1.hash, b=first.id, id=slot.id)
    sql("DELETE FROM ballot WHERE id = :id", id=last.id)
    sql("UPDATE ballot SET status = 'current' WHERE id = :id", id=first.id)
    _db.session.expire_all()
    sign(client, login, c.id, 0, flats[0], "disagree")
    _db.session.expire_all()
    assert _db.session.get(VoteSlot, slot.id).seq == 2
    assert findings() == [f"[consultation:{c.id}] {person} 的表决记录链在封存后被回退或改写（封存时第 2 条） "
                          f"/ the person chain of {person} was rolled back after it was sealed"]


# ---------------------------------------------------------------- bindings: the day's lock (binding-day-window)


def _guess_wrong(client, login, who, flat):
    digits = "0000" if flat.owner.phone[-4:] != "0000" else "1111"
    return client.post("/api/v1/bindings", headers=login(who), json={
        "flat_id": flat.id, "relation": "owner", "name": flat.owner.name, "phone_last4": digits})


def test_failures_older_than_a_day_do_not_lock_the_flat(client, login, place):
    """Nine failed guesses on a flat two days ago and one now: ten in all (the daily limit) but one in
    the last day, so is the flat still unlocked?"""
    _, flats = place
    flat = flats[0]
    for i in range(9):
        assert _guess_wrong(client, login, f"old{i}", flat).json["data"]["status"] == "pending"
    _db.session.execute(_db.update(BindingAttempt).values(created_at=utcnow() - timedelta(days=2)))
    _db.session.commit()
    assert _db.session.scalar(_db.select(_db.func.count(BindingAttempt.id))) == 9
    resp = _guess_wrong(client, login, "new0", flat)
    assert resp.status_code == 201 and resp.json["data"]["status"] == "pending"
    _db.session.expire_all()
    assert _db.session.get(Flat, flat.id).binding_locked_at is None


# ---------------------------------------------------------------- evidence (evidence-hash-check, evidence-hash-warning)


def test_a_ballot_edited_behind_the_applications_back_is_flagged_in_the_evidence(client, login, place):
    """A counted ballot's choice changed by SQL from agree to disagree: does the evidence flag exactly
    that ballot (hash_ok false, "内容与哈希不符" after its status, in the rows and in the xlsx), and
    no other?"""
    comp, flats = place
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    edited = sign(client, login, c.id, 0, flats[0], "agree")["receipt"]
    kept = sign(client, login, c.id, 1, flats[1], "agree")["receipt"]
    sql("UPDATE ballot SET choice = 'disagree' WHERE receipt = :r", r=edited)
    _db.session.expire_all()
    rows = {row["receipt"]: row for row in evidence.evidence_rows(_db.session.get(type(c), c.id))}
    assert (rows[edited]["hash_ok"], rows[edited]["status_name"]) == (False, "有效（计入统计）（警告：内容与哈希不符）")
    assert (rows[kept]["hash_ok"], rows[kept]["status_name"]) == (True, "有效（计入统计）")
    resp = client.get(f"/api/v1/consultations/{c.id}/evidence.xlsx", headers=login("committee"))
    assert resp.status_code == 200
    sheet = list(load_workbook(io.BytesIO(resp.data))["表决票"].iter_rows(values_only=True))
    by_receipt = {r[sheet[0].index("回执码")]: r[sheet[0].index("状态")] for r in sheet[1:]}
    assert by_receipt == {edited: "有效（计入统计）（警告：内容与哈希不符）", kept: "有效（计入统计）"}
