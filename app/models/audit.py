"""The hash-chained audit log: one chain per consultation or plan, and one per person of a
consultation's roll for their ballots (its head kept in their vote slot); each entry seals the one before."""
from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.places import utcnow

GENESIS = "0" * 64  # the "previous hash" of a chain's first entry


class AuditChain(db.Model):
    """The head of one chain; its row is locked while an entry is appended, so entries never fork."""

    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    head: Mapped[str] = mapped_column(String(64))


class AuditEntry(db.Model):
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(48))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))  # roll_frozen, ballot, paper_confirmed, result, ...
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    # Canonical JSON, hashed as written. MEDIUMTEXT (16 MB) on MySQL/MariaDB, whose TEXT stops at 64 KB:
    # a plan's frozen terms with a coefficient for each of thousands of flats outgrow it.
    payload: Mapped[str] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
