"""What the stored readiness judged about a subject, for the screens that show that subject.

A screen that shows a backup job (the Backups view, the practice dashboard) reads the finding the
rules made and readiness stored in `readiness_current.findings`, rather than judging the telemetry
again: one judgement on every screen (docs/decisions/0010-every-required-copy-is-judged.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts.rules import STALE_SUCCESS
from services.core.readiness.models import ReadinessCurrent


def subjects_judged(findings: Iterable[Mapping[str, Any]], rule_id: str, subject_type: str) -> set[str]:
    """The subject ids of the stored findings of one rule."""
    return {f["subject_id"] for f in findings if f.get("rule_id") == rule_id and f.get("subject_type") == subject_type}


async def stored_findings(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> list[Mapping[str, Any]]:
    """The practice's stored findings; none before its first scoring."""
    found = await session.scalar(select(ReadinessCurrent.findings).where(
        ReadinessCurrent.msp_id == msp_id, ReadinessCurrent.practice_id == practice_id))
    return found or []


def stale_jobs(findings: Iterable[Mapping[str, Any]]) -> set[str]:
    """Backup jobs whose newest success did not move the restore point (backup.stale_success)."""
    return subjects_judged(findings, STALE_SUCCESS, "backup_job")
