"""The agents' hot paths — POST /api/v1/ingest and /ping/… — answered ahead of FastAPI's stack.

Almost all of the API's traffic is these two, and per request FastAPI's machinery (its telemetry
and body-limit middlewares, exception middlewares, route matching, dependency solving, Request
and Response objects) cost several times what the handlers themselves do. `SeawallAPI` is the
FastAPI app with one difference: a request for one of these paths and methods goes straight to a
small ASGI handler calling the same functions as the documented FastAPI routes
(ingest.receive_batch, pings.answer_ping), with the same answers: 202 JSON, problem+json errors,
the plain-text "OK" of a ping, Retry-After, X-Request-Id. Every other method on these paths (405 with
Allow), every other path, the OpenAPI document and lifespan go through FastAPI unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any
from urllib.parse import parse_qsl

import structlog
from fastapi import FastAPI

from services.api.problems import PROBLEM_BASE
from services.api.request_context import RequestContext
from services.api.routers.pings import answer_ping
from services.core.errors import DomainError
from services.core.telemetry import ingest

log = structlog.get_logger("seawall.api")

INGEST_PATH = "/api/v1/ingest"
PING_PREFIX = "/ping/"
PING_METHODS = frozenset({"GET", "POST", "HEAD"})
_JSON = b"application/json"
_PROBLEM = b"application/problem+json"
_TEXT = b"text/plain; charset=utf-8"


class _Disconnected(Exception):
    """The client went away before sending its whole body: nobody is left to answer."""


class SeawallAPI(FastAPI):
    """FastAPI, with the agents' hot paths served before its middleware stack (see the module doc)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hot_ingest = RequestContext(self._ingest)
        self._hot_ping = RequestContext(self._ping)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == INGEST_PATH or path == INGEST_PATH + "/":  # a slash, as for pings: no redirect to lose it
                if scope["method"] == "POST":
                    return await self._hot_ingest(scope, receive, send)
            elif path.startswith(PING_PREFIX) and scope["method"] in PING_METHODS:
                # The routes' shapes: /ping/{key} and /ping/{key}/{signal}, each segment non-empty.
                parts = _ping_path(path).split("/")
                if len(parts) <= 2 and all(parts):
                    return await self._hot_ping(scope, receive, send)
        await super().__call__(scope, receive, send)

    async def _ingest(self, scope, receive, send) -> None:
        result = await _answered(send, scope["path"], ingest.receive_batch(self.state.db, _headers(scope), _chunks(receive)))
        if result is not None:
            await _respond(send, 202, result.model_dump_json().encode(), _JSON)

    async def _ping(self, scope, receive, send) -> None:
        key, _, signal = _ping_path(scope["path"]).partition("/")
        headers = _headers(scope)
        rid = None
        if scope["query_string"]:
            # As Starlette's query_params: blank values kept, the last of a repeated name wins.
            rid = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)).get("rid")
        client = scope.get("client")
        answer = await _answered(send, scope["path"], answer_ping(self.state.db, key, signal or None, rid, _chunks(receive),
                                                                  headers.get("user-agent", ""), client[0] if client else None))
        if answer is not None:
            await _respond(send, 200, answer.encode(), _TEXT)


def _ping_path(path: str) -> str:
    """The path after /ping/, without one trailing slash: the routes accept it too."""
    rest = path[len(PING_PREFIX):]
    return rest[:-1] if rest.endswith("/") else rest


async def _answered(send, path: str, call: Awaitable[Any]) -> Any:
    """The handler's result; or None once an error has been answered (problem+json, as FastAPI's
    handlers would) or the client has gone away."""
    try:
        return await call
    except _Disconnected:
        return None
    except DomainError as exc:
        await _respond(send, exc.status, _problem_body(exc, path), _PROBLEM, exc.headers)
    except Exception:
        log.exception("unhandled_error", path=path)
        await _respond(send, 500, _internal_error(path), _PROBLEM)
    return None


def _headers(scope) -> dict[str, str]:
    """Request headers by lower-case name; the first of a repeated header wins, as in Starlette."""
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in out:
            out[key] = value.decode("latin-1")
    return out


async def _chunks(receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


async def _respond(send, status: int, body: bytes, content_type: bytes, headers: dict[str, str] | None = None) -> None:
    raw = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    for name, value in (headers or {}).items():
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _dumps(body: dict[str, Any]) -> bytes:
    # As Starlette's JSONResponse renders problems (services/api/problems.py).
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def _problem_body(exc: DomainError, path: str) -> bytes:
    body: dict[str, Any] = {"type": PROBLEM_BASE + exc.code, "title": exc.title, "status": exc.status, "detail": exc.detail,
                            "instance": path}
    if exc.errors:
        body["errors"] = [e.as_dict() for e in exc.errors]
    return _dumps(body)


def _internal_error(path: str) -> bytes:
    return _dumps({"type": PROBLEM_BASE + "internal-error", "title": "Something went wrong on our side", "status": 500,
                   "detail": "The error was logged; try again, and contact support if it persists.", "instance": path})
