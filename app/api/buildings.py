"""Staff views of buildings: the QR code and the printable poster of one building."""
from apiflask import APIBlueprint
from flask import Response

from app.api.common import auth, current_user
from app.api.outputs import file
from app.errors import ApiError
from app.extensions import db
from app.models import Building
from app.models.accounts import ROLES
from app.services import qrcodes, scopes

bp = APIBlueprint("buildings", __name__, url_prefix="/api/v1", tag="buildings")


def _building_in_scope(building_id):
    building = db.session.get(Building, building_id)
    if building is None or not scopes.can(current_user(), building, *ROLES):
        raise ApiError(404, "not_found", "没有找到这栋楼")
    return building


def _png(data, filename):
    return Response(data, mimetype="image/png", headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"})


@bp.get("/buildings/<int:building_id>/qrcode.png")
@bp.auth_required(auth)
@bp.doc(responses=file("image/png", "楼栋小程序码（PNG）"))
def qrcode_png(building_id):
    """The building's code (mini-program code, or plain QR with QR_MODE=url), for staff in scope."""
    building = _building_in_scope(building_id)
    data = qrcodes.code_png(building)
    db.session.commit()
    return _png(data, f"building-{building.id}.png")


@bp.get("/buildings/<int:building_id>/poster.png")
@bp.auth_required(auth)
@bp.doc(responses=file("image/png", "A4 楼栋海报（PNG）"))
def poster_png(building_id):
    """The printable A4 poster of the building, for staff in scope."""
    from app.services.posters import render_poster

    building = _building_in_scope(building_id)
    compound = building.compound
    data = render_poster(compound.name, building.name, qrcodes.code_png(building), community_name=compound.community.name)
    db.session.commit()
    return _png(data, f"poster-{building.id}.png")
