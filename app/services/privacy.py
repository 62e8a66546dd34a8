"""Personal information shown to people: masked, minimal (DESIGN.md §7)."""
import hashlib
import hmac
import re

from flask import current_app

MOBILE = re.compile(r"^1[3-9]\d{9}$")


def mask_phone(phone):
    """138****1234; None stays None."""
    if not phone:
        return None
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name):
    """张** for names shown to staff who need to know a person is there, not who."""
    if not name:
        return None
    return name[0] + "*" * max(1, len(name) - 1)


def normalize_id_number(raw):
    return re.sub(r"\s+", "", str(raw)).upper()


def owner_key(id_number):
    """A keyed hash of an ID number: equal for the same person, useless without the server's key."""
    secret = current_app.config["OWNER_KEY_SECRET"].encode()
    return hmac.new(secret, normalize_id_number(id_number).encode(), hashlib.sha256).hexdigest()
