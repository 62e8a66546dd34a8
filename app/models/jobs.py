"""Long work of the staff console done outside the request that asked for it, which the page polls."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.consultations import BLOB_TYPE
from app.models.places import utcnow

JOB_STATUSES = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
JOB_KINDS = {"roster_check": "名册检查", "roster_import": "名册导入", "posters": "楼栋海报"}


class ConsoleJob(db.Model):
    """A roster sheet checked or imported, or a compound's posters drawn, by a job's process. `data`
    holds the uploaded sheet until the job ends (then nothing: it names owners), or the finished
    file (the posters' PDF); `outcome` the report, or every error by row and column."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # posters: the building ids, as the user saw them
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(default=0)  # rows read, or posters drawn
    total: Mapped[int | None]  # posters to draw (a sheet's rows are not known before it is read)
    data: Mapped[bytes | None] = mapped_column(BLOB_TYPE)
    outcome: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
