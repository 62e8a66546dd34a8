"""The hash-chained audit log and its verification (`flask audit verify`).

Each entry's hash covers the previous entry's hash, so editing or deleting any entry breaks every
hash after it. The rows the entries speak for (roll, ballots, results) carry a content hash that
the entry records, and the vote slots can be replayed from the chain, so an edit of those rows
behind the application's back shows up as well.
"""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import AuditChain, AuditEntry

GENESIS = "0" * 64


def canonical(value):
    """The one JSON spelling that is hashed: sorted keys, no spaces, Decimals and dates as text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(chain, seq, kind, subject_type, subject_id, payload_text, prev_hash):
    return sha256("|".join([chain, str(seq), kind, subject_type, str(subject_id), payload_text, prev_hash]))


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


def append(chain_name, kind, subject_type, subject_id, payload):
    """Append one entry; the chain's head row is locked until the caller commits. Written with Core
    statements (no unit of work: this runs for every ballot); returns the entry's hash."""
    execute = db.session.connection().execute  # Core statements: no ORM session layer
    row = execute(_HEAD, {"chain": chain_name}).first()
    if row is None:
        start_chain(chain_name)
        seq, prev = 0, GENESIS
    else:
        seq, prev = row
    text = canonical(payload)
    seq += 1
    digest = entry_hash(chain_name, seq, kind, subject_type, subject_id, text, prev)
    execute(_ADVANCE, {"chain": chain_name, "new_seq": seq, "new_head": digest})
    execute(_INSERT_ENTRY, {
        "chain": chain_name, "seq": seq, "kind": kind, "subject_type": subject_type, "subject_id": subject_id,
        "payload": text, "prev_hash": prev, "hash": digest,
    })
    loaded = db.session.identity_map.get(identity_key(AuditChain, chain_name))
    if loaded is not None:  # the session's copy of the head row says what the database says
        set_committed_value(loaded, "seq", seq)
        set_committed_value(loaded, "head", digest)
    return digest


def head(chain_name):
    chain = db.session.get(AuditChain, chain_name)
    return chain.head if chain else GENESIS


@dataclass
class Problem:
    chain: str
    what: str

    def __str__(self):
        return f"[{self.chain}] {self.what}"


def verify_chains():
    """Check every chain link by link; returns the first problem of each broken chain."""
    problems = []
    for chain in db.session.scalars(db.select(AuditChain).order_by(AuditChain.name)):
        problem = _verify_chain(chain)
        if problem:
            problems.append(Problem(chain.name, problem))
    return problems


def _verify_chain(chain):
    prev, expected_seq = GENESIS, 1
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.chain == chain.name).order_by(AuditEntry.seq)
    )
    for entry in entries:
        if entry.seq != expected_seq:
            return f"第 {expected_seq} 条记录缺失（被删除） / entry {expected_seq} is missing (deleted)"
        if entry.prev_hash != prev:
            return f"第 {entry.seq} 条记录（id {entry.id}）的前一哈希不符 / entry {entry.seq} (id {entry.id}) does not follow its predecessor"
        digest = entry_hash(chain.name, entry.seq, entry.kind, entry.subject_type, entry.subject_id, entry.payload, entry.prev_hash)
        if digest != entry.hash:
            return f"第 {entry.seq} 条记录（id {entry.id}，{entry.kind}）被改动 / entry {entry.seq} (id {entry.id}, {entry.kind}) was edited"
        prev, expected_seq = entry.hash, expected_seq + 1
    if expected_seq - 1 != chain.seq or prev != chain.head:
        return f"链尾记录缺失：应有 {chain.seq} 条，实有 {expected_seq - 1} 条 / entries at the end are missing"
    return None

