"""The HTTP API: one blueprint per domain under /api/v1, thin handlers over services."""
from app.api import common  # noqa: F401  (Chinese validation messages, set once)
from app.api import inputs  # noqa: F401  (strict JSON bodies; before any handler is decorated)
from app.api.auth import bp as auth
from app.api.bindings import bp as bindings
from app.api.buildings import bp as buildings
from app.api.consultations import bp as consultations
from app.api.console_tickets import bp as console_tickets
from app.api.docs import bp as docs
from app.api.evidence import bp as evidence
from app.api.health import bp as health
from app.api.outbox import bp as outbox
from app.api.notices import bp as notices
from app.api.plans import bp as plans
from app.api.projects import bp as projects
from app.api.proxies import bp as proxies
from app.api.stats import bp as stats
from app.api.surveys import bp as surveys
from app.api.works import bp as works
from app.api.scan import bp as scan
from app.api.subscriptions import bp as subscriptions

# inputs first: its <int:...> converter (ids 1 .. 2^31-1, else 422) must be there before any route.
BLUEPRINTS = [inputs.bp, docs, health, auth, scan, bindings, buildings, consultations, evidence, notices,
              plans, proxies, projects, surveys, works, stats, subscriptions, outbox, console_tickets]
