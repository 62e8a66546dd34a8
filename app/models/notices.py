"""Notices (通知 / 公示) written by staff to a scope of the place tree, and each user's inbox."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.places import utcnow

NOTICE_KINDS = {"notice": "通知", "publicity": "公示"}


class Notice(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="notice")
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    scope_type: Mapped[str] = mapped_column(String(16))  # compound | building | unit
    scope_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    push: Mapped[bool] = mapped_column(default=False)  # also sent as a subscribe message
    # 公示: what it is about and its objection period
    subject_type: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[int | None]
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 公示: recorded once by the end_publicities job when the period is over
    ended_at: Mapped[datetime | None]
    objection_count: Mapped[int | None]  # flats with a visible objection (kind objection) at the end


OBJECTION_KINDS = {"objection": "异议", "opinion": "意见"}
OBJECTION_STATUSES = {"visible": "已公开", "held": "待审核", "rejected": "未采纳"}


class Objection(db.Model):
    """An objection (异议) or an opinion (意见) to a 公示, by a bound user for one flat, once."""

    __table_args__ = (UniqueConstraint("notice_id", "user_id", "flat_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # objection | opinion
    text: Mapped[str] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("blob.id"))
    check: Mapped[str] = mapped_column(String(16))  # msgSecCheck: pass | review
    status: Mapped[str] = mapped_column(String(16))  # visible | held | rejected
    reason: Mapped[str | None] = mapped_column(String(200))  # why staff rejected it
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxItem(db.Model):
    """One message in one user's in-app inbox: a notice, or the copy of a pushed message."""

    __table_args__ = (Index("ix_inbox_item_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    page: Mapped[str | None] = mapped_column(String(128))  # where tapping it leads in the mini-program
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
