"""Liveness with a real database round trip, for load balancers and ./scripts/run."""
from apiflask import APIBlueprint
from sqlalchemy import text

from app.api import outputs as out
from app.api.outputs import answer
from app.errors import ApiError
from app.extensions import db

bp = APIBlueprint("health", __name__, tag="health")


@bp.get("/healthz")
@bp.doc(summary="健康检查（含数据库）", responses=answer(out.Health))
def healthz():
    """Answer 200 when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        raise ApiError(503, "database_unavailable", "数据库不可用")
    return {"data": {"status": "ok", "database": db.engine.dialect.name}}


@bp.get("/livez")
@bp.doc(hide=True)
def livez():
    """The process answers, without the database: a liveness probe, and the bare JSON endpoint that
    scripts/bench_ballots.py prints beside /healthz (the framework's cost with no statement at all)."""
    return {"data": {"status": "ok"}}
