"""What is sent to people: subscribe-message quotas per user and template, and the outbox of
messages (one row per message and recipient, sent once, retried with backoff, never twice)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.places import utcnow

# queued: waits for its next_attempt_at; sending: claimed by a dispatcher (left so by a crash, it
# is listed for a person to decide, never re-sent by itself); sent; failed: final (43101 no quota
# or refused, bad data, retries exhausted), with last_error; held: set aside (quiet hours are not
# held: they only move next_attempt_at).
OUTBOX_STATUSES = {"queued": "待发送", "sending": "发送中", "sent": "已发送", "failed": "未送达", "held": "已搁置"}


class SubscriptionQuota(db.Model):
    """How many sends of a template a user has allowed (each acceptance in wx.requestSubscribeMessage is one)."""

    __table_args__ = (UniqueConstraint("user_id", "template"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    template: Mapped[str] = mapped_column(String(32))  # the template's name in config (ballot_reminder, ...)
    remaining: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxMessage(db.Model):
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),
                      Index("ix_outbox_message_subject", "subject", "status"))  # a door-visit list's unreachable flats
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="subscribe")
    template: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON)  # {field: value}, fitted to WeChat's limits when sent
    page: Mapped[str | None] = mapped_column(String(128))
    # Unique: planning the same message twice (two schedulers, a job run again) inserts it once.
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # What it is about, for staff lists and the door-visit list: the flat, and e.g. "consultation:5".
    flat_id: Mapped[int | None] = mapped_column(ForeignKey("flat.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
