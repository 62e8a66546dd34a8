"""Evidence exports: signature thumbnails made once, and export jobs with the files they built."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.places import utcnow

# A thumbnail is a few KB; a file chunk is at most exports.CHUNK_BYTES (1 MB): MEDIUMBLOB on MariaDB.
THUMB_TYPE = LargeBinary().with_variant(mysql.BLOB(), "mysql", "mariadb")
CHUNK_TYPE = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class EvidenceThumbnail(db.Model):
    """The thumbnail of a signature or paper-ballot photo, addressed by the SHA-256 of the image it
    was made from, so identical images share one; png is NULL when the image could not be read."""

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    png: Mapped[bytes | None] = mapped_column(THUMB_TYPE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportJob(db.Model):
    """One evidence file built outside the request: queued → running (progress 0-100, a heartbeat
    each batch) → done (the file in export_chunk rows) or failed (a Chinese message). A job of a
    closed consultation is also the file's cache: `cache_key` (the result's digest and the chain
    head the file shows) finds it again, and it is never rebuilt."""

    __table_args__ = (Index("ix_export_job_lookup", "consultation_id", "format", "cache_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    format: Mapped[str] = mapped_column(String(8))  # xlsx | pdf
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    ballots: Mapped[int] = mapped_column(default=0)
    cache_key: Mapped[str | None] = mapped_column(String(64))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    error: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ExportChunk(db.Model):
    """A piece of a built file, in order; the download streams them one by one."""

    job_id: Mapped[int] = mapped_column(ForeignKey("export_job.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(CHUNK_TYPE)
