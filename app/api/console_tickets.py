"""The staff console's sign-in, seen from the mini-program: what a scanned ticket is, and confirming
it (app/services/console_tickets.py; the console's own pages are app/console)."""
from apiflask import APIBlueprint, Schema

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.outputs import answer
from app.extensions import db
from app.services import console_tickets as tickets
from app.services.scopes import describe

bp = APIBlueprint("console_tickets", __name__, url_prefix="/api/v1", tag="console")


class ConsoleClient(Schema):
    name = out.Text()
    client = out.Text(metadata={"description": "请求登录的电脑：浏览器与地址"})


class ConsoleTicket(Schema):
    """A console's sign-in ticket as the confirming phone sees it (app/api/outputs.py's conventions)."""
    console = out.One(ConsoleClient)
    created_at = out.Time()
    expires_at = out.Time()
    state = out.Enum(list(tickets.STATE_NAMES))
    state_name = out.Text()
    roles = out.Many(out.Role)


def ticket_view(row, user=None):
    state = tickets.state(row)
    return {
        "console": {"client": row.client, "name": "共建管理台"},
        "created_at": row.created_at.isoformat() + "Z",
        "expires_at": row.expires_at.isoformat() + "Z",
        "state": state,
        "state_name": tickets.STATE_NAMES[state],
        "roles": [describe(r) for r in user.roles] if user is not None else [],
    }


@bp.get("/console-tickets/<ticket>")
@bp.auth_required(auth)
@bp.doc(responses=answer(ConsoleTicket))
def show(ticket):
    """A console's sign-in ticket, scanned by a staff member: which console, when, until when, and the
    roles the console will hold once confirmed (staff only)."""
    user = current_user()
    return ok(ticket_view(tickets.get_for_staff(user, ticket), user))


@bp.post("/console-tickets/<ticket>/confirm")
@bp.auth_required(auth)
@bp.doc(responses=answer(ConsoleTicket))
def confirm(ticket):
    """Sign the console in as the signed-in staff member: once, within two minutes of the code."""
    user = current_user()
    row = tickets.confirm(user, ticket)
    db.session.commit()
    return ok(ticket_view(row, user))
