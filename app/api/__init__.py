"""The HTTP API: one blueprint per domain under /api/v1, thin handlers over services."""
from app.api import common  # noqa: F401  (Chinese validation messages, set once)
from app.api.auth import bp as auth
from app.api.bindings import bp as bindings
from app.api.buildings import bp as buildings
from app.api.consultations import bp as consultations
from app.api.evidence import bp as evidence
from app.api.health import bp as health
from app.api.scan import bp as scan

BLUEPRINTS = [health, auth, scan, bindings, buildings, consultations, evidence]
