"""Plan sections as stored (JSONB list of {key, title, guidance, required, body}) and as shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.core.errors import Conflict, FieldError
from services.core.plans.templates import is_incomplete

FIELDS = ("key", "title", "guidance", "required", "body")


def normalise(sections: Iterable[Any], field: str = "sections") -> list[dict[str, Any]]:
    """Plain dicts in a fixed shape, with unique keys (a duplicate is a conflict naming its position)."""
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    errors: list[FieldError] = []
    for i, s in enumerate(sections):
        d = s.model_dump() if hasattr(s, "model_dump") else dict(s)
        row = {"key": d["key"], "title": d["title"], "guidance": d.get("guidance", ""), "required": bool(d.get("required", True)),
               "body": d.get("body", "")}
        if row["key"] in seen:
            errors.append(FieldError(f"{field}.{i}.key", f"duplicates the key of section {seen[row['key']]}"))
        seen.setdefault(row["key"], i)
        out.append(row)
    if errors:
        # Like any other name already taken (practice, site…): 409, naming the field.
        raise Conflict("Each section needs its own key.", errors=errors)
    return out


def shown(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**{k: s.get(k) for k in FIELDS}, "complete": not is_incomplete(s)} for s in sections]


def by_key(sections: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in sections}
