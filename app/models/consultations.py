"""Consultations (征询/表决): the question, its frozen roll, the ballots and the stored result."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.audit import GENESIS
from app.models.places import utcnow

# Images up to a few MB: MEDIUMBLOB (16 MB) on MySQL/MariaDB, whose plain BLOB stops at 64 KB.
BLOB_TYPE = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
STATUSES = {"draft": "草稿", "open": "征询中", "closed": "已截止", "published": "已公布"}
SCOPES = ("compound", "building", "unit")
DEVELOPER = "developer"  # the person key of all developer-held flats together
# "owners:12+40+77" (co-owners, sorted ids) outgrows 32 characters with a few large ids.
PERSON_KEY = String(128)
KINDS = {
    "elevator": "加装电梯",
    "renovation_plan": "改造方案",
    "inclusion": "申请纳入改造计划",
    "demolition": "拆除违建/围墙",
    "property_management": "物业管理方式",
    "maintenance_fund": "维修资金",
    "other": "其他事项",
}


class Consultation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    scope_type: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32))
    # The rule as stored: every threshold spelled out (DESIGN.md §3), never a name to look up later.
    rule: Mapped[dict] = mapped_column(JSON)
    options: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    roll_digest: Mapped[str | None] = mapped_column(String(64))
    compound = relationship("Compound")


class RollEntry(db.Model):
    """One flat of the frozen roll: its area and the person it counts for, as they were at opening."""

    __table_args__ = (
        UniqueConstraint("consultation_id", "flat_id"),
        # The roll room by room (the evidence pages through it by keyset, a range of this index per page).
        Index("ix_roll_entry_order", "consultation_id", "building_id", "unit_id", "flat_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"), index=True)  # a resident's consultations
    person_key: Mapped[str] = mapped_column(PERSON_KEY)
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    building_id: Mapped[int]
    unit_id: Mapped[int]
    label: Mapped[str] = mapped_column(String(64))  # "1栋1单元101": rooms only, never names


class VoteSlot(db.Model):
    """One per person of the roll: which ballot counts now, and the head of the person's own audit
    chain (each of their ballots, online or paper, in order). Locked row by row while signing, so a
    person's ballots are chained one after another while different people sign side by side."""

    __table_args__ = (UniqueConstraint("consultation_id", "person_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    person_key: Mapped[str] = mapped_column(PERSON_KEY)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))
    seq: Mapped[int] = mapped_column(default=0, server_default="0")
    head: Mapped[str] = mapped_column(String(64), default=GENESIS, server_default=GENESIS)

    @property
    def chain(self):
        return slot_chain(self.consultation_id, self.id)


def slot_chain(consultation_id, slot_id):
    """The audit chain of one person's ballots: named under its consultation, so one range scan
    of (chain, seq) reads a consultation's person chains."""
    return f"consultation:{consultation_id}/slot:{slot_id}"


class Blob(db.Model):
    """A signature image or a photo of a paper ballot, addressed by its SHA-256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mimetype: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(BLOB_TYPE)


class Ballot(db.Model):
    """表决票: every answer ever given, online or on paper; the vote slot says which one counts."""

    __table_args__ = (
        UniqueConstraint("consultation_id", "idempotency_key"),
        Index("ix_ballot_consultation_person", "consultation_id", "person_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"))
    person_key: Mapped[str] = mapped_column(PERSON_KEY)
    channel: Mapped[str] = mapped_column(String(8))  # online | paper
    choice: Mapped[str] = mapped_column(String(32))
    # current | superseded (an online answer changed later) | conflict (a second channel) |
    # unconfirmed (paper, waiting for a second staff member) | late (confirmation after closing)
    status: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the owner who signed online
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None]
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("blob.id"))
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The written proxy (委托书) under which user_id signed for the owner; hashed only when set.
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("proxy.id"))
    flat = relationship("Flat")
    consultation = relationship("Consultation")


class ConsultationResult(db.Model):
    """The count at closing, with the rule and the roll digest it was made under. Written once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"), unique=True)
    passed: Mapped[bool]
    tally: Mapped[dict] = mapped_column(JSON)
    rule: Mapped[dict] = mapped_column(JSON)
    roll_digest: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
