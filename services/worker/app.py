"""The procrastinate App: scheduled and deferred jobs, in PostgreSQL, run by `seawall worker`.

Domains add jobs in `services/worker/tasks_<domain>.py` modules, registering them on `app`:

    from services.worker.app import app

    @app.periodic(cron="*/10 * * * *")
    @app.task(name="mydomain.tidy", queue="maintenance", queueing_lock="mydomain.tidy")
    async def tidy(timestamp: int) -> None: ...

Every `tasks_*.py` module is imported by the worker (import_paths below), so a module is enough.
The App connects as the application role (row-level security applies: a job sets its tenant
scope from the msp_id it carries). The URL is resolved when the pool opens, not at import, so
importing this module never starts the embedded database.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import procrastinate

from services.core.database_server import libpq, resolve
from services.core.settings import get_settings

WORKER_DIR = Path(__file__).resolve().parent


def task_modules() -> list[str]:
    return sorted(f"services.worker.{m.name}" for m in pkgutil.iter_modules([str(WORKER_DIR)]) if m.name.startswith("tasks_"))


def app_conninfo() -> str:
    return libpq(resolve(get_settings()).app)


app = procrastinate.App(
    connector=procrastinate.PsycopgConnector(conninfo=app_conninfo, min_size=1, max_size=4),
    import_paths=task_modules(),
)
