"""Residents bound to flats, and every attempt to bind (for limits and for the record)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.places import utcnow

RELATIONS = {"owner": "业主", "family": "家庭成员", "tenant": "租户"}
STATUSES = {"pending": "待审核", "approved": "已绑定", "rejected": "已驳回", "unbound": "已解绑",
            "ended": "已失效（名册业主已变更）"}
ACTIVE = ("pending", "approved")
# 核验等级: 1 the roster matched (or a grid worker approved the request); 2 a grid worker of the flat's
# grid also confirmed the person face to face (issue 15). A consultation may require 2 to sign online.
LEVELS = {1: "名册核验", 2: "网格员当面核验"}


class Binding(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))  # as the resident typed it
    status: Mapped[str] = mapped_column(String(16), index=True)
    # How it was decided: roster_phone, wechat_phone, staff
    method: Mapped[str | None] = mapped_column(String(16))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(200))
    # The roster owner (person) the binding was verified against: an owner-only act counts only while
    # this is the person the consultation's frozen roll names for the flat (issue 8).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[int] = mapped_column(default=1, server_default="1")
    level_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # who confirmed level 2, in person
    level_at: Mapped[datetime | None]
    user = relationship("User", foreign_keys=[user_id])
    flat = relationship("Flat")
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])


class BindingAttempt(db.Model):
    """Every attempt to prove a flat is one's own; failures are limited per user and per flat."""

    __table_args__ = (Index("ix_binding_attempt_flat_time", "flat_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    flat_id: Mapped[int | None] = mapped_column(ForeignKey("flat.id"))
    relation: Mapped[str] = mapped_column(String(16))
    matched: Mapped[bool]
    outcome: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
