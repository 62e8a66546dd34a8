"""Evaluation figures (效果评价) for staff: coverage, participation and satisfaction of a compound,
community, street or district, with its children's rows; the same table as an Excel workbook."""
from apiflask import APIBlueprint
from flask import Response

from app.api import outputs as out
from app.api.common import auth, current_user, ok
from app.api.outputs import answer, file
from app.api.schemas import StatsQuery
from app.services import stats as service

bp = APIBlueprint("stats", __name__, url_prefix="/api/v1", tag="stats")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/stats")
@bp.auth_required(auth)
@bp.input(StatsQuery, location="query", arg_name="query")
@bp.doc(responses=answer(out.Stats))
def show(query):
    """The node's figures (coverage, participation by flats, persons and area, satisfaction, projects
    per phase) and its children's rows: compounds of a community, communities of a street, streets of
    a district; for a compound, its consultations, plans and surveys. Staff of a scope covering the
    node (committee: its compound; community, street, district staff: theirs; admin: all)."""
    return ok(service.stats(current_user(), *service.parse_node(query["node"])))


@bp.get("/stats.xlsx")
@bp.auth_required(auth)
@bp.input(StatsQuery, location="query", arg_name="query")
@bp.doc(responses=file(XLSX_MIME, "效果评价统计表（Excel 工作簿）：本级一行在前，下级各行在后"))
def workbook(query):
    """The same table as an Excel workbook: the node's row first, then its children's."""
    result = service.stats(current_user(), *service.parse_node(query["node"]))
    return Response(service.stats_xlsx(result), mimetype=XLSX_MIME, headers={
        "Content-Disposition": service.filename(result), "Cache-Control": "no-store"})
