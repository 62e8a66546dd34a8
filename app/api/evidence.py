"""Evidence of a consultation for staff: every ballot with masked owners, signatures and hashes."""
from apiflask import APIBlueprint
from flask import Response, current_app

from app.api.common import auth, current_user
from app.api.outputs import file
from app.errors import ApiError
from app.services import consultations as service
from app.services import evidence

bp = APIBlueprint("evidence", __name__, url_prefix="/api/v1", tag="evidence")

ROLES = service.CREATORS  # committee, community and street staff, district officers, admins: not grid workers


def _consultation(consultation_id):
    c = service.get(consultation_id)
    if not service.visible_to_staff(current_user(), c, ROLES):
        raise ApiError(404, "not_found", "没有找到该征询")
    if c.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始，还没有表决证据", {"status": c.status})
    return c


def _send(c, data, mimetype, ext):
    current_app.logger.info("evidence.%s of consultation %s exported by user %s", ext, c.id, current_user().id)
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": evidence.filename(c, ext),
        "Cache-Control": "no-store",
    })


@bp.get("/consultations/<int:consultation_id>/evidence.xlsx")
@bp.auth_required(auth)
@bp.doc(responses=file(evidence.XLSX_MIME, "签名表（Excel 工作簿）"))
def evidence_xlsx(consultation_id):
    """The signature sheet as Excel: every ballot, masked owner, signature image, ballot hash."""
    c = _consultation(consultation_id)
    return _send(c, evidence.evidence_xlsx(c), evidence.XLSX_MIME, "xlsx")


@bp.get("/consultations/<int:consultation_id>/evidence.pdf")
@bp.auth_required(auth)
@bp.doc(responses=file(evidence.PDF_MIME, "签名表（PDF，A4 横向）"))
def evidence_pdf(consultation_id):
    """The signature sheet as PDF, with the roll digest and audit chain head on every page."""
    c = _consultation(consultation_id)
    return _send(c, evidence.evidence_pdf(c), evidence.PDF_MIME, "pdf")
