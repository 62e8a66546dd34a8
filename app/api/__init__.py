"""The HTTP API: one blueprint per domain under /api/v1, thin handlers over services."""
from app.api import common  # noqa: F401  (Chinese validation messages, set once)
from app.api.health import bp as health

BLUEPRINTS = [health]
