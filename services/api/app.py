"""The FastAPI application: routers, problem+json errors, request ids, and the built web app."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from services.api import openapi, problems
from services.api.hotpath import SeawallAPI
from services.api.json_bodies import JsonBodies
from services.api.request_context import RequestContext
from services.api.routers import ROUTERS
from services.core.database_server import resolve
from services.core.db import Database
from services.core.heap import freeze_startup_heap
from services.core.json_limits import MAX_DEPTH
from services.core.logging import configure
from services.core.settings import Settings, get_settings


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = database is None
        app.state.db = database or Database.connect(settings.app_database_url or resolve(settings).app, settings.db_pool_size)
        freeze_startup_heap()
        yield
        if own:
            await app.state.db.dispose()

    # SeawallAPI: FastAPI with the agents' ingest and ping paths answered ahead of its stack (hotpath.py).
    app = SeawallAPI(title="Seawall API", version="1.0.0", lifespan=lifespan,
                  description="Business-continuity readiness for MSPs and the healthcare practices they look after.\n\n"
                              f"JSON request bodies (`Content-Type: application/json`) nest at most {MAX_DEPTH} levels "
                              "deep; every error is RFC 9457 problem+json whose `errors[].field` names what to fix.")
    app.state.settings = settings
    if database is not None:
        app.state.db = database
    problems.install(app)

    app.add_middleware(JsonBodies)  # inside RequestContext: its refusals carry the request id too
    app.add_middleware(RequestContext)

    for router in ROUTERS:
        app.include_router(router)
    if not settings.is_production:
        # Development mail exists only outside production: there its path is an unknown one (404).
        from services.api.routers import dev_mail

        app.include_router(dev_mail.router)
    _check_operation_ids(app)
    openapi.install(app)
    _serve_frontend(app, settings.frontend_dist)
    return app


def _check_operation_ids(app: FastAPI) -> None:
    """Every route names its operationId: the generated TypeScript client depends on them staying put."""
    seen: set[str] = set()
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            if not route.operation_id:
                raise RuntimeError(f"route {route.path} has no operation_id")
            if route.operation_id in seen:
                raise RuntimeError(f"duplicate operation_id {route.operation_id}")
            seen.add(route.operation_id)


def _serve_frontend(app: FastAPI, dist: Path) -> None:
    """Serve the built single-page app: its assets, and index.html for every client-side route.

    Client-side routes are served from the 404 handler rather than a catch-all route, so that a
    wrong method on an API path still answers 405 and an unknown API path a problem+json 404.
    """
    index = dist / "index.html"
    if not index.exists():
        return
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")
    app.state.frontend_dist = dist.resolve()


def frontend_response(request: Request) -> FileResponse | None:
    """The file or index.html for a browser navigation the API does not know, if the app is built."""
    dist: Path | None = getattr(request.app.state, "frontend_dist", None)
    path = request.url.path
    if dist is None or request.method not in ("GET", "HEAD") or path.startswith(("/api/", "/ping/")):
        return None
    candidate = (dist / path.lstrip("/")).resolve()
    if candidate.is_file() and dist in candidate.parents:
        return FileResponse(candidate)
    return FileResponse(dist / "index.html", headers={"Cache-Control": "no-cache"})
