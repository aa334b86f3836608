"""The inbox writer answers each request of a group commit with its own accepted/duplicate counts,
whether the group's sources are all different (counted per source) or one source sent several
requests at once (told apart by event id)."""

from __future__ import annotations

import pytest

from services.core.secrets import hash_token
from services.core.telemetry.inbox import InboxWriter, Row, Submission
from tests.factories_telemetry import create_agent, inbox, now


@pytest.fixture
async def writer(db):
    w = InboxWriter(db)
    yield w
    for conn in w._idle:  # the writer keeps its connections for the process's life; not the test's
        await conn.close()


def _submission(agent, event_ids: list[str]) -> Submission:
    at = now()
    return Submission("agent", agent.msp_id, agent.practice_id, agent.site_id, agent.agent_id, hash_token(agent.credential),
                      [Row(e, "heartbeat", at, {}) for e in event_ids])


async def test_a_group_of_different_agents_counts_each_request_with_its_own_duplicates(db, tenant, writer):
    a, b = await create_agent(db, tenant.site), await create_agent(db, tenant.site)
    first = await writer._write([_submission(a, ["a1", "a2"])])
    assert [(o.accepted, o.duplicates) for o in first] == [(2, 0)]
    # a resends a2 and repeats a3 within its request; b sends the same ids, which are its own events
    outcomes = await writer._write([_submission(a, ["a2", "a3", "a3"]), _submission(b, ["a1", "a2", "a3"])])
    assert [(o.authorised, o.accepted, o.duplicates) for o in outcomes] == [(True, 1, 2), (True, 3, 0)]
    assert len(await inbox(db, tenant.msp_id)) == 6


async def test_concurrent_requests_of_one_agent_in_a_group_count_each_new_event_once(db, tenant, writer):
    a = await create_agent(db, tenant.site)
    outcomes = await writer._write([_submission(a, ["e1", "e2"]), _submission(a, ["e2", "e3"]), _submission(a, ["e1"])])
    # e2 is new for the first request that carried it; e1 in the third is a duplicate of the first
    assert [(o.accepted, o.duplicates) for o in outcomes] == [(2, 0), (1, 1), (0, 1)]
    assert [r["event_id"] for r in await inbox(db, tenant.msp_id)] == ["e1", "e2", "e3"]


async def test_a_submission_whose_credential_no_longer_matches_is_refused_alone_in_its_group(db, tenant, writer):
    a, b = await create_agent(db, tenant.site), await create_agent(db, tenant.site)
    stale = _submission(b, ["b1"])
    stale.credential_hash = hash_token("swa_not-the-credential")
    outcomes = await writer._write([_submission(a, ["a1"]), stale])
    assert [(o.authorised, o.accepted) for o in outcomes] == [(True, 1), (False, 0)]
    assert [r["event_id"] for r in await inbox(db, tenant.msp_id)] == ["a1"]
