"""One judgement (issue 20, docs/decisions/0013-one-judgement.md), over random telemetry sent
through the real ingest API and worker: backup runs whose restore point moves or sticks, link
samples up, down and lossy, heartbeats, restore tests, a maintenance window, and the minute's
evaluation in between. Once the worker has settled:

- the open incidents are exactly the findings readiness lists as conditions, and every other
  finding is one counted under another;
- sum(points) = 100 − score;
- the portfolio row says what the readiness endpoint says;
- the Systems page's RPO gauges and readiness agree on every required copy: a copy out of its
  target is charged, and a copy charged within its target is one whose condition is clearing.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.core.alerts import service as alerts
from services.core.alerts.evaluate import evaluate_practices
from services.core.alerts.models import Incident
from services.core.alerts.rules import RPO_BREACHED
from services.core.alerts.schemas import MaintenanceIn
from services.core.audit.service import Actor
from services.core.base import utcnow
from services.core.db import Scope
from services.core.inventory.checks import NO_OFFSITE_COPY, NO_ONSITE_COPY
from services.core.readiness import service as readiness
from services.core.telemetry.processing import drain, process_batch
from services.core.telemetry.recovery import copy_within_rpo
from tests.factories import create_practice, sign_in
from tests.factories_inventory import create_job, create_link, create_system
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, run_event, sample_event, send

# Minutes ago, away from the EHR's 60-minute RPO so that a second between the last evaluation and
# the read cannot carry a copy across its target.
AGO = st.sampled_from([3, 10, 25, 45, 80, 150, 400])
OLD_POINT = 3 * 24 * 60

runs = st.builds(lambda job, ago, moving, ok: ("run", run_event(
    job, at(ago + 4), at(ago), status="success" if ok else "failed",
    **({"restore_point_at": at(ago + 4) if moving else at(OLD_POINT)} if ok else {"exit_code": 1}))),
    st.sampled_from(["nas", "cloud"]), AGO, st.booleans(), st.booleans())
samples = st.builds(lambda link, ago, up, loss: ("sample", sample_event(link, at(ago), up=up, loss_pct=loss if up else 100.0)),
                    st.sampled_from(["Fiber", "LTE"]), st.sampled_from([0.5, 1, 3, 6, 12, 30]), st.booleans(),
                    st.sampled_from([0.0, 0.0, 9.0]))
heartbeats = st.builds(lambda ago: ("heartbeat", ev("heartbeat", at(ago), agent_version="0.1.0")), st.sampled_from([0.5, 5, 20]))
restores = st.builds(lambda ago, ok: ("restore", ev("restore_test", at(ago), system="EHR", started_at=at(ago + 30),
                                                    finished_at=at(ago), success=ok)), AGO, st.booleans())
steps = st.one_of(runs, samples, heartbeats, restores, st.just(("window", None)), st.just(("evaluate", None)))

ACTOR = Actor("system", label="property test")
_SIGNED_IN: dict[int, object] = {}


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=st.lists(steps, min_size=1, max_size=14), chunk=st.integers(1, 4))
async def test_incidents_readiness_portfolio_and_gauges_read_one_judgement(client, db, tenant, plan, chunk):
    m = tenant.msp_id
    practice, (site,) = await create_practice(db, m)
    ehr = await create_system(db, practice, "EHR", tier=1, rpo_minutes=60, rto_minutes=120)
    billing = await create_system(db, practice, "Billing", tier=2, holds_ephi=True, rpo_minutes=24 * 60)
    await create_job(db, practice, "nas", systems=[ehr, billing], location="onsite")
    await create_job(db, practice, "cloud", systems=[ehr], location="cloud")
    await create_link(db, site, "Fiber")
    await create_link(db, site, "LTE", role="backup")
    agent = await create_agent(db, site)

    pending: list[dict] = []
    for kind, payload in plan:
        if payload is not None:
            pending.append(payload)
        if len(pending) >= chunk or kind in ("window", "evaluate"):
            if pending:
                await send(client, agent, pending)
                pending = []
            await process_batch(db, m, batch_size=chunk)
        if kind == "window":
            async with db.transaction(Scope(m)) as s:
                now = utcnow()
                await alerts.create_window(s, practice, ACTOR, MaintenanceIn(
                    name="Router swap", kind="once", starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(hours=2)))
        elif kind == "evaluate":  # the minute's pass, as alerts.evaluate_time_based runs it
            async with db.transaction(Scope(m)) as s:
                await evaluate_practices(s, m, [practice.id], utcnow())
    if pending:
        await send(client, agent, pending)
    # The worker settles: telemetry drained, the marks rescored, the minute's pass run.
    await drain(db, m)
    await readiness.recompute_dirty(db)
    async with db.transaction(Scope(m)) as s:
        await evaluate_practices(s, m, [practice.id], utcnow())
    await readiness.recompute_dirty(db)

    # One sign-in for every example (the fixtures outlive them; the MFA step is rate-limited).
    if _SIGNED_IN.get(id(client)) != tenant.msp_id:
        await sign_in(client, tenant["msp_owner"])
        _SIGNED_IN[id(client)] = tenant.msp_id
    base = f"/api/v1/practices/{practice.id}"
    r = (await client.get(f"{base}/readiness")).json()
    async with db.transaction(Scope(m)) as s:
        open_ = {(i.rule_id, i.subject_type, i.subject_id) for i in (await s.scalars(select(Incident).where(
            Incident.msp_id == m, Incident.practice_id == practice.id, Incident.resolved_at.is_(None)))).all()}

    # The open incidents are exactly the findings that are conditions; every other one restates one.
    conditions = {(f["rule_id"], f["subject_type"], f["subject_id"]) for f in r["findings"] if f["condition"]}
    assert conditions == open_, r["findings"]
    assert all(f["condition"] or f["counted_under"] for f in r["findings"]), r["findings"]
    assert sum(f["points"] for f in r["findings"]) == 100 - r["score"]

    # The portfolio row reads the same stored judgement.
    rows = (await client.get("/api/v1/portfolio", params={"q": practice.name})).json()["items"]
    (row,) = [x for x in rows if x["practice_id"] == str(practice.id)]
    assert (row["score"], row["status"]) == (r["score"], r["status"])

    # The Systems page's gauges and readiness agree on every required copy.
    findings = {(f["rule_id"], f["subject_id"]): f for f in r["findings"] if f["points"] or f["counted_under"] or f["capped"]}
    for gauge in (await client.get(f"{base}/telemetry/systems/recovery")).json():
        for copy in ("onsite", "offsite"):
            if not gauge[f"requires_{copy}_copy"]:
                continue
            missing = NO_OFFSITE_COPY if copy == "offsite" else NO_ONSITE_COPY
            charged = findings.get((RPO_BREACHED, f"{gauge['system_id']}:{copy}")) or findings.get((missing, gauge["system_id"]))
            within = copy_within_rpo(gauge[f"achieved_{copy}_rpo_minutes"], gauge["target_rpo_minutes"])
            if not within:
                assert charged is not None, (gauge["name"], copy, r["findings"])
            elif charged is not None:
                assert charged["condition"] and charged["condition"]["clearing_since"], (gauge["name"], copy, charged)
