"""Achieved RPO and RTO per system, against the targets the plan promises — the one definition.

The API and the practice dashboard (`system_recovery` below) and the alert rules behind incidents
and readiness findings (services/core/alerts/gather.py fills the facts with `NEWEST_TESTS`,
services/core/alerts/rules_live.py judges with the functions below) use this module, so a
system's achieved RPO/RTO on the dashboard is always the number its incidents and lost points
were computed from. The definitions follow the product spec (SPEC.md §3):

- Achieved RPO, per copy: now − the newest restore point of a successful run (verified, when the
  job verifies: `backup_job_state.last_restore_point_at` keeps exactly that) of any backup job
  protecting the system; on-site jobs give the on-site copy, off-site and cloud jobs the off-site
  copy. A copy is within target when its achieved RPO ≤ the target RPO; a copy that never produced
  a restore point is not. Compliant when every copy the system requires is within target (a
  required copy without any job is a breach too).
- Achieved RTO: the duration of the system's *newest* restore test, made on the system itself or
  on a job protecting it — not of its newest *successful* one. The spec defines the achieved RTO by
  the newest test, and a failed test is the most recent evidence there is: if the last attempt to
  restore failed, an older success does not demonstrate that the system can be recovered today.
  So a failed newest test means achieved RTO None and not compliant (the rules raise
  testing.rto_above_target for it). Never tested: None, and compliance unknown (None).
  (The spec also counts an exercise step's measured recovery time; exercises are not recorded yet.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.inventory.copies import OFFSITE, OFFSITE_SQL, ONSITE, required_copies
from services.core.telemetry.schemas_state import SystemRecoveryOut

# The newest restore test per system of the given practices, on the system itself or on a job
# protecting it. Each system and each job link walks its (msp_id, system or job, finished_at)
# index from the newest end with LIMIT 1 — the alert evaluation runs this inside every telemetry
# batch, so it must never scan the test history (an OR of both paths defeated both indexes) —
# and the practices' job links are read once: no index leads with backup_job_system.system_id, so
# a per-system lookup of its jobs read all the MSP's links each time (~0.8 ms per system).
# Ties on finished_at go to the greater id, so every reader picks the same test. The newest
# successful test (the recency of testing.no_restore_test) is a scalar subquery in the CASE's
# ELSE branch: it runs only for a system whose newest test failed.
NEWEST_TESTS = text("""
WITH links AS (
  SELECT system_id, backup_job_id FROM backup_job_system WHERE msp_id = :msp AND practice_id = ANY(:practices)),
candidates AS (
  SELECT s.id AS system_id, d.finished_at, d.success, d.duration_seconds, d.id
  FROM system s CROSS JOIN LATERAL (
    SELECT finished_at, success, duration_seconds, id FROM restore_test
    WHERE msp_id = s.msp_id AND system_id = s.id ORDER BY finished_at DESC, id DESC LIMIT 1) d
  WHERE s.msp_id = :msp AND s.practice_id = ANY(:practices)
  UNION ALL
  SELECT l.system_id, j.finished_at, j.success, j.duration_seconds, j.id
  FROM links l CROSS JOIN LATERAL (
    SELECT finished_at, success, duration_seconds, id FROM restore_test
    WHERE msp_id = :msp AND backup_job_id = l.backup_job_id ORDER BY finished_at DESC, id DESC LIMIT 1) j),
newest AS (SELECT DISTINCT ON (system_id) * FROM candidates ORDER BY system_id, finished_at DESC, id DESC)
SELECT n.system_id, n.finished_at, n.success, n.duration_seconds,
       CASE WHEN n.success THEN n.finished_at ELSE (
         SELECT max(ok.finished_at) FROM (
           (SELECT finished_at FROM restore_test WHERE msp_id = :msp AND system_id = n.system_id AND success
             ORDER BY finished_at DESC LIMIT 1)
           UNION ALL
           (SELECT t.finished_at FROM links l CROSS JOIN LATERAL (
              SELECT finished_at FROM restore_test WHERE msp_id = :msp AND backup_job_id = l.backup_job_id AND success
              ORDER BY finished_at DESC LIMIT 1) t
            WHERE l.system_id = n.system_id)) ok) END AS last_success_at
FROM newest n
""")


@dataclass(frozen=True)
class RestoreTestResult:
    """A system's newest restore test, and when its newest successful one finished (None: never)."""

    finished_at: datetime
    success: bool
    duration_seconds: float
    last_success_at: datetime | None


async def newest_tests(session: AsyncSession, msp_id: uuid.UUID,
                       practice_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, RestoreTestResult]:
    """system id → its newest restore test; systems never tested are absent."""
    rows = await session.execute(NEWEST_TESTS, {"msp": msp_id, "practices": list(practice_ids)})
    return {sid: RestoreTestResult(*rest) for sid, *rest in rows.all()}


def achieved_rpo_minutes(restore_points: Iterable[datetime | None], now: datetime) -> float | None:
    """now − the newest of a copy's jobs' restore points; None when none has produced one."""
    points = [p for p in restore_points if p is not None]
    return None if not points else max(0.0, (now - max(points)).total_seconds() / 60)


def copy_within_rpo(achieved_minutes: float | None, target_minutes: float) -> bool:
    return achieved_minutes is not None and achieved_minutes <= target_minutes


def copy_at_risk(achieved_minutes: float | None, target_minutes: float, ratio: float | None) -> bool:
    """At least `ratio` of the target RPO old but not past it (backup.rpo_at_risk; None: the rule is off)."""
    return ratio is not None and achieved_minutes is not None and ratio * target_minutes <= achieved_minutes <= target_minutes


def achieved_rto_minutes(test: RestoreTestResult | None) -> float | None:
    """The newest test's duration; None if never tested or if the newest test failed."""
    return test.duration_seconds / 60 if test is not None and test.success else None


def rto_compliant(test: RestoreTestResult | None, target_minutes: float) -> bool | None:
    """None: never tested. False: the newest test failed, or took longer than the target."""
    if test is None:
        return None
    achieved = achieved_rto_minutes(test)
    return achieved is not None and achieved <= target_minutes


_RECOVERY = text(f"""
WITH jobs AS (
  SELECT bjs.system_id, j.id AS job_id, j.site_id, {OFFSITE_SQL} AS offsite, s.last_restore_point_at AS point
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
       -- The site whose thresholds judge each copy: that of its first job by id, as the rules take it.
       (SELECT site_id FROM jobs WHERE jobs.system_id = sys.id AND NOT jobs.offsite ORDER BY job_id LIMIT 1) AS onsite_site_id,
       (SELECT site_id FROM jobs WHERE jobs.system_id = sys.id AND jobs.offsite ORDER BY job_id LIMIT 1) AS offsite_site_id
  FROM system sys
 WHERE sys.msp_id = :m AND sys.practice_id = :p
 ORDER BY sys.tier, sys.name
""")


async def system_recovery(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, now: datetime) -> list[SystemRecoveryOut]:
    from services.core.alerts.gauges import rpo_at_risk_ratios  # the ratio is an alert-policy setting

    tests = await newest_tests(session, msp_id, [practice_id])
    ratio = await rpo_at_risk_ratios(session, msp_id, practice_id)
    out = []
    for r in (await session.execute(_RECOVERY, {"m": msp_id, "p": practice_id})).mappings():
        onsite = achieved_rpo_minutes([r["onsite_restore_point_at"]], now)
        offsite = achieved_rpo_minutes([r["offsite_restore_point_at"]], now)
        onsite_ratio, offsite_ratio = ratio(r["onsite_site_id"]), ratio(r["offsite_site_id"])
        target = r["target_rpo_minutes"]
        achieved_of = {ONSITE: onsite, OFFSITE: offsite}
        rpo_ok = all(copy_within_rpo(achieved_of[copy], target) for copy in required_copies(SimpleNamespace(**r)))
        test = tests.get(r["system_id"])
        out.append(SystemRecoveryOut(
            **{k: r[k] for k in ("system_id", "name", "tier", "target_rpo_minutes", "target_rto_minutes", "requires_onsite_copy",
                                 "requires_offsite_copy", "onsite_jobs", "offsite_jobs", "onsite_restore_point_at",
                                 "offsite_restore_point_at")},
            last_restore_test_at=test.finished_at if test else None,
            last_restore_test_success=test.success if test else None,
            achieved_onsite_rpo_minutes=onsite, achieved_offsite_rpo_minutes=offsite, rpo_compliant=rpo_ok,
            onsite_at_risk_ratio=onsite_ratio, offsite_at_risk_ratio=offsite_ratio,
            onsite_rpo_at_risk=r["onsite_jobs"] > 0 and copy_at_risk(onsite, target, onsite_ratio),
            offsite_rpo_at_risk=r["offsite_jobs"] > 0 and copy_at_risk(offsite, target, offsite_ratio),
            achieved_rto_minutes=achieved_rto_minutes(test), rto_compliant=rto_compliant(test, r["target_rto_minutes"])))
    return out
