"""Do the building codes the backend prints open a page the mini-program has?"""
import json
import os
import re

from app.services.qrcodes import SCAN_PAGE
from config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_code_page_is_a_page_of_the_mini_program():
    """getwxacodeunlimit's page (no leading slash, no query) is in app.json's pages."""
    with open(os.path.join(ROOT, "miniprogram", "app.json"), encoding="utf-8") as fh:
        pages = json.load(fh)["pages"]
    assert SCAN_PAGE in pages and not SCAN_PAGE.startswith("/") and "?" not in SCAN_PAGE


def test_a_plain_qr_url_is_one_the_scan_page_reads():
    """QR_MODE=url prints QR_URL_BASE + scene; the mini-program finds the scene with config.sceneUrlPattern."""
    with open(os.path.join(ROOT, "miniprogram", "config", "index.js"), encoding="utf-8") as fh:
        source = fh.read()
    pattern = re.search(r"sceneUrlPattern: /(.+)/,", source).group(1).replace("\\/", "/")
    url = Config.QR_URL_BASE + "bAbc123"
    assert re.search(pattern, url).group(1) == "bAbc123"
