"""Sign in with WeChat, verify a phone number, and who am I."""
from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean
from flask import request

from app.api import outputs as out
from app.api.common import auth, current_user, current_user_id, ok
from app.api.outputs import answer
from app.api.schemas import CodeIn
from app.api.views import binding_view, user_view
from app.extensions import db
from app.services import auth as auth_service
from app.services.bindings import user_bindings
from app.services.privacy import mask_phone
from app.services.scopes import describe

bp = APIBlueprint("auth", __name__, url_prefix="/api/v1", tag="auth")


class LogoutQuery(Schema):
    all = Boolean(load_default=False, metadata={"description": "1: 退出该用户在所有设备上的登录"})


@bp.post("/auth/login")
@bp.input(CodeIn, arg_name="body")
@bp.doc(responses=answer(out.Login))
def login(body):
    """Exchange a wx.login code for a session token."""
    user, token, expires_at = auth_service.login(body["code"])
    db.session.commit()
    return ok({
        "token": token,
        "expires_at": expires_at.isoformat() + "Z",
        "user": user_view(user),
        "bindings": [binding_view(b) for b in user_bindings(user)],
    })


@bp.post("/auth/phone")
@bp.auth_required(auth)
@bp.input(CodeIn, arg_name="body")
@bp.doc(responses=answer(out.Phone))
def phone(body):
    """Record the phone number WeChat verified (answer masked)."""
    number = auth_service.verify_phone(current_user(), body["code"])
    db.session.commit()
    return ok({"phone": mask_phone(number)})


@bp.post("/auth/logout")
@bp.auth_required(auth)
@bp.input(LogoutQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Logout))
def logout(query):
    """End this session; with ?all=1, every session of the user (on every phone)."""
    ended = auth_service.logout(current_user_id(), request.headers.get("Authorization", "").partition(" ")[2],
                                everywhere=query["all"])
    db.session.commit()
    return ok({"logged_out": True, "sessions_ended": ended})


@bp.get("/me")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Me))
def me():
    """The signed-in user, the flats bound, the staff roles with their scopes."""
    user = current_user()
    return ok({
        "user": user_view(user),
        "bindings": [binding_view(b) for b in user_bindings(user)],
        "roles": [describe(r) for r in user.roles],
    })
