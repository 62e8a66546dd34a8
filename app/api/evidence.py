"""Evidence of a consultation for staff: every ballot with masked owners, signatures and hashes.

A small export, or one already built for a closed consultation, is the file (200); a larger one is
an export job (202 with its URL in Location and in the answer) that the client polls until it is
done, then downloads (app/services/exports.py)."""
from apiflask import APIBlueprint, Schema
from flask import Response, current_app, stream_with_context

from app.api.common import auth, current_user, ok
from app.api.outputs import Bool, Enum, Int, Text, Time, answer, file
from app.errors import ApiError
from app.services import consultations as service
from app.services import evidence, exports

bp = APIBlueprint("evidence", __name__, url_prefix="/api/v1", tag="evidence")

ROLES = service.CREATORS  # committee, community and street staff, district officers, admins: not grid workers


class ExportJobOut(Schema):
    """An evidence export built outside the request."""
    id = Int()
    consultation_id = Int()
    format = Enum(exports.FORMATS)
    status = Enum(exports.JOB_STATUSES, metadata={"description": "queued 排队中、running 生成中、done 已完成、failed 失败"})
    status_name = Text()
    progress = Int(metadata={"description": "0-100"})
    ballots = Int(metadata={"description": "导出的表决票张数"})
    cached = Bool(metadata={"description": "截止后的证据：生成一次后保存，之后直接下载"})
    error = Text(nullable=True, metadata={"description": "失败的原因（中文）"})
    size = Int(nullable=True, metadata={"description": "文件字节数（完成后）"})
    sha256 = Text(nullable=True, metadata={"description": "文件的 SHA-256（完成后）"})
    created_at = Time()
    finished_at = Time(nullable=True)
    url = Text(metadata={"description": "查询进度的地址"})
    download_url = Text(nullable=True, metadata={"description": "完成后下载文件的地址"})
    retry_url = Text(nullable=True, metadata={"description": "失败后重新导出的地址"})


def _consultation(consultation_id):
    c = service.get(consultation_id)
    if not service.visible_to_staff(current_user(), c, ROLES):
        raise ApiError(404, "not_found", "没有找到该征询")
    if c.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始，还没有表决证据", {"status": c.status})
    return c


def _job(job_id):
    """The job, for staff who may see its consultation's evidence; 404 to everyone else."""
    job = exports.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", "没有找到该导出任务")
    c = service.get(job.consultation_id)
    if not service.visible_to_staff(current_user(), c, ROLES):
        raise ApiError(404, "not_found", "没有找到该导出任务")
    return job, c


def _headers(c, ext):
    return {"Content-Disposition": evidence.filename(c, ext), "Cache-Control": "no-store"}


def _stored(c, job):
    current_app.logger.info("evidence.%s of consultation %s (export %s) sent to user %s", job.format, c.id, job.id,
                            current_user().id)
    headers = {**_headers(c, job.format), "Content-Length": str(job.size), "ETag": f'"{job.sha256}"'}
    return Response(stream_with_context(exports.chunks(job.id)), mimetype=exports.FORMATS[job.format][0], headers=headers)


def _export(consultation_id, ext):
    c = _consultation(consultation_id)
    what, job = exports.request_export(current_user(), c, ext)
    if what == "file":
        return _stored(c, job)
    if what == "job":
        return {"data": exports.view(job)}, 202, {"Location": f"/api/v1/export-jobs/{job.id}"}
    chunks = exports.built_now_chunks(c, ext)
    current_app.logger.info("evidence.%s of consultation %s exported by user %s", ext, c.id, current_user().id)
    return Response(chunks, mimetype=exports.FORMATS[ext][0], headers=_headers(c, ext))


def _responses(media_type, description):
    return {**file(media_type, description),
            **answer(ExportJobOut, status=202, description="文件较大，已开始生成：轮询 url，完成后从 download_url 下载")}


@bp.get("/consultations/<int:consultation_id>/evidence.xlsx")
@bp.auth_required(auth)
@bp.doc(responses=_responses(evidence.XLSX_MIME, "签名表（Excel 工作簿）"))
def evidence_xlsx(consultation_id):
    """The signature sheet as Excel: every ballot, masked owner, signature image, ballot hash.
    More than EVIDENCE_INLINE_MAX ballots (1,000): 202 and an export job to poll."""
    return _export(consultation_id, "xlsx")


@bp.get("/consultations/<int:consultation_id>/evidence.pdf")
@bp.auth_required(auth)
@bp.doc(responses=_responses(evidence.PDF_MIME, "签名表（PDF，A4 横向）"))
def evidence_pdf(consultation_id):
    """The signature sheet as PDF, with the roll digest and audit chain head on every page.
    More than EVIDENCE_INLINE_MAX ballots (1,000): 202 and an export job to poll."""
    return _export(consultation_id, "pdf")


@bp.get("/export-jobs/<int:job_id>")
@bp.auth_required(auth)
@bp.doc(responses=answer(ExportJobOut))
def export_job(job_id):
    """An evidence export's state: status, progress 0-100, the download URL once done; a job whose
    process stopped is failed with the reason, and the evidence URL (retry_url) starts a new one."""
    job, _ = _job(job_id)
    return ok(exports.view(job))


@bp.get("/export-jobs/<int:job_id>/file")
@bp.auth_required(auth)
@bp.doc(responses={200: {"description": "签名表文件（Excel 工作簿或 PDF）",
                         "content": {evidence.XLSX_MIME: {}, evidence.PDF_MIME: {}}}})
def export_job_file(job_id):
    """The file an export job built (409 until it is done)."""
    job, c = _job(job_id)
    if job.status != "done":
        raise ApiError(409, "not_ready", "导出尚未完成，请稍后再试" if job.status in ("queued", "running")
                       else "导出失败，请重新导出", {"status": job.status, "progress": job.progress})
    return _stored(c, job)
