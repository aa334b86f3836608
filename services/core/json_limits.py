"""What a JSON request body may be, checked before any parser sees it (docs/decisions/0003-json-request-limits.md).

Python's json module recurses once per nested array or object and raises RecursionError (a 500)
around a thousand levels deep; pydantic's parser stops at its own fixed limit. One bound, far
above what any request of the API nests (an ingest batch nests 3 levels, an alert policy 4), is
checked here by a scan that never recurses, for every JSON entry point: the ingest hot path
(telemetry/ingest.py) and the FastAPI routes (services/api/json_bodies.py).
"""

from __future__ import annotations

from array import array
from itertools import accumulate
from typing import Any

from services.core.errors import FieldError, UnsupportedMediaType, ValidationFailed

MAX_DEPTH = 64
# A plan of 40 sections of 54,200 characters, each up to 3 bytes of UTF-8, is about 6.5 MB.
MAX_JSON_BODY = 8 * 1024 * 1024

_NOT_MARKS = bytes(c for c in range(256) if c not in b'[]{}"')
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_PEEL_BELOW = 64 * 1024  # past this, peeling rounds cost more than one exact pass


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest more than `limit` levels deep in a JSON text (brackets in strings do not count).

    C-speed byte operations only: a loop per byte would cost more than parsing the batch. Up to a
    text's first syntax error it counts exactly what a parser descends into, so invalid JSON
    cannot hide depth from it; past the first error a parser stops anyway.
    """
    if len(body) < 4096 and body.count(b"[") + body.count(b"{") <= limit:
        return False  # too few brackets to nest that deep: a single event stops here
    if b"\\" in body:
        # Escapes pair left to right inside strings: drop escaped backslashes, then escaped quotes.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = body.translate(None, _NOT_MARKS)
    if marks.count(b"[") + marks.count(b"{") <= limit:
        return False
    marks = marks.replace(b'""', b"")  # strings without brackets vanish
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])  # what is left between quotes was inside a string
    if len(marks) <= _PEEL_BELOW:
        # Each round peels one or two levels of innermost pairs: empty after limit // 2 rounds
        # means no deeper than the limit. Cheaper than adding up a batch's brackets one by one.
        peeled = marks
        for _ in range(limit // 2):
            peeled = peeled.replace(b"{}", b"").replace(b"[]", b"")
            if not peeled:
                return False
    return max(accumulate(array("b", marks.translate(_STEPS))), default=0) > limit


def check_media_type(content_type: str) -> None:
    """Refuse a body not declared as JSON: application/json or application/*+json, any parameters (415)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType("Send the body as JSON: Content-Type: application/json.",
                                   errors=[FieldError("content-type", f"'{media or 'none'}' is not application/json")])


def check_depth(body: bytes) -> None:
    """Refuse a body nested deeper than MAX_DEPTH, before it is parsed (422, errors[] names the body)."""
    if too_deep(body):
        raise ValidationFailed(f"Nothing was accepted: the body nests arrays and objects more than {MAX_DEPTH} levels deep.",
                               errors=[FieldError("body", f"nests more than {MAX_DEPTH} levels deep")])


def nul_fields(value: Any, path: str = "") -> list[str]:
    """The dotted paths (as errors[].field) of the strings, or of the objects whose keys, hold a NUL character."""
    found: list[str] = []
    if isinstance(value, str):
        if "\x00" in value:
            found.append(path or "body")
    elif isinstance(value, dict):
        if any("\x00" in key for key in value):
            found.append(path or "body")
        for key, item in value.items():
            found += nul_fields(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nul_fields(item, f"{path}.{index}" if path else str(index))
    return found
