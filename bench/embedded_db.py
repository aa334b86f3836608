"""A throw-away embedded PostgreSQL for a benchmark: migrated, with the application role's URL.

    with embedded_database("seawall-worker-bench-") as db:
        ... db.owner (psycopg URL, the owner), db.app (SQLAlchemy URL, the application role),
        ... db.data_dir (the cluster's directory, e.g. for postmaster.pid)

The server and its temp directory go when the block ends, however it ends (an exception, Ctrl-C).
A benchmark killed with SIGKILL still leaves them under /tmp (`seawall-*-bench-*`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmbeddedDatabase:
    owner: str
    app: str
    data_dir: Path


@contextmanager
def embedded_database(prefix: str) -> Iterator[EmbeddedDatabase]:
    import pgserver

    from services.core import migrate
    from services.core.database_server import app_url_for, to_psycopg
    from services.core.settings import get_settings

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    (tmp / "run").mkdir(mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(tmp / "run")  # pgserver's lock files; the default may not exist
    server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
    try:
        owner = to_psycopg(server.get_uri())
        app = app_url_for(owner, get_settings())
        migrate.upgrade(owner, app)
        yield EmbeddedDatabase(owner, app, tmp / "pg")
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
