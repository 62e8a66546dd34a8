"""The place tree: district → street → community → compound → building → unit → flat."""
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

AREA_SOURCES = ("registry", "survey", "contract")  # in the legal order of precedence (DESIGN.md §3)
AREA_SOURCE_NAMES = {"registry": "不动产登记", "survey": "实测", "contract": "合同"}


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class District(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Street(db.Model):
    __table_args__ = (UniqueConstraint("district_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    name: Mapped[str] = mapped_column(String(64))
    district: Mapped[District | None] = relationship()


class Community(db.Model):
    __table_args__ = (UniqueConstraint("street_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id"))
    name: Mapped[str] = mapped_column(String(64))
    street: Mapped[Street] = relationship()


class Compound(db.Model):
    __table_args__ = (UniqueConstraint("community_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    community: Mapped[Community] = relationship()
    buildings: Mapped[list["Building"]] = relationship(back_populates="compound", order_by="Building.id")


class Grid(db.Model):
    """A set of buildings one grid worker serves."""

    __table_args__ = (UniqueConstraint("compound_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    name: Mapped[str] = mapped_column(String(64))
    compound: Mapped[Compound] = relationship()
    buildings: Mapped[list["Building"]] = relationship(back_populates="grid")


class Building(db.Model):
    __table_args__ = (UniqueConstraint("compound_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    name: Mapped[str] = mapped_column(String(32))
    # The QR code's scene: ≤ 32 characters of WeChat's allowed set, unique across the deployment.
    scene: Mapped[str | None] = mapped_column(String(32), unique=True)
    compound: Mapped[Compound] = relationship(back_populates="buildings")
    grid: Mapped[Grid | None] = relationship(back_populates="buildings")
    units: Mapped[list["Unit"]] = relationship(back_populates="building", order_by="Unit.id")


class Unit(db.Model):
    __table_args__ = (UniqueConstraint("building_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"))
    name: Mapped[str] = mapped_column(String(32))
    building: Mapped[Building] = relationship(back_populates="units")
    flats: Mapped[list["Flat"]] = relationship(back_populates="unit", order_by="Flat.id")


class Flat(db.Model):
    """户 / 专有部分: the legal voting unit."""

    __table_args__ = (UniqueConstraint("unit_id", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    room: Mapped[str] = mapped_column(String(16))
    floor: Mapped[int]
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    area_source: Mapped[str] = mapped_column(String(16))
    # Unsold or undelivered: all such flats count together as one person (DESIGN.md §3).
    developer_held: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"), index=True)
    # Binding guard: set when 10 failed attempts in a day locked the flat; a grid worker's unlock
    # clears it and moves failures_since, from which failures are counted again.
    binding_locked_at: Mapped[datetime | None]
    binding_failures_since: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    unit: Mapped[Unit] = relationship(back_populates="flats")
    owner: Mapped["Owner | None"] = relationship(back_populates="flats")  # noqa: F821
