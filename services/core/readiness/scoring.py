"""The score: 100 minus the points each finding costs, every lost point charged to one finding.

Pure functions (no database), so the arithmetic of docs/readiness.md can be read and tested alone.

1. Findings that state the same fact about the same subject as another source's finding are
   folded into it (SAME_FACT): they are listed, cost nothing, and name the finding they count under.
2. Within a component, findings are charged most severe first (then by rule id and subject, so the
   order is stable): each costs its severity's deduction, or whatever is left of the component's
   points when that is less. A finding charged nothing because the component is exhausted says so.
3. score = 100 − the sum of every finding's points; status from services/core/readiness/weights.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from services.core.findings import Component, Finding, Severity
from services.core.readiness.weights import Weights, status_for

SEVERITY_ORDER = {Severity.critical: 0, Severity.high: 1, Severity.medium: 2, Severity.low: 3}

# (rule, folded into rule): the written-inventory finding restates a live rule about the same site.
# The same pairs as the alerts engine's SAME_AS_LIVE, so the incident and the lost points name the
# same finding.
SAME_FACT: dict[str, str] = {
    "inventory.single_link": "link.single_circuit",
    # A flapping link is down half the time: the flapping finding carries the cost whether it is down
    # at this moment or not, so the score does not follow each drop (docs/decisions/0013-one-judgement.md).
    "link.down": "link.flapping",
}


@dataclass(frozen=True)
class Sourced:
    """A finding and the source that produced it (inventory, plan, live_rules …)."""

    finding: Finding
    source: str


@dataclass
class Result:
    score: int
    status: str
    components: dict[str, dict[str, Any]]
    findings: list[dict[str, Any]]
    weights: dict[str, Any]
    inputs_hash: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lost(self) -> dict[str, int]:
        return {name: c["lost"] for name, c in self.components.items()}


def _order(s: Sourced) -> tuple:
    f = s.finding
    return (SEVERITY_ORDER[f.severity], f.rule_id, f.subject_type, f.subject_id, s.source)


def _dedupe(findings: list[Sourced]) -> list[Sourced]:
    """One finding per (rule, subject): two sources reporting the very same key count once."""
    seen: dict[tuple[str, str, str], Sourced] = {}
    for s in sorted(findings, key=_order):
        seen.setdefault(s.finding.key, s)
    return list(seen.values())


def score(findings: list[Sourced], weights: Weights,
          conditions: dict[tuple[str, str, str], dict[str, Any]] | None = None) -> Result:
    """conditions: how each finding's condition stands (its incident, since when, clearing,
    suppressed), by (rule, subject type, subject); listed with the finding as `condition`."""
    conditions = conditions or {}
    findings = _dedupe(findings)
    present = {(s.finding.rule_id, s.finding.subject_type, s.finding.subject_id) for s in findings}
    remaining = dict(weights.components)
    lost = {c: 0 for c in Component}
    count = {c: 0 for c in Component}
    out: list[dict[str, Any]] = []
    for s in sorted(findings, key=_order):
        f = s.finding
        deduction = weights.deductions[f.severity]
        entry = {**f.as_dict(), "source": s.source, "deduction": deduction, "points": 0, "counted_under": None, "capped": False,
                 "condition": conditions.get(f.key)}
        folded_into = SAME_FACT.get(f.rule_id)
        count[f.component] += 1
        if folded_into and (folded_into, f.subject_type, f.subject_id) in present:
            entry["counted_under"] = f"{folded_into}:{f.subject_type}:{f.subject_id}"
        else:
            points = min(deduction, remaining[f.component])
            entry["points"], entry["capped"] = points, points < deduction
            remaining[f.component] -= points
            lost[f.component] += points
        out.append(entry)
    total = 100 - sum(lost.values())
    components = {c.value: {"weight": weights.components[c], "lost": lost[c], "score": weights.components[c] - lost[c],
                            "findings": count[c]} for c in Component}
    result = Result(total, status_for(total), components, out, weights.as_dict())
    result.inputs_hash = inputs_hash(result)
    return result


def inputs_hash(result: Result) -> str:
    """A digest of what the score was computed from: unchanged inputs, unchanged hash."""
    canonical = json.dumps({"weights": result.weights, "findings": result.findings}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
