"""Every error leaves the API as RFC 9457 problem+json; 5xx bodies say nothing internal."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.core.errors import DomainError, validation_message

PROBLEM_BASE = "https://seawall.dev/problems/"
log = structlog.get_logger(__name__)


def problem(status: int, code: str, title: str, detail: str, request: Request, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail,
                            "instance": request.url.path}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[0]) if loc else "")


def _field_error(e: dict[str, Any]) -> dict[str, Any]:
    where = str(e["loc"][0]) if e["loc"] else ""
    if e["type"] == "json_invalid":
        # FastAPI locates a JSON syntax error by its offset, ("body", 17): the field is the body itself.
        position = f", character {e['loc'][1]}" if len(e["loc"]) > 1 else ""
        return {"field": "body", "message": f"is not valid JSON ({e.get('ctx', {}).get('error', e['msg'])}{position})", "in": where}
    return {"field": _field_path(tuple(e["loc"])), "message": validation_message(e), "in": where}


def _allowed_methods(request: Request) -> list[str]:
    """The documented methods of the path, from the OpenAPI document (compiled once per app)."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$")
            table.append((pattern, {m.upper() for m in operations if m in ("get", "post", "put", "patch", "delete")}))
        request.app.state.allowed_methods = table
    # A literal segment beats a parameter (/invitations/lookup is not /invitations/{invitation_id}),
    # as in routing: keep the matches with the fewest parameters.
    matches = [(pattern.pattern.count("[^/]+"), allowed) for pattern, allowed in table if pattern.match(request.url.path)]
    if not matches:
        return []
    fewest = min(n for n, _ in matches)
    return sorted(set().union(*(allowed for n, allowed in matches if n == fewest)))


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.title, exc.detail, request, [e.as_dict() for e in exc.errors], exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(e) for e in exc.errors()]
        named = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
        return problem(422, "validation-failed", "Some fields are not valid",
                       f"Check these fields: {named}." if named else "The request is not valid.", request, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            from services.api.app import frontend_response

            page = frontend_response(request)
            if page is not None:
                return page
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; a path served by several
            # routes (GET list + POST create) must list them all.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        titles = {404: "Not found", 405: "Method not allowed", 401: "Sign-in required", 403: "Not allowed"}
        return problem(exc.status_code, f"http-{exc.status_code}", titles.get(exc.status_code, "Error"), str(exc.detail), request,
                       headers=headers or None)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # A value PostgreSQL cannot store (a NUL character, a number out of range) is the caller's
        # input, not our failure; anything else from the database is a 500.
        if isinstance(exc.orig, psycopg.DataError):
            # Also what a bug in our own SQL raises (a bad cast, a wrong parameter): said in the log,
            # so it never passes only as the caller's fault (issue 26 #6; the value itself is not logged).
            log.warning("database_refused_value", path=request.url.path, sqlstate=exc.orig.sqlstate,
                        error_type=type(exc.orig).__name__)
            return problem(422, "unstorable-value", "A value cannot be stored",
                           "A field holds a value that cannot be stored (for example a NUL character or a number out of range).",
                           request)
        return await _unexpected(request, exc)

    @app.exception_handler(UnicodeEncodeError)
    async def _encoding(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        return problem(422, "invalid-text", "Text is not valid", "A field holds text that is not valid Unicode.", request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem(500, "internal-error", "Something went wrong on our side",
                       "The error was logged; try again, and contact support if it persists.", request)
