"""Access logs without receipt codes.

A receipt code lets whoever holds it read what a ballot recorded (GET /api/v1/receipts/<code>), so
it must not sit in log files for anyone who reads them. gunicorn logs the request path of every
call; RedactingLogger (gunicorn.conf.py: logger_class) puts *** in place of the code in every line
it writes, access and error log alike, whether the path was sent plainly or percent-encoded.
"""
import logging
import re
from urllib.parse import unquote

from gunicorn.glogging import Logger

RECEIPT_PATH = re.compile(r"(/api/v1/+receipts/+)[^/?#\s\"']+", re.IGNORECASE)
_TOKEN = re.compile(r"[^\s\"']+")
MASK = "***"


def _token(match):
    token = match.group(0)
    if "%" in token:  # /api/v1/%72eceipts/CODE routes to the same place: judge the decoded path
        decoded = unquote(token)
        if RECEIPT_PATH.search(decoded):
            return RECEIPT_PATH.sub(r"\g<1>" + MASK, decoded)
    return RECEIPT_PATH.sub(r"\g<1>" + MASK, token)


def redact(text):
    """The text with every receipt code of a /api/v1/receipts/<code> path replaced by ***."""
    if not text or "/" not in text:
        return text
    return _TOKEN.sub(_token, text)


class RedactReceipts(logging.Filter):
    """A logging filter that redacts the formatted message of every record."""

    def filter(self, record):
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class RedactingLogger(Logger):
    """gunicorn's logger whose access and error lines never hold a receipt code."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactReceipts) for f in log.filters):
                log.addFilter(RedactReceipts())
