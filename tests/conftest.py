"""Test infrastructure: a real PostgreSQL (embedded unless TEST_DATABASE_URL), migrated once per run.

Isolation comes from tenancy itself: every test creates its own MSP (and unique emails) through
the factories, and commits for real, so the API's transactions, row-level security and the
worker behave exactly as in production. See docs/decisions/0001-test-isolation-by-tenant.md.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("SEAWALL_ENVIRONMENT", "test")
os.environ.setdefault("SEAWALL_LOGIN_RATE_LIMIT", "1000/minute")
os.environ.setdefault("SEAWALL_LOGIN_IP_RATE_LIMIT", "100000/minute")
os.environ.setdefault("SEAWALL_LOG_LEVEL", "WARNING")

import httpx  # noqa: E402
import psycopg  # noqa: E402
import pytest  # noqa: E402
from psycopg import sql  # noqa: E402

from services.core.database_server import app_url_for, libpq, to_psycopg  # noqa: E402
from services.core.db import Database  # noqa: E402
from services.core.settings import get_settings  # noqa: E402

# The SMTP fixtures (`smtp_server`, `mailbox`) are shared through pytest's plugin mechanism rather than
# imported by each test module: an imported fixture that is then requested as a parameter reads to pyflakes
# as a redefined, unused import (F811), and a session fixture imported into two modules is two fixtures.
pytest_plugins = ["tests.factories_identity"]

REQUIRE_ALL = os.environ.get("SEAWALL_REQUIRE_ALL") == "1"


def require_program(name: str, install: str) -> str:
    """The path of a system program a test needs; skip (or fail in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed: {install}"
        if REQUIRE_ALL:
            pytest.fail(message + " (SEAWALL_REQUIRE_ALL=1)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def database_urls():
    """(owner_url, app_url) of a fresh database for this test process, migrated to head."""
    from services.core import migrate

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = None
    tmp = None
    if os.environ.get("TEST_DATABASE_URL"):
        admin_url = to_psycopg(os.environ["TEST_DATABASE_URL"])
    else:
        tmp = Path(tempfile.mkdtemp(prefix=f"seawall-test-{worker}-"))
        (tmp / "run").mkdir(mode=0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(tmp / "run")
        import pgserver

        server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
        admin_url = to_psycopg(server.get_uri())
    dbname = f"seawall_test_{worker}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    from sqlalchemy.engine import make_url

    owner = make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)
    app = app_url_for(owner, get_settings())
    migrate.upgrade(owner, app)
    os.environ["SEAWALL_TEST_OWNER_URL"] = owner
    yield owner, app
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    if server is not None:
        server.cleanup()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
async def db(database_urls) -> Database:
    """The application role's connection pool (row-level security applies)."""
    database = Database.connect(database_urls[1], pool_size=5)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def owner_db(database_urls) -> Database:
    """The owner's connection, for tests that inspect the catalog or try to break the rules."""
    database = Database.connect(database_urls[0], pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def app(db):
    from services.api.app import create_app

    return create_app(get_settings(), database=db)


@pytest.fixture
async def client(app):
    """An HTTP client for the API, over HTTPS so Secure cookies behave as in a browser."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        yield c


@pytest.fixture
async def tenant(db):
    """A fresh MSP with an owner, an admin, technicians, two practices and their people."""
    from tests.factories import build_tenant

    return await build_tenant(db)


@pytest.fixture
async def other_tenant(db):
    """A second, unrelated MSP: its objects must be invisible (404) to the first."""
    from tests.factories import build_tenant

    return await build_tenant(db)


@pytest.fixture(scope="session")
def live_server(database_urls):
    """The real API on a free 127.0.0.1 port, on this run's test database."""
    from tests.live_server import start

    server = start(database_urls[1])
    yield server
    server.stop()
