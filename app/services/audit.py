"""The hash-chained audit log and its verification (`flask audit verify`).

Each entry's hash covers the previous entry's hash, so editing or deleting any entry breaks every
hash after it. The hash is keyed (HMAC-SHA256 with AUDIT_KEY, which lives outside the database), so
someone with the database alone cannot write a chain that verifies. The rows the entries speak for
(roll, ballots, results) carry a content hash that the entry records, and the vote slots can be
replayed from the chain, so an edit of those rows behind the application's back shows up as well.
"""
import hashlib
import hmac
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam

from app.extensions import db, written
from app.models import AuditChain, AuditEntry
from app.models.audit import GENESIS


def canonical(value):
    """The one JSON spelling that is hashed: sorted keys, no spaces, Decimals and dates as text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(chain, seq, kind, subject_type, subject_id, payload_text, prev_hash):
    """The keyed hash of an entry: HMAC-SHA256 under AUDIT_KEY of its fields and its predecessor's hash."""
    text = "|".join([chain, str(seq), kind, subject_type, str(subject_id), payload_text, prev_hash])
    return hmac.new(current_app.config["AUDIT_KEY"].encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def intact(entry):
    """Does an entry (a row or anything with its columns) hash as it was written under our key?"""
    digest = entry_hash(entry.chain, entry.seq, entry.kind, entry.subject_type, entry.subject_id, entry.payload,
                        entry.prev_hash)
    return hmac.compare_digest(digest, entry.hash)


def start_chain(name):
    chain = AuditChain(name=name, seq=0, head=GENESIS)
    db.session.add(chain)
    db.session.flush()
    return chain


_chains, _entries = AuditChain.__table__, AuditEntry.__table__
# Built once: append() runs for every ballot.
_HEAD = db.select(_chains.c.seq, _chains.c.head).where(_chains.c.name == bindparam("chain")).with_for_update()
_ADVANCE = _chains.update().where(_chains.c.name == bindparam("chain")).values(seq=bindparam("new_seq"),
                                                                              head=bindparam("new_head"))
_INSERT_ENTRY = _entries.insert()


def link(chain_name, seq, prev, kind, subject_type, subject_id, payload):
    """The row of entry number `seq` after the entry hashed `prev`; its "hash" is the chain's new head."""
    text = canonical(payload)
    return {"chain": chain_name, "seq": seq, "kind": kind, "subject_type": subject_type, "subject_id": subject_id,
            "payload": text, "prev_hash": prev, "hash": entry_hash(chain_name, seq, kind, subject_type, subject_id, text, prev)}


def write(entry):
    """Insert an entry made by link(); the caller keeps the head where its chain keeps it."""
    db.session.connection().execute(_INSERT_ENTRY, entry)


def append(chain_name, kind, subject_type, subject_id, payload):
    """Append one entry to a chain headed in audit_chain; the head row is locked until the caller
    commits. A chain that has no head yet is started, so the caller must hold a lock that keeps two
    transactions from starting the same chain at once. Returns the entry's hash."""
    execute = db.session.connection().execute  # Core statements: no ORM session layer
    row = execute(_HEAD, {"chain": chain_name}).first()
    if row is None:
        # A chain's first entry. The caller holds a lock that serialises its chain's first appends
        # (the consultation's row when opening, the compound's row for its bindings chain).
        start_chain(chain_name)
        seq, prev = 0, GENESIS
    else:
        seq, prev = row
    entry = link(chain_name, seq + 1, prev, kind, subject_type, subject_id, payload)
    execute(_ADVANCE, {"chain": chain_name, "new_seq": entry["seq"], "new_head": entry["hash"]})
    write(entry)
    written(AuditChain, chain_name, seq=entry["seq"], head=entry["hash"])
    return entry["hash"]


def head(chain_name):
    chain = db.session.get(AuditChain, chain_name)
    return chain.head if chain else GENESIS


def heads():
    """Every chain's name, length and head digest, in name order: chains headed in audit_chain, then
    the person chains headed in vote slots. Published, they let anyone check later that nothing before
    them was rewritten."""
    from app.models import VoteSlot
    from app.models.consultations import slot_chain

    rows = [(c.name, c.seq, c.head) for c in db.session.scalars(db.select(AuditChain).order_by(AuditChain.name))]
    rows += [(slot_chain(s.consultation_id, s.id), s.seq, s.head)
             for s in db.session.scalars(db.select(VoteSlot).where(VoteSlot.seq > 0)
                                         .order_by(VoteSlot.consultation_id, VoteSlot.id))]
    return rows


@dataclass
class Problem:
    chain: str
    what: str

    def __str__(self):
        return f"[{self.chain}] {self.what}"


def verify_chains():
    """Check every chain headed in audit_chain link by link; the first problem of each broken chain.
    Entries of a chain whose head row is gone (and that no vote slot heads) are named too."""
    problems = []
    headed = set(db.session.scalars(db.select(AuditChain.name)))
    for name in db.session.scalars(db.select(AuditEntry.chain).distinct().order_by(AuditEntry.chain)):
        if name not in headed and "/slot:" not in name:
            problems.append(Problem(name, "链头记录被删除，链上记录仍在 / the chain's head row was deleted"))
    for chain in db.session.scalars(db.select(AuditChain).order_by(AuditChain.name)):
        entries = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.chain == chain.name).order_by(AuditEntry.seq)
        )
        problem = check_links(chain.name, entries, chain.seq, chain.head)
        if problem:
            problems.append(Problem(chain.name, problem))
    return problems


def check_links(name, entries, seq, head):
    """The first broken link of a chain whose entries (in seq order) should end at (seq, head); None if whole."""
    prev, expected_seq = GENESIS, 1
    for entry in entries:
        if entry.seq != expected_seq:
            return f"第 {expected_seq} 条记录缺失（被删除） / entry {expected_seq} is missing (deleted)"
        if entry.prev_hash != prev:
            return f"第 {entry.seq} 条记录（id {entry.id}）的前一哈希不符 / entry {entry.seq} (id {entry.id}) does not follow its predecessor"
        if entry.chain != name or not intact(entry):
            return f"第 {entry.seq} 条记录（id {entry.id}，{entry.kind}）被改动 / entry {entry.seq} (id {entry.id}, {entry.kind}) was edited"
        prev, expected_seq = entry.hash, expected_seq + 1
    if expected_seq - 1 < seq:
        return f"链尾记录缺失：应有 {seq} 条，实有 {expected_seq - 1} 条 / entries at the end are missing"
    if expected_seq - 1 != seq or prev != head:
        return f"链头与最后一条记录不符（链头记为第 {seq} 条） / the chain's head does not match its last entry"
    return None
