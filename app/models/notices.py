"""Notices (通知 / 公示) written by staff to a scope of the place tree, and each user's inbox."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
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
