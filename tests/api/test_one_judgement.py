"""Every screen reads the one stored judgement (issue 20): the Backups view's state and the dashboard
label the run readiness judged stale, the monthly report counts it as saving nothing new, and the
RPO gauges' "at risk" is backup.rpo_at_risk with the policy's own ratio."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdf

from services.core.alerts.rules import RPO_AT_RISK, STALE_SUCCESS
from services.core.base import utcnow
from services.core.db import Scope
from services.core.practices.models import Practice
from services.core.readiness import reports, service
from tests.factories import sign_in
from tests.factories_inventory import create_job, create_system
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, run_event, send_and_process


async def rescore(db, tenant, now=None) -> None:
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await service.recompute(s, tenant.msp_id, [tenant.practice.id], now)


async def stale_job(client, db, tenant):
    """A job whose newest success reported the restore point of the success before it, judged stale."""
    agent = await create_agent(db, tenant.site)
    job = await create_job(db, tenant.practice, "nas")
    point, stale_finished = at(60), at(25)
    await send_and_process(client, db, agent, [
        run_event("nas", at(50), at(45), restore_point_at=point),
        run_event("nas", at(30), stale_finished, restore_point_at=point),  # "success", the same snapshot again
    ])
    await rescore(db, tenant)
    return agent, job, stale_finished


async def backup_screens(client, tenant, job) -> tuple[dict, dict]:
    base = f"/api/v1/practices/{tenant.practice.id}"
    state = {j["backup_job_id"]: j for j in (await client.get(f"{base}/telemetry/state")).json()["backup_jobs"]}
    board = {j["id"]: j for j in (await client.get(f"{base}/dashboard")).json()["backups"]}
    return state[str(job.id)], board[str(job.id)]


def same_instant(a: str | None, b) -> bool:
    from datetime import datetime

    return a is not None and datetime.fromisoformat(a.replace("Z", "+00:00")) == b


async def test_a_good_run_arriving_before_the_next_rescoring_is_not_labelled_as_the_stale_one(client, db, tenant):
    agent, job, stale_finished = await stale_job(client, db, tenant)
    await sign_in(client, tenant["practice_owner"])
    state, board = await backup_screens(client, tenant, job)
    assert state["stale_success"] is board["stale_success"] is True
    assert same_instant(state["stale_success_at"], stale_finished) and same_instant(board["stale_success_at"], stale_finished)

    # A fresh good run arrives: the condition clears, but its incident and finding stay until the
    # policy's hysteresis has passed (decision 0013), and the finding still names the old run.
    await send_and_process(client, db, agent, [run_event("nas", at(10), at(5), restore_point_at=at(10))])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        stored = await service.current(s, tenant.msp_id, tenant.practice.id)
    (clearing,) = [f for f in stored.findings if f["rule_id"] == STALE_SUCCESS]
    assert clearing["points"] > 0
    await rescore(db, tenant)  # the next pass says it is clearing
    async with db.transaction(Scope(tenant.msp_id)) as s:
        stored = await service.current(s, tenant.msp_id, tenant.practice.id)
    (clearing,) = [f for f in stored.findings if f["rule_id"] == STALE_SUCCESS]
    assert clearing["condition"]["clearing_since"] and clearing["points"] > 0
    state, board = await backup_screens(client, tenant, job)
    # The newest success is the good one: not stale; the run judged stale is still named for the timeline.
    assert state["stale_success"] is board["stale_success"] is False
    assert same_instant(state["stale_success_at"], stale_finished) and same_instant(board["stale_success_at"], stale_finished)

    await rescore(db, tenant, utcnow() + timedelta(minutes=6))  # stayed clear: the incident resolves
    state, board = await backup_screens(client, tenant, job)
    assert state["stale_success"] is board["stale_success"] is False
    assert state["stale_success_at"] is None and board["stale_success_at"] is None


async def test_the_monthly_report_counts_the_success_judged_stale_as_saving_nothing_new(client, db, tenant):
    _, job, _ = await stale_job(client, db, tenant)
    await create_job(db, tenant.practice, "never-reported")
    today = utcnow().date()
    async with db.transaction(Scope(tenant.msp_id)) as s:
        practice = await s.get(Practice, (tenant.msp_id, tenant.practice.id))
        context = await reports.gather(s, practice, today - timedelta(days=1), today + timedelta(days=1), utcnow())
    rows = {b["name"]: b for b in context["backups"]}
    assert (rows["nas"]["succeeded"], rows["nas"]["stale"]) == (1, 1)
    assert (rows["never-reported"]["succeeded"], rows["never-reported"]["stale"]) == (0, 0)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(reports.render(context))).pages)
    assert "Saved nothing new" in text


async def test_an_msp_ratio_of_one_half_makes_a_copy_at_sixty_percent_at_risk_on_every_screen(client, db, tenant, other_tenant):
    agent = await create_agent(db, tenant.site)
    ehr = await create_system(db, tenant.practice, "EHR", rpo_minutes=60, requires_offsite_copy=False)
    await create_job(db, tenant.practice, "nas", systems=[ehr], location="onsite")
    await send_and_process(client, db, agent, [run_event("nas", at(40), at(37), restore_point_at=at(36))])
    await sign_in(client, tenant["msp_owner"])
    r = await client.put("/api/v1/alert-policy", json={"rules": {RPO_AT_RISK: {"params": {"at_risk_ratio": 0.5}}}})
    assert r.status_code == 200, r.text
    await rescore(db, tenant)

    base = f"/api/v1/practices/{tenant.practice.id}"
    (recovery,) = (await client.get(f"{base}/telemetry/systems/recovery")).json()
    assert 0.5 * 60 <= recovery["achieved_onsite_rpo_minutes"] < 0.8 * 60  # at risk only by the MSP's ratio
    assert (recovery["onsite_at_risk_ratio"], recovery["onsite_rpo_at_risk"]) == (0.5, True)
    (system,) = (await client.get(f"{base}/dashboard")).json()["systems"]
    assert (system["achieved"]["onsite_at_risk_ratio"], system["achieved"]["onsite_rpo_at_risk"]) == (0.5, True)
    readiness = (await client.get(f"{base}/readiness")).json()
    assert {f["subject_id"] for f in readiness["findings"] if f["rule_id"] == RPO_AT_RISK} == {f"{ehr.id}:onsite"}

    # Disabled for the practice: no finding, and no amber either.
    r = await client.put(f"{base}/alert-overrides/{RPO_AT_RISK}", json={"enabled": False})
    assert r.status_code == 200, r.text
    await rescore(db, tenant)
    (recovery,) = (await client.get(f"{base}/telemetry/systems/recovery")).json()
    assert (recovery["onsite_at_risk_ratio"], recovery["onsite_rpo_at_risk"]) == (None, False)
    readiness = (await client.get(f"{base}/readiness")).json()
    assert not [f for f in readiness["findings"] if f["rule_id"] == RPO_AT_RISK]

    other = await client.get(f"/api/v1/practices/{other_tenant.practice.id}/telemetry/systems/recovery")
    assert other.status_code == 404
