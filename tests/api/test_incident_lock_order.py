"""Acknowledging or resolving an incident while its practice is being evaluated never deadlocks.

Both take the practice's incident lock and then the incident's row (docs/decisions/0005-lock-order.md).
These tests run the API's actions and evaluations in concurrent transactions on separate
connections, many rounds, each round started with a small random offset so that every
interleaving of the two comes up.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import update

from services.core.alerts import rules as R
from services.core.alerts.evaluate import evaluate_practices
from services.core.alerts.models import Incident
from services.core.base import utcnow
from services.core.db import Scope
from tests import factories_alerts as fa
from tests.factories import sign_in

ROUNDS = 200
# The same time every round: clear_since never ages past resolve_after_minutes, so the evaluation
# keeps writing to the incident without resolving it.
NOW = utcnow()


async def _cleared_incident(db, t):
    """An open, notified incident whose condition no longer holds: every evaluation of its practice
    writes to it (clear() counts the evaluations), so each one needs the incident's row."""
    c = await fa.channel(db, t.msp_id, "pagerduty", secret="R" * 32)
    await fa.route(db, t.msp_id, c)
    job = await fa.job(db, t, last_status="failed", consecutive_failures=3)
    await fa.evaluate(db, t, utcnow())
    (inc,) = await fa.incidents(db, t.msp_id, R.FAILED_IN_A_ROW, active=True)
    await fa.job_state(db, t, job, last_status="success", consecutive_failures=0)
    return inc


async def _reopen(db, inc):
    async with db.transaction(Scope(inc.msp_id)) as s:
        await s.execute(update(Incident).where(Incident.msp_id == inc.msp_id, Incident.id == inc.id).values(
            status="open", acknowledged_at=None, acknowledged_by=None, resolved_at=None, resolved_by=None,
            clear_since=None, clear_evaluations=0))


async def _evaluate(db, t, delay):
    await asyncio.sleep(delay)
    async with db.transaction(Scope(t.msp_id)) as s:
        await evaluate_practices(s, t.msp_id, [t.practice.id], NOW)


async def _post(client, url, delay, **kw):
    await asyncio.sleep(delay)
    return await client.post(url, **kw)



@pytest.mark.slow
async def test_acknowledges_and_resolves_run_alongside_evaluations_without_a_deadlock(client, db, tenant):
    inc = await _cleared_incident(db, tenant)
    await sign_in(client, tenant["msp_technician"])
    base = f"/api/v1/practices/{tenant.practice.id}/incidents/{inc.id}"
    rng = random.Random(26)
    for n in range(ROUNDS):
        await _reopen(db, inc)
        action, body = ("resolve", {"json": {"note": "round %d" % n}}) if n % 2 else ("acknowledge", {})
        response, _ = await asyncio.gather(
            _post(client, f"{base}/{action}", rng.uniform(0, 0.004), **body),
            _evaluate(db, tenant, rng.uniform(0, 0.004)))
        assert response.status_code == 200, (n, action, response.text)
    timeline = await fa.timeline(db, tenant.msp_id, inc.id)
    assert timeline.count("acknowledged") == ROUNDS // 2 and timeline.count("resolved") == ROUNDS // 2
    # Every evaluation that met the incident open wrote to it: at least those of the acknowledge rounds.
    assert timeline.count("clearing") >= ROUNDS // 2
