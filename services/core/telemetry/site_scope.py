"""What an agent may report on: the backup jobs, links and systems of its own site.

An agent is a one-site principal (docs/decisions/0002-agents-report-on-their-own-site.md):
- a backup job is the site's when its `site_id` is the site (a job without a site is reported by
  no agent, only through its ping URL);
- a link is the site's when its `site_id` is the site;
- a system has no site of its own: it is the site's when a backup job of the site protects it.

The same fragments decide it in the three places that must agree: what ingest resolves names and
ids against (ingest.py), what `GET /api/v1/agents/me` lists (agents.py) and what the worker
re-checks before it applies an event (history.py, claim.py), because an object can move to another
site between the request that recorded an event and the batch that applies it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.telemetry.events import REFERENCES
from services.core.telemetry.unapplicable import UnapplicableEvent, raise_all

if TYPE_CHECKING:
    from services.core.telemetry.history import Claimed

# Each fragment: the row aliased `row` belongs to practice `practice` and site `site` (SQL
# expressions). IS NOT DISTINCT FROM: when a site is deleted its jobs lose their site (SET NULL) and
# its recorded events theirs (detached), so a run recorded before the deletion still applies to
# its job; at ingest the agent's site is never NULL and this is plain equality.


def job_at_site(row: str, practice: str, site: str) -> str:
    return f"{row}.practice_id = {practice} AND {row}.site_id IS NOT DISTINCT FROM {site}"


def link_at_site(row: str, practice: str, site: str) -> str:
    return f"{row}.practice_id = {practice} AND {row}.site_id = {site}"


def system_at_site(row: str, practice: str, site: str) -> str:
    return (f"{row}.practice_id = {practice} AND EXISTS (SELECT 1 FROM backup_job_system site_bs"
            " JOIN backup_job site_bj ON site_bj.msp_id = site_bs.msp_id AND site_bj.id = site_bs.backup_job_id"
            f" WHERE site_bs.msp_id = {row}.msp_id AND site_bs.system_id = {row}.id AND {job_at_site('site_bj', practice, site)})")


# The agent's site's objects, for ingest's name/id cache and for the agent's configuration.
JOBS_OF_SITE = f"SELECT j.id, j.name, j.tool FROM backup_job j WHERE j.msp_id = :m AND {job_at_site('j', ':p', ':s')}"
LINKS_OF_SITE = f"SELECT l.id, l.name, l.role FROM link l WHERE l.msp_id = :m AND {link_at_site('l', ':p', ':s')}"
SYSTEMS_OF_SITE = f"SELECT y.id, y.name FROM system y WHERE y.msp_id = :m AND {system_at_site('y', ':p', ':s')}"

TABLES = {"job": "backup_job", "link": "link", "system": "system"}
_AT_SITE = {"job": job_at_site, "link": link_at_site, "system": system_at_site}
WORDS = {"job": "backup job", "link": "link", "system": "system"}

# Which of the named objects are not (or no longer) at the site of the event that names them: one
# statement for all the events of a kind in a batch, each object looked up by its key.
_MISPLACED = text(
    "SELECT v.seq, v.kind FROM unnest(CAST(:seq AS bigint[]), CAST(:kind AS text[]), CAST(:id AS uuid[]),"
    " CAST(:practice AS uuid[]), CAST(:site AS uuid[])) AS v(seq, kind, id, practice_id, site_id)"
    " WHERE NOT CASE v.kind "
    + " ".join(f"WHEN '{kind}' THEN EXISTS (SELECT 1 FROM {table} o WHERE o.msp_id = :msp AND o.id = v.id"
               f" AND {_AT_SITE[kind]('o', 'v.practice_id', 'v.site_id')})" for kind, table in TABLES.items())
    + " ELSE false END ORDER BY v.seq, v.kind"
)


def named_objects(event_type: str, payload: dict[str, Any]) -> list[tuple[str, uuid.UUID]]:
    """(kind, id) of every inventory object an event's payload names."""
    return [(kind, uuid.UUID(payload[key])) for _, kind, key in REFERENCES.get(event_type, ()) if payload.get(key)]


async def refuse_misplaced(session: AsyncSession, msp_id: uuid.UUID, events: list[Claimed]) -> None:
    """Raise UnapplicableEvent(s) for every event naming an object that is not at the event's site.

    The API refused such events when they were recorded; one that gets here names an object moved
    to another site (or deleted) since, and applying it would credit another site's job or link.
    """
    columns: dict[str, list[Any]] = {"seq": [], "kind": [], "id": [], "practice": [], "site": []}
    types = {}
    for e in events:
        types[e.seq] = e.type
        for kind, object_id in named_objects(e.type, e.payload):
            for name, value in zip(columns, (e.seq, kind, object_id, e.practice_id, e.site_id)):
                columns[name].append(value)
    if not columns["seq"]:
        return
    # All of them at once (one per event, by its first misplaced object): naming only the first let
    # a batch hold more offenders than the worker has rounds (docs/decisions/0012-set-aside-all-at-once.md).
    found: dict[int, UnapplicableEvent] = {}
    for row in await session.execute(_MISPLACED, {"msp": msp_id, **columns}):
        found.setdefault(row.seq, not_at_site(row.seq, types[row.seq], row.kind))
    raise_all(list(found.values()))


def not_at_site(seq: int, event_type: str, kind: str) -> UnapplicableEvent:
    what, word = event_type.replace("_", " "), WORDS[kind]
    return UnapplicableEvent(
        f"This {what} names {'an' if word[0] in 'aeiou' else 'a'} {word} that is no longer at the site of the agent that reported it"
        " (it was moved to another site or deleted after the report arrived).",
        seq=seq, code="not-at-agent-site")
