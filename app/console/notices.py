"""The console's notices and 公示 (app/services/notices.py): list, write and publish (optionally as a
subscribe message), a 公示's objections answered, released or rejected; and the outbox
(app/services/outbox.py): the messages of the scope, the failed ones and why, in words."""
import re

from flask import Response, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.api.notices import NoticeIn, notice_views, objection_view
from app.console import bp
from app.console.forms import beijing_time, messages
from app.console.views import committed
from app.errors import ApiError
from app.extensions import db
from app.models import InboxItem, Notice
from app.models.messages import OUTBOX_STATUSES
from app.models.notices import NOTICE_KINDS
from app.services import consultations as consultation_service
from app.services import notices, outbox, scopes


def _writer():
    if not scopes.roles_of(g.user, *notices.WRITERS):
        raise ApiError(403, "forbidden", "只有工作人员可以查看和发布通知")


@bp.route("/notices", methods=["GET", "POST"])
def notice_list():
    """The notices of the scope, newest first, and the form that writes one."""
    _writer()
    places = notices.writable_scopes(g.user)
    errors, form = {}, request.form
    if request.method == "POST":
        scope_type, _, scope_id = (form.get("scope") or "").partition(":")
        kind = form.get("kind") or "notice"
        body = {"kind": kind, "scope": {"type": scope_type, "id": int(scope_id) if scope_id.isdigit() else 0},
                "title": (form.get("title") or "").strip(), "body": (form.get("body") or "").strip(),
                "push": form.get("push") == "on"}
        if kind == "publicity":
            body["period"] = {"start": beijing_time(form.get("start")), "end": beijing_time(form.get("end"))}
            if (form.get("subject") or "").isdigit():
                body["subject"] = {"type": "consultation", "id": int(form["subject"])}
        try:
            data = NoticeIn().load(body)
            notice, recipients, queued = notices.create(g.user, data)
        except ValidationError as exc:
            db.session.rollback()
            errors = {{"title": "标题", "body": "正文", "period": "公示期", "scope": "范围", "kind": "类别"}.get(k, k): v
                      for k, v in exc.messages.items()}
        except ApiError as exc:
            db.session.rollback()
            errors = {"表单": messages(exc)}
        else:
            db.session.commit()
            return redirect(url_for("console.notice", notice_id=notice.id, sent=recipients, pushed=queued))
    subjects = [c for c in consultation_service.staff_consultations(g.user) if c.status != "draft"]
    return render_template("console/notices.html", items=notice_views(notices.staff_notices(g.user)), places=places,
                           subjects=subjects, kinds=NOTICE_KINDS, errors=errors, form=form)


def _notice(notice_id):
    notice = db.session.get(Notice, notice_id)
    if notice is None or not notices.may_write(g.user, notice.scope_type, notice.scope_id):
        raise ApiError(404, "not_found", "没有找到该通知")
    return notice


@bp.get("/notices/<int:notice_id>")
def notice(notice_id):
    n = _notice(notice_id)
    _, staff, rows, _ = notices.objections(g.user, n.id)
    labels, names = notices.labels_and_names(rows)
    recipients = db.session.scalar(db.select(db.func.count(InboxItem.id)).where(InboxItem.notice_id == n.id))
    return render_template("console/notice.html", n=n, view=notice_views([n])[0],
                           objections=[objection_view(o, g.user, labels, names) for o in rows],
                           recipients=recipients, sent=request.args.get("sent"), pushed=request.args.get("pushed"),
                           open_=notices.is_open(n) if n.kind == "publicity" else False)


@bp.post("/objections/<int:objection_id>/<any(answer, release, reject):action>")
@committed
def objection_action(objection_id, action):
    text = (request.form.get("text") or "").strip()
    if action == "answer":
        if not 1 <= len(text) <= 1000:
            raise ApiError(422, "validation_error", "请填写 1 到 1000 字的答复")
        objection = notices.answer(g.user, objection_id, text)
    elif action == "release":
        objection = notices.release(g.user, objection_id)
    else:
        if not 1 <= len(text) <= 200:
            raise ApiError(422, "validation_error", "不予公开时请填写 1 到 200 字的原因")
        objection = notices.reject(g.user, objection_id, text)
    return redirect(url_for("console.notice", notice_id=objection.notice_id))


@bp.get("/objections/<int:objection_id>/photo")
def objection_photo(objection_id):
    from app.models import Blob

    objection = notices.photo_of(g.user, objection_id)
    blob = db.session.get(Blob, objection.photo_id)
    return Response(blob.data, mimetype=blob.mimetype, headers={"Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- outbox


ERRORS = [  # what WeChat's answers and the outbox's own notes mean, for people
    (r"^no_quota|^43101", "居民未同意接收或次数已用完（43101），请上门告知"),
    (r"^40003|bad openid", "居民的微信身份无效（40003）"),
    (r"^47003|bad data", "消息内容不符合模板要求（47003）"),
    (r"^41030|bad page", "小程序页面路径无效（41030）"),
    (r"^40037|bad template|unknown template", "订阅消息模板无效（40037），请检查配置"),
    (r"^45009", "微信接口调用次数超限（45009），稍后重试"),
    (r"^-1|system busy", "微信系统繁忙（-1），稍后重试"),
    (r"retries exhausted", "多次重试仍未成功"),
    (r"outcome unknown|in flight", "发送结果未知，可能已送达"),
    (r"retried by a person", "已由工作人员重新发送"),
]


def error_text(last_error):
    if not last_error:
        return "—"
    for pattern, text in ERRORS:
        if re.search(pattern, last_error, re.IGNORECASE):
            return text
    return "发送失败（微信返回错误，详见系统日志）"


@bp.get("/outbox")
def outbox_list():
    if not scopes.roles_of(g.user, *outbox.READERS):
        raise ApiError(403, "forbidden", "只有工作人员可以查看消息发送情况")
    status = request.args.get("status") or None
    if status not in OUTBOX_STATUSES:
        status = None
    from app.api.outbox import outbox_view

    rows = [outbox_view(m, f) for m, f in outbox.visible(g.user, status, 300)]
    for row in rows:
        row["error_text"] = error_text(row["last_error"])
    return render_template("console/outbox.html", rows=rows, status=status, statuses=OUTBOX_STATUSES)
