"""The worker process's database, shared by its jobs and the telemetry consumer."""

from __future__ import annotations

from services.core.database_server import resolve
from services.core.db import Database
from services.core.settings import get_settings

_database: Database | None = None


def set_database(database: Database | None) -> None:
    global _database
    _database = database


def database() -> Database:
    """The worker's pool (the application role); connects on first use outside `seawall worker`."""
    global _database
    if _database is None:
        _database = Database.connect(resolve(get_settings()).app, pool_size=4)
    return _database
