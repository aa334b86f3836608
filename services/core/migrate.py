"""Bring a database to the current schema and make sure the application role exists.

Runs as the owner. The application role is created NOSUPERUSER NOBYPASSRLS and owns nothing; it
gets DML on tables, except the append-only ones where it may only INSERT (and SELECT).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy.engine import make_url

from services.core.database_server import libpq
from services.core.settings import PROJECT_ROOT

# Tables whose rows, once written, are never changed or removed by the application.
# Evidence for auditors (HIPAA 164.308(a)(7)) is among them: who acknowledged which plan version,
# which version was exported when. Deleting a practice still removes them: foreign-key actions run
# with the table owner's rights.
APPEND_ONLY_TABLES = ("audit_event", "plan_acknowledgement", "plan_export")


def alembic_config(owner_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["owner_url"] = owner_url
    return cfg


def app_role(app_url: str) -> str:
    """The application role: the user the application's URL connects as."""
    role = make_url(app_url).username
    if not role:
        # A URL without a user would connect as whoever runs the process; the role must be ours.
        raise ValueError("The application's database URL names no user: set SEAWALL_APP_DATABASE_URL with the "
                         "application role's user (postgresql://seawall_app:…@host/db), or SEAWALL_APP_DB_USER")
    return role


def ensure_app_role(owner_url: str, app_url: str) -> None:
    role, password = app_role(app_url), make_url(app_url).password or ""
    with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                sql.SQL(verb), sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(conn.info.dbname), sql.Identifier(role)))


def grant_app_privileges(owner_url: str, role: str) -> None:
    r = sql.Identifier(role)
    with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(r))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(r))
        conn.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(r))
        conn.execute(sql.SQL("REVOKE ALL ON alembic_version FROM {}").format(r))
        conn.execute(sql.SQL("GRANT SELECT ON alembic_version TO {}").format(r))
        for table in APPEND_ONLY_TABLES:
            conn.execute(sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), r))
        # Schemas created by migrations for libraries (procrastinate lives in public too).
        extra = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname NOT IN ('public', 'information_schema')"
        ).fetchall()
        for (schema,) in extra:
            s = sql.Identifier(schema)
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r))
            conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(s, r))
            conn.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r))


def upgrade(owner_url: str, app_url: str, revision: str = "head") -> None:
    ensure_app_role(owner_url, app_url)
    command.upgrade(alembic_config(owner_url), revision)
    grant_app_privileges(owner_url, app_role(app_url))


def downgrade(owner_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if head is None:  # only if migrations/versions is missing from the install
        raise RuntimeError(f"no migrations under {migrations_dir()}")
    return head


def migrations_dir() -> Path:
    return PROJECT_ROOT / "migrations"


