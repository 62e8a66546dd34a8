"""What the console's forms type, turned into what the API's schemas take: yuan into integer fen,
Beijing wall time into an aware datetime, an uploaded photo into base64 (as the mini-program sends it)."""
import base64
import re
from decimal import Decimal

from app.services.ballots import PHOTO_MAX_BYTES

YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


def fen(text, field, errors, required=True):
    """"1234.5" (yuan, at most two decimals) → 123450; a Chinese error under field otherwise."""
    text = (text or "").strip().replace(",", "").replace("，", "")
    if not text:
        if required:
            errors.setdefault(field, []).append("请填写金额（元）")
        return None
    if not YUAN.match(text):
        errors.setdefault(field, []).append(f"「{text}」不是有效的金额：请填写元，最多两位小数，例如 1200.50")
        return None
    return int(Decimal(text) * 100)


def beijing_time(text):
    """A datetime-local value (Beijing wall time) as the API's ISO text with +08:00, or ""."""
    text = (text or "").strip()
    return (text + (":00" if len(text) == 16 else "") + "+08:00") if text else ""


def photo(upload, field, errors, required=True):
    """An uploaded file as base64 for the services' decode_image (which checks it is a JPEG or PNG)."""
    if upload is None or not upload.filename:
        if required:
            errors.setdefault(field, []).append("请选择照片（JPEG 或 PNG）")
        return None
    raw = upload.read(PHOTO_MAX_BYTES + 1)
    if len(raw) > PHOTO_MAX_BYTES:
        errors.setdefault(field, []).append(f"照片过大（不超过 {PHOTO_MAX_BYTES // 1024} KB）")
        return None
    return base64.b64encode(raw).decode()


def messages(exc):
    """An ApiError as the lines a form shows: its message and the detail's fields."""
    lines = [exc.message]
    for key, value in (exc.detail or {}).items():
        if isinstance(value, (list, tuple)):
            value = "、".join(str(v) for v in value)
        lines.append(f"{key}：{value}")
    return lines


def place(name, compound):
    """scope_names' "测试小区11栋" as "测试小区1 1栋": a space between the compound and the rest."""
    name = name or ""
    if compound and name.startswith(compound) and len(name) > len(compound):
        return f"{compound} {name[len(compound):]}"
    return name
