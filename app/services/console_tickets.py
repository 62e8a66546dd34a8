"""One-time sign-in tickets of the staff console: shown by the console as a QR code, confirmed by a
staff member in the mini-program, then exchanged once by that console for a session of that staff
member. Unguessable (secrets), stored as a keyed hash, two minutes long, used once."""
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import ConsoleTicket
from app.models.places import utcnow
from app.services import auth as auth_service
from app.services.scopes import roles_of

TTL = timedelta(minutes=2)
CONSOLE_SESSION_SECONDS = 12 * 3600  # a working day at the office; then the QR code again
QR_PREFIX = "gongjian-console:"  # what the QR code says: the mini-program's scan recognises it


def _hash(ticket):
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"console:" + ticket.encode(), hashlib.sha256).hexdigest()


def issue(client=""):
    """A new ticket for a console: returns (the ticket, its row). The ticket itself is never stored."""
    ticket = secrets.token_urlsafe(24)
    row = ConsoleTicket(ticket_hash=_hash(ticket), client=(client or "")[:200], expires_at=utcnow() + TTL)
    db.session.add(row)
    db.session.flush()
    return ticket, row


def purge(now=None):
    """Delete the tickets that ended (expired or used) more than a day ago: the table holds the last
    day's sign-ins, not every visit to the sign-in page ever. Returns how many went."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    return db.session.execute(db.delete(ConsoleTicket).where(ConsoleTicket.expires_at < cutoff)
                              .execution_options(synchronize_session=False)).rowcount


def find(ticket):
    """The ticket's row, or None (an unknown or malformed ticket)."""
    if not ticket or len(ticket) > 64:
        return None
    return db.session.scalar(db.select(ConsoleTicket).filter_by(ticket_hash=_hash(ticket)))


def state(row, now=None):
    """waiting (to be confirmed), confirmed (the console may sign in), used, or expired."""
    now = now or utcnow()
    if row.used_at is not None:
        return "used"
    if row.confirmed_at is not None:
        return "confirmed" if now < row.expires_at else "expired"
    return "waiting" if now < row.expires_at else "expired"


STATE_NAMES = {"waiting": "等待确认", "confirmed": "已确认", "used": "已使用", "expired": "已过期"}


def get_for_staff(user, ticket):
    """The ticket as a staff member's phone sees it before confirming; 403 for a resident."""
    if not roles_of(user):
        raise ApiError(403, "forbidden", "仅限工作人员登录管理台")
    row = find(ticket)
    if row is None:
        raise ApiError(404, "not_found", "没有找到该登录二维码，请在电脑上刷新后重新扫码")
    return row


def confirm(user, ticket):
    """The staff member signs the console in as themselves: once, before the ticket expires."""
    row = get_for_staff(user, ticket)
    now = utcnow()
    # One conditional UPDATE: two phones confirming at once, only one of them wins.
    done = db.session.execute(
        db.update(ConsoleTicket)
        .where(ConsoleTicket.id == row.id, ConsoleTicket.confirmed_at.is_(None), ConsoleTicket.used_at.is_(None),
               ConsoleTicket.expires_at > now)
        .values(user_id=user.id, confirmed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(row)
    if not done:
        if state(row, now) == "expired":
            raise ApiError(410, "ticket_expired", "登录二维码已过期，请在电脑上刷新后重新扫码")
        raise ApiError(409, "ticket_used", "该登录二维码已被确认过，不能再次使用")
    return row


def claim(ticket):
    """The console exchanges its confirmed ticket for a session, once: (user, token) or None."""
    row = find(ticket)
    now = utcnow()
    if row is None or state(row, now) != "confirmed":
        return None
    done = db.session.execute(
        db.update(ConsoleTicket)
        .where(ConsoleTicket.id == row.id, ConsoleTicket.used_at.is_(None), ConsoleTicket.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        return None
    db.session.refresh(row)
    token, _ = auth_service.new_session(row.user, CONSOLE_SESSION_SECONDS)
    return row.user, token
