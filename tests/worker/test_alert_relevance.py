"""The batch evaluates the rules only where an outcome can differ — and never misses one.

Each test drives the real path (ingest API → batch → hooks) and watches evaluate_practices
through a spy, so "not evaluated" is asserted on the call, not on timing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

import services.core.readiness.service  # noqa: F401  (registers readiness's hook, as the worker does)
from services.core.alerts import evaluate, recent
from services.core.alerts import rules as R
from services.core.alerts.models import AlertOverride
from services.core.alerts.policy import get_or_create_policy
from services.core.db import Scope
from services.core.telemetry import inbox
from services.worker.tasks_alerts import evaluate_all
from tests import factories_alerts as fa
from tests.factories_inventory import create_job, create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, run_event, sample_event, send_and_process


@pytest.fixture
def evaluated(monkeypatch):
    """The practices each batch evaluated (the real evaluation still runs)."""
    calls: list[set] = []
    real = evaluate.evaluate_practices

    async def spy(session, msp_id, practice_ids, now, **kw):
        calls.append(set(practice_ids))
        await real(session, msp_id, practice_ids, now, **kw)

    monkeypatch.setattr(evaluate, "evaluate_practices", spy)
    return calls


def heartbeat(minutes_ago: float = 0):
    return ev("heartbeat", at(minutes_ago), agent_version="0.1.0", hostname="frontdesk-pc")


async def dirty(db, tenant) -> set:
    async with db.transaction(Scope(tenant.msp_id)) as s:
        return set((await s.scalars(text("SELECT practice_id FROM readiness_dirty WHERE msp_id = :m"), {"m": tenant.msp_id})).all())


async def scored(db, tenant) -> tuple:
    """When the practice was last scored, and the rules its findings name."""
    async with db.transaction(Scope(tenant.msp_id)) as s:
        row = (await s.execute(text("SELECT computed_at, findings FROM readiness_current WHERE msp_id = :m AND practice_id = :p"),
                               {"m": tenant.msp_id, "p": tenant.practice.id})).first()
    return (row[0], {f["rule_id"] for f in row[1]}) if row else (None, set())


async def clear_dirty(db, tenant) -> None:
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("DELETE FROM readiness_dirty WHERE msp_id = :m"), {"m": tenant.msp_id})


async def test_healthy_heartbeats_and_samples_do_not_evaluate_the_practice(client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    # First contact: a new link state and a first heartbeat may change outcomes, so they count.
    await send_and_process(client, db, agent, [heartbeat(1), sample_event("Fiber", at(1), latency_ms=20)])
    assert evaluated == [{tenant.practice.id}]
    await clear_dirty(db, tenant)
    first = await scored(db, tenant)
    # More of the same: figures move but stay under the thresholds, the agent keeps its rhythm.
    for i, latency in enumerate((25, 31, 18)):
        await send_and_process(client, db, agent, [heartbeat(0.5 - i / 10), sample_event("Fiber", at(0.5 - i / 10), latency_ms=latency,
                                                                                         loss_pct=0.5, jitter_ms=3)])
    assert evaluated == [{tenant.practice.id}]
    # Readiness needs no rescoring either.
    assert await dirty(db, tenant) == set() and await scored(db, tenant) == first


async def test_a_sample_that_pushes_loss_over_the_threshold_opens_its_incident_in_the_same_batch(client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)
    link = await create_link(db, tenant.site, "Fiber", loss_threshold_pct=2.0)
    await send_and_process(client, db, agent, [heartbeat(3), sample_event("Fiber", at(3), loss_pct=0.0)])
    await clear_dirty(db, tenant)
    await send_and_process(client, db, agent, [sample_event("Fiber", at(2), loss_pct=9.0)])  # rolling loss 4.5 % > 2 %
    (inc,) = await fa.incidents(db, tenant.msp_id, R.LINK_LOSS, active=True)
    assert inc.subject_id == str(link.id)
    # Readiness was rescored by the same batch, with the incident as its finding (decision 0013).
    assert len(evaluated) == 2 and R.LINK_LOSS in (await scored(db, tenant))[1]


async def test_the_policy_threshold_override_counts_for_the_crossing(client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber", latency_threshold_ms=150.0)
    await fa.add(db, tenant.msp_id, AlertOverride(msp_id=tenant.msp_id, practice_id=tenant.practice.id, site_id=tenant.site.id,
                                                  rule_id=R.LINK_LATENCY, enabled=None, params={"threshold": 40}))
    await send_and_process(client, db, agent, [heartbeat(3), sample_event("Fiber", at(3), latency_ms=20)])
    # 20 → 45 ms: far under the link's own 150 ms, over the site's 40 ms.
    await send_and_process(client, db, agent, [sample_event("Fiber", at(2), latency_ms=70)])
    assert len(evaluated) == 2
    assert len(await fa.incidents(db, tenant.msp_id, R.LINK_LATENCY, active=True)) == 1


async def test_a_link_going_down_is_evaluated_in_its_batch(client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    await send_and_process(client, db, agent, [heartbeat(3), sample_event("Fiber", at(3))])
    await send_and_process(client, db, agent, [sample_event("Fiber", at(2), up=False)])
    assert len(evaluated) == 2
    assert {i.rule_id for i in await fa.incidents(db, tenant.msp_id, active=True)} >= {R.LINK_DOWN, R.INTERNET_OUTAGE}


async def test_a_backup_run_is_always_evaluated(client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send_and_process(client, db, agent, [heartbeat(3)])
    await send_and_process(client, db, agent, [run_event("nas", at(30), at(20))])
    assert evaluated == [{tenant.practice.id}, {tenant.practice.id}]


async def silence(db, tenant, agent, minutes: float, heartbeat_too: bool) -> None:
    """Make the agent look unheard for `minutes` (as if time had passed)."""
    recent.forget()  # time has "passed": no evaluation of this process is recent any more
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE agent SET last_seen_at = now() - make_interval(mins => :n) WHERE id = :a"),
                        {"n": minutes, "a": agent.agent_id})
        if heartbeat_too:
            await s.execute(text("UPDATE agent_state SET last_heartbeat_at = now() - make_interval(mins => :n) WHERE agent_id = :a"),
                            {"n": minutes, "a": agent.agent_id})


async def test_a_heartbeat_from_a_silent_agent_clears_the_agent_silent_incident_in_the_same_batch(client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)
    await send_and_process(client, db, agent, [heartbeat(1)])
    await silence(db, tenant, agent, 30, heartbeat_too=True)
    await evaluate_all(db, include_findings=False)  # the periodic evaluation sees it silent
    (inc,) = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert inc.clear_since is None
    await send_and_process(client, db, agent, [heartbeat(0)])
    (inc,) = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert inc.clear_since is not None  # clearing (resolves after the policy's hysteresis)


async def test_an_agent_that_enrolled_and_never_reported_is_caught_by_both_schedules_and_cleared_by_its_first_heartbeat(
        client, db, tenant, evaluated):
    """It sends nothing, so no batch ever looks at it: the per-minute evaluation and the dead man's
    switch must find it by time alone, and its first heartbeat lifts both."""
    from services.core.telemetry import deadman

    agent = await create_agent(db, tenant.site)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE agent SET created_at = now() - interval '12 minutes' WHERE msp_id = :m AND id = :a"),
                        {"m": tenant.msp_id, "a": agent.agent_id})
    await evaluate_all(db, include_findings=False)
    (inc,) = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert inc.subject_id == str(agent.agent_id) and inc.clear_since is None
    # The same pass that opened the incident charged it in readiness.
    assert R.AGENT_SILENT in (await scored(db, tenant))[1]
    assert await deadman.sweep(db) >= 1  # marks it offline too

    await send_and_process(client, db, agent, [heartbeat(0)])
    (inc,) = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert inc.clear_since is not None
    async with db.transaction(Scope(tenant.msp_id)) as s:
        mark = await s.scalar(text("SELECT silent_since FROM agent_state WHERE msp_id = :m AND agent_id = :a"),
                              {"m": tenant.msp_id, "a": agent.agent_id})
    assert mark is None


async def test_any_event_of_an_agent_the_rule_saw_silent_clears_its_incident(client, db, tenant, evaluated, monkeypatch):
    """The API refreshes last_seen_at when a request arrives, so a batch cannot tell from the
    heartbeats it applied that the agent is back: an open agent.silent incident is re-judged."""
    # The API process remembers whom it touched in the last 30 s; time has "passed" here.
    monkeypatch.setattr(inbox, "LAST_SEEN_EVERY", 0.0)
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    await send_and_process(client, db, agent, [heartbeat(1), sample_event("Fiber", at(1))])
    await silence(db, tenant, agent, 30, heartbeat_too=False)  # its heartbeat record still looks recent
    await evaluate_all(db, include_findings=False)
    calls = len(evaluated)
    await send_and_process(client, db, agent, [sample_event("Fiber", at(0))])
    assert len(evaluated) == calls + 1
    (inc,) = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert inc.clear_since is not None


async def test_an_agent_that_stays_silent_does_not_make_its_practice_evaluate_every_batch(client, db, tenant, evaluated,
                                                                                         monkeypatch):
    """A practice with one agent switched off: the other agents' batches change nothing a rule
    sees, so they are not evaluated; the first event of the silent agent is."""
    monkeypatch.setattr(inbox, "LAST_SEEN_EVERY", 0.0)
    off = await create_agent(db, tenant.site, hostname="old-pc")
    on = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    await send_and_process(client, db, off, [heartbeat(1)])
    await send_and_process(client, db, on, [heartbeat(1), sample_event("Fiber", at(1))])
    await silence(db, tenant, off, 30, heartbeat_too=True)
    await evaluate_all(db, include_findings=False)
    (inc,) = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert inc.subject_id == str(off.agent_id) and inc.clear_since is None
    calls = len(evaluated)
    await send_and_process(client, db, on, [sample_event("Fiber", at(0.6))])
    await send_and_process(client, db, on, [heartbeat(0.5)])
    assert len(evaluated) == calls  # only the agent that was never silent was heard
    await send_and_process(client, db, off, [sample_event("Fiber", at(0.4))])
    assert len(evaluated) == calls + 1
    (inc,) = await fa.incidents(db, tenant.msp_id, R.AGENT_SILENT, active=True)
    assert inc.clear_since is not None
    calls = len(evaluated)
    await send_and_process(client, db, on, [heartbeat(0.3)])
    assert len(evaluated) == calls  # clearing: settled by the hysteresis rule, not by every batch


async def test_a_clearing_incident_resolves_in_the_same_batch_as_before(client, db, tenant, evaluated):
    """Hysteresis: resolve after resolve_after_evaluations evaluations and resolve_after_minutes.
    Every batch of the practice used to count as an evaluation; healthy batches still do while
    the count is short, and the first batch after the minutes have passed resolves it."""
    async with db.transaction(Scope(tenant.msp_id)) as s:
        p = await get_or_create_policy(s, tenant.msp_id)
        p.resolve_after_evaluations, p.resolve_after_minutes = 3, 5
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    failures = [run_event("nas", at(300 - 60 * i), at(299 - 60 * i), status="failed", exit_code=1) for i in range(3)]
    await send_and_process(client, db, agent, [heartbeat(5), *failures])
    await send_and_process(client, db, agent, [run_event("nas", at(10), at(5))])
    (inc,) = await fa.incidents(db, tenant.msp_id, R.FAILED_IN_A_ROW)
    assert inc.clear_evaluations == 1
    await send_and_process(client, db, agent, [heartbeat(4.9)])  # nothing a rule sees changed …
    (inc,) = await fa.incidents(db, tenant.msp_id, R.FAILED_IN_A_ROW)
    assert inc.clear_evaluations == 2  # … but the count was short: evaluated
    calls = len(evaluated)
    await send_and_process(client, db, agent, [heartbeat(4.8)])
    assert len(evaluated) == calls  # the resolving evaluation will make it 3: nothing to do until then
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(text("UPDATE incident SET clear_since = now() - interval '6 minutes' WHERE msp_id = :m"), {"m": tenant.msp_id})
    await send_and_process(client, db, agent, [heartbeat(4.7)])
    (inc,) = await fa.incidents(db, tenant.msp_id, R.FAILED_IN_A_ROW)
    assert inc.resolved_at is not None and inc.clear_evaluations == 3
    # Resolved: healthy batches leave the practice alone again.
    calls = len(evaluated)
    await send_and_process(client, db, agent, [heartbeat(4.6)])
    assert len(evaluated) == calls


async def test_a_heartbeat_after_a_gap_longer_than_interval_plus_the_smallest_grace_is_evaluated(client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)  # heartbeat every 60 s; a policy may set a grace of 1 min
    await send_and_process(client, db, agent, [heartbeat(20)])
    await send_and_process(client, db, agent, [heartbeat(19.5)])  # 30 s later: its rhythm
    assert len(evaluated) == 1
    await send_and_process(client, db, agent, [heartbeat(17.4)])  # 2 min 6 s later: may have been silent
    assert len(evaluated) == 2


async def test_a_heartbeat_that_lengthens_its_interval_after_a_gap_the_old_one_called_silence_is_evaluated(
        client, db, tenant, evaluated):
    agent = await create_agent(db, tenant.site)
    await send_and_process(client, db, agent, [heartbeat(20)])
    await send_and_process(client, db, agent, [heartbeat(19.5)])
    assert len(evaluated) == 1
    # 2 min 6 s after the last one, judged until now by 60 s (+ a grace a policy may set to 1 min): the
    # last evaluation may have seen the agent silent, whatever interval this heartbeat states.
    await send_and_process(client, db, agent, [ev("heartbeat", at(17.4), heartbeat_interval_seconds=3600)])
    assert len(evaluated) == 2


async def test_the_minute_pass_leaves_out_what_a_batch_just_evaluated_but_not_for_long(client, db, tenant, evaluated, monkeypatch):
    """recent.py: the time-based pass skips a practice this process evaluated, committed, within
    recent.RECENT; the pass that brings in plan findings skips nothing."""
    from services.worker import tasks_alerts

    monkeypatch.setattr(tasks_alerts, "evaluate_practices", evaluate.evaluate_practices)  # the spy, for the pass too
    recent.forget()
    agent = await create_agent(db, tenant.site)
    await create_job(db, tenant.practice, "nas")
    await send_and_process(client, db, agent, [heartbeat(3), run_event("nas", at(30), at(20))])
    evaluated.clear()
    await evaluate_all(db, include_findings=False)
    assert tenant.practice.id not in set().union(*evaluated), "evaluated by the batch a moment ago"
    assert tenant.sibling.id in set().union(*evaluated)
    evaluated.clear()
    await evaluate_all(db, include_findings=True)
    assert tenant.practice.id in set().union(*evaluated)
    monkeypatch.setattr(recent, "RECENT", timedelta(0))  # time passes
    evaluated.clear()
    await evaluate_all(db, include_findings=False)
    assert tenant.practice.id in set().union(*evaluated)


async def test_an_evaluation_that_rolls_back_does_not_count_as_recent(db, tenant):
    from services.core.base import utcnow

    recent.forget()
    now = utcnow()
    with pytest.raises(RuntimeError):
        async with db.transaction(Scope(tenant.msp_id)) as s:
            await evaluate.evaluate_practices(s, tenant.msp_id, [tenant.practice.id], now)
            raise RuntimeError("the batch failed")
    assert recent.stale([tenant.practice.id], now) == [tenant.practice.id]
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await evaluate.evaluate_practices(s, tenant.msp_id, [tenant.practice.id], now)
    assert recent.stale([tenant.practice.id], now) == []
