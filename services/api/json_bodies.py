"""Every JSON request body of a FastAPI route, checked before FastAPI parses it (docs/decisions/0003-json-request-limits.md).

FastAPI reads any body whole and hands JSON to json.loads, which recurses once per nested level
(RecursionError: a 400 without errors[]), and keeps a body of another media type as bytes (a
422 that names no field). So, ahead of it, for an operation that takes JSON: a body of another
media type or any Content-Encoding is 415, one over MAX_JSON_BODY is 413, one nested deeper than
MAX_DEPTH is 422, and a NUL character, which PostgreSQL cannot store, is a 422 naming each field
that holds one (as in query parameters). The ingest path checks the same in telemetry/ingest.py.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from starlette.requests import Request

from services.api.problems import problem
from services.core.errors import DomainError, FieldError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from services.core.json_limits import MAX_JSON_BODY, check_depth, check_media_type, nul_fields

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Ingest reads and checks its own body (gzip allowed); pings take any body and answer in plain text.
OWN_CHECKS = ("/api/v1/ingest", "/ping/")


def _operations(app) -> list[tuple[re.Pattern[str], str, int, bool]]:
    """(path pattern, method, number of path parameters, takes a JSON body) of every documented operation."""
    table = getattr(app.state, "body_operations", None)
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in operations.items():
                if method.upper() in BODY_METHODS:
                    takes_json = "application/json" in op.get("requestBody", {}).get("content", {})
                    table.append((pattern, method.upper(), template.count("{"), takes_json))
        app.state.body_operations = table
    return table


def _takes_json(scope) -> bool:
    """Whether the operation this request is for takes a JSON body, from the OpenAPI document (whose paths are the
    routes'). A literal segment beats a parameter, as in routing: /invitations/lookup is not /invitations/{id}."""
    path, method = scope["path"], scope["method"]
    matches = [(params, takes) for pattern, m, params, takes in _operations(scope["app"]) if m == method and pattern.match(path)]
    if not matches:
        return False
    fewest = min(params for params, _ in matches)
    return any(takes for params, takes in matches if params == fewest)


def _nul_refusal(fields: list[str], where: str) -> ValidationFailed:
    named = ", ".join(fields[:10])
    return ValidationFailed(f"Text cannot contain the NUL character; check {named}.",
                            errors=[FieldError(f, "must not contain the NUL character", {"in": where}) for f in fields[:50]])


class JsonBodies:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(OWN_CHECKS):
            return await self.app(scope, receive, send)
        try:
            if b"%00" in scope["query_string"]:
                self._check_query(scope)
            if scope["method"] in BODY_METHODS and _takes_json(scope):
                receive = _replay(await self._checked_body(scope, receive), receive)
        except DomainError as exc:
            response = problem(exc.status, exc.code, exc.title, exc.detail, Request(scope),
                               [e.as_dict() for e in exc.errors], exc.headers)
            return await response(scope, receive, send)
        except _Disconnected:
            return None
        await self.app(scope, receive, send)

    @staticmethod
    def _check_query(scope) -> None:
        pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        fields = sorted({name for name, value in pairs if "\x00" in name or "\x00" in value})
        if fields:
            raise _nul_refusal(fields, "query")

    async def _checked_body(self, scope, receive) -> bytes:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_JSON_BODY:
            raise PayloadTooLarge(f"The body is larger than {MAX_JSON_BODY // (1024 * 1024)} MiB.")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_JSON_BODY:
                raise PayloadTooLarge(f"The body is larger than {MAX_JSON_BODY // (1024 * 1024)} MiB.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not body:
            return body  # FastAPI answers a missing body itself (422 naming it)
        check_media_type(headers.get("content-type", ""))
        if headers.get("content-encoding", "identity").strip().lower() != "identity":
            raise UnsupportedMediaType("Send the body without a Content-Encoding.",
                                       errors=[FieldError("content-encoding", "is not supported here")])
        check_depth(body)
        try:
            body.decode("utf-8")  # as JSON must be (RFC 8259); json.loads would fail with a bare 400
        except UnicodeDecodeError as exc:
            raise ValidationFailed("The body is not valid UTF-8 text.",
                                   errors=[FieldError("body", f"is not valid UTF-8 (byte {exc.start})")]) from None
        if b"\\u0000" in body:  # JSON carries NUL only escaped: a raw one is a syntax error
            try:
                fields = nul_fields(json.loads(body))
            except ValueError:
                fields = []  # not JSON: FastAPI answers that, naming the position
            if fields:
                raise _nul_refusal(fields, "body")
        return body


class _Disconnected(Exception):
    """The client went away before sending its whole body."""


def _replay(body: bytes, receive):
    """A receive that hands the route the body already read, then the server's own (a disconnect)."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
