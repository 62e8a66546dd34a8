"""Ballots: an owner signs online, a grid worker enters a paper ballot that a second staff member
confirms; one ballot counts per person of the roll, across channels; every ballot has a receipt."""
import base64
import binascii
import hashlib
import io
import secrets

from flask import current_app
from PIL import Image, UnidentifiedImageError

from app.errors import ApiError
from app.extensions import db
from app.models import Ballot, Binding, Blob, Consultation, RollEntry, VoteSlot
from app.models.places import utcnow
from app.services import audit, scopes
from app.services.consultations import chain_name, is_accepting, lock

SIGNATURE_MAX_BYTES = 200 * 1024
PHOTO_MAX_BYTES = 3 * 1024 * 1024
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud on the phone
PAPER_STAFF = ("grid_worker", "community_staff", "committee", "admin")
STATUS_NAMES = {
    "current": "有效（计入统计）",
    "superseded": "已被本人后来的表决替代",
    "conflict": "与该户另一渠道的有效票冲突，未计入",
    "unconfirmed": "纸质票待第二名工作人员确认",
}


def decode_image(data, kinds, max_bytes, what):
    """Base64 (or a data: URL) → validated image bytes and mimetype; raises 422 in Chinese."""
    if not isinstance(data, str) or not data:
        raise ApiError(422, "validation_error", f"缺少{what}", {what: ["必填项"]})
    if data.startswith("data:"):
        data = data.partition(",")[2]
    if len(data) > max_bytes * 4 // 3 + 16:
        raise ApiError(413, "too_large", f"{what}过大（不超过 {max_bytes // 1024} KB）")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "validation_error", f"{what}不是有效的 base64 数据", {what: ["格式无效"]})
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", f"{what}过大（不超过 {max_bytes // 1024} KB）")
    try:
        image = Image.open(io.BytesIO(raw))
        image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApiError(422, "validation_error", f"{what}不是有效的图片", {what: ["格式无效"]})
    if image.format not in kinds:
        raise ApiError(422, "validation_error", f"{what}应为 {' / '.join(kinds)} 图片", {what: ["格式无效"]})
    width, height = image.size
    if not (20 <= width <= 4000 and 20 <= height <= 4000):
        raise ApiError(422, "validation_error", f"{what}尺寸不合适", {what: [f"{width}×{height}"]})
    return raw, Image.MIME[image.format]


def _store_blob(raw, mimetype):
    digest = hashlib.sha256(raw).hexdigest()
    blob = Blob(sha256=digest, mimetype=mimetype, data=raw)
    db.session.add(blob)
    db.session.flush()
    return blob


def _receipt():
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))


def content(ballot):
    """What a ballot says, as hashed: fixed at writing, checked by `flask audit verify`. The receipt
    (unique) identifies it, so the hash is known before the row is inserted."""
    return {
        "consultation": ballot.consultation_id, "flat": ballot.flat_id,
        "person": ballot.person_key, "channel": ballot.channel, "choice": ballot.choice,
        "user": ballot.user_id, "entered_by": ballot.entered_by_id, "signature": ballot.signature_sha256,
        "receipt": ballot.receipt, "at": ballot.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def content_hash(ballot):
    return audit.sha256(audit.canonical(content(ballot)))


def _roll_entry(consultation, flat_id):
    entry = db.session.scalar(db.select(RollEntry).filter_by(consultation_id=consultation.id, flat_id=flat_id))
    if entry is None:
        raise ApiError(422, "not_on_roll", "该房屋不在本次征询范围内", {"flat_id": flat_id})
    return entry


def _accepting(consultation_id):
    consultation = lock(consultation_id, shared=True)
    if consultation.status == "draft":
        raise ApiError(409, "not_open", "征询尚未开始")
    if not is_accepting(consultation):
        raise ApiError(409, "closed", "征询已截止，不能再表决")
    return consultation


def _check_choice(consultation, choice):
    keys = [o["key"] for o in consultation.options]
    if choice not in keys:
        raise ApiError(422, "validation_error", "请选择有效的选项", {"choice": keys})


def _new_ballot(consultation, entry, channel, choice, status, **fields):
    ballot = Ballot(
        consultation_id=consultation.id, flat_id=entry.flat_id, person_key=entry.person_key, channel=channel,
        choice=choice, status=status, receipt=_receipt(), created_at=utcnow().replace(microsecond=0), **fields,
    )
    ballot.content_hash = content_hash(ballot)  # before the INSERT: no second write for it
    db.session.add(ballot)
    db.session.flush()
    return ballot


def _slot(consultation, person_key):
    return db.session.scalar(
        db.select(VoteSlot).filter_by(consultation_id=consultation.id, person_key=person_key).with_for_update()
    )


def by_idempotency_key(consultation_id, key):
    return db.session.scalar(db.select(Ballot).filter_by(consultation_id=consultation_id, idempotency_key=key))


def sign(user, consultation_id, flat_id, choice, signature, idempotency_key=None):
    """An owner's online ballot. The last online answer counts; a ballot already counted from the
    paper channel stands, and this one is kept as a conflict."""
    raw, mimetype = decode_image(signature, ("PNG",), SIGNATURE_MAX_BYTES, "签名")
    if idempotency_key:
        replay = by_idempotency_key(consultation_id, idempotency_key)
        if replay is not None:
            if replay.user_id != user.id:
                raise ApiError(409, "idempotency_conflict", "该请求编号已被使用")
            return replay
    consultation = _accepting(consultation_id)
    _check_choice(consultation, choice)
    owner_binding = db.session.scalar(
        db.select(Binding.id).filter_by(user_id=user.id, flat_id=flat_id, relation="owner", status="approved")
    )
    if owner_binding is None:
        raise ApiError(403, "not_owner", "只有已绑定该房屋的业主本人可以签署表决票")
    entry = _roll_entry(consultation, flat_id)
    slot = _slot(consultation, entry.person_key)
    current = db.session.get(Ballot, slot.ballot_id) if slot.ballot_id else None
    blob = _store_blob(raw, mimetype)
    conflict = current is not None and current.channel != "online"
    ballot = _new_ballot(
        consultation, entry, "online", choice, "conflict" if conflict else "current",
        user_id=user.id, signature_id=blob.id, signature_sha256=blob.sha256, idempotency_key=idempotency_key,
    )
    if not conflict:
        if current is not None:
            current.status = "superseded"
        slot.ballot_id = ballot.id
    _record(consultation, "ballot", ballot, replaces=None if conflict or current is None else current.id)
    return ballot


def _record(consultation, kind, ballot, replaces=None, **extra):
    audit.append(chain_name(consultation), kind, "ballot", ballot.id, {
        "ballot": ballot.id, "content_hash": ballot.content_hash, "person": ballot.person_key,
        "status": ballot.status, "replaces": replaces, **extra,
    })
    current_app.logger.info("consultation %s %s ballot %s: %s", consultation.id, kind, ballot.id, ballot.status)


def _staff_for_flat(user, consultation, flat_id):
    from app.models import Flat

    flat = db.session.get(Flat, flat_id)
    if flat is None or not scopes.can(user, flat.unit.building, *PAPER_STAFF):
        raise ApiError(404, "not_found", "没有找到该房屋")
    return flat


def enter_paper(user, consultation_id, flat_id, choice, photo):
    """A grid worker records a signed paper ballot with its photo; it waits for confirmation."""
    raw, mimetype = decode_image(photo, ("JPEG", "PNG"), PHOTO_MAX_BYTES, "纸质票照片")
    consultation = _accepting(consultation_id)
    _staff_for_flat(user, consultation, flat_id)
    _check_choice(consultation, choice)
    entry = _roll_entry(consultation, flat_id)
    blob = _store_blob(raw, mimetype)
    ballot = _new_ballot(consultation, entry, "paper", choice, "unconfirmed", entered_by_id=user.id,
                         signature_id=blob.id, signature_sha256=blob.sha256)
    _record(consultation, "paper_entered", ballot)
    return ballot


def confirm_paper(user, ballot_id):
    """A second staff member confirms; it counts unless the person already has a counted ballot."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.channel != "paper":
        raise ApiError(404, "not_found", "没有找到该纸质票")
    consultation = db.session.get(Consultation, ballot.consultation_id)
    _staff_for_flat(user, consultation, ballot.flat_id)
    if ballot.entered_by_id == user.id:
        raise ApiError(403, "same_person", "录入人不能确认自己录入的纸质票，请由另一名工作人员确认")
    consultation = _accepting(ballot.consultation_id)
    # populate_existing: the row as locked, not the copy loaded above (another confirm may have won since).
    ballot = db.session.scalar(db.select(Ballot).where(Ballot.id == ballot_id).with_for_update()
                               .execution_options(populate_existing=True))
    if ballot.status != "unconfirmed":
        raise ApiError(409, "already_confirmed", "该纸质票已确认过", {"status": ballot.status})
    slot = _slot(consultation, ballot.person_key)
    ballot.confirmed_by_id = user.id
    ballot.confirmed_at = utcnow().replace(microsecond=0)
    if slot.ballot_id is not None:
        ballot.status = "conflict"
    else:
        ballot.status = "current"
        slot.ballot_id = ballot.id
    db.session.flush()
    _record(consultation, "paper_confirmed", ballot, confirmed_by=user.id)
    return ballot


def current_ballot(consultation, flat_id):
    """The ballot that counts for this flat's person now, or None."""
    entry = db.session.scalar(db.select(RollEntry).filter_by(consultation_id=consultation.id, flat_id=flat_id))
    if entry is None:
        return None
    slot = db.session.scalar(db.select(VoteSlot).filter_by(consultation_id=consultation.id, person_key=entry.person_key))
    return db.session.get(Ballot, slot.ballot_id) if slot and slot.ballot_id else None


def receipt_view(code):
    """What was recorded under a receipt, and when: no names, nothing else of the flat."""
    ballot = db.session.scalar(db.select(Ballot).filter_by(receipt=code.upper())) if code and len(code) <= 16 else None
    if ballot is None:
        raise ApiError(404, "not_found", "没有找到该回执，请核对回执码")
    consultation = db.session.get(Consultation, ballot.consultation_id)
    labels = {o["key"]: o["label"] for o in consultation.options}
    entry = db.session.scalar(db.select(RollEntry).filter_by(consultation_id=consultation.id, flat_id=ballot.flat_id))
    return {
        "receipt": ballot.receipt,
        "consultation": {"id": consultation.id, "title": consultation.title, "status": consultation.status},
        "room": entry.label if entry else None,
        "channel": ballot.channel,
        "channel_name": "线上签署" if ballot.channel == "online" else "纸质表决票",
        "choice": ballot.choice,
        "choice_label": labels.get(ballot.choice, ballot.choice),
        "recorded_at": ballot.created_at.isoformat() + "Z",
        "confirmed_at": ballot.confirmed_at.isoformat() + "Z" if ballot.confirmed_at else None,
        "status": ballot.status,
        "status_name": STATUS_NAMES.get(ballot.status, ballot.status),
        "counted": ballot.status == "current",
        "ballot_hash": ballot.content_hash,
    }
