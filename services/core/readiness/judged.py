"""What the stored readiness judged about a subject, for the screens that show that subject.

A screen that shows a backup job (the Backups view, the practice dashboard) reads the finding the
rules made and readiness stored in `readiness_current.findings`, rather than judging the telemetry
again: one judgement on every screen (docs/decisions/0010-every-required-copy-is-judged.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts.rules import STALE_SUCCESS
from services.core.base import utcnow
from services.core.readiness.models import ReadinessCurrent


def subjects_judged(findings: Iterable[Mapping[str, Any]], rule_id: str, subject_type: str) -> set[str]:
    """The subject ids of the stored findings of one rule."""
    return {f["subject_id"] for f in findings if f.get("rule_id") == rule_id and f.get("subject_type") == subject_type}


async def stored_findings(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> list[Mapping[str, Any]]:
    """The practice's stored findings, each condition as its incident has it now (the run a stale
    success judged moves without moving a point: live_rules.with_current_words); none before its
    first scoring."""
    from services.core.readiness.live_rules import with_current_words

    found = await session.scalar(select(ReadinessCurrent.findings).where(
        ReadinessCurrent.msp_id == msp_id, ReadinessCurrent.practice_id == practice_id))
    return list(await with_current_words(session, msp_id, found or [], utcnow()))


def stale_runs(findings: Iterable[Mapping[str, Any]]) -> dict[str, datetime | None]:
    """Backup job id → the finish time of the success readiness judged stale (backup.stale_success).

    The finding names the run it judged: until the next rescoring the finding outlives that run's
    place as the job's newest, and a good run arriving meanwhile must not take its label. None: a
    finding stored before findings named their run (it judged the job's newest success then).
    """
    out: dict[str, datetime | None] = {}
    for f in findings:
        if f.get("rule_id") == STALE_SUCCESS and f.get("subject_type") == "backup_job":
            at = f.get("judged_run_finished_at")
            out[f["subject_id"]] = datetime.fromisoformat(at) if at else None
    return out


def run_is_stale(stale: Mapping[str, datetime | None], job_id: uuid.UUID | str, status: str | None,
                 finished_at: datetime | None) -> bool:
    """Whether this run of the job is the success readiness judged to have saved nothing new: the
    one definition the Backups view's state, the dashboard and the monthly report count by."""
    judged = stale.get(str(job_id))
    return status == "success" and judged is not None and judged == finished_at


def newest_success_is_stale(stale: Mapping[str, datetime | None], job_id: uuid.UUID | str,
                            last_success_at: datetime | None) -> bool:
    """Whether the job's newest success (its state's last_success_at) is the run judged stale; a
    finding that names no run (stored before they did, until the next rescoring) judged the newest."""
    if str(job_id) not in stale:
        return False
    judged = stale[str(job_id)]
    return last_success_at is not None and (judged is None or judged == last_success_at)
