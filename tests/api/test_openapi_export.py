"""The OpenAPI document the mini-program's tests read (miniprogram/tests/openapi.json) is the one the
backend serves: change an answer or a path, and this fails until the file is written again."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _export_script():
    spec = importlib.util.spec_from_file_location("export_openapi", os.path.join(ROOT, "scripts", "export_openapi.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_document_is_the_live_one(app):
    """Does miniprogram/tests/openapi.json equal the document /api/v1/openapi.json serves, byte for byte?"""
    script = _export_script()
    live = script.render(app)
    try:
        with open(script.TARGET, encoding="utf-8", newline="") as committed:
            written = committed.read()
    except FileNotFoundError:
        written = None
    if written != live:  # (not an assert: a diff of two 100 kB strings says less than this)
        pytest.fail("miniprogram/tests/openapi.json differs from the live OpenAPI document: "
                    "run `.venv/bin/python scripts/export_openapi.py` and commit the file", pytrace=False)
