"""The worker keeps each MSP's alerting configuration in memory while its version stays the same
(services/core/config_version.py, migration 0011) — and never evaluates against a stale copy."""

from __future__ import annotations

import uuid
from datetime import time

import pytest
from sqlalchemy import delete, text, update

import services.core.readiness.service  # noqa: F401  (registers readiness's hook, as the worker does)
from services.core import config_version
from services.core.alerts import config as alert_config
from services.core.alerts import rules as R
from services.core.alerts.models import AlertOverride, AlertPolicy, MaintenanceWindow
from services.core.alerts.policy import get_or_create_policy
from services.core.config_version import PerMspCache
from services.core.db import Scope
from services.core.practices.models import Practice
from tests import factories_alerts as fa
from tests.factories_inventory import create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import at, ev, sample_event, send_and_process


async def version(db, msp_id) -> int:
    async with db.transaction(Scope(msp_id)) as s:
        return await config_version.read(s, msp_id)


async def test_every_change_to_a_configuration_table_moves_the_version_of_its_msp_only(db, tenant, other_tenant):
    assert await version(db, tenant.msp_id) == 0  # never configured
    seen = [0]

    async def moved() -> None:
        now = await version(db, tenant.msp_id)
        assert now > seen[-1], f"version stayed at {now}"
        seen.append(now)

    async with db.transaction(Scope(tenant.msp_id)) as s:
        await get_or_create_policy(s, tenant.msp_id)
    await moved()
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(update(AlertPolicy).where(AlertPolicy.msp_id == tenant.msp_id).values(max_notifications_per_hour=9))
    await moved()
    override = AlertOverride(msp_id=tenant.msp_id, id=uuid.uuid4(), practice_id=tenant.practice.id, site_id=None, rule_id=R.LINK_DOWN,
                             enabled=False, params={})
    await fa.add(db, tenant.msp_id, override)
    await moved()
    await fa.add(db, tenant.msp_id, MaintenanceWindow(msp_id=tenant.msp_id, practice_id=tenant.practice.id, name="Patching",
                                                      kind="weekly", weekdays=1, start_time=time(22), duration_minutes=60))
    await moved()
    channel = await fa.channel(db, tenant.msp_id, "email", to=["oncall@example.test"])
    await moved()
    await fa.route(db, tenant.msp_id, channel)
    await moved()
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(delete(AlertOverride).where(AlertOverride.msp_id == tenant.msp_id, AlertOverride.id == override.id))
    await moved()
    # A change that rolls back leaves the number where it was.
    with pytest.raises(RuntimeError):
        async with db.transaction(Scope(tenant.msp_id)) as s:
            await s.execute(update(AlertPolicy).where(AlertPolicy.msp_id == tenant.msp_id).values(max_notifications_per_hour=4))
            raise RuntimeError("abandon")
    assert await version(db, tenant.msp_id) == seen[-1]
    assert await version(db, other_tenant.msp_id) == 0


async def test_deleting_a_practice_takes_its_overrides_and_windows_and_moves_the_version(db, tenant):
    await fa.add(db, tenant.msp_id, AlertOverride(msp_id=tenant.msp_id, practice_id=tenant.sibling.id, site_id=None,
                                                  rule_id=R.LINK_DOWN, enabled=False, params={}))
    before = await version(db, tenant.msp_id)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(delete(Practice).where(Practice.msp_id == tenant.msp_id, Practice.id == tenant.sibling.id))
    assert await version(db, tenant.msp_id) > before
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert (await s.scalar(text("SELECT count(*) FROM alert_override WHERE msp_id = :m"), {"m": tenant.msp_id})) == 0


async def test_the_cache_loads_once_per_version_and_afresh_without_one(db, tenant):
    loaded: list[int] = []

    async def load(session, msp_id):
        loaded.append(await config_version.read(session, msp_id))
        return object()

    cache = PerMspCache(load)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        first = await cache.get(s, tenant.msp_id, 0)
        assert await cache.get(s, tenant.msp_id, 0) is first
        assert await cache.get(s, tenant.msp_id, None) is not first  # unknown version: read, not trusted
        assert await cache.get(s, tenant.msp_id, 1) is not first
        second = await cache.get(s, tenant.msp_id, 1)
        assert await cache.get(s, tenant.msp_id, 1) is second
    assert len(loaded) == 3


@pytest.fixture
def fresh_cache():
    alert_config.CACHE.clear()
    yield alert_config.CACHE
    alert_config.CACHE.clear()


async def test_batches_reuse_the_configuration_until_it_changes_then_see_the_change(client, db, tenant, other_tenant,
                                                                                   fresh_cache):
    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    lte = await create_link(db, tenant.site, "LTE", role="backup")
    loads = fresh_cache.loads
    heartbeat = ev("heartbeat", at(5), agent_version="0.1.0", hostname="frontdesk-pc")
    await send_and_process(client, db, agent, [heartbeat, sample_event("Fiber", at(5)), sample_event("LTE", at(5))])
    assert fresh_cache.loads == loads + 1
    # A link flapping: every batch is evaluated, against the copy in memory.
    for minutes, up in ((4, False), (3.5, True)):
        await send_and_process(client, db, agent, [sample_event("Fiber", at(minutes), up=up)])
    assert fresh_cache.loads == loads + 1
    assert len(await fa.incidents(db, tenant.msp_id, R.LINK_DOWN)) == 1
    # The MSP turns the rule off for the backup link; the next batch must know.
    await fa.add(db, tenant.msp_id, AlertOverride(msp_id=tenant.msp_id, practice_id=tenant.practice.id, site_id=tenant.site.id,
                                                  rule_id=R.LINK_DOWN, enabled=False, params={}))
    await send_and_process(client, db, agent, [sample_event("LTE", at(3), up=False)])
    assert fresh_cache.loads == loads + 2
    assert [i for i in await fa.incidents(db, tenant.msp_id, R.LINK_DOWN) if i.subject_id == str(lte.id)] == []
    # Another MSP's change does not make this one reload.
    await fa.add(db, other_tenant.msp_id, AlertOverride(msp_id=other_tenant.msp_id, practice_id=other_tenant.practice.id,
                                                        site_id=None, rule_id=R.LINK_DOWN, enabled=False, params={}))
    await send_and_process(client, db, agent, [sample_event("LTE", at(2), up=True)])
    assert fresh_cache.loads == loads + 2


async def test_a_stale_number_never_passes_for_the_current_one(db, tenant):
    """The version is read before loading, so a change committed in between is loaded but filed
    under the older number, and the next batch (reading the newer one) loads again."""
    cache = PerMspCache(alert_config.load)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        read_before = await config_version.read(s, tenant.msp_id)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await get_or_create_policy(s, tenant.msp_id)  # committed after the number was read
    async with db.transaction(Scope(tenant.msp_id)) as s:
        cfg = await cache.get(s, tenant.msp_id, read_before)
        assert cfg.view.policy is not None
        now = await config_version.read(s, tenant.msp_id)
        assert now != read_before
        assert await cache.get(s, tenant.msp_id, now) is not cfg
    assert cache.loads == 2


async def _scored_rules(db, tenant) -> set[str]:
    async with db.transaction(Scope(tenant.msp_id)) as s:
        findings = await s.scalar(text("SELECT findings FROM readiness_current WHERE msp_id = :m AND practice_id = :p"),
                                  {"m": tenant.msp_id, "p": tenant.practice.id})
    return {f["rule_id"] for f in findings}


async def test_the_rescoring_pass_reads_the_policy_from_the_kept_copy_and_sees_a_change(client, db, tenant, fresh_cache):
    """readiness.service.KEEP_CONFIG: the minute's rescoring takes the alert policy (which rules
    count, where) from the worker's kept copy, and a rule turned off for the practice stops costing
    points at the next pass."""
    from services.core.readiness import service as readiness

    agent = await create_agent(db, tenant.site)
    await create_link(db, tenant.site, "Fiber")
    # Down three minutes ago: past link.down's two-minute hold, short of five minutes without a sample
    # (5 × the default 60 s), which would be no data, not down.
    heartbeat = ev("heartbeat", at(1), agent_version="0.1.0", hostname="frontdesk-pc")
    await send_and_process(client, db, agent, [heartbeat, sample_event("Fiber", at(3), up=False)])
    await readiness.recompute_dirty(db)
    assert R.LINK_DOWN in await _scored_rules(db, tenant)
    loads = fresh_cache.loads
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await readiness.mark_dirty(s, tenant.msp_id, tenant.practice.id)
    assert await readiness.recompute_dirty(db) >= 1  # other tests' MSPs may have marks too
    assert fresh_cache.loads == loads  # the copy a batch or the last pass kept
    await fa.add(db, tenant.msp_id, AlertOverride(msp_id=tenant.msp_id, practice_id=tenant.practice.id, site_id=None,
                                                  rule_id=R.LINK_DOWN, enabled=False, params={}))
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await readiness.mark_dirty(s, tenant.msp_id, tenant.practice.id)
    assert await readiness.recompute_dirty(db) >= 1  # other tests' MSPs may have marks too
    assert fresh_cache.loads == loads + 1
    assert R.LINK_DOWN not in await _scored_rules(db, tenant)


async def test_a_session_that_sees_some_practices_neither_keeps_nor_takes_the_kept_copy(db, tenant, fresh_cache):
    """Row-level security gives such a session only its practices' overrides: that copy must not be
    kept as the MSP's, nor may it be served the whole-MSP copy."""
    await fa.add(db, tenant.msp_id, AlertOverride(msp_id=tenant.msp_id, practice_id=tenant.practice.id, site_id=None,
                                                  rule_id=R.LINK_DOWN, enabled=False, params={}))
    number = await version(db, tenant.msp_id)
    async with db.transaction(Scope.msp(tenant.msp_id, practice_ids=[uuid.uuid4()])) as s:
        narrow = await alert_config.current(s, tenant.msp_id, number)
    assert narrow.view.effective(R.LINK_DOWN, tenant.practice.id).enabled  # the override is not visible to it
    async with db.transaction(Scope(tenant.msp_id)) as s:
        whole = await alert_config.current(s, tenant.msp_id, number)
    assert not whole.view.effective(R.LINK_DOWN, tenant.practice.id).enabled
    loads = fresh_cache.loads
    async with db.transaction(Scope.msp(tenant.msp_id, practice_ids=[uuid.uuid4()])) as s:
        assert await alert_config.current(s, tenant.msp_id, number) is not whole
    assert fresh_cache.loads == loads + 1


async def test_a_rescoring_transaction_reads_the_configuration_version_once(client, db, tenant, fresh_cache, monkeypatch):
    from services.core.readiness import service as readiness

    reads = []
    real = config_version.read

    async def counted(session, msp_id):
        reads.append(msp_id)
        return await real(session, msp_id)

    monkeypatch.setattr(config_version, "read", counted)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await readiness.mark_dirty(s, tenant.msp_id, tenant.practice.id)
    assert await readiness.recompute_dirty(db) >= 1
    # Other tests' MSPs may have marks of their own (this database is shared): this MSP's pass read once.
    assert reads.count(tenant.msp_id) == 1
