"""Do receipt codes stay out of the web server's logs?"""
import datetime
import os
import runpy

import pytest

from app.accesslog import RedactingLogger, redact

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("line, expected", [
    ('127.0.0.1 - - [01/May/2026:10:00:00 +0800] "GET /api/v1/receipts/R7kQ2mXa9 HTTP/1.1" 200 312',
     '127.0.0.1 - - [01/May/2026:10:00:00 +0800] "GET /api/v1/receipts/*** HTTP/1.1" 200 312'),
    ("GET /api/v1/receipts/R7kQ2mXa9?x=1 HTTP/1.1", "GET /api/v1/receipts/***?x=1 HTTP/1.1"),
    ("GET /api/v1/receipts/R7kQ2mXa9/ HTTP/1.1", "GET /api/v1/receipts/***/ HTTP/1.1"),
    ("GET /api/v1//receipts/R7kQ2mXa9 HTTP/1.1", "GET /api/v1//receipts/*** HTTP/1.1"),
    ("GET /api/v1/%72eceipts/R7kQ2mXa9 HTTP/1.1", "GET /api/v1/receipts/*** HTTP/1.1"),
    ("Error handling request /api/v1/receipts/R7kQ2mXa9", "Error handling request /api/v1/receipts/***"),
    ("GET /api/v1/consultations/12/tally HTTP/1.1", "GET /api/v1/consultations/12/tally HTTP/1.1"),
    ("GET /api/v1/receipts HTTP/1.1", "GET /api/v1/receipts HTTP/1.1"),
    ("", ""),
])
def test_redact_replaces_the_code_only(line, expected):
    """Is the code of a receipt path (plain, with a query, doubled slash or percent-encoded) replaced by ***, and every other line left as it was?"""
    assert redact(line) == expected


class _Response:
    status, sent, headers = "200 OK", 312, [("Content-Type", "application/json")]


def test_gunicorn_access_line_has_no_receipt_code(tmp_path):
    """Does the logger gunicorn.conf.py names write the access (and error) line of GET /api/v1/receipts/<code> with *** and the rest intact?"""
    from gunicorn.config import Config
    from gunicorn.util import load_class

    settings = runpy.run_path(os.path.join(ROOT, "gunicorn.conf.py"))
    assert load_class(settings["logger_class"]) is RedactingLogger
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    cfg.set("logger_class", settings["logger_class"])
    logger = RedactingLogger(cfg)
    for path in ("/api/v1/receipts/R7kQ2mXa9", "/api/v1/me"):
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path, "QUERY_STRING": "",
                   "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_REFERER": path}
        logger.access(_Response(), [("Referer", path)], environ, datetime.timedelta(milliseconds=3))
    logger.error("Error handling request %s", "/api/v1/receipts/R7kQ2mXa9")
    for handler in logger.access_log.handlers + logger.error_log.handlers:
        handler.flush()
    assert "Error handling request /api/v1/receipts/***" in (tmp_path / "error.log").read_text()
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert len(lines) == 2
    assert "R7kQ2mXa9" not in lines[0] and '"GET /api/v1/receipts/*** HTTP/1.1" 200' in lines[0]
    assert '"GET /api/v1/me HTTP/1.1" 200' in lines[1]
