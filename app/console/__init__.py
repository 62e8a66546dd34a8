"""The staff console (/console): server-rendered pages for community offices (Jinja2, htmx and
ECharts served from app/console/static, no CDN). It signs in with a one-time ticket confirmed in the
mini-program (or, in development, as dev-<name>), keeps our own session token in an HttpOnly cookie,
checks a CSRF token on every form, and reads and writes only through app/services, which decide what
each user's scope allows, as they do for the API."""
from datetime import timedelta

from flask import Blueprint
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")
bp.enable_openapi = False  # pages, not API operations: APIFlask leaves them out of /api/v1/openapi.json
csrf = CSRFProtect()


def init_app(app, production=False):
    """Cookies and CSRF for the console; the API (bearer tokens, no cookies) is left as it is."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        SESSION_COOKIE_NAME="gongjian_console",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # Checked by the console's own before_request (views.protect), so the API's bearer-token
        # routes are not asked for a form token; valid for the life of the console session.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=production,
    )
    csrf.init_app(app)
    from app.console import views  # noqa: F401  (routes)
    from app.console import notices, plans, projects, surveys  # noqa: F401  (the other features' pages)

    app.register_blueprint(bp)
