"""Achieved RPO and RTO per system, against the targets the plan promises.

- Achieved RPO, per copy: now − the newest restore point of a successful run (verified, when the
  job verifies) of any backup job protecting the system; on-site jobs give the on-site copy,
  off-site and cloud jobs the off-site copy. Compliant when every copy the system requires is
  within its target RPO (a required copy that never ran is a breach).
- Achieved RTO: the duration of the newest restore test of the system or of a job protecting it.
  If that newest test failed, recovery is not demonstrated: achieved RTO is None and not compliant.
  Never tested: None, and compliance unknown (None).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.telemetry.schemas_state import SystemRecoveryOut

_RECOVERY = text("""
WITH jobs AS (
  SELECT bjs.system_id, j.id AS job_id, j.location IN ('offsite', 'cloud') AS offsite, s.last_restore_point_at AS point
    FROM backup_job_system bjs
    JOIN backup_job j ON j.msp_id = bjs.msp_id AND j.id = bjs.backup_job_id
    LEFT JOIN backup_job_state s ON s.msp_id = j.msp_id AND s.backup_job_id = j.id
   WHERE bjs.msp_id = :m AND bjs.practice_id = :p)
SELECT sys.id AS system_id, sys.name, sys.tier, sys.rpo_minutes AS target_rpo_minutes, sys.rto_minutes AS target_rto_minutes,
       sys.requires_onsite_copy, sys.requires_offsite_copy,
       (SELECT count(*) FROM jobs WHERE jobs.system_id = sys.id AND NOT jobs.offsite) AS onsite_jobs,
       (SELECT count(*) FROM jobs WHERE jobs.system_id = sys.id AND jobs.offsite) AS offsite_jobs,
       (SELECT max(point) FROM jobs WHERE jobs.system_id = sys.id AND NOT jobs.offsite) AS onsite_restore_point_at,
       (SELECT max(point) FROM jobs WHERE jobs.system_id = sys.id AND jobs.offsite) AS offsite_restore_point_at,
       rt.finished_at AS last_restore_test_at, rt.success AS last_restore_test_success, rt.duration_seconds
  FROM system sys
  LEFT JOIN LATERAL (
    SELECT t.finished_at, t.success, t.duration_seconds FROM restore_test t
     WHERE t.msp_id = sys.msp_id AND t.practice_id = sys.practice_id
       AND (t.system_id = sys.id OR t.backup_job_id IN (SELECT job_id FROM jobs WHERE jobs.system_id = sys.id))
     ORDER BY t.finished_at DESC, t.id DESC LIMIT 1) rt ON true
 WHERE sys.msp_id = :m AND sys.practice_id = :p
 ORDER BY sys.tier, sys.name
""")


def _minutes_since(now: datetime, point: datetime | None) -> float | None:
    return None if point is None else max(0.0, (now - point).total_seconds() / 60)


async def system_recovery(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, now: datetime) -> list[SystemRecoveryOut]:
    out = []
    for r in (await session.execute(_RECOVERY, {"m": msp_id, "p": practice_id})).mappings():
        onsite = _minutes_since(now, r["onsite_restore_point_at"])
        offsite = _minutes_since(now, r["offsite_restore_point_at"])
        target = r["target_rpo_minutes"]
        rpo_ok = all(achieved is not None and achieved <= target
                     for required, achieved in ((r["requires_onsite_copy"], onsite), (r["requires_offsite_copy"], offsite))
                     if required)
        tested = r["last_restore_test_at"] is not None
        rto = r["duration_seconds"] / 60 if tested and r["last_restore_test_success"] else None
        rto_ok = None if not tested else (rto is not None and rto <= r["target_rto_minutes"])
        out.append(SystemRecoveryOut(
            **{k: r[k] for k in ("system_id", "name", "tier", "target_rpo_minutes", "target_rto_minutes", "requires_onsite_copy",
                                 "requires_offsite_copy", "onsite_jobs", "offsite_jobs", "onsite_restore_point_at",
                                 "offsite_restore_point_at", "last_restore_test_at", "last_restore_test_success")},
            achieved_onsite_rpo_minutes=onsite, achieved_offsite_rpo_minutes=offsite, rpo_compliant=rpo_ok,
            achieved_rto_minutes=rto, rto_compliant=rto_ok))
    return out
