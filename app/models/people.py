"""Owners on the roster: who holds which flat, kept for counting and matching only."""
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class Owner(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Kept for matching a resident who binds; shown masked everywhere (DESIGN.md §7).
    phone: Mapped[str | None] = mapped_column(String(20))
    # HMAC of the ID number: recognises one buyer of several flats without storing the number.
    owner_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    flats: Mapped[list["Flat"]] = relationship(back_populates="owner")  # noqa: F821


class FlatCoOwner(db.Model):
    """共有人: the owners of a flat after the first (Flat.owner_id), in the roster's order (position 1,
    2, ...). Together with the first they are one person of the roll (consultations.person_key)."""

    __table_args__ = (UniqueConstraint("flat_id", "position"), UniqueConstraint("flat_id", "owner_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    position: Mapped[int]
