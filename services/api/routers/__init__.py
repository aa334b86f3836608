"""Every router of the API, in the order they are mounted. Add a domain's router here."""

from services.api.routers import agents, alerts, incidents, audit, auth, health, ingest, inventory, invitations, pings, plans, practices, tokens, users
from services.api.routers import live, portfolio, readiness, reports

# The agents' hot paths first: FastAPI tries routes in order, and ingest and ping requests are
# the bulk of the traffic (their paths overlap no other router's).
ROUTERS = [ingest.router, pings.router, health.router, auth.router, practices.router, inventory.router, invitations.router,
           tokens.router, users.router,
           audit.router, agents.router, plans.templates, plans.router,
           incidents.router, alerts.router,
           readiness.router, portfolio.router, reports.router, live.router]

from services.api.routers import telemetry  # noqa: E402

ROUTERS.append(telemetry.router)

from services.api.routers import dead_letters  # noqa: E402

ROUTERS.append(dead_letters.router)
