"""Long work done outside the request that asked for it, which the page polls."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.consultations import BLOB_TYPE
from app.models.places import utcnow

JOB_STATUSES = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}


class RosterJob(db.Model):
    """A roster sheet checked (dry run) or imported for a compound by a worker thread: the sheet is
    kept here until the job ends; the outcome (the report, or every error by row and column) after."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(200))
    dry_run: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16), default="queued")
    rows_read: Mapped[int] = mapped_column(default=0)
    sheet: Mapped[bytes | None] = mapped_column(BLOB_TYPE)
    outcome: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
