"""What residents write and photograph for others to read: text through WeChat's msgSecCheck v2
(risky refused with nothing stored, doubtful held for staff), photos stored once as blobs. Used by
objections to a 公示, survey comments and site reports alike."""
import hashlib

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Blob

RISKY_MESSAGE = "内容含有不当信息，未能提交"


def check_text(user, text, what="text"):
    """msgSecCheck v2 with the user's openid: "pass" or "review"; risky is a 422 (details under
    `what`) and the caller stores nothing."""
    from app.services.auth import wechat_failure
    from app.wechat.client import WeChatError, get_wechat

    try:
        verdict = get_wechat().msg_sec_check(user.openid, text, scene=2)
    except WeChatError as exc:
        raise wechat_failure(exc, {})
    if verdict["suggest"] == "risky":
        current_app.logger.info("text by user=%s refused by msgSecCheck, label %s", user.id, verdict["label"])
        raise ApiError(422, "content_risky", RISKY_MESSAGE, {what: [RISKY_MESSAGE]})
    return "pass" if verdict["suggest"] == "pass" else "review"


def store_photo(photo, what="照片"):
    """A JPEG or PNG photo (base64, at most 3 MB) stored as a blob; its id."""
    from app.services.ballots import PHOTO_MAX_BYTES, decode_image

    raw, mimetype = decode_image(photo, ("JPEG", "PNG"), PHOTO_MAX_BYTES, what)
    blob = Blob(sha256=hashlib.sha256(raw).hexdigest(), mimetype=mimetype, data=raw)
    db.session.add(blob)
    db.session.flush()
    return blob.id
