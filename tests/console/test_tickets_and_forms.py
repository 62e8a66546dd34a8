"""The console's sign-in ticket over the API (what the mini-program calls), its cookie and its
CSRF check, without a browser (tests/console/test_browser.py drives the pages in Chromium)."""
import re
from datetime import timedelta

from app.extensions import db as _db
from app.models import ConsoleTicket
from tests import factories


def _ticket(client):
    page = client.get("/console/login")
    assert page.status_code == 200
    return re.search(r'data-ticket="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_a_ticket_confirmed_once_signs_the_console_in_as_that_staff_member(app, client, login):
    comp = factories.compound()
    factories.staff("office", "community_staff", "community", comp.community_id)
    _db.session.commit()
    ticket = _ticket(client)
    assert client.get("/console/").status_code == 302  # not yet
    poll = client.get("/console/login/poll")
    assert "等待手机确认" in poll.get_data(as_text=True) and "HX-Redirect" not in poll.headers

    phone = login("office")
    seen = client.get(f"/api/v1/console-tickets/{ticket}", headers=phone)
    assert seen.status_code == 200 and seen.json["data"]["state"] == "waiting"
    assert seen.json["data"]["roles"][0]["role"] == "community_staff"
    done = client.post(f"/api/v1/console-tickets/{ticket}/confirm", headers=phone)
    assert done.status_code == 200 and done.json["data"]["state"] == "confirmed"
    again = client.post(f"/api/v1/console-tickets/{ticket}/confirm", headers=phone)
    assert again.status_code == 409 and again.json["error"]["code"] == "ticket_used"

    poll = client.get("/console/login/poll")
    assert poll.headers["HX-Redirect"] == "/console/"
    cookie = poll.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # Secure in production only
    page = client.get("/console/")
    assert page.status_code == 200 and comp.name in page.get_data(as_text=True)
    # Only a hash is stored, and the ticket works once.
    assert _db.session.scalar(_db.select(ConsoleTicket.ticket_hash)) != ticket
    other = app.test_client()
    with other.session_transaction() as s:
        s["ticket"] = ticket
    assert "HX-Redirect" not in other.get("/console/login/poll").headers
    assert other.get("/console/").status_code == 302


def test_residents_strangers_and_late_phones_cannot_confirm(client, login):
    comp = factories.compound()
    factories.resident("neighbour", comp.buildings[0].units[0].flats[0])
    factories.staff("late", "committee", "compound", comp.id)
    _db.session.commit()
    ticket = _ticket(client)
    assert client.post(f"/api/v1/console-tickets/{ticket}/confirm").status_code == 401
    resident = client.post(f"/api/v1/console-tickets/{ticket}/confirm", headers=login("neighbour"))
    assert resident.status_code == 403 and resident.json["error"]["message"] == "仅限工作人员登录管理台"
    late = login("late")
    assert client.get("/api/v1/console-tickets/not-a-ticket", headers=late).status_code == 404
    row = _db.session.scalar(_db.select(ConsoleTicket))
    row.expires_at -= timedelta(minutes=3)
    _db.session.commit()
    expired = client.post(f"/api/v1/console-tickets/{ticket}/confirm", headers=late)
    assert expired.status_code == 410 and expired.json["error"]["code"] == "ticket_expired"
    assert "二维码已过期" in client.get("/console/login/poll").get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_a_form_posted_without_its_token_is_refused_and_changes_nothing(app, client, login):
    comp = factories.compound()
    factories.staff("csrf-office", "committee", "compound", comp.id)
    c = factories.consultation(("compound", comp), open_=False)
    _db.session.commit()
    client.get("/console/login")
    client.post("/console/dev-login", data={"name": "csrf-office"})  # no token: refused too
    assert client.get("/console/").status_code == 302
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/console/dev-login", data={"name": "csrf-office", "csrf_token": token}).status_code == 302
    assert client.get("/console/").status_code == 200
    refused = client.post(f"/console/consultations/{c.id}/open")
    assert refused.status_code == 400 and "安全令牌" in refused.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(type(c), c.id).status == "draft"
    page = client.get(f"/console/consultations/{c.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/console/consultations/{c.id}/open", data={"csrf_token": token}).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(type(c), c.id).status == "open"


def test_a_reload_keeps_its_waiting_ticket_and_old_tickets_are_purged(app, client):
    """Reloading the sign-in page shows the same QR code while it waits (no row per reload); a new one
    once it expired; the scheduler's purge deletes tickets that ended more than a day ago."""
    from app.jobs import JOBS, purge_console_tickets
    from app.models.places import utcnow

    first = _ticket(client)
    assert _ticket(client) == first
    assert _db.session.scalar(_db.select(_db.func.count(ConsoleTicket.id))) == 1
    row = _db.session.scalar(_db.select(ConsoleTicket))
    row.expires_at = utcnow() - timedelta(seconds=1)
    _db.session.commit()
    second = _ticket(client)
    assert second != first
    assert _db.session.scalar(_db.select(_db.func.count(ConsoleTicket.id))) == 2
    # The first ended two days ago: purged; the second (waiting) stays.
    _db.session.execute(_db.update(ConsoleTicket).where(ConsoleTicket.id == row.id)
                        .values(expires_at=utcnow() - timedelta(days=2)))
    _db.session.commit()
    assert purge_console_tickets in [job for job, _ in JOBS]
    assert purge_console_tickets(app) == 1
    assert _db.session.scalar(_db.select(_db.func.count(ConsoleTicket.id))) == 1
