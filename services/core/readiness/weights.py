"""How many points each part of readiness is worth, and what each finding costs.

The defaults below are documented in docs/readiness.md (keep the two in step). An MSP may store its
own in `readiness_weights`; the score of every practice of that MSP then uses them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.findings import Component, Severity
from services.core.readiness.models import ReadinessWeights

READY_AT = 80  # ready ≥ 80
AT_RISK_AT = 50  # at risk ≥ 50, not ready below

DEFAULT_COMPONENT_POINTS: dict[Component, int] = {
    Component.plan: 20,
    Component.backups: 30,
    Component.connectivity: 20,
    Component.testing: 15,
    Component.people: 15,
}
DEFAULT_SEVERITY_POINTS: dict[Severity, int] = {
    Severity.critical: 20,
    Severity.high: 10,
    Severity.medium: 5,
    Severity.low: 2,
}


@dataclass(frozen=True)
class Weights:
    components: dict[Component, int]
    deductions: dict[Severity, int]
    source: str = "default"  # default | msp

    def as_dict(self) -> dict:
        return {"components": {c.value: p for c, p in self.components.items()},
                "deductions": {s.value: p for s, p in self.deductions.items()}, "source": self.source}


DEFAULT_WEIGHTS = Weights(dict(DEFAULT_COMPONENT_POINTS), dict(DEFAULT_SEVERITY_POINTS))
assert sum(DEFAULT_COMPONENT_POINTS.values()) == 100


def status_for(score: int) -> str:
    if score >= READY_AT:
        return "ready"
    if score >= AT_RISK_AT:
        return "at_risk"
    return "not_ready"


def from_row(row: ReadinessWeights | None) -> Weights:
    if row is None:
        return DEFAULT_WEIGHTS
    return Weights({c: getattr(row, f"{c.value}_points") for c in Component},
                   {s: getattr(row, f"{s.value}_points") for s in Severity}, "msp")


async def load_weights(session: AsyncSession, msp_id: uuid.UUID) -> Weights:
    return from_row(await session.scalar(select(ReadinessWeights).where(ReadinessWeights.msp_id == msp_id)))


# Any str keys, Literal ones included (the schema's): Mapping is invariant in its key, so Mapping[str, int]
# would refuse a dict[Literal[...], int].
_Component = TypeVar("_Component", bound=str)
_Severity = TypeVar("_Severity", bound=str)


def columns_of(components: Mapping[_Component, int], deductions: Mapping[_Severity, int]) -> dict[str, int]:
    """The readiness_weights columns for weights given by name (validated by the schema)."""
    return {**{f"{k}_points": v for k, v in components.items()}, **{f"{k}_points": v for k, v in deductions.items()}}

