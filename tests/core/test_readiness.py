"""Readiness over real data: a perfect practice scores 100, each fault costs its documented points,
fixing the cause restores the score; recomputation, dirty marks, snapshots and live events."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select, text

from services.core.base import utcnow
from services.core.database_server import libpq
from services.core.db import Scope
from services.core.findings import Severity
from services.core.readiness import service
from services.core.readiness.events import CHANNEL
from services.core.readiness.models import ReadinessCurrent, ReadinessSnapshot
from services.core.readiness.weights import DEFAULT_WEIGHTS
from services.core.telemetry.hooks import state_changed
from tests.factories_readiness import build_perfect_practice, execute


async def readiness(db, practice, now=None):
    async with db.transaction(Scope(practice.msp_id)) as s:
        return (await service.recompute(s, practice.msp_id, [practice.id], now))[practice.id]


# The policy's default resolve hysteresis (5 minutes and 2 evaluations), and a minute more.
SETTLED = timedelta(minutes=6)


async def settled(db, practice):
    """Readiness once the policy's hysteresis has passed, the agent still sampling the links (five
    minutes without a sample is no data, link.no_data)."""
    later = utcnow() + SETTLED
    await execute(db, practice.msp_id, "UPDATE link_state SET last_sample_at = :t WHERE msp_id = :m AND practice_id = :p",
                  m=practice.msp_id, p=practice.id, t=later)
    return await readiness(db, practice, later)


@pytest.fixture
async def perfect(db, tenant):
    return await build_perfect_practice(db, tenant.practice, tenant.site)


async def test_a_practice_built_to_be_perfect_scores_100(db, perfect):
    result = await readiness(db, perfect.practice)
    assert [f["rule_id"] for f in result.findings] == []
    assert (result.score, result.status) == (100, "ready")
    assert {s["name"] for s in result.sources if s["available"]} >= {"inventory", "plan", "live_rules"}


FAULTS = [
    # (what breaks, the rule expected, SQL that breaks it, SQL that fixes it)
    ("off-site backup not encrypted", "inventory.backup_not_encrypted",
     "UPDATE backup_job SET encrypted = false WHERE msp_id = :m AND id = :offsite",
     "UPDATE backup_job SET encrypted = true WHERE msp_id = :m AND id = :offsite"),
    ("backup link down", "link.down",
     "UPDATE link_state SET up = false, state_since = now() - interval '10 minutes' WHERE msp_id = :m AND link_id = :backup",
     "UPDATE link_state SET up = true WHERE msp_id = :m AND link_id = :backup"),
    ("restore slower than the RTO", "testing.rto_above_target",
     "UPDATE system SET rto_minutes = 30 WHERE msp_id = :m AND id = :ehr",
     "UPDATE system SET rto_minutes = 240 WHERE msp_id = :m AND id = :ehr"),
    ("plan not exported since approval", "plan.not_exported",
     "DELETE FROM plan_export WHERE msp_id = :m AND plan_version_id = :version",
     "INSERT INTO plan_export (msp_id, id, created_at, practice_id, plan_version_id, format, exported_at, exported_by_label,"
     " sha256, size_bytes) VALUES (:m, gen_random_uuid(), now(), :p, :version, 'pdf', now(), 'Owner', repeat('0', 64), 1)"),
    ("backup link added 31 days ago and never failed over to", "link.backup_not_exercised",
     "UPDATE link SET created_at = now() - interval '31 days' WHERE msp_id = :m AND id = :backup",
     "INSERT INTO failover_event (msp_id, id, created_at, site_id, practice_id, from_link_id, to_link_id, started_at, ended_at)"
     " VALUES (:m, gen_random_uuid(), now(), :site, :p, :primary, :backup, now() - interval '1 hour',"
     " now() - interval '50 minutes')"),
    ("off-site restore point older than the RPO", "backup.rpo_breached",
     "UPDATE backup_job_state SET last_restore_point_at = now() - interval '3 days' WHERE msp_id = :m AND backup_job_id = :offsite",
     "UPDATE backup_job_state SET last_restore_point_at = now() - interval '1 hour' WHERE msp_id = :m AND backup_job_id = :offsite"),
]


@pytest.mark.parametrize("label,rule_id,breaks,fixes", FAULTS, ids=[f[0] for f in FAULTS])
async def test_each_finding_lowers_the_score_by_its_documented_weight_and_fixing_it_restores_100(db, owner_db, perfect, label,
                                                                                                  rule_id, breaks, fixes):
    ids = {"m": perfect.practice.msp_id, "p": perfect.practice.id, "offsite": perfect.offsite.id, "backup": perfect.backup.id,
           "ehr": perfect.ehr.id, "version": perfect.plan_version_id, "primary": perfect.primary.id,
           "site": perfect.backup.site_id}
    assert (await readiness(db, perfect.practice)).score == 100
    # As the owner: plan exports are append-only for the application role.
    await execute(owner_db, perfect.practice.msp_id, breaks, **{k: v for k, v in ids.items() if f":{k}" in breaks})
    broken = await readiness(db, perfect.practice)
    charged = [f for f in broken.findings if f["points"] > 0]
    assert [f["rule_id"] for f in charged] == [rule_id], broken.findings
    expected = DEFAULT_WEIGHTS.deductions[Severity(charged[0]["severity"])]
    assert broken.score == 100 - expected
    assert charged[0]["points"] == charged[0]["deduction"] == expected
    assert charged[0]["remediation"] and charged[0]["hipaa"]
    await execute(owner_db, perfect.practice.msp_id, fixes, **{k: v for k, v in ids.items() if f":{k}" in fixes})
    fixed = await readiness(db, perfect.practice)
    if rule_id.startswith(("inventory.", "plan.")):
        # A written fact ends at once, its incident with it (decision 0013).
        assert fixed.score == 100
        return
    # A live condition ends when its incident resolves, after the policy's hysteresis: until then it
    # is listed as clearing and keeps its points (decision 0013).
    clearing = [f for f in fixed.findings if f["rule_id"] == rule_id]
    assert fixed.score == broken.score and clearing[0]["condition"]["clearing_since"], fixed.findings
    assert (await settled(db, perfect.practice)).score == 100


async def test_a_missing_staff_acknowledgement_costs_people_points_until_acknowledged(db, tenant, perfect):
    m, p = tenant.msp_id, tenant.practice.id
    staff = tenant["practice_staff"].user_id
    await execute(db, m, "INSERT INTO role_assignment (msp_id, id, created_at, practice_id, user_id, role_name, duties)"
                         " VALUES (:m, gen_random_uuid(), now(), :p, :u, 'Front desk lead', '')", m=m, p=p, u=staff)
    result = await readiness(db, perfect.practice)
    assert result.components["people"]["lost"] == DEFAULT_WEIGHTS.deductions[Severity.medium]
    assert result.score == 100 - DEFAULT_WEIGHTS.deductions[Severity.medium]
    await execute(db, m, "INSERT INTO plan_acknowledgement (msp_id, id, created_at, practice_id, plan_version_id, user_id,"
                         " user_label, acknowledged_at) VALUES (:m, gen_random_uuid(), now(), :p, :v, :u, 'Staff', now())",
                  m=m, p=p, v=perfect.plan_version_id, u=staff)
    assert (await readiness(db, perfect.practice)).score == 100


async def test_msp_weights_change_what_a_finding_costs(db, tenant, perfect):
    m = tenant.msp_id
    await execute(db, m, "INSERT INTO readiness_weights (msp_id, id, created_at, plan_points, backups_points, connectivity_points,"
                         " testing_points, people_points, critical_points, high_points, medium_points, low_points, updated_at)"
                         " VALUES (:m, gen_random_uuid(), now(), 20, 30, 20, 15, 15, 40, 25, 7, 1, now())", m=m)
    await execute(db, m, "UPDATE backup_job SET encrypted = false WHERE msp_id = :m AND id = :j", m=m, j=perfect.offsite.id)
    assert (await readiness(db, perfect.practice)).score == 75


async def test_a_batch_rescores_in_its_transaction_and_edits_are_rescored_by_the_sweep_once(db, tenant, perfect):
    m = tenant.msp_id
    await readiness(db, perfect.practice)
    await execute(db, m, "UPDATE link_state SET up = false, state_since = now() - interval '10 minutes'"
                         " WHERE msp_id = :m AND link_id = :l", m=m, l=perfect.backup.id)
    async with db.transaction(Scope(m)) as s:
        await state_changed(s, m, {tenant.practice.id}, utcnow())
        # Rescored in the batch's own transaction, with the incident it opened (decision 0013).
        row = await s.get(ReadinessCurrent, (m, tenant.practice.id), populate_existing=True)
        assert row.score == 100 - DEFAULT_WEIGHTS.deductions[Severity.medium]
        assert [f["rule_id"] for f in row.findings if f["condition"]] == ["link.down"]
    await execute(db, m, "UPDATE backup_job SET encrypted = false WHERE msp_id = :m AND id = :j", m=m, j=perfect.offsite.id)
    async with db.transaction(Scope(m)) as s:
        await service.mark_dirty(s, m, tenant.practice.id)
    assert await service.recompute_dirty(db) >= 1
    async with db.transaction(Scope(m)) as s:
        row = await s.get(ReadinessCurrent, (m, tenant.practice.id))
        charged = {f["rule_id"]: f["points"] for f in row.findings if f["points"]}
        assert charged == {"link.down": DEFAULT_WEIGHTS.deductions[Severity.medium],
                           "inventory.backup_not_encrypted": DEFAULT_WEIGHTS.deductions[Severity.high]}
        assert row.score == 100 - sum(charged.values())
        assert await s.scalar(text("SELECT count(*) FROM readiness_dirty WHERE msp_id = :m"), {"m": m}) == 0


async def test_the_snapshot_keeps_the_days_last_and_lowest_score(db, tenant, perfect):
    m, p = tenant.msp_id, tenant.practice.id
    await readiness(db, perfect.practice)
    await execute(db, m, "UPDATE link_state SET up = false, state_since = now() - interval '10 minutes'"
                         " WHERE msp_id = :m AND link_id = :l", m=m, l=perfect.backup.id)
    await readiness(db, perfect.practice)
    await execute(db, m, "UPDATE link_state SET up = true WHERE msp_id = :m AND link_id = :l", m=m, l=perfect.backup.id)
    await readiness(db, perfect.practice)
    await settled(db, perfect.practice)
    async with db.transaction(Scope(m)) as s:
        await service.snapshot(s, m, utcnow())
        snap = await s.scalar(select(ReadinessSnapshot).where(ReadinessSnapshot.msp_id == m, ReadinessSnapshot.practice_id == p))
    assert (snap.score, snap.min_score) == (100, 100 - DEFAULT_WEIGHTS.deductions[Severity.medium])


async def test_a_score_change_is_published_on_commit_and_an_unchanged_score_is_not(db, database_urls, tenant, perfect):
    async with await psycopg.AsyncConnection.connect(libpq(database_urls[1]), autocommit=True) as listener:
        await listener.execute(f"LISTEN {CHANNEL}")
        await readiness(db, perfect.practice)  # first computation: published
        await readiness(db, perfect.practice)  # unchanged: nothing
        received = []

        async def drain():
            async for n in listener.notifies():
                received.append(json.loads(n.payload))

        task = asyncio.create_task(drain())
        await asyncio.sleep(0.5)
        task.cancel()
    mine = [e for e in received if e["practice_id"] == str(tenant.practice.id)]
    assert [(e["type"], e["data"]["score"]) for e in mine] == [("readiness.changed", 100)]
    assert mine[0]["msp_id"] == str(tenant.msp_id)


async def test_recompute_all_scores_every_practice_of_the_msp(db, tenant):
    assert await service.recompute_all(db, msp_ids=[tenant.msp_id]) == 2
    async with db.transaction(Scope(tenant.msp_id)) as s:
        rows = (await s.scalars(select(ReadinessCurrent).where(ReadinessCurrent.msp_id == tenant.msp_id))).all()
    assert {r.practice_id for r in rows} == {tenant.practice.id, tenant.sibling.id}
    assert all(r.score < 100 for r in rows)  # no plan, single link: the bare practices are not ready
    assert uuid.UUID(str(rows[0].practice_id))


async def test_an_inventory_write_through_the_api_marks_the_practice_for_rescoring(client, db, tenant):
    from sqlalchemy import select

    from services.core.readiness.models import ReadinessDirty
    from tests.factories import sign_in

    await sign_in(client, tenant["msp_technician"])
    r = await client.post(f"/api/v1/practices/{tenant.practice.id}/systems",
                          json={"name": "EHR", "rto_minutes": 60, "rpo_minutes": 60, "mtd_minutes": 240})
    assert r.status_code == 201, r.text
    async with db.transaction(Scope(tenant.msp_id)) as s:
        dirty = set(await s.scalars(select(ReadinessDirty.practice_id).where(ReadinessDirty.msp_id == tenant.msp_id)))
    assert tenant.practice.id in dirty
    assert tenant.sibling.id not in dirty


async def _marks(db, msp_id, table: str) -> set[uuid.UUID]:
    async with db.transaction(Scope(msp_id)) as s:
        return set(await s.scalars(text(f"SELECT practice_id FROM {table} WHERE msp_id = :m"), {"m": msp_id}))


async def test_a_mark_made_while_its_practice_is_rescored_neither_waits_nor_is_lost(db, tenant):
    m, p = tenant.msp_id, tenant.practice.id
    async with db.transaction(Scope(m)) as s:
        await service.mark_dirty(s, m, p)
    assert await service.claim_dirty(db, m) == [p]
    assert await _marks(db, m, "readiness_dirty") == set()

    async with db.transaction(Scope(m)) as rescoring:  # the pass's transaction, still open below
        await service.recompute(rescoring, m, [p])
        # A telemetry batch marks the practice meanwhile: it must not wait for the rescore
        # (it used to, holding its MSP's telemetry for the rescore's duration).
        async def mark():
            async with db.transaction(Scope(m)) as s:
                await service.mark_dirty_many(s, m, [p, tenant.sibling.id])
        await asyncio.wait_for(mark(), 5)
        # Another pass does not take a practice being rescored; its new mark waits for the next pass.
        assert await service.claim_dirty(db, m) == [tenant.sibling.id]
        await service.release_claims(rescoring, m, [p])
    assert await _marks(db, m, "readiness_dirty") == {p}  # the mark made during the rescore survived
    assert await _marks(db, m, "readiness_claim") == {tenant.sibling.id}
    await service.recompute_dirty(db)  # takes p now; the sibling stays with the pass that holds it
    assert await _marks(db, m, "readiness_dirty") == set()
    assert await _marks(db, m, "readiness_claim") == {tenant.sibling.id}


async def test_a_claim_left_by_a_pass_that_died_is_taken_again(db, tenant):
    m, p = tenant.msp_id, tenant.practice.id
    async with db.transaction(Scope(m)) as s:
        await service.mark_dirty(s, m, p)
    assert await service.claim_dirty(db, m) == [p]  # and then the pass died before it rescored
    assert await service.claim_dirty(db, m) == []
    await execute(db, m, "UPDATE readiness_claim SET claimed_at = now() - interval '16 minutes' WHERE msp_id = :m", m=m)
    assert await service.recompute_all(db, msp_ids=[m]) == 2  # the hourly pass takes it and releases it
    assert await _marks(db, m, "readiness_claim") == set()


async def test_a_rescore_that_fails_gives_its_claims_back_as_marks_at_once(db, tenant, monkeypatch):
    m, p = tenant.msp_id, tenant.practice.id
    async with db.transaction(Scope(m)) as s:
        await service.mark_dirty(s, m, p)

    async def broken(*args, **kwargs):
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(service, "recompute", broken)
    with pytest.raises(RuntimeError):
        await service.recompute_all(db, msp_ids=[m])  # this MSP only (recompute_dirty visits every MSP)
    # Not held for ABANDONED_MINUTES: the next pass takes it again.
    assert p in await _marks(db, m, "readiness_dirty")
    assert await _marks(db, m, "readiness_claim") == set()


async def test_a_conditions_new_words_are_read_from_its_incident_without_rescoring_or_writing(db, tenant, perfect):
    """Words and clearing move no point: a batch does not rescore for them, and readiness shows
    them from the incident (decision 0013), without writing the stored row when read."""
    from services.core.alerts.evaluate import evaluate_practices

    m, p = tenant.msp_id, tenant.practice.id
    await execute(db, m, "UPDATE link_state SET up = false, state_since = now() - interval '10 minutes',"
                         " last_sample_at = now() WHERE msp_id = :m AND link_id = :l", m=m, l=perfect.backup.id)
    await readiness(db, perfect.practice)
    async with db.transaction(Scope(m)) as s:
        await evaluate_practices(s, m, [p], utcnow() + timedelta(minutes=3))  # "down for 13 min": no point moves
    async with db.transaction(Scope(m)) as s:
        stored = (await s.execute(text("SELECT findings, computed_at FROM readiness_current WHERE msp_id = :m"
                                       " AND practice_id = :p"), {"m": m, "p": p})).one()
        shown = await service.current(s, m, p)
        assert [f["measured"] for f in stored.findings if f["rule_id"] == "link.down"] == ["down for 10 min"]
        assert [f["measured"] for f in shown.findings if f["rule_id"] == "link.down"] == ["down for 13 min"]
    async with db.transaction(Scope(m)) as s:
        again = (await s.execute(text("SELECT findings, computed_at FROM readiness_current WHERE msp_id = :m"
                                      " AND practice_id = :p"), {"m": m, "p": p})).one()
    assert (again.findings, again.computed_at) == (stored.findings, stored.computed_at)  # reading wrote nothing


async def test_a_plan_rule_turned_off_resolves_its_incident_at_the_next_evaluation_and_a_first_read_marks(db, tenant, perfect):
    """A written rule the policy turns off leaves readiness and its incident together (decision
    0013), at the minute's evaluation; a practice first scored by a request is marked for its full
    computation (the request evaluates no rule)."""
    from services.core.alerts.evaluate import evaluate_practices
    from services.core.alerts.models import AlertOverride, Incident

    m, p = tenant.msp_id, tenant.practice.id
    await execute(db, m, "UPDATE backup_job SET encrypted = false WHERE msp_id = :m AND id = :j", m=m, j=perfect.offsite.id)
    await readiness(db, perfect.practice)

    async def open_rules() -> set[str]:
        async with db.transaction(Scope(m)) as s:
            return set((await s.scalars(select(Incident.rule_id).where(
                Incident.msp_id == m, Incident.practice_id == p, Incident.resolved_at.is_(None)))).all())

    assert "inventory.backup_not_encrypted" in await open_rules()
    async with db.transaction(Scope(m)) as s:
        s.add(AlertOverride(msp_id=m, practice_id=p, site_id=None, rule_id="inventory.backup_not_encrypted",
                            enabled=False, params={}))
    async with db.transaction(Scope(m)) as s:
        await evaluate_practices(s, m, [p], utcnow())  # the minute's pass: no plan or inventory checks
    assert "inventory.backup_not_encrypted" not in await open_rules()
    async with db.transaction(Scope(m)) as s:
        row = await s.get(ReadinessCurrent, (m, p))
        assert "inventory.backup_not_encrypted" not in {f["rule_id"] for f in row.findings}

    await execute(db, m, "DELETE FROM readiness_current WHERE msp_id = :m AND practice_id = :p", m=m, p=p)
    await execute(db, m, "DELETE FROM readiness_dirty WHERE msp_id = :m", m=m)
    async with db.transaction(Scope(m)) as s:
        await service.current(s, m, p)
    async with db.transaction(Scope(m)) as s:
        marked = set((await s.scalars(text("SELECT practice_id FROM readiness_dirty WHERE msp_id = :m"), {"m": m})).all())
    assert marked == {p}
