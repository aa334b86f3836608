"""Compare two versions of a plan, section by section (matched by key, not by position)."""

from __future__ import annotations

import difflib
from typing import Any


def _body_diff(before: str, after: str, label_a: str, label_b: str) -> str:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), fromfile=label_a, tofile=label_b, lineterm="")
    return "\n".join(lines)


def diff_versions(a: list[dict[str, Any]], b: list[dict[str, Any]], label_a: str = "a", label_b: str = "b") -> list[dict[str, Any]]:
    """Every section of either version: unchanged, changed (title, body or required flag), added or removed.

    Ordered as in the newer version (b), with sections only in a placed after their predecessor in a.
    """
    a_by_key = {s["key"]: s for s in a}
    b_keys = {s["key"] for s in b}
    out: list[dict[str, Any]] = []
    for s in b:
        old = a_by_key.get(s["key"])
        if old is None:
            out.append({"key": s["key"], "title": s["title"], "status": "added", "title_after": s["title"],
                        "diff": _body_diff("", s.get("body", ""), f"{label_a}/{s['key']}", f"{label_b}/{s['key']}")})
            continue
        same = (old["title"], old.get("body", ""), old.get("required", True)) == (s["title"], s.get("body", ""), s.get("required", True))
        row: dict[str, Any] = {"key": s["key"], "title": s["title"], "status": "unchanged" if same else "changed"}
        if not same:
            row.update(title_before=old["title"], title_after=s["title"],
                       diff=_body_diff(old.get("body", ""), s.get("body", ""), f"{label_a}/{s['key']}", f"{label_b}/{s['key']}"))
        out.append(row)
    for i, s in enumerate(a):
        if s["key"] in b_keys:
            continue
        removed = {"key": s["key"], "title": s["title"], "status": "removed", "title_before": s["title"],
                   "diff": _body_diff(s.get("body", ""), "", f"{label_a}/{s['key']}", f"{label_b}/{s['key']}")}
        # After the nearest preceding section of a that is still listed, or first.
        anchor = next((a[j]["key"] for j in range(i - 1, -1, -1) if any(r["key"] == a[j]["key"] for r in out)), None)
        pos = next((k + 1 for k, r in enumerate(out) if r["key"] == anchor), 0) if anchor else 0
        out.insert(pos, removed)
    return out
