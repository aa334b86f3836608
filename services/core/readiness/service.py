"""Computing, storing and refreshing readiness.

Scores are derived data: `recompute` checks the written sources (inventory, plan) for a batch of
practices, evaluates the rules with them (the incidents, live and written, come in line), scores the
written findings and the open incidents (scoring.py), upserts `readiness_current`, today's
`readiness_snapshot` and this hour's `readiness_hourly` (the trend of a practice's first day), and
publishes "readiness.changed" when a score or status moved — all in the caller's transaction.

When: every evaluation of the rules that changes a practice's conditions rescores it in its own
transaction (rescore_judged: telemetry batches and the alerts engine's minute pass, so a condition
that time alone makes true reaches the score with its incident); `mark_dirty` (plan and inventory
edits, weights) gets a full recompute within a minute; every practice is recomputed hourly (time
alone makes a review overdue). docs/decisions/0013-one-judgement.md.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from services.core import pacing
from services.core.base import utcnow
from services.core.db import Database, Scope
from services.core.findings import Component, Finding, Severity
from services.core.practices.models import Practice
from services.core.readiness import events
from services.core.readiness.models import (ReadinessClaim, ReadinessCurrent, ReadinessDirty, ReadinessHourly,
                                            ReadinessSnapshot)
from services.core.readiness.scoring import Result, Sourced, score
from services.core.readiness.sources import sources
from services.core.readiness.weights import load_weights
from services.core.telemetry.hooks import ON_STATE_CHANGED, StateChange

# Practices per rescoring transaction in the minute's pass: a unit the pacing gate cannot split, so
# small enough that one MSP's hundred dirty practices do not hold the worker's loop for most of a second
# at once (one MSP of 100 practices, healthy traffic, 1 worker: p99 677 ms with 100, 514 ms with 25,
# back to back at the same second of the minute).
BATCH = 25
# The hourly pass takes bigger batches: the live rules' facts are loaded with set-based queries
# whose cost is mostly per batch (history scans), not per practice.
FULL_BATCH = 250
# Set on the rescoring passes' transactions (session.info): they see the whole MSP and change no
# configuration, so a source may use what this process keeps per configuration version
# (live_rules.py: the alert policy). Never set in an API request, whose scope may be narrower
# and whose transaction may change the very configuration it would then keep.
KEEP_CONFIG = "readiness.keep_config"
# Set (to a set) by a caller that takes the audit lock after rescoring: never-scored practices are
# collected there and marked by the caller after its audit event, not before it.
MARK_LATER = "readiness.mark_later"
# Snapshots are kept at least 13 months for the trend and the monthly reports; 14 to be safe.
SNAPSHOT_RETENTION_DAYS = 430
# Hourly points only stand in for the daily trend until a practice has two days of snapshots; two
# days cover "today" in every viewer's time zone, and the daily task prunes the rest (at most ~72
# rows a practice between two runs).
HOURLY_RETENTION = timedelta(days=2)


LIVE = "live_rules"


async def compute(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID], now: datetime, *,
                  evaluate: bool = True, written: dict[uuid.UUID, list[Sourced]] | None = None) -> dict[uuid.UUID, Result]:
    """Every source's findings for these practices, scored with the MSP's weights.

    The written sources (inventory, plan, any registered one) are checked now unless `written`
    brings them; the live findings are the open incidents (live_rules.py). With `evaluate`, the
    rules are evaluated first with those very written findings, so the incidents, live and written,
    are in line with what is scored, in this transaction (docs/decisions/0013-one-judgement.md)."""
    ids = list(practice_ids)
    if not ids:
        return {}
    weights = await load_weights(session, msp_id)
    specs = sources()
    consulted = [{"name": spec.name, "available": spec.fn is not None, "detail": spec.unavailable} for spec in specs]
    if written is None:
        written = {pid: [] for pid in ids}
        for spec in specs:
            if spec.fn is None or spec.name == LIVE:
                continue
            found: dict[uuid.UUID, list[Finding]] = await spec.fn(session, msp_id, ids, now)
            for pid, findings in found.items():
                if pid in written:
                    written[pid] += [Sourced(f, spec.name) for f in findings]
    enabled = await _enabled_filter(session, msp_id, ids)
    kept = {pid: [s for s in written.get(pid, []) if enabled(pid, s.finding.rule_id)] for pid in ids}
    conditions = None
    if any(spec.name == LIVE and spec.fn is not None for spec in specs):
        from services.core.readiness import live_rules

        if evaluate:
            await live_rules.evaluate(session, msp_id, ids, now, {pid: [s.finding for s in kept[pid]] for pid in ids})
        conditions = await live_rules.open_conditions(session, msp_id, ids, now)
    results = {}
    for pid in ids:
        found_now = kept[pid] + ([Sourced(f, LIVE) for f in conditions.live[pid]] if conditions else [])
        result = score(found_now, weights, conditions.state[pid] if conditions else None)
        result.sources = consulted
        results[pid] = result
    return results


async def _enabled_filter(session: AsyncSession, msp_id: uuid.UUID, ids: list[uuid.UUID]):
    try:
        from services.core.readiness.live_rules import enabled_filter
    except ModuleNotFoundError as exc:  # the alerts domain is not installed: every rule counts
        if not (exc.name or "").startswith("services."):
            raise
        return lambda practice_id, rule_id: True
    return await enabled_filter(session, msp_id, ids)


def _written_from_stored(findings: Iterable[dict]) -> list[Sourced]:
    """The written findings a stored score was computed from (live ones are read from the incidents again)."""
    return [Sourced(Finding(f["rule_id"], Component(f["component"]), Severity(f["severity"]), f["subject_type"],
                            f["subject_id"], f["title"], f["remediation"], f.get("hipaa") or "", f.get("measured"),
                            f.get("target"), _instant(f.get("judged_run_finished_at"))), f["source"])
            for f in findings if f.get("source") != LIVE]


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def rescore_judged(session: AsyncSession, msp_id: uuid.UUID, practice_ids: set[uuid.UUID], now: datetime) -> None:
    """An evaluation changed these practices' conditions: rescore them now, in its transaction, from
    their open incidents and the written findings of their last score (which change only through
    edits, and those rescore in full). Registered in the alerts engine's ON_JUDGED."""
    ids = sorted(practice_ids)
    stored = {pid: findings for pid, findings in (await session.execute(
        select(ReadinessCurrent.practice_id, ReadinessCurrent.findings).where(
            ReadinessCurrent.msp_id == msp_id, ReadinessCurrent.practice_id.in_(ids)))).all()}
    results: dict[uuid.UUID, Result] = {}
    if have := [pid for pid in ids if pid in stored]:
        results |= await compute(session, msp_id, have, now, evaluate=False,
                                 written={pid: _written_from_stored(stored[pid]) for pid in have})
    if never := [pid for pid in ids if pid not in stored]:
        # Never scored: scored now from what is known, and marked for the full computation (written
        # findings and their incidents) within a minute — it cannot evaluate again from inside one.
        results |= await compute(session, msp_id, never, now, evaluate=False)
    await store(session, msp_id, results, now)
    if never:
        # The mark last: a mark is taken after every lock (docs/decisions/0005-lock-order.md). A
        # person's resolve, which records an audit event after this, marks after that instead.
        if session.info.get(MARK_LATER) is not None:
            session.info[MARK_LATER].update(never)
        else:
            await mark_dirty_many(session, msp_id, never)


async def store(session: AsyncSession, msp_id: uuid.UUID, results: dict[uuid.UUID, Result], now: datetime) -> int:
    """Upsert current scores, today's snapshots and this hour's points; publish a live event for each score that moved."""
    if not results:
        return 0
    ids = list(results)
    before = {r.practice_id: (r.score, r.status, r.changed_at) for r in (await session.execute(
        select(ReadinessCurrent.practice_id, ReadinessCurrent.score, ReadinessCurrent.status, ReadinessCurrent.changed_at)
        .where(ReadinessCurrent.msp_id == msp_id, ReadinessCurrent.practice_id.in_(ids)))).all()}
    rows, snaps, moved = [], [], 0
    # In practice order: the hourly pass, the minute's pass (practices in the order they were marked)
    # and a request's first score can upsert the same rows at once, and rows locked in two orders
    # deadlock (docs/decisions/0005-lock-order.md).
    for pid, r in sorted(results.items()):
        old = before.get(pid)
        changed = old is None or old[0] != r.score or old[1] != r.status
        rows.append({"msp_id": msp_id, "practice_id": pid, "score": r.score, "status": r.status, "components": r.components,
                     "findings": r.findings, "sources": r.sources, "inputs_hash": r.inputs_hash, "computed_at": now,
                     "changed_at": now if changed or old is None else old[2]})
        snaps.append({"msp_id": msp_id, "practice_id": pid, "day": now.date(), "score": r.score, "min_score": r.score,
                      "status": r.status, "lost": r.lost, "findings": sum(1 for f in r.findings if f["points"] > 0),
                      "updated_at": now})
        if changed:
            moved += 1
            await events.publish(session, msp_id, pid, "readiness.changed", {
                "score": r.score, "status": r.status, "previous_score": old[0] if old else None,
                "previous_status": old[1] if old else None})
    stmt = insert(ReadinessCurrent).values(rows)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["msp_id", "practice_id"],
        set_={c: stmt.excluded[c] for c in ("score", "status", "components", "findings", "sources", "inputs_hash",
                                             "computed_at", "changed_at")}))
    snap = insert(ReadinessSnapshot).values(snaps)
    await session.execute(snap.on_conflict_do_update(
        index_elements=["msp_id", "practice_id", "day"],
        set_={"score": snap.excluded.score, "status": snap.excluded.status, "lost": snap.excluded.lost,
              "findings": snap.excluded.findings, "updated_at": snap.excluded.updated_at,
              "min_score": text("least(readiness_snapshot.min_score, excluded.score)")}))
    hour = now.replace(minute=0, second=0, microsecond=0)
    kept = ("msp_id", "practice_id", "score", "min_score", "status", "updated_at")
    hourly = insert(ReadinessHourly).values([{k: snap[k] for k in kept} | {"hour": hour} for snap in snaps])
    await session.execute(hourly.on_conflict_do_update(
        index_elements=["msp_id", "practice_id", "hour"],
        set_={"score": hourly.excluded.score, "status": hourly.excluded.status, "updated_at": hourly.excluded.updated_at,
              "min_score": text("least(readiness_hourly.min_score, excluded.score)")}))
    return moved


async def recompute(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID],
                    now: datetime | None = None) -> dict[uuid.UUID, Result]:
    now = now or utcnow()
    results = await compute(session, msp_id, practice_ids, now)
    await store(session, msp_id, results, now)
    return results


async def current(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> ReadinessCurrent:
    """The stored readiness of a practice, computed now if it never was."""
    row = await session.get(ReadinessCurrent, (msp_id, practice_id))
    if row is None:
        # Scored from the incidents as they stand: a request does not evaluate rules; it marks the
        # practice, and the worker's full computation follows within a minute.
        now = utcnow()
        await store(session, msp_id, await compute(session, msp_id, [practice_id], now, evaluate=False), now)
        await mark_dirty(session, msp_id, practice_id)
        row = await session.get(ReadinessCurrent, (msp_id, practice_id), populate_existing=True)
    assert row is not None
    if _alerts_installed():
        from services.core.readiness import live_rules

        # The conditions' words and clearing as their incidents have them now; set as loaded, so
        # reading readiness never writes the row.
        set_committed_value(row, "findings", await live_rules.with_current_words(session, msp_id, row.findings, utcnow()))
    return row


async def mark_dirty(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> None:
    """Ask for a recompute of this practice soon (its plan, inventory or telemetry changed)."""
    await mark_dirty_many(session, msp_id, [practice_id])


async def mark_dirty_many(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID]) -> None:
    ids = sorted(set(practice_ids))
    if ids:
        await session.execute(insert(ReadinessDirty).values([{"msp_id": msp_id, "practice_id": p} for p in ids])
                              .on_conflict_do_nothing(index_elements=["msp_id", "practice_id"]))


async def _on_state_changed(session: AsyncSession, msp_id: uuid.UUID, change: StateChange, now: datetime) -> None:
    # Telemetry reaches a score only through the incidents (live_rules.py), and the alerts hook,
    # which evaluates the rules in this batch, rescores the practices whose conditions changed
    # (rescore_judged). Without the alerts domain, any change counts.
    if not _alerts_installed():
        await mark_dirty_many(session, msp_id, change.practices)


def _alerts_installed() -> bool:
    try:
        import services.core.alerts.evaluate  # noqa: F401
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("services."):
            raise
        return False
    return True


def _register() -> None:
    # A batch's rescoring comes after its practices' incident locks, as a request's comes after its
    # audit lock (docs/decisions/0005-lock-order.md): the alerts hook, which takes those locks and
    # calls rescore_judged, registers before this module's telemetry hook whichever is imported first.
    if _alerts_installed():
        from services.core.alerts.evaluate import ON_JUDGED

        if rescore_judged not in ON_JUDGED:
            ON_JUDGED.append(rescore_judged)
    if _on_state_changed not in ON_STATE_CHANGED:
        ON_STATE_CHANGED.append(_on_state_changed)


_register()

# Taking dirty marks is a short transaction of its own (claim_dirty), and the rescoring transaction
# deletes its claims when it commits (migration 0010): a telemetry batch marking a practice being
# rescored never waits for the rescore. A practice already claimed (by a pass in progress) keeps its
# new mark for the next pass; a claim older than ABANDONED_MINUTES is a dead pass's, taken again.
ABANDONED_MINUTES = 15
_CLAIM = text("""
WITH abandoned AS (
  UPDATE readiness_claim c SET claimed_at = clock_timestamp()
   WHERE c.msp_id = :msp AND c.practice_id IN (
     SELECT practice_id FROM readiness_claim
      WHERE msp_id = :msp AND claimed_at < clock_timestamp() - make_interval(mins => :abandoned)
        AND (CAST(:only AS uuid[]) IS NULL OR practice_id = ANY(CAST(:only AS uuid[])))
      ORDER BY claimed_at LIMIT :n FOR UPDATE SKIP LOCKED)
  RETURNING c.practice_id
),
taken AS (
  DELETE FROM readiness_dirty d WHERE d.msp_id = :msp AND d.practice_id IN (
    SELECT x.practice_id FROM readiness_dirty x
     WHERE x.msp_id = :msp AND (CAST(:only AS uuid[]) IS NULL OR x.practice_id = ANY(CAST(:only AS uuid[])))
       AND NOT EXISTS (SELECT 1 FROM readiness_claim c WHERE c.msp_id = x.msp_id AND c.practice_id = x.practice_id)
     ORDER BY x.since LIMIT :n FOR UPDATE SKIP LOCKED)
  RETURNING d.practice_id
),
claimed AS (
  INSERT INTO readiness_claim (msp_id, practice_id, claimed_at)
  SELECT :msp, practice_id, clock_timestamp() FROM taken
  ON CONFLICT (msp_id, practice_id) DO NOTHING
  RETURNING practice_id
)
SELECT practice_id FROM claimed UNION SELECT practice_id FROM abandoned
""")


async def claim_dirty(db: Database, msp_id: uuid.UUID, limit: int = BATCH,
                      only: Sequence[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Take up to `limit` dirty practices (of `only`, when given) in a transaction of its own; the
    caller rescores them and calls release_claims in the transaction that stores the scores. A mark
    made after the claim stays in readiness_dirty for the next pass."""
    async with db.transaction(Scope(msp_id)) as s:
        return list((await s.execute(_CLAIM, {"msp": msp_id, "n": limit, "abandoned": ABANDONED_MINUTES,
                                              "only": list(only) if only is not None else None})).scalars())


async def release_claims(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID]) -> None:
    if practice_ids:
        await session.execute(delete(ReadinessClaim).where(ReadinessClaim.msp_id == msp_id,
                                                           ReadinessClaim.practice_id.in_(list(practice_ids))))


async def _rescore(db: Database, msp_id: uuid.UUID, practice_ids: Sequence[uuid.UUID], claimed: Sequence[uuid.UUID],
                   now: datetime) -> None:
    """Rescore these practices and release the claims in one transaction. If that fails, the claims
    go back to being dirty marks at once, so the next pass retries them (rather than waiting out
    ABANDONED_MINUTES, which is for a pass whose process died)."""
    try:
        async with db.transaction(Scope(msp_id)) as s:
            s.info[KEEP_CONFIG] = True
            await recompute(s, msp_id, practice_ids, now)
            await release_claims(s, msp_id, claimed)
    except BaseException:
        if claimed:
            with contextlib.suppress(Exception):
                async with db.transaction(Scope(msp_id)) as s:
                    await mark_dirty_many(s, msp_id, claimed)
                    await release_claims(s, msp_id, claimed)
        raise


async def msps(db: Database, dirty_only: bool = False) -> list[uuid.UUID]:
    fn = "readiness_dirty_msps" if dirty_only else "readiness_msps"
    async with db.transaction() as s:
        return list((await s.execute(text(f"SELECT * FROM {fn}()"))).scalars())


async def recompute_dirty(db: Database, now: datetime | None = None, batch: int = BATCH) -> int:
    """Recompute every dirty practice of every MSP, one transaction per batch. Returns how many."""
    done = 0
    for msp_id in await msps(db, dirty_only=True):
        while True:
            await pacing.background_turn()  # live telemetry first, in a worker
            ids = await claim_dirty(db, msp_id, batch)
            if ids:
                await _rescore(db, msp_id, ids, ids, now or utcnow())
            done += len(ids)
            if len(ids) < batch:
                break
    return done


async def recompute_all(db: Database, now: datetime | None = None, batch: int = FULL_BATCH, msp_ids: Sequence[uuid.UUID] | None = None) -> int:
    """Recompute every practice (the hourly pass: time alone can breach an RPO)."""
    done = 0
    for msp_id in msp_ids if msp_ids is not None else await msps(db):
        async with db.transaction(Scope(msp_id)) as s:
            ids = list((await s.scalars(select(Practice.id).where(Practice.msp_id == msp_id).order_by(Practice.id))).all())
        for i in range(0, len(ids), batch):
            chunk = ids[i:i + batch]
            await pacing.background_turn()
            # The chunk's marks are claimed before reading, so a mark made meanwhile survives.
            claimed = await claim_dirty(db, msp_id, len(chunk), only=chunk)
            await _rescore(db, msp_id, chunk, claimed, now or utcnow())
            done += len(chunk)
    return done


_CARRY_FORWARD = text("""
INSERT INTO readiness_snapshot (msp_id, practice_id, day, score, min_score, status, lost, findings, updated_at)
SELECT c.msp_id, c.practice_id, :day, c.score, c.score, c.status,
       (SELECT coalesce(jsonb_object_agg(k, v -> 'lost'), '{}'::jsonb) FROM jsonb_each(c.components) AS e(k, v)),
       (SELECT count(*) FROM jsonb_array_elements(c.findings) f WHERE (f ->> 'points')::int > 0), :now
FROM readiness_current c WHERE c.msp_id = :msp
ON CONFLICT (msp_id, practice_id, day) DO NOTHING
""")


async def snapshot(session: AsyncSession, msp_id: uuid.UUID, now: datetime) -> None:
    """Make sure every scored practice has today's snapshot, and drop those and the hourly points past retention."""
    await session.execute(_CARRY_FORWARD, {"msp": msp_id, "day": now.date(), "now": now})
    await session.execute(delete(ReadinessSnapshot).where(
        ReadinessSnapshot.msp_id == msp_id, ReadinessSnapshot.day < (now - timedelta(days=SNAPSHOT_RETENTION_DAYS)).date()))
    await session.execute(delete(ReadinessHourly).where(
        ReadinessHourly.msp_id == msp_id, ReadinessHourly.hour < now - HOURLY_RETENTION))


async def snapshot_all(db: Database, now: datetime | None = None) -> int:
    now = now or utcnow()
    count = 0
    for msp_id in await msps(db):
        async with db.transaction(Scope(msp_id)) as s:
            await snapshot(s, msp_id, now)
        count += 1
    return count
