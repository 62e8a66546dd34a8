"""WeChat users of the product and the staff roles they hold, each with a scope in the place tree."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.places import utcnow

ROLES = {
    "grid_worker": ("网格员", "grid"),
    "committee": ("业委会/居民代表", "compound"),
    "community_staff": ("社区工作人员", "community"),
    "street_officer": ("街道干部", "street"),
    "district_officer": ("区住建干部", "district"),
    "treasurer": ("小区出纳（出资收付）", "compound"),
    "supervisor": ("居民监督员", "compound"),
    "representative": ("居民代表（验收）", "compound"),
    "admin": ("系统管理员", None),
}


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(64))
    # Verified through WeChat; shown masked.
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    roles: Mapped[list["StaffRole"]] = relationship(back_populates="user", cascade="all, delete-orphan")


class StaffRole(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "role", "scope_type", "scope_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(32))
    scope_type: Mapped[str | None] = mapped_column(String(16))
    scope_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User] = relationship(back_populates="roles")


class AuthSession(db.Model):
    """Our own session token for a WeChat login. WeChat's session_key is not kept: no feature needs it
    (phone numbers come from getuserphonenumber codes, not from encryptedData)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # Only a SHA-256 of the bearer token is stored: a copy of this table opens no session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user: Mapped[User] = relationship()


class ConsoleTicket(db.Model):
    """A one-time sign-in ticket of the staff console (/console): the page shows it as a QR code, a
    staff member signed in to the mini-program confirms it, and the page that holds it is signed in
    as that staff member, once, within two minutes. Only a hash of the ticket is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The console that asked, shown on the phone before confirming: browser and address, cut short.
    client: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    confirmed_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    user: Mapped[User | None] = relationship()
