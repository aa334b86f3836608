"""Idempotent demo data for `seawall demo` (development only; refused in production).

Each domain adds a seeder module and appends it to SEEDERS; they run in order, each in its own
transaction, and each must be safe to run again (look up before creating).
"""

from __future__ import annotations

from services.demo import inventory, plans, tenancy

SEEDERS = [tenancy.seed, inventory.seed, plans.seed]
