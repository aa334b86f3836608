"""Current state from history: backup job state and link state (agents' liveness is applied by the
claim statement, claim.py).

State is a pure function of the events processed so far, never "whatever came last": a backup
job's state is recomputed from its run history, a link's from its samples (incrementally when the
new samples are newer than everything seen, from the raw history when one arrives late). So any
permutation of deliveries ends in the same state as one delivery in order.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import driver_connection
from services.core.telemetry.history import Sample
from services.core.telemetry.hooks import LinkChange

FLAP_WINDOW = timedelta(hours=1)
ROLLING_WINDOW_BUCKETS = 3  # the newest sample's 5-minute bucket and the two before it
BASELINE_RUNS = 10

_R = "r.msp_id = j.msp_id AND r.backup_job_id = j.id"
_RECOMPUTE_JOBS = text(f"""
INSERT INTO backup_job_state AS s (msp_id, backup_job_id, practice_id, last_run_at, last_status, last_exit_code,
    last_success_at, last_restore_point_at, running_since, consecutive_failures, last_duration_seconds, last_bytes,
    baseline_duration_seconds, baseline_bytes, last_log_tail, updated_at)
SELECT j.msp_id, j.id, j.practice_id, lr.finished_at, lr.status, lr.exit_code, ls.finished_at, rp.at,
    CASE WHEN greatest(ru.started_at, pg.started_at) > coalesce(lr.finished_at, '-infinity')
         THEN greatest(ru.started_at, pg.started_at) END,
    coalesce(cf.n, 0), lr.duration_seconds, lr.bytes, bl.duration, bl.bytes::bigint, lr.log_tail, now()
FROM backup_job j
LEFT JOIN LATERAL (SELECT r.finished_at, r.status, r.exit_code, r.duration_seconds, r.bytes, r.log_tail FROM backup_run r
    WHERE {_R} AND r.status <> 'running'
    ORDER BY r.finished_at DESC, r.reported_at DESC, r.report_event_id DESC LIMIT 1) lr ON true
LEFT JOIN LATERAL (SELECT max(r.finished_at) AS finished_at FROM backup_run r WHERE {_R} AND r.status = 'success') ls ON true
LEFT JOIN LATERAL (SELECT max(r.restore_point_at) AS at FROM backup_run r
    WHERE {_R} AND r.status = 'success' AND (NOT j.verifies OR r.verified)) rp ON true
LEFT JOIN LATERAL (SELECT max(r.started_at) AS started_at FROM backup_run r WHERE {_R} AND r.status = 'running') ru ON true
LEFT JOIN LATERAL (SELECT max(s.at) AS started_at FROM ping_step s
    WHERE s.msp_id = j.msp_id AND s.backup_job_id = j.id AND s.kind = 'start') pg ON true
-- Failures since the last success, as an index range from it: compared with coalesce(…, '-infinity')
-- the bound was only a filter, and the count read every run the job ever had.
LEFT JOIN LATERAL (SELECT r.finished_at FROM backup_run r WHERE {_R} AND r.status IN ('success', 'warning')
    AND r.finished_at IS NOT NULL ORDER BY r.finished_at DESC LIMIT 1) lg ON true
LEFT JOIN LATERAL (SELECT
    (SELECT count(*) FROM backup_run r WHERE {_R} AND r.status = 'failed' AND r.finished_at > lg.finished_at)
    + (SELECT count(*) FROM backup_run r WHERE {_R} AND r.status = 'failed' AND lg.finished_at IS NULL) AS n) cf ON true
LEFT JOIN LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x.duration_seconds) AS duration,
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY x.bytes) AS bytes
    FROM (SELECT r.duration_seconds, r.bytes FROM backup_run r
          WHERE {_R} AND r.status = 'success' AND r.finished_at < lr.finished_at
          ORDER BY r.finished_at DESC LIMIT {BASELINE_RUNS}) x) bl ON true
WHERE j.msp_id = :msp AND j.id = ANY(CAST(:jobs AS uuid[]))
ON CONFLICT (msp_id, backup_job_id) DO UPDATE SET
    last_run_at = EXCLUDED.last_run_at, last_status = EXCLUDED.last_status, last_exit_code = EXCLUDED.last_exit_code,
    last_success_at = EXCLUDED.last_success_at, last_restore_point_at = EXCLUDED.last_restore_point_at,
    running_since = EXCLUDED.running_since, consecutive_failures = EXCLUDED.consecutive_failures,
    last_duration_seconds = EXCLUDED.last_duration_seconds, last_bytes = EXCLUDED.last_bytes,
    baseline_duration_seconds = EXCLUDED.baseline_duration_seconds, baseline_bytes = EXCLUDED.baseline_bytes,
    last_log_tail = EXCLUDED.last_log_tail, updated_at = EXCLUDED.updated_at
""")


async def recompute_backup_jobs(session: AsyncSession, msp_id: uuid.UUID, job_ids: set[uuid.UUID]) -> None:
    """Backup job state from the job's run history and ping timeline (the batch's pings already in it),
    each figure read through an index rather than the whole history."""
    if job_ids:
        await session.execute(_RECOMPUTE_JOBS, {"msp": msp_id, "jobs": list(job_ids)})


# --- links --------------------------------------------------------------------------------------

@dataclass
class LinkNow:
    practice_id: uuid.UUID
    site_id: uuid.UUID
    up: bool | None
    state_since: datetime | None
    last_sample_at: datetime | None
    transitions: list[datetime]


_LINK_STATES = text(
    "SELECT link_id, practice_id, site_id, up, state_since, last_sample_at, transitions FROM link_state"
    " WHERE msp_id = :msp AND link_id = ANY(CAST(:links AS uuid[]))"
)


def advance(state: LinkNow, samples: list[Sample]) -> None:
    """Apply samples newer than everything the state has seen, oldest first."""
    for s in sorted(samples, key=Sample.order):
        if state.up is None:
            state.up, state.state_since = s.up, s.at
        elif s.up != state.up:
            state.up, state.state_since = s.up, s.at
            state.transitions.append(s.at)
        state.last_sample_at = s.at
    if state.last_sample_at is not None:  # None only for no samples on a link never sampled: nothing to trim
        state.transitions = [t for t in state.transitions if t > state.last_sample_at - FLAP_WINDOW]


# When a sample arrives older than the newest one seen, the link's state is rebuilt from the raw
# samples: the current up/down run, and the transitions of the hour before the newest sample.
_LATEST = text("SELECT sampled_at, up FROM link_sample WHERE msp_id = :msp AND link_id = :link"
               " ORDER BY sampled_at DESC, up DESC LIMIT 1")
_LAST_OTHER = text("SELECT max(sampled_at) FROM link_sample WHERE msp_id = :msp AND link_id = :link AND up <> :up")
_RUN_START = text("SELECT min(sampled_at) FROM link_sample WHERE msp_id = :msp AND link_id = :link AND up = :up"
                  " AND sampled_at > :after")
_HOUR = text(
    "(SELECT sampled_at, up FROM link_sample WHERE msp_id = :msp AND link_id = :link AND sampled_at < :lo"
    "  ORDER BY sampled_at DESC, up DESC LIMIT 1)"
    " UNION ALL (SELECT sampled_at, up FROM link_sample WHERE msp_id = :msp AND link_id = :link AND sampled_at >= :lo"
    "  ORDER BY sampled_at, up)"
)


async def rebuild(session: AsyncSession, msp_id: uuid.UUID, link_id: uuid.UUID, old: LinkNow) -> None:
    params = {"msp": msp_id, "link": link_id}
    latest = (await session.execute(_LATEST, params)).first()
    if latest is None:  # every sample was past raw retention: nothing to rebuild from
        return
    newest, up = latest
    other = await session.scalar(_LAST_OTHER, {**params, "up": up})
    since = await session.scalar(_RUN_START, {**params, "up": up, "after": other or datetime.min.replace(tzinfo=newest.tzinfo)})
    if other is None and old.up == up and old.state_since is not None:
        since = min(since, old.state_since)  # the run began before the raw samples kept
    rows = (await session.execute(_HOUR, {**params, "lo": newest - FLAP_WINDOW})).all()
    transitions = [at for (prev_at, prev_up), (at, now_up) in zip(rows, rows[1:]) if now_up != prev_up]
    old.up, old.state_since, old.last_sample_at = up, since, newest
    old.transitions = [t for t in transitions if t > newest - FLAP_WINDOW]


_LINK_COLUMNS = {"link_id": "uuid", "practice_id": "uuid", "site_id": "uuid", "up": "bool", "state_since": "timestamptz",
                 "last_sample_at": "timestamptz", "transitions": "text"}
_ROLLING_COLUMNS = ("loss_pct", "latency_ms", "jitter_ms")
_SET_COLUMNS = ("up", "state_since", "last_sample_at", "flaps_last_hour", "transitions", *_ROLLING_COLUMNS)
# The rolling figures come straight from the 5-minute aggregates (the batch's samples are already
# in them): the newest sample's bucket and the ones before it, in the same statement as the upsert.
# The statement also returns, for the links whose up/down state or figures moved, the values before
# and after and the link's own thresholds (the hooks decide from them whether a rule can see the
# change): `old` reads the rows as they were, since every part of a statement sees one snapshot.
#
# psycopg's own placeholders, the column arrays sent in binary (`%(…)b`): psycopg builds a text
# array in Python element by element (quoting each one with a regular expression), which cost
# ~3 ms per batch of 50 links, a sixth of the worker's CPU at 5,000 events/s from 20 MSPs; the
# binary arrays ~0.5 ms.
_UPSERT_LINKS = (
    "WITH old AS (SELECT o.link_id, o.up, o.loss_pct, o.latency_ms, o.jitter_ms FROM link_state o"
    "  WHERE o.msp_id = %(msp)s AND o.link_id = ANY(%(link_id)b)),"
    " v AS (SELECT * FROM unnest("
    + ", ".join(f"CAST(%({c})b AS {t}[])" for c, t in _LINK_COLUMNS.items())
    + f") AS v({', '.join(_LINK_COLUMNS)})),"
    " new AS ("
    f"INSERT INTO link_state (msp_id, link_id, practice_id, site_id, {', '.join(_SET_COLUMNS)}, updated_at)"
    " SELECT %(msp)s, v.link_id, v.practice_id, v.site_id, v.up, v.state_since, v.last_sample_at,"
    "  cardinality(CAST(v.transitions AS timestamptz[])), CAST(v.transitions AS timestamptz[]), r.loss, r.latency, r.jitter, now()"
    " FROM v LEFT JOIN LATERAL (SELECT sum(a.loss_sum) / nullif(sum(a.loss_count), 0) AS loss,"
    "   sum(a.latency_sum) / nullif(sum(a.latency_count), 0) AS latency, sum(a.jitter_sum) / nullif(sum(a.jitter_count), 0) AS jitter"
    "   FROM link_sample_5m a WHERE a.msp_id = %(msp)s AND a.link_id = v.link_id"
    "    AND a.bucket > v.last_sample_at - make_interval(mins => %(minutes)s) AND a.bucket <= v.last_sample_at) r ON true"
    " ON CONFLICT (msp_id, link_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _SET_COLUMNS)
    + ", site_id = EXCLUDED.site_id, updated_at = now()"
    " RETURNING link_id, practice_id, site_id, up, loss_pct, latency_ms, jitter_ms)"
    " SELECT n.link_id, n.practice_id, n.site_id, o.link_id IS NOT NULL, o.up, n.up, o.loss_pct, n.loss_pct, o.latency_ms,"
    "   n.latency_ms, o.jitter_ms, n.jitter_ms, l.loss_threshold_pct, l.latency_threshold_ms, l.jitter_threshold_ms"
    " FROM new n LEFT JOIN old o ON o.link_id = n.link_id"
    " LEFT JOIN link l ON l.msp_id = %(msp)s AND l.id = n.link_id"
    " WHERE o.link_id IS NULL OR o.up IS DISTINCT FROM n.up OR o.loss_pct IS DISTINCT FROM n.loss_pct"
    "    OR o.latency_ms IS DISTINCT FROM n.latency_ms OR o.jitter_ms IS DISTINCT FROM n.jitter_ms"
)


def _pg_array(values: list[datetime]) -> str:
    return "{" + ",".join(f'"{v.isoformat()}"' for v in values) + "}"


async def update_links(session: AsyncSession, msp_id: uuid.UUID, samples: list[Sample],
                       states: dict[uuid.UUID, LinkNow] | None = None) -> list[LinkChange]:
    """Link state after the batch's samples (the samples must already be in history); returns the
    links whose up/down state or rolling figures moved.

    states: the sampled links' current state when the caller has read it already (the claim does).
    """
    if not samples:
        return []
    by_link: dict[uuid.UUID, list[Sample]] = defaultdict(list)
    for s in samples:
        by_link[s.link_id].append(s)
    if states is None:
        rows = (await session.execute(_LINK_STATES, {"msp": msp_id, "links": list(by_link)})).all()
        states = {r[0]: LinkNow(r[1], r[2], r[3], r[4], r[5], list(r[6] or [])) for r in rows}
    for link_id, batch in by_link.items():
        state = states.get(link_id)
        if state is None:
            state = states[link_id] = LinkNow(batch[0].practice_id, batch[0].site_id, None, None, None, [])
        # The claim appended only samples taken at the link's current site: a link moved to another
        # site has its state filed there from its first sample there.
        state.site_id = batch[0].site_id
        # In order (the usual case, an agent replays its spool in order): apply incrementally. A
        # sample equal to the newest seen, up included, changes nothing and needs no rebuild.
        if state.last_sample_at is None or min(Sample.order(s) for s in batch) >= (state.last_sample_at, state.up):
            advance(state, batch)
        else:
            await rebuild(session, msp_id, link_id, state)
            if state.last_sample_at is None:  # nothing kept raw: fall back to the batch alone
                advance(state, batch)
    columns: dict[str, list[Any]] = {c: [] for c in _LINK_COLUMNS}
    for link_id in by_link:
        st = states[link_id]
        for c, value in zip(columns.values(), (link_id, st.practice_id, st.site_id, st.up, st.state_since, st.last_sample_at,
                                               _pg_array(st.transitions))):
            c.append(value)
    pg = await driver_connection(session)
    cursor = await pg.execute(_UPSERT_LINKS, {"msp": msp_id, "minutes": 5 * ROLLING_WINDOW_BUCKETS, **columns})
    changed = await cursor.fetchall()
    return [LinkChange(r[0], r[1], r[2], r[4], r[5], (r[6], r[8], r[10]), (r[7], r[9], r[11]), (r[12], r[13], r[14]), r[3])
            for r in changed]


# Where the site's traffic is now: the latest failover (by start) decides. A failover that has not
# ended, onto a backup or hotspot link, puts that link "on backup since" its start.
_ON_BACKUP = text("""
WITH latest AS (
  -- Failovers that started at the same instant are told apart by the links' names, not their ids:
  -- the outcome then depends on what the practice called its links, never on random ids.
  SELECT DISTINCT ON (f.site_id) f.site_id, f.to_link_id, f.started_at, f.ended_at FROM failover_event f
    LEFT JOIN link tl ON tl.msp_id = f.msp_id AND tl.id = f.to_link_id
    LEFT JOIN link fl ON fl.msp_id = f.msp_id AND fl.id = f.from_link_id
   WHERE f.msp_id = :msp AND f.site_id = ANY(CAST(:sites AS uuid[]))
   ORDER BY f.site_id, f.started_at DESC, tl.name DESC, fl.name DESC, f.to_link_id DESC, f.from_link_id DESC)
INSERT INTO link_state AS s (msp_id, link_id, practice_id, site_id, flaps_last_hour, transitions, on_backup_since, updated_at)
SELECT l.msp_id, l.id, l.practice_id, l.site_id, 0, '{}',
       CASE WHEN la.to_link_id = l.id AND la.ended_at IS NULL AND l.role IN ('backup', 'hotspot') THEN la.started_at END, now()
  FROM link l LEFT JOIN latest la ON la.site_id = l.site_id
 WHERE l.msp_id = :msp AND l.site_id = ANY(CAST(:sites AS uuid[]))
ON CONFLICT (msp_id, link_id) DO UPDATE SET on_backup_since = EXCLUDED.on_backup_since, updated_at = now()
 WHERE s.on_backup_since IS DISTINCT FROM EXCLUDED.on_backup_since
""")


async def update_on_backup(session: AsyncSession, msp_id: uuid.UUID, site_ids: set[uuid.UUID]) -> None:
    if site_ids:
        await session.execute(_ON_BACKUP, {"msp": msp_id, "sites": list(site_ids)})
