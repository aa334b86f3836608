"""The live rules (services/core/alerts) as readiness sees them: the practice's open incidents.

An incident is the condition itself (docs/decisions/0013-one-judgement.md): it starts when a rule
first fires for a subject and ends when its incident resolves, after the policy's hysteresis. So a
live finding costs points exactly while its incident is open — acknowledged, clearing or suppressed
by a maintenance window alike — and the measured value is the one the incident shows. The alerts
engine decides which rules fire (the MSP's policy, each site's thresholds); readiness never
evaluates a rule itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import config as alert_config
from services.core.alerts import maintenance, policy
from services.core.alerts.models import Incident, MaintenanceWindow
from services.core.alerts.relevance import outcomes_may_change  # noqa: F401  (readiness's telemetry hook)
from services.core.alerts.rules import catalogue
from services.core.findings import Component, Finding, Severity
from services.core.readiness.service import KEEP_CONFIG


@dataclass(frozen=True)
class Conditions:
    """The open incidents of some practices: the live findings, and how each condition stands."""

    live: dict[uuid.UUID, list[Finding]]
    # (rule, subject type, subject) → what readiness shows about its condition (incident, since,
    # clearing, suppressed), for live and written findings alike.
    state: dict[uuid.UUID, dict[tuple[str, str, str], dict[str, Any]]]


async def open_conditions(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID],
                          now: datetime) -> Conditions:
    ids = list(practice_ids)
    live_rules = {r.id for r in catalogue()}
    rows = (await session.scalars(select(Incident).where(
        Incident.msp_id == msp_id, Incident.practice_id.in_(ids), Incident.resolved_at.is_(None))
        .order_by(Incident.practice_id, Incident.opened_at, Incident.id))).all()
    windows = await _windows(session, msp_id, rows)
    live: dict[uuid.UUID, list[Finding]] = {pid: [] for pid in ids}
    state: dict[uuid.UUID, dict[tuple[str, str, str], dict[str, Any]]] = {pid: {} for pid in ids}
    for inc in rows:
        key = (inc.rule_id, inc.subject_type, inc.subject_id)
        window = windows.get(inc.maintenance_window_id) if inc.maintenance_window_id else None
        state[inc.practice_id][key] = _state(inc, window, now)
        if inc.rule_id in live_rules:
            live[inc.practice_id].append(Finding(
                inc.rule_id, Component(inc.component), Severity(inc.severity), inc.subject_type, inc.subject_id,
                inc.title, inc.remediation, inc.hipaa, inc.measured, inc.target, inc.judged_run_finished_at))
    return Conditions(live, state)


async def _windows(session: AsyncSession, msp_id: uuid.UUID,
                   incidents: Iterable[Incident]) -> dict[uuid.UUID, MaintenanceWindow]:
    """The maintenance windows these incidents are suppressed by."""
    ids = {i.maintenance_window_id for i in incidents if i.maintenance_window_id}
    if not ids:
        return {}
    return {w.id: w for w in await session.scalars(select(MaintenanceWindow).where(
        MaintenanceWindow.msp_id == msp_id, MaintenanceWindow.id.in_(ids)))}


def _state(inc: Incident, window: MaintenanceWindow | None, now: datetime) -> dict[str, Any]:
    until = None
    if window is not None and (occ := maintenance.occurrence(window, now)):
        until = occ[1].isoformat()
    return {"incident_id": str(inc.id), "since": inc.opened_at.isoformat(),
            "clearing_since": inc.clear_since.isoformat() if inc.clear_since else None,
            "suppressed_by": window.name if window is not None else None, "suppressed_until": until}


_WORDS = ("title", "remediation", "measured", "target")


async def with_current_words(session: AsyncSession, msp_id: uuid.UUID, findings: list[dict[str, Any]],
                             now: datetime) -> list[dict[str, Any]]:
    """The stored findings with each condition's words and state as its incident has them now.

    A score moves only when a condition starts or ends, so it is stored then; the words ("last seen
    13 min ago") and clearing change in between without moving a point, and are read from the
    incident — the same object — whenever readiness is shown (docs/decisions/0013-one-judgement.md)."""
    ids = {f["condition"]["incident_id"] for f in findings if f.get("condition")}
    if not ids:
        return findings
    rows = {str(i.id): i for i in (await session.scalars(select(Incident).where(
        Incident.msp_id == msp_id, Incident.id.in_([uuid.UUID(i) for i in ids]), Incident.resolved_at.is_(None)))).all()}
    windows = await _windows(session, msp_id, rows.values())
    out = []
    for f in findings:
        inc = rows.get(f["condition"]["incident_id"]) if f.get("condition") else None
        if inc is None:  # not a condition, or resolved a moment ago (its rescoring is on its way)
            out.append(f)
            continue
        words = {k: getattr(inc, k) for k in _WORDS}
        if inc.judged_run_finished_at is not None:
            words["judged_run_finished_at"] = inc.judged_run_finished_at.isoformat()
        window = windows.get(inc.maintenance_window_id) if inc.maintenance_window_id else None
        out.append({**f, **words, "condition": _state(inc, window, now)})
    return out


async def evaluate(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID], now: datetime,
                   written: dict[uuid.UUID, list[Finding]]) -> None:
    """Bring these practices' incidents in line with the rules and with these written findings."""
    from services.core.alerts.evaluate import evaluate_practices

    config = await _kept(session, msp_id) if session.info.get(KEEP_CONFIG) else None
    # gather.load reads active practices only, as the minute's pass evaluates them: an inactive
    # practice gets no incidents from readiness's hourly computation either.
    await evaluate_practices(session, msp_id, practice_ids, now, written=written, config=config, rescore=False)


async def enabled_filter(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID]):
    """Whether a rule (plan and inventory ids included) is enabled for a practice under the MSP's policy."""
    view = await _policy(session, msp_id, list(practice_ids))

    def enabled(practice_id: uuid.UUID, rule_id: str) -> bool:
        return view.effective(rule_id, practice_id).enabled

    return enabled


async def _policy(session: AsyncSession, msp_id: uuid.UUID, practice_ids: list[uuid.UUID]) -> policy.PolicyView:
    """The worker's kept copy in a rescoring pass (service.KEEP_CONFIG: one version read per
    transaction), else the policy read now."""
    if not session.info.get(KEEP_CONFIG):
        return await policy.load(session, msp_id, practice_ids)
    return (await _kept(session, msp_id)).view


async def _kept(session: AsyncSession, msp_id: uuid.UUID) -> alert_config.AlertConfig:
    """The alerting configuration this process keeps, read once per rescoring transaction."""
    key = (_KEPT, msp_id)
    if (kept := session.info.get(key)) is None:
        kept = session.info[key] = await alert_config.current_in(session, msp_id)
    return kept


_KEPT = "readiness.live_rules.policy"
