"""Every router of the API, in the order they are mounted. Add a domain's router here."""

from services.api.routers import auth, health, inventory, practices

ROUTERS = [health.router, auth.router, practices.router, inventory.router]
