"""gunicorn settings used by ./scripts/run (gunicorn -c gunicorn.conf.py wsgi:app) and in production.

Bind address and workers come from the command line (./scripts/run passes HOST, PORT, WEB_WORKERS);
what lives here is what every deployment needs: access lines on stdout, written by a logger that
replaces receipt codes (GET /api/v1/receipts/<code>) with *** (app/accesslog.py).
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
accesslog = "-"
loglevel = "warning"
logger_class = "app.accesslog.RedactingLogger"
