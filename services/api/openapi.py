"""The OpenAPI document, with every error response documented as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "additionalProperties": True,
            },
        },
    },
    "additionalProperties": True,
}

ERRORS = {
    "400": "Bad request", "401": "Sign-in required", "403": "Not allowed", "404": "Not found", "409": "Conflict",
    "413": "Request body too large", "415": "Unsupported media type", "422": "Some fields are not valid",
    "429": "Too many requests", "500": "Something went wrong on our side", "503": "Unavailable",
}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


# Text PostgreSQL cannot store: the API refuses it (422), and the document says so.
NO_NUL = "^[^\\x00]*$"


def _refuse_nul(node: Any) -> None:
    """Give every free-text string schema a pattern excluding NUL characters."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not ({"pattern", "format", "enum", "const"} & node.keys()):
            node["pattern"] = NO_NUL
        for value in node.values():
            _refuse_nul(value)
    elif isinstance(node, list):
        for value in node:
            _refuse_nul(value)


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for schemas in ("HTTPValidationError", "ValidationError"):
            spec["components"]["schemas"].pop(schemas, None)
        for methods in spec.get("paths", {}).values():
            for op in methods.values():
                responses = op.setdefault("responses", {})
                for code, description in ERRORS.items():
                    existing = responses.get(code)
                    # Routes that answer an error in another format (the Healthchecks-compatible pings) say so themselves.
                    if existing and "application/problem+json" not in existing.get("content", {}) and code != "422" and existing.get("content"):
                        continue
                    responses[code] = _problem_response(existing.get("description", description) if existing else description)
        # Request schemas only: a problem response may echo what the caller sent, NUL included.
        _refuse_nul({k: v for k, v in spec["components"]["schemas"].items() if k != "Problem"})
        for methods in spec.get("paths", {}).values():
            for op in methods.values():
                _refuse_nul(op.get("parameters", []))
                _refuse_nul(op.get("requestBody", {}))
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
