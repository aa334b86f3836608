"""Where findings come from: one registered source per domain.

A source takes a batch of practices of one MSP and returns each practice's findings. Domains
register their own (the exercises domain, for example, would add its overdue-exercise findings):

    from services.core.readiness.sources import per_practice, register_source
    register_source("exercises", per_practice(exercise_findings))

The built-in sources are the inventory checks, the plan checks and the live rules evaluated over
the telemetry state. Each is looked up when first needed; a domain whose module is not installed
is reported as unavailable in the readiness result instead of silently scoring as perfect.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.findings import Finding

Source = Callable[[AsyncSession, uuid.UUID, Sequence[uuid.UUID], datetime], Awaitable[dict[uuid.UUID, list[Finding]]]]
PracticeCheck = Callable[[AsyncSession, uuid.UUID, uuid.UUID, datetime], Awaitable[list[Finding]]]


@dataclass(frozen=True)
class SourceSpec:
    name: str
    fn: Source | None
    unavailable: str = ""  # why the source could not be loaded


_REGISTERED: dict[str, Source] = {}

# name → (module, attribute, kind): kind "practice" for per-practice checks, "batch" for sources.
BUILTIN: dict[str, tuple[str, str, str]] = {
    "inventory": ("services.core.inventory.checks", "inventory_findings_many", "batch"),
    "plan": ("services.core.plans.checks", "plan_findings", "practice"),
    "live_rules": ("services.core.readiness.live_rules", "open_conditions", "batch"),
}


def register_source(name: str, fn: Source) -> None:
    """Add (or replace) a finding source; the next computation uses it."""
    _REGISTERED[name] = fn


def per_practice(check: PracticeCheck) -> Source:
    """Adapt a per-practice check (inventory_findings, plan_findings …) to the batch shape."""

    async def source(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID],
                     now: datetime) -> dict[uuid.UUID, list[Finding]]:
        return {pid: list(await check(session, msp_id, pid, now)) for pid in practice_ids}

    source.__name__ = getattr(check, "__name__", "source")
    return source


def _builtin(name: str) -> SourceSpec:
    module_name, attr, kind = BUILTIN[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Another Seawall domain not installed is "unavailable"; a missing library is a bug and raises.
        if exc.name and exc.name.startswith("services."):
            return SourceSpec(name, None, f"{module_name} is not available")
        raise
    fn = getattr(module, attr, None)
    if fn is None:
        return SourceSpec(name, None, f"{module_name}.{attr} is not available")
    return SourceSpec(name, per_practice(fn) if kind == "practice" else fn)


def sources() -> list[SourceSpec]:
    specs = [_builtin(name) for name in BUILTIN if name not in _REGISTERED]
    specs += [SourceSpec(name, fn) for name, fn in _REGISTERED.items()]
    return specs
