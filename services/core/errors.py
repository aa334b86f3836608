"""Domain errors: a status, a stable code and words for the person who sees them.

Raised by services, mapped once to RFC 9457 problem+json by services/api/problems.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str
    extra: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, **(self.extra or {})}


class DomainError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Sign-in required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class ValidationFailed(DomainError):
    status, code, title = 422, "validation-failed", "Some fields are not valid"


class RateLimited(DomainError):
    status, code, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None):
        super().__init__(detail or f"Too many requests; try again in {retry_after} seconds.", headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


_VALIDATOR_PREFIXES = ("Value error, ", "Assertion failed, ")


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic error's message as people read it: a validator's own sentence without the
    "Value error, " that pydantic puts before it."""
    message = str(error.get("msg", ""))
    for prefix in _VALIDATOR_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix):]
    return message
