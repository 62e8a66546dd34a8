#!/usr/bin/env python
"""Write the API's OpenAPI document, as /api/v1/openapi.json serves it, to miniprogram/tests/openapi.json
(sorted keys, indent 1, UTF-8, a final newline), where the mini-program's jest tests read it to check
that every path it calls exists and every field its fixtures carry is declared.

    .venv/bin/python scripts/export_openapi.py

tests/api/test_openapi_export.py fails while the committed file differs from the live document.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "miniprogram", "tests", "openapi.json")


def render(app):
    """The document the app serves, as the committed file holds it."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main():
    sys.path.insert(0, ROOT)
    from app import create_app

    # The testing settings: no production keys needed, and the document does not depend on them.
    text = render(create_app("testing"))
    os.makedirs(os.path.dirname(TARGET), exist_ok=True)
    with open(TARGET, "w", encoding="utf-8", newline="\n") as out:
        out.write(text)
    print(f"wrote {os.path.relpath(TARGET, ROOT)} ({len(text.encode('utf-8'))} bytes)")


if __name__ == "__main__":
    main()
