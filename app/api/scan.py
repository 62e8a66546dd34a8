"""What a resident sees after scanning a building's code: units and rooms, never names."""
from apiflask import APIBlueprint

from app.api import outputs as out
from app.api.common import auth, ok
from app.api.outputs import answer
from app.errors import ApiError
from app.extensions import db
from app.models import Building

bp = APIBlueprint("scan", __name__, url_prefix="/api/v1", tag="scan")


@bp.get("/scan/<scene>")
@bp.auth_required(auth)
@bp.doc(responses=answer(out.Scan))
def scan(scene):
    """The building of a QR scene with its units and flats (room and floor only)."""
    building = db.session.scalar(db.select(Building).filter_by(scene=scene)) if len(scene) <= 32 else None
    if building is None:
        raise ApiError(404, "not_found", "没有找到这栋楼，请确认扫描的是本小区楼栋上的二维码")
    return ok({
        "building": {
            "id": building.id,
            "name": building.name,
            "compound": {"id": building.compound.id, "name": building.compound.name},
        },
        "units": [
            {
                "id": unit.id,
                "name": unit.name,
                "flats": [{"id": f.id, "room": f.room, "floor": f.floor} for f in unit.flats],
            }
            for unit in building.units
        ],
    })
