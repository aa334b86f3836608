"""The dashboard's achieved RPO/RTO and the rules' judgement come from one definition
(services/core/telemetry/recovery.py), so they agree — above all when the newest restore test failed
after an older one succeeded within the target."""

from __future__ import annotations

import pytest

from services.core.alerts import rules as R
from services.core.alerts.rules import ago
from services.core.base import utcnow
from services.core.db import Scope
from services.core.readiness.live_rules import open_conditions
from tests import factories_alerts as fa
from tests.factories import sign_in
from tests.factories_inventory import create_job, create_system
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, run_event, send_and_process


async def test_a_failed_newest_restore_test_is_judged_alike_by_the_dashboard_and_the_rules(client, db, tenant):
    agent = await create_agent(db, tenant.site)
    ehr = await create_system(db, tenant.practice, "EHR", rpo_minutes=60, rto_minutes=120, mtd_minutes=480)
    await create_job(db, tenant.practice, "nas", systems=[ehr], location="onsite")
    await create_job(db, tenant.practice, "b2", systems=[ehr], location="cloud")
    await send_and_process(client, db, agent, [
        run_event("nas", at(30), at(25), restore_point_at=at(30)),
        run_event("b2", at(100), at(95), restore_point_at=at(100)),  # the off-site copy is past the 60 min RPO
        # A restore within the RTO five days ago, then a failed one just now: recovery is not demonstrated.
        ev("restore_test", at(7200), job="b2", started_at=at(7290), finished_at=at(7200), success=True),
        ev("restore_test", at(1), system="EHR", started_at=at(1.5), finished_at=at(1), success=False),
    ])

    await sign_in(client, tenant["msp_technician"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/telemetry/systems/recovery")
    assert r.status_code == 200, r.text
    (row,) = r.json()
    assert row["achieved_onsite_rpo_minutes"] == pytest.approx(30, abs=1)
    assert row["achieved_offsite_rpo_minutes"] == pytest.approx(100, abs=1) and row["rpo_compliant"] is False
    assert row["last_restore_test_success"] is False
    assert row["achieved_rto_minutes"] is None and row["rto_compliant"] is False

    # The readiness findings (the open incidents, as the readiness score reads them) say the same.
    async with db.transaction(Scope(tenant.msp_id)) as s:
        findings = (await open_conditions(s, tenant.msp_id, [tenant.practice.id], utcnow())).live[tenant.practice.id]
    about_ehr = {(f.rule_id, f.subject_id): f for f in findings if f.subject_id.startswith(str(ehr.id))}
    assert set(about_ehr) == {(R.RPO_BREACHED, f"{ehr.id}:offsite"), (R.RTO_ABOVE_TARGET, str(ehr.id))}
    assert about_ehr[R.RPO_BREACHED, f"{ehr.id}:offsite"].measured == ago(row["achieved_offsite_rpo_minutes"])
    assert about_ehr[R.RTO_ABOVE_TARGET, str(ehr.id)].measured == "newest restore test failed"

    # And so do the incidents the worker's evaluation opened.
    open_ = {(i.rule_id, i.subject_id) for i in await fa.incidents(db, tenant.msp_id, active=True)
             if i.subject_id.startswith(str(ehr.id))}
    assert open_ == set(about_ehr)

    # A successful restore within the RTO after the failure: compliant everywhere, the incident's condition clears.
    await send_and_process(client, db, agent, [ev("restore_test", at(0.5), system="EHR", started_at=at(60.5),
                                                  finished_at=at(0.5), success=True)])
    (row,) = (await client.get(f"/api/v1/practices/{tenant.practice.id}/telemetry/systems/recovery")).json()
    assert row["achieved_rto_minutes"] == pytest.approx(60, abs=0.1) and row["rto_compliant"] is True
    async with db.transaction(Scope(tenant.msp_id)) as s:
        conditions = await open_conditions(s, tenant.msp_id, [tenant.practice.id], utcnow())
    # The condition is clearing: it ends, in readiness and as an incident at once, when the incident resolves.
    state = conditions.state[tenant.practice.id][(R.RTO_ABOVE_TARGET, "system", str(ehr.id))]
    assert state["clearing_since"] is not None


async def test_the_systems_gauges_and_readiness_agree_on_every_required_copy(client, db, tenant, other_tenant):
    """Every required copy whose RPO gauge is not within target costs points in readiness, whatever
    the system's tier, and every copy within target costs none (docs/decisions/0010)."""
    from services.core.inventory.checks import NO_OFFSITE_COPY, NO_ONSITE_COPY
    from services.core.readiness import service
    from services.core.telemetry.recovery import copy_within_rpo

    agent = await create_agent(db, tenant.site)
    systems = {
        "EHR": await create_system(db, tenant.practice, "EHR", tier=1, holds_ephi=True),
        "Billing": await create_system(db, tenant.practice, "Billing", tier=2, holds_ephi=True),
        "Scheduling": await create_system(db, tenant.practice, "Scheduling", tier=3),
        "Imaging": await create_system(db, tenant.practice, "Imaging", tier=2),
        "Fridge log": await create_system(db, tenant.practice, "Fridge log", tier=4, requires_offsite_copy=False),
        "Hosted VoIP": await create_system(db, tenant.practice, "Hosted VoIP", tier=1, requires_onsite_copy=False,
                                           requires_offsite_copy=False),
    }
    await create_job(db, tenant.practice, "nas", systems=[systems["EHR"], systems["Billing"], systems["Fridge log"]])
    await create_job(db, tenant.practice, "b2", systems=[systems["EHR"]], location="cloud")
    await create_job(db, tenant.practice, "tape", systems=[systems["Scheduling"]], location="offsite")
    # Imaging has no job at all; Billing only an on-site one; Scheduling only an off-site one, gone stale.
    await send_and_process(client, db, agent, [
        run_event("nas", at(12), at(10), restore_point_at=at(12)),
        run_event("b2", at(22), at(20), restore_point_at=at(22)),
        run_event("tape", at(300), at(290), restore_point_at=at(300)),
    ])
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await service.recompute(s, tenant.msp_id, [tenant.practice.id])

    await sign_in(client, tenant["msp_technician"])
    base = f"/api/v1/practices/{tenant.practice.id}"
    gauges = (await client.get(f"{base}/telemetry/systems/recovery")).json()
    readiness = (await client.get(f"{base}/readiness")).json()
    charged = {(f["rule_id"], f["subject_id"]) for f in readiness["findings"] if f["deduction"] > 0}

    def charged_for(system_id: str, copy: str) -> bool:
        missing = NO_OFFSITE_COPY if copy == "offsite" else NO_ONSITE_COPY
        return (R.RPO_BREACHED, f"{system_id}:{copy}") in charged or (missing, system_id) in charged

    red = set()
    for row in gauges:
        for copy in ("onsite", "offsite"):
            if not row[f"requires_{copy}_copy"]:
                assert not charged_for(row["system_id"], copy), (row["name"], copy)
                continue
            within = copy_within_rpo(row[f"achieved_{copy}_rpo_minutes"], row["target_rpo_minutes"])
            assert charged_for(row["system_id"], copy) is not within, (row["name"], copy)
            if not within:
                red.add((row["name"], copy))
        # A system is compliant exactly when none of its required copies costs points.
        assert row["rpo_compliant"] is not any(charged_for(row["system_id"], c) for c in ("onsite", "offsite"))
    assert red == {("Billing", "offsite"), ("Scheduling", "onsite"), ("Scheduling", "offsite"),
                   ("Imaging", "onsite"), ("Imaging", "offsite")}

    # Another MSP's practice is not found.
    assert (await client.get(f"/api/v1/practices/{other_tenant.practice.id}/telemetry/systems/recovery")).status_code == 404
