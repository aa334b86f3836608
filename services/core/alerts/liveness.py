"""The grace of the agent.silent rule and the `intervals` of link.no_data, resolved per practice
and site from the MSP's alert policy: what services/core/telemetry/liveness.py needs to say whether
an agent is silent and whether a link has data."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import policy
from services.core.alerts import rules_live  # noqa: F401  (registers agent.silent and its default grace)
from services.core.alerts.facts import PracticeFacts
from services.core.alerts.rules import AGENT_SILENT, LINK_NO_DATA
from services.core.telemetry import liveness

Graces = Callable[[uuid.UUID, "uuid.UUID | None"], float]
NoDataIntervals = Callable[[uuid.UUID, "uuid.UUID | None"], float]


def grace_of(view: policy.PolicyView, practice_id: uuid.UUID, site_id: uuid.UUID | None) -> float:
    """The effective grace_minutes of agent.silent at this site (the rule's own parameter)."""
    return float(view.effective(AGENT_SILENT, practice_id, site_id).params["grace_minutes"])


async def graces(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID]) -> Graces:
    """One policy read for these practices; then grace(practice, site) in minutes."""
    view = await policy.load(session, msp_id, set(practice_ids))
    cache: dict[tuple, float] = {}

    def grace(practice_id: uuid.UUID, site_id: uuid.UUID | None) -> float:
        key = (practice_id, site_id)
        if key not in cache:
            cache[key] = grace_of(view, practice_id, site_id)
        return cache[key]

    return grace


def no_data_intervals_of(view: policy.PolicyView, practice_id: uuid.UUID, site_id: uuid.UUID | None) -> float:
    """The effective `intervals` of link.no_data at this site. Read even where the rule is disabled:
    disabling the finding does not make a stale state fresh again (link.down and the others still
    stop judging a link with no data)."""
    return float(view.effective(LINK_NO_DATA, practice_id, site_id).params["intervals"])


def judge_links(p: PracticeFacts, view: policy.PolicyView) -> PracticeFacts:
    """Give every link of the practice its site's no-data threshold, before any rule reads it."""
    for link in p.links:
        link.no_data_intervals = no_data_intervals_of(view, p.practice_id, link.site_id)
    return p


async def no_data_intervals(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID]) -> NoDataIntervals:
    """One policy read for these practices; then intervals(practice, site)."""
    view = await policy.load(session, msp_id, set(practice_ids))

    def intervals(practice_id: uuid.UUID, site_id: uuid.UUID | None) -> float:
        return no_data_intervals_of(view, practice_id, site_id)

    return intervals


# The agents whose probe intervals set a site's sampling: the non-revoked ones, as the rules load them (gather._AGENTS).
_SITE_AGENTS = text("SELECT site_id, probe_interval_seconds, created_at FROM agent"
                    " WHERE msp_id = :m AND practice_id = :p AND revoked_at IS NULL")


@dataclass(frozen=True)
class LinkShown:
    """What a screen says of a link's state: the rules' reading, and since when it has had no data."""

    state: liveness.LinkReading
    no_data_since: datetime | None  # set when state is no_data: the newest sample, or the enrollment if none


LinkScreen = Callable[[uuid.UUID, "bool | None", "datetime | None"], LinkShown]


async def link_screen(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, now: datetime) -> LinkScreen:
    """For the screens of one practice: shown(site_id, up, last_sample_at), judged exactly as the
    rules judge it (the site's sampling, link.no_data's `intervals` at the site, the same function)."""
    agents = (await session.execute(_SITE_AGENTS, {"m": msp_id, "p": practice_id})).all()
    sampling = liveness.site_sampling((a.site_id, a.probe_interval_seconds, a.created_at) for a in agents)
    intervals = await no_data_intervals(session, msp_id, [practice_id])

    def shown(site_id: uuid.UUID, up: bool | None, last_sample_at: datetime | None) -> LinkShown:
        site = sampling.get(site_id, liveness.SiteSampling())
        reading = liveness.link_reading(up, last_sample_at, site, intervals(practice_id, site_id), now)
        return LinkShown(reading, liveness.link_no_data_from(last_sample_at, site) if reading == "no_data" else None)

    return shown
