"""Browser tests of the console: the app served on a free loopback port in a thread (werkzeug),
against the test database, driven by Playwright through the system's Chromium (installed by
./scripts/setup). Each page visited is saved under instance/screenshots/ for people to look at."""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from config import INSTANCE_DIR

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.path.join(INSTANCE_DIR, "screenshots")


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"没有 Chromium（{CHROMIUM}）：请运行 ./scripts/setup 安装 (chromium is missing; ./scripts/setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, live_server, db):
    """A fresh browser context (no cookies) at 1366×768, the office PC's screen."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server,
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before open, close, publish
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the console's pages: {errors}"


def shot(page, name):
    """Save what the page shows now (the whole page) as instance/screenshots/<name>.png."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def dev_sign_in(page, name):
    page.goto("/console/login")
    page.fill("input[name=name]", name)
    page.click(".dev button[type=submit]")
    page.wait_for_url("**/console/")
