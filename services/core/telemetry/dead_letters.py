"""Dead letters: recorded events that are themselves invalid, set aside until the MSP replays or discards them.

Setting aside happens in the worker's batch transaction, under the MSP's telemetry lock; replay and
discard in an API request. The inbox row stays, with type `set_aside` and processed_at set: the
claim, the ping pairing and every other reader of the inbox select by type or by pending state, so
the row drops out of all of them without a change to their SQL or to the claim's partial index,
and its dedup key still keeps a resent copy out. The original type and payload live here.
Replay puts the row back as it was and pending (re-inserting it from this copy if retention
removed it meanwhile), so the worker applies it once through the ordinary path; a replayed
event that fails again comes back as the same dead letter, one more failure counted
(docs/decisions/0006-dead-letters.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import Database

from services.core.audit.service import Actor, record
from services.core.errors import FieldError, NotFound, ValidationFailed
from services.core.telemetry.inbox import CHANNEL
from services.core.telemetry.schemas_dead_letter import DeadLetterOut, DeadLetterPage
from services.core.telemetry.unapplicable import UnapplicableEvent

SET_ASIDE_TYPE = "set_aside"
PURGE_CHUNK = 10_000
REASON_CHARS = 500

# One statement: the rows as they were, marked set aside, and their dead letters upserted. A row
# no longer pending (applied or set aside meanwhile) is left alone.
_SET_ASIDE = text(f"""
WITH v AS (
  SELECT * FROM unnest(CAST(:seqs AS bigint[]), CAST(:codes AS text[]), CAST(:reasons AS text[]), CAST(:fields AS text[]))
      AS v(seq, code, reason, field)
),
old AS (
  SELECT e.seq, e.source_id, e.event_id, e.practice_id, e.site_id, e.type, e.occurred_at, e.payload, v.code, v.reason, v.field
    FROM telemetry_event e JOIN v ON e.seq = v.seq
   WHERE e.msp_id = :msp AND e.processed_at IS NULL
     FOR UPDATE OF e
),
marked AS (
  UPDATE telemetry_event e SET type = '{SET_ASIDE_TYPE}', processed_at = clock_timestamp()
    FROM old WHERE e.msp_id = :msp AND e.seq = old.seq
)
INSERT INTO telemetry_dead_letter AS d (msp_id, id, practice_id, site_id, event_seq, source_id, event_id, type, occurred_at,
    payload, code, reason, field, failures, first_failed_at, last_failed_at, replay_count)
SELECT :msp, gen_random_uuid(), practice_id, site_id, seq, source_id, event_id, type, occurred_at, payload, code, reason,
       field, 1, now(), now(), 0 FROM old
ON CONFLICT (source_id, event_id, msp_id) DO UPDATE SET
  event_seq = EXCLUDED.event_seq, site_id = EXCLUDED.site_id, type = EXCLUDED.type, payload = EXCLUDED.payload,
  code = EXCLUDED.code, reason = EXCLUDED.reason, field = EXCLUDED.field, failures = d.failures + 1,
  last_failed_at = now(), resolved_at = NULL, resolution = NULL, resolved_by = NULL
RETURNING d.event_seq
""")


async def set_aside(session: AsyncSession, msp_id: uuid.UUID, events: list[UnapplicableEvent]) -> list[int]:
    """Set these events aside in the caller's batch transaction (which holds the MSP); returns the seqs set aside."""
    if not events:
        return []
    rows = await session.execute(_SET_ASIDE, {
        "msp": msp_id, "seqs": [e.seq for e in events], "codes": [e.code[:40] for e in events],
        "reasons": [e.reason[:REASON_CHARS] for e in events], "fields": [(e.field or "")[:100] or None for e in events]})
    return [r[0] for r in rows]


# --- the people's side ---------------------------------------------------------------------------

# The page is taken first, then its sources are looked up: joined before the LIMIT, every dead
# letter of the MSP was joined and sorted for each page (ix_telemetry_dead_letter_msp_failed, 0020).
_LIST = """
SELECT d.id, d.practice_id, d.site_id, s.name AS site_name, d.event_seq, d.event_id, d.type, d.source_id,
       CASE WHEN d.type = 'ping' THEN 'ping' ELSE 'agent' END AS source_kind,
       coalesce(CASE WHEN d.type = 'ping' THEN j.name ELSE a.hostname END, '') AS source_name,
       d.occurred_at, d.code, d.reason, d.field, d.failures, d.first_failed_at, d.last_failed_at, d.replay_count,
       d.replayed_at, d.resolved_at, d.resolution
  FROM ({page}) d
  LEFT JOIN site s ON s.msp_id = d.msp_id AND s.id = d.site_id
  LEFT JOIN agent a ON d.type <> 'ping' AND a.msp_id = d.msp_id AND a.id = d.source_id
  LEFT JOIN backup_job j ON d.type = 'ping' AND j.msp_id = d.msp_id AND j.id = d.source_id
 ORDER BY d.last_failed_at DESC, d.id DESC
"""
_PAGE = "SELECT * FROM telemetry_dead_letter d WHERE d.msp_id = :msp"

STATUSES = ("open", "replayed", "discarded", "all")


async def list_dead_letters(session: AsyncSession, msp_id: uuid.UUID, visible: frozenset[uuid.UUID] | None,
                            practice_id: uuid.UUID | None = None, status: str = "open", type_: str | None = None,
                            cursor: tuple[datetime, uuid.UUID] | None = None, limit: int = 100) -> DeadLetterPage:
    """Dead letters of the practices the caller sees (or of one), newest failure first, keyset-paged."""
    sql, params = _PAGE, {"msp": msp_id, "limit": limit + 1}
    scope = ""
    if visible is not None:
        scope += " AND d.practice_id = ANY(CAST(:visible AS uuid[]))"
        params["visible"] = list(visible)
    if practice_id is not None:
        scope += " AND d.practice_id = :practice"
        params["practice"] = practice_id
    sql += scope
    if status == "open":
        sql += " AND d.resolved_at IS NULL"
    elif status in ("replayed", "discarded"):
        sql += " AND d.resolution = :resolution AND d.resolved_at IS NOT NULL"
        params["resolution"] = status
    if type_:
        sql += " AND d.type = :type"
        params["type"] = type_
    if cursor:
        sql += " AND (d.last_failed_at, d.id) < (:c_at, :c_id)"
        params["c_at"], params["c_id"] = cursor
    sql += " ORDER BY d.last_failed_at DESC, d.id DESC LIMIT :limit"
    rows = (await session.execute(text(_LIST.format(page=sql)), params)).mappings().all()
    items = [DeadLetterOut.model_validate(dict(r)) for r in rows[:limit]]
    next_cursor = f"{items[-1].last_failed_at.isoformat()}|{items[-1].id}" if len(rows) > limit else None
    open_count = await session.scalar(text(
        "SELECT count(*) FROM telemetry_dead_letter d WHERE d.msp_id = :msp AND d.resolved_at IS NULL" + scope),
        {k: v for k, v in params.items() if k in ("msp", "visible", "practice")})
    return DeadLetterPage(items=items, next_cursor=next_cursor, open_count=open_count or 0)


_OPEN_FOR_UPDATE = """
SELECT id, event_seq, source_id, event_id, practice_id, site_id, type, occurred_at, payload FROM telemetry_dead_letter
 WHERE msp_id = :msp AND practice_id = :practice AND resolved_at IS NULL
"""

# At most this many dead letters per "all of the practice" request: one bounded transaction, the
# answer says how many are left, and the person sends the rest with the next request.
ACTION_LIMIT = 1_000

# One statement for all of them: the inbox rows still there are put back as they were, pending, and
# the copies of those retention removed (31 days after processing) are inserted again. ON CONFLICT
# keeps the inbox's dedup: should the event be there under another state, nothing doubles. A copy
# keeps its site only while the site exists: deleting a site detaches the inbox rows, not the dead
# letters, and a run re-inserted with a deleted site's id would be refused again.
_REPLAY = text(f"""
WITH v AS (SELECT * FROM telemetry_dead_letter d WHERE d.msp_id = :msp AND d.id = ANY(CAST(:ids AS uuid[]))),
restored AS (
  UPDATE telemetry_event e SET type = v.type, processed_at = NULL FROM v
   WHERE e.msp_id = :msp AND e.seq = v.event_seq AND e.type = '{SET_ASIDE_TYPE}' AND e.source_id = v.source_id
     AND e.event_id = v.event_id
  RETURNING e.seq
)
INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)
SELECT :msp, v.source_id, v.event_id, v.practice_id,
       (SELECT s.id FROM site s WHERE s.msp_id = :msp AND s.id = v.site_id), v.type, v.occurred_at, v.payload
  FROM v WHERE v.event_seq NOT IN (SELECT seq FROM restored)
ON CONFLICT (source_id, event_id, msp_id) DO NOTHING
""")
_RESOLVE = text(
    "UPDATE telemetry_dead_letter SET resolved_at = now(), resolution = CAST(:resolution AS text), resolved_by = :user,"
    " replayed_at = CASE WHEN CAST(:resolution AS text) = 'replayed' THEN now() ELSE replayed_at END,"
    " replay_count = replay_count + CASE WHEN CAST(:resolution AS text) = 'replayed' THEN 1 ELSE 0 END"
    " WHERE msp_id = :msp AND id = ANY(CAST(:ids AS uuid[]))"
)


async def _take_open(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, dead_letter_id: uuid.UUID | None):
    sql, params = _OPEN_FOR_UPDATE, {"msp": msp_id, "practice": practice_id}
    if dead_letter_id is not None:
        sql += " AND id = :id"
        params["id"] = dead_letter_id
    # Locked: two people replaying at once take turns, and the second finds nothing open.
    sql += " ORDER BY event_seq LIMIT :limit FOR UPDATE"
    rows = (await session.execute(text(sql), {**params, "limit": ACTION_LIMIT})).mappings().all()
    if dead_letter_id is not None and not rows:
        raise NotFound("No such open dead letter in this practice.")
    return rows


async def replay(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, actor: Actor,
                 dead_letter_id: uuid.UUID | None = None) -> int:
    """Put one (or up to ACTION_LIMIT open) dead letters of the practice back into the worker's path; returns how many."""
    rows = await _take_open(session, msp_id, practice_id, dead_letter_id)
    if rows:
        await session.execute(_REPLAY, {"msp": msp_id, "ids": [r["id"] for r in rows]})
    await _resolve(session, msp_id, practice_id, rows, "replayed", actor)
    if rows:
        # Delivered at commit, as the ingest API's own notification: the worker wakes for it.
        await session.execute(text("SELECT pg_notify(:channel, CAST(:msp AS text))"), {"channel": CHANNEL, "msp": msp_id})
    return len(rows)


async def discard(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, actor: Actor,
                  dead_letter_id: uuid.UUID | None = None) -> int:
    """Give up on one (or up to ACTION_LIMIT open) dead letters: they leave the open list; the inbox rows stay set aside."""
    rows = await _take_open(session, msp_id, practice_id, dead_letter_id)
    await _resolve(session, msp_id, practice_id, rows, "discarded", actor)
    return len(rows)


async def _resolve(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, rows, resolution: str,
                   actor: Actor) -> None:
    if not rows:
        return
    ids = [r["id"] for r in rows]
    await session.execute(_RESOLVE, {"msp": msp_id, "ids": ids, "resolution": resolution,
                                     "user": actor.id if actor.type in ("user", "token") else None})
    await record(session, msp_id=msp_id, actor=actor, action=f"telemetry.dead_letter.{resolution}",
                 object_type="telemetry_dead_letter", object_id=ids[0] if len(ids) == 1 else "", practice_id=practice_id,
                 changes={"count": len(ids), "events": [{"dead_letter_id": str(r["id"]), "event_id": r["event_id"],
                                                         "type": r["type"]} for r in rows[:100]]})


async def open_left(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> int:
    """Open dead letters of the practice still waiting for a person (after a bounded replay or discard)."""
    return await session.scalar(text(
        "SELECT count(*) FROM telemetry_dead_letter WHERE msp_id = :msp AND practice_id = :practice AND resolved_at IS NULL"),
        {"msp": msp_id, "practice": practice_id}) or 0


def parse_cursor(raw: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The keyset of next_cursor; a cursor that is not one of ours is refused by name."""
    if not raw:
        return None
    try:
        at, _, ident = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError(at)
        return moment, uuid.UUID(ident)
    except ValueError:
        raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "is not a cursor from this list")]) from None


async def purge_resolved(db: Database) -> int:
    """Delete dead letters resolved more than 180 days ago (and stalls long over), in chunks."""
    total = 0
    while True:
        async with db.transaction() as session:
            n = await session.scalar(text("SELECT telemetry_purge_dead_letters(:n)"), {"n": PURGE_CHUNK})
        total += n
        if n < PURGE_CHUNK:
            return total
