"""Where the database is: the embedded PostgreSQL (pgserver) by default, or DATABASE_URL.

Two connection URLs come out of here: the owner's (migrations, bootstrap) and the application
role's (API and worker). The application role owns nothing and cannot bypass row-level security,
so a bug in a query cannot reach another tenant's rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from sqlalchemy.engine import make_url

from services.core.settings import Settings


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str  # postgresql+psycopg://… used for migrations and role bootstrap
    app: str  # postgresql+psycopg://… used by API and worker


_embedded = None


def start_embedded(data_dir: Path):
    """Start (or reuse) the embedded PostgreSQL with its data under data_dir/pg."""
    global _embedded
    import pgserver

    # pgserver asks platformdirs for a runtime dir; give it a private one instead of a warning.
    runtime = data_dir / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    pgdata = data_dir / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    # "stop" ends the server when the last process using this data directory exits.
    _embedded = pgserver.get_server(pgdata, cleanup_mode="stop")
    return _embedded


def to_psycopg(url: str) -> str:
    """Normalise any postgres URL to SQLAlchemy's psycopg 3 driver."""
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def owner_url(settings: Settings) -> str:
    if settings.database_url:
        return to_psycopg(settings.database_url)
    server = start_embedded(settings.data_dir)
    return to_psycopg(server.get_uri())


def app_url_for(owner: str, settings: Settings) -> str:
    if settings.app_database_url:
        return to_psycopg(settings.app_database_url)
    u = make_url(owner)
    return u.set(
        username=settings.app_db_user, password=settings.app_db_password.get_secret_value()
    ).render_as_string(hide_password=False)


def resolve(settings: Settings) -> DatabaseUrls:
    owner = owner_url(settings)
    return DatabaseUrls(owner=owner, app=app_url_for(owner, settings))


def libpq(url: str) -> str:
    """SQLAlchemy URL → plain libpq URL (for psycopg.connect, procrastinate)."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)
