"""The batch's bulk work in one statement: claim, mark processed, append samples, apply heartbeats.

Profiling the batch path showed its time going into moving rows through Python: every claimed
payload decoded from JSON into dicts, then re-encoded as arrays for the next statements, plus
one round trip per step. Link samples (~2/3 of traffic) and heartbeats (~1/3) need no Python at
all, so one statement of data-modifying CTEs does, inside the database:

- claims the MSP's oldest pending rows (FOR UPDATE SKIP LOCKED) and marks them processed in the
  same UPDATE (they commit or roll back with everything else the batch does);
- appends the link samples to raw history and adds them to the 5-minute aggregates (jsonb → columns
  in SQL), those of links still at the sampling agent's site (site_scope.py);
- applies heartbeats (newest per agent wins) and lifts the dead man's switch of every agent heard;
- returns only what Python still needs: the samples' (link, time, up) for the link state machine,
  the current state of those links, the rare event types in full, the practices touched, and the
  agents that were (or may have been) silent before this batch (hooks.StateChange).

All CTEs see one snapshot, so nothing here reads what another CTE writes; what must (rolling link
figures from the aggregates, backup job state from run history) runs in later statements.
The claim is gated on the MSP's advisory lock: the caller tries it first in the same pipeline, and
the lock is re-entrant, so rows are only ever claimed while this transaction holds the MSP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config_version import VERSION_SQL
from services.core.db import driver_connection
from services.core.telemetry.history import RAW_SAMPLE_RETENTION, Claimed, Sample
from services.core.telemetry.hooks import AgentBack
from services.core.telemetry.liveness import (
    DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
    DEFAULT_PROBE_INTERVAL_SECONDS,
    MIN_GRACE_MINUTES,
)
from services.core.telemetry.site_scope import link_at_site, not_at_site
from services.core.telemetry.unapplicable import raise_all
from services.core.telemetry.state_updates import LinkNow

AGENT_TYPES = ("heartbeat", "backup_run", "restore_test", "link_sample", "failover")
_AGENT_TYPES_SQL = ", ".join(f"'{t}'" for t in AGENT_TYPES)  # constants, written into the statement
LOCK_KEY = "hashtextextended('telemetry:' || CAST(%(msp)s AS text), 0)"

# With the lock, the transaction's now() and the MSP's configuration version (for the hooks' caches).
TRY_LOCK = f"SELECT pg_try_advisory_xact_lock({LOCK_KEY}), now(), {VERSION_SQL}"

CLAIM_AND_APPEND = f"""
WITH claimed AS (
  -- The rows are marked by their physical address (a TID scan), which needs no statistics: by key,
  -- "IN (subquery)" was planned as a hash join over every row the MSP ever sent, and
  -- "msp_id = :msp AND seq = ANY(…)", for an MSP that grew since the last ANALYZE (estimated at a
  -- row or so), as a scan of all the MSP's rows filtered on seq (EXPLAIN ANALYZE: 64,458 buffers
  -- for a claim that took nothing). The row-level security policy's MSP qualifier offered the same
  -- scan here until the primary key stopped leading with msp_id (0014). The rows are locked
  -- (FOR UPDATE), so their addresses hold until this statement updates them.
  UPDATE telemetry_event e SET processed_at = clock_timestamp()
   WHERE e.ctid = ANY(ARRAY(
     SELECT p.ctid FROM telemetry_event p
      WHERE p.msp_id = %(msp)s AND p.processed_at IS NULL AND (SELECT pg_try_advisory_xact_lock({LOCK_KEY}))
      ORDER BY p.seq LIMIT %(n)s FOR UPDATE SKIP LOCKED))
  RETURNING e.seq, e.source_id, e.event_id, e.practice_id, e.site_id, e.type, e.occurred_at, e.payload
),
-- `here`: the link is still at the site of the agent that sampled it (site_scope.py). A sample of a
-- link moved to another site (or deleted) since it was recorded is not appended, and Python sets it
-- aside (the 'x' rows). One key probe per sample, in the select list rather than a join: the CTEs
-- are estimated at a row or so, and a join of samples with links was planned as a nested loop over
-- both (docs/decisions/0002-agents-report-on-their-own-site.md).
sampled AS (
  -- A sample whose site was deleted meanwhile has no link left to describe.
  SELECT c.seq, (c.payload->>'link_id')::uuid AS link_id, c.practice_id, c.site_id, c.occurred_at AS sampled_at,
         (c.payload->'up')::boolean AS up, (c.payload->>'latency_ms')::float8 AS latency_ms,
         (c.payload->>'loss_pct')::float8 AS loss_pct, (c.payload->>'jitter_ms')::float8 AS jitter_ms,
         EXISTS (SELECT 1 FROM link l WHERE l.msp_id = %(msp)s AND l.id = (c.payload->>'link_id')::uuid
                    AND {link_at_site('l', 'c.practice_id', 'c.site_id')}) AS here
    FROM claimed c WHERE c.type = 'link_sample' AND c.site_id IS NOT NULL
),
s AS (SELECT * FROM sampled WHERE here),
raw AS (
  INSERT INTO link_sample (msp_id, link_id, sampled_at, event_seq, practice_id, site_id, up, latency_ms, loss_pct, jitter_ms)
  SELECT %(msp)s, link_id, sampled_at, seq, practice_id, site_id, up, latency_ms, loss_pct, jitter_ms FROM s
   WHERE sampled_at >= now() - make_interval(secs => %(raw_seconds)s)
),
-- Sums are numeric, so adding batches in any grouping gives exactly the same aggregate.
agg AS (
  INSERT INTO link_sample_5m AS a (msp_id, link_id, bucket, practice_id, site_id, samples, up_samples, latency_sum,
      latency_count, latency_max, loss_sum, loss_count, jitter_sum, jitter_count, last_sampled_at)
  SELECT %(msp)s, link_id, date_bin('5 minutes', sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), practice_id, site_id,
         count(*), count(*) FILTER (WHERE up), coalesce(sum(latency_ms::numeric), 0), count(latency_ms), max(latency_ms),
         -- Loss counts the probes of an up link: a down probe's 100 %% is link.down's, and averaged in
         -- it kept link.loss_high firing for the rolling window after the link came back.
         coalesce(sum(loss_pct::numeric) FILTER (WHERE up), 0), count(loss_pct) FILTER (WHERE up),
         coalesce(sum(jitter_ms::numeric), 0), count(jitter_ms),
         max(sampled_at)
    FROM s GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT (msp_id, link_id, bucket) DO UPDATE SET
    samples = a.samples + EXCLUDED.samples, up_samples = a.up_samples + EXCLUDED.up_samples,
    latency_sum = a.latency_sum + EXCLUDED.latency_sum, latency_count = a.latency_count + EXCLUDED.latency_count,
    loss_sum = a.loss_sum + EXCLUDED.loss_sum, loss_count = a.loss_count + EXCLUDED.loss_count,
    jitter_sum = a.jitter_sum + EXCLUDED.jitter_sum, jitter_count = a.jitter_count + EXCLUDED.jitter_count,
    latency_max = greatest(a.latency_max, EXCLUDED.latency_max), last_sampled_at = greatest(a.last_sampled_at, EXCLUDED.last_sampled_at)
),
-- The newest heartbeat per agent (ties by event id, in code-point order like Python's str) decides
-- whose reported version, hostname, heartbeat and probe intervals win, whatever the delivery order;
-- last_seen_at only grows. The interval is what silence is judged by (liveness.py); a heartbeat
-- that states none means the default, so that only the newest heartbeat decides it, as it does
-- the version (keeping an older one's value would depend on the order they arrived in).
hb AS (
  SELECT DISTINCT ON (c.source_id) c.source_id AS id, c.occurred_at AS t, c.event_id AS eid, c.payload->>'agent_version' AS ver,
         c.payload->>'hostname' AS host, CAST(c.payload->>'heartbeat_interval_seconds' AS integer) AS iv,
         CAST(c.payload->>'probe_interval_seconds' AS integer) AS pv
    FROM claimed c WHERE c.type = 'heartbeat'
   ORDER BY c.source_id, c.occurred_at DESC, c.event_id COLLATE "C" DESC
),
-- Each agent heard, with its state before this batch, looked up once per agent. A plain join was
-- planned, while the MSP's agent_state rows were newer than the table's statistics (a new MSP's
-- first minute), as a rescan of all of them per agent heard (123,797 rows rejected per 8,000-event
-- batch for 497 agents, 167 ms); the lateral subquery with LIMIT is planned on its own, with the
-- agent's id as a known value, so only the primary key probe is left to it.
-- `wins`: this batch's newest heartbeat is newer than the one that set the agent's version, by
-- (time, event id) as within the batch, so a tie across batches ends as it would in one (0012).
hbp AS (
  SELECT hb.id, hb.t, hb.eid, hb.ver, hb.host, hb.iv, hb.pv, st.last_heartbeat_at AS prev_at, st.silent_since AS prev_silent,
         (st.last_heartbeat_at IS NULL OR hb.t > st.last_heartbeat_at
          OR hb.t = st.last_heartbeat_at AND hb.eid COLLATE "C" > coalesce(st.last_heartbeat_event_id, '') COLLATE "C") AS wins,
         was.heartbeat_interval_seconds AS prev_iv
    FROM hb LEFT JOIN LATERAL (
      SELECT x.last_heartbeat_at, x.last_heartbeat_event_id, x.silent_since FROM agent_state x
       WHERE x.msp_id = %(msp)s AND x.agent_id = hb.id LIMIT 1) st ON true
    LEFT JOIN LATERAL (
      SELECT y.heartbeat_interval_seconds FROM agent y WHERE y.msp_id = %(msp)s AND y.id = hb.id LIMIT 1) was ON true
),
-- Joined by key, although an MSP whose agents are newer than the table's statistics gets this
-- planned as a nested loop that rescans hbp once per agent of the MSP (500 agents: 56 ms of a
-- 1,000-event batch, until autovacuum's next ANALYZE). Finding the rows by the ctid a LATERAL probe
-- read would plan well, but the ingest API updates agent rows meanwhile (last_seen_at), and an
-- UPDATE by a ctid read before such an update can miss the row (locked first, the new version is
-- not in the statement's snapshot; unlocked, it rests on how PostgreSQL rechecks a TID scan, which
-- is not settled across versions): a heartbeat lost, for a plan that matters only at thousands of
-- events/s from one new MSP (2026-11-24).
ag AS (
  UPDATE agent a SET last_seen_at = greatest(a.last_seen_at, hbp.t),
         agent_version = CASE WHEN hbp.ver IS NOT NULL AND hbp.wins THEN hbp.ver ELSE a.agent_version END,
         hostname = CASE WHEN hbp.host IS NOT NULL AND hbp.wins THEN hbp.host ELSE a.hostname END,
         heartbeat_interval_seconds = CASE WHEN hbp.wins THEN coalesce(hbp.iv, %(default_interval)s) ELSE a.heartbeat_interval_seconds END,
         probe_interval_seconds = CASE WHEN hbp.wins THEN coalesce(hbp.pv, %(default_probe_interval)s) ELSE a.probe_interval_seconds END
    FROM hbp
   WHERE a.msp_id = %(msp)s AND a.id = hbp.id
  RETURNING a.id, a.practice_id, a.site_id, a.hostname, a.heartbeat_interval_seconds, hbp.t, hbp.eid, hbp.wins, hbp.prev_at,
            hbp.prev_silent, hbp.prev_iv
),
ast AS (
  INSERT INTO agent_state AS st (msp_id, agent_id, practice_id, last_heartbeat_at, last_heartbeat_event_id, silent_since, updated_at)
  SELECT %(msp)s, ag.id, ag.practice_id, ag.t, CASE WHEN ag.wins THEN ag.eid END, NULL, now() FROM ag
  ON CONFLICT (msp_id, agent_id) DO UPDATE SET last_heartbeat_at = greatest(st.last_heartbeat_at, EXCLUDED.last_heartbeat_at),
      last_heartbeat_event_id = coalesce(EXCLUDED.last_heartbeat_event_id, st.last_heartbeat_event_id),
      silent_since = NULL, updated_at = now()
),
-- Any other event from a silent agent lifts its dead man's switch too (disjoint rows from ast).
heard AS (
  UPDATE agent_state st SET silent_since = NULL, updated_at = now()
   WHERE st.msp_id = %(msp)s AND st.silent_since IS NOT NULL
     AND st.agent_id IN (SELECT c.source_id FROM claimed c WHERE c.type IN ({_AGENT_TYPES_SQL}) AND c.type <> 'heartbeat')
     AND st.agent_id NOT IN (SELECT hb.id FROM hb)
  RETURNING st.agent_id, st.practice_id
)
SELECT 's' AS k, s.seq, NULL::uuid AS source_id, NULL::text AS event_id, s.practice_id, s.site_id, NULL::text AS type,
       s.sampled_at AS at, NULL::jsonb AS payload, s.link_id, s.up, NULL::timestamptz AS since, NULL::timestamptz[] AS transitions
  FROM s
UNION ALL
SELECT 'x', x.seq, NULL, NULL, x.practice_id, x.site_id, NULL, x.sampled_at, NULL, x.link_id, NULL, NULL, NULL
  FROM sampled x WHERE NOT x.here
UNION ALL
SELECT 'e', c.seq, c.source_id, c.event_id, c.practice_id, c.site_id, c.type, c.occurred_at, c.payload, NULL, NULL, NULL, NULL
  FROM claimed c WHERE c.type NOT IN ('link_sample', 'heartbeat')
UNION ALL
SELECT 'p', count(*), NULL, NULL, c.practice_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM claimed c GROUP BY c.practice_id
UNION ALL
-- Agents that were, or may have been, silent before this batch (the hooks re-evaluate their
-- practices): type 'back' when the batch lifted their silent mark (an agent.online event), 'maybe'
-- when their previous heartbeat came more than interval + the smallest grace before this one (or
-- there was none). Measured between heartbeats, not against now(), so draining a backlog older
-- than that does not flag every agent. The interval is the shorter of the one silence was judged
-- by until this batch (what the last evaluation saw) and the one this heartbeat states (what the
-- next sees): with the stated one alone, an agent that lengthened its interval and came back
-- after a gap the old interval called silence was not flagged.
SELECT 'a', NULL, ag.id, ag.hostname, ag.practice_id, ag.site_id,
       CASE WHEN ag.prev_silent IS NOT NULL THEN 'back' ELSE 'maybe' END, ag.t, NULL, NULL, NULL, NULL, NULL
  FROM ag
 WHERE ag.prev_silent IS NOT NULL OR ag.prev_at IS NULL
    OR ag.prev_at < ag.t - make_interval(secs => least(ag.heartbeat_interval_seconds, ag.prev_iv) + %(min_grace_seconds)s)
UNION ALL
SELECT 'a', NULL, heard.agent_id, a.hostname, heard.practice_id, a.site_id, 'back',
       (SELECT max(c.occurred_at) FROM claimed c WHERE c.source_id = heard.agent_id), NULL, NULL, NULL, NULL, NULL
  FROM heard LEFT JOIN agent a ON a.msp_id = %(msp)s AND a.id = heard.agent_id
UNION ALL
-- One probe per link sampled, for the reason given at hbp (a link's state row appears with its
-- first sample, so a new MSP's are newer than the statistics).
SELECT 'l', NULL, NULL, NULL, l.practice_id, l.site_id, NULL, l.last_sample_at, NULL, l.link_id, l.up, l.state_since, l.transitions
  FROM (SELECT DISTINCT s.link_id FROM s) sl
 CROSS JOIN LATERAL (SELECT x.practice_id, x.site_id, x.last_sample_at, x.link_id, x.up, x.state_since, x.transitions
                       FROM link_state x WHERE x.msp_id = %(msp)s AND x.link_id = sl.link_id LIMIT 1) l
"""


@dataclass
class ClaimedBatch:
    now: datetime
    config_version: int | None = None  # services/core/config_version.py, read with the lock
    count: int = 0
    practices: set[uuid.UUID] = field(default_factory=set)
    samples: list[Sample] = field(default_factory=list)
    others: list[Claimed] = field(default_factory=list)  # every type but link samples and heartbeats
    links: dict[uuid.UUID, LinkNow] = field(default_factory=dict)  # current state of the sampled links
    back: list[AgentBack] = field(default_factory=list)  # agents whose silent mark this batch lifted
    maybe_silent: set[uuid.UUID] = field(default_factory=set)  # practices of agents that may have been silent


def claim_params(msp_id: uuid.UUID, limit: int) -> dict:
    """The parameters of TRY_LOCK and CLAIM_AND_APPEND."""
    return {"msp": msp_id, "n": limit, "raw_seconds": RAW_SAMPLE_RETENTION.total_seconds(),
            "min_grace_seconds": MIN_GRACE_MINUTES * 60, "default_interval": DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
            "default_probe_interval": DEFAULT_PROBE_INTERVAL_SECONDS}


async def claim_and_append(session: AsyncSession, msp_id: uuid.UUID, limit: int) -> ClaimedBatch | None:
    """Claim up to `limit` events and do the batch's bulk work; None when another worker holds the MSP."""
    pg = await driver_connection(session)
    params = claim_params(msp_id, limit)
    async with pg.pipeline():
        lock = await pg.execute(TRY_LOCK, params)
        claim = await pg.execute(CLAIM_AND_APPEND, params, binary=True)
    locked, now, config_version = await lock.fetchone()  # type: ignore[misc]
    rows = await claim.fetchall()
    batch = ClaimedBatch(now, config_version)
    if not rows and not locked:
        return None
    # Every misplaced sample at once, so one round sets them all aside (0012-set-aside-all-at-once.md).
    raise_all([not_at_site(seq, "link_sample", "link") for seq in sorted(row[1] for row in rows if row[0] == "x")])
    for k, seq, source_id, event_id, practice_id, site_id, type_, at, payload, link_id, up, since, transitions in rows:
        if k == "s":
            batch.samples.append(Sample(seq, link_id, practice_id, site_id, at, up))
        elif k == "e":
            batch.others.append(Claimed(seq, source_id, event_id, practice_id, site_id, type_, at, payload))
        elif k == "p":
            batch.count += seq
            batch.practices.add(practice_id)
        elif k == "a":
            batch.maybe_silent.add(practice_id)
            if type_ == "back":
                batch.back.append(AgentBack(source_id, practice_id, site_id, event_id or str(source_id)[:8], at))
        else:
            batch.links[link_id] = LinkNow(practice_id, site_id, up, since, at, list(transitions or []))
    return batch
