"""Who is told when telemetry changed a practice's state, and what changed.

The worker calls every hook in ON_STATE_CHANGED inside the transaction that updated the state
(a processed batch, or a dead man's switch sweep), after the update, with the tenant scope set to
the whole MSP. So "state updated, rules evaluated" commits or rolls back as one: a crash between
the two cannot leave an alert unevaluated. Other domains register at import time, e.g. the alerts
engine's rule evaluation and readiness's recompute trigger:

    from services.core.telemetry.hooks import ON_STATE_CHANGED
    ON_STATE_CHANGED.append(evaluate_rules)

A hook receives a StateChange: every practice the batch touched, and which of them saw a change a
rule can tell apart from "more of the same" (rare events, agents back from silence, links whose
up/down state or rolling figures moved). ~99 % of traffic is link samples and heartbeats from
healthy agents; a hook that only cares about outcomes can skip the rest (alerts/evaluate.py).

A hook must be idempotent (a batch may be retried after a crash) and quick (it holds the batch's
row locks); slow work belongs in a procrastinate job deferred from the hook.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class LinkChange:
    """A sampled link whose up/down state or rolling figures moved in this batch (before → after).

    Figures are (loss_pct, latency_ms, jitter_ms); thresholds the link's own, in the same order
    (None when the link row is gone). `before_up`/`before` are None for a link seen the first time.
    """

    link_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID
    before_up: bool | None
    after_up: bool | None
    before: tuple[float | None, float | None, float | None]
    after: tuple[float | None, float | None, float | None]
    thresholds: tuple[float | None, float | None, float | None]
    known: bool = True  # False: the link had no state before this batch


@dataclass(frozen=True)
class AgentBack:
    """An agent whose dead man's switch mark (agent_state.silent_since) this batch lifted."""

    agent_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    hostname: str
    at: datetime


@dataclass
class StateChange:
    """What one batch (or sweep) changed, per practice.

    practices: every practice the batch touched (all of its events' practices).
    events: practices with a rare event (backup run, restore test, failover, ping, unknown type) —
        anything other than a link sample or heartbeat.
    agents: practices with an agent that was, or may have been, silent before this batch: its
        silent mark was lifted, or its previous heartbeat came more than its interval plus the
        smallest grace a policy may set before this one (or it had none).
    links: the sampled links whose state or rolling figures moved.
    everything: no description was given (the dead man's switch, callers outside the batch path):
        every practice in `practices` counts as changed in every way.
    """

    practices: set[uuid.UUID]
    events: set[uuid.UUID] = field(default_factory=set)
    agents: set[uuid.UUID] = field(default_factory=set)
    links: list[LinkChange] = field(default_factory=list)
    back: list[AgentBack] = field(default_factory=list)
    everything: bool = False
    # The MSP's configuration version read when the batch took the MSP (services/core/
    # config_version.py): hooks may reuse configuration they cached at that version. None = unknown.
    config_version: int | None = None
    # Hooks that derive the same thing from the change (alerts and readiness both ask which
    # practices' rule outcomes may differ) share it here, once per batch.
    memo: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, practice_ids: Iterable[uuid.UUID]) -> StateChange:
        """Practices that changed in unknown ways: hooks treat them as changed in every way."""
        return cls(set(practice_ids), everything=True)

    def link_state_flipped(self) -> set[uuid.UUID]:
        return {c.practice_id for c in self.links if not c.known or c.before_up != c.after_up}


StateChangedHook = Callable[[AsyncSession, uuid.UUID, StateChange, datetime], Awaitable[None]]

ON_STATE_CHANGED: list[StateChangedHook] = []


async def state_changed(session: AsyncSession, msp_id: uuid.UUID, change: StateChange | Iterable[uuid.UUID],
                        now: datetime) -> None:
    """Call every registered hook, in registration order. A bare set of practices means "changed
    in unknown ways" (StateChange.of)."""
    if not isinstance(change, StateChange):
        change = StateChange.of(change)
    if not change.practices:
        return
    for hook in list(ON_STATE_CHANGED):
        await hook(session, msp_id, change, now)
