"""The agent's failover detection, reported to the real API and processed by the worker: the site
is on its backup link while the failover lasts, link.on_backup_too_long fires, and the failover's
start is when the backup link last carried traffic (link.backup_not_exercised)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from seawall_agent.client import SeawallClient
from seawall_agent.config import load_config, write_config
from seawall_agent.delivery import Delivery
from seawall_agent.failover import FailoverWatch
from seawall_agent.spool import Spool

from services.core.alerts import rules as R
from services.core.telemetry.processing import drain
from tests import factories_alerts as fa
from tests.factories_inventory import create_link
from tests.factories_worker import one, rows
from tests.integration.conftest import enroll_agent


def _routes(*interfaces: str):
    sequence = list(interfaces)
    return lambda: sequence.pop(0) if len(sequence) > 1 else sequence[0]


async def test_a_failover_seen_by_the_agent_puts_the_site_on_its_backup_link_until_it_ends(live_server, db, tenant,
                                                                                          tmp_path):
    primary = await create_link(db, tenant.site, "Fiber")
    backup = await create_link(db, tenant.site, "LTE", role="backup", medium="5g_lte")
    agent = await enroll_agent(db, tenant.site, live_server.url, tmp_path)
    enrolled = load_config(agent.config)
    interfaces = {"Fiber": "eth0", "LTE": "wwan0"}
    config = replace(enrolled, links=tuple(replace(link, interface=interfaces[link.name]) for link in enrolled.links))
    write_config(agent.config, config)

    spool = Spool(config.state_dir)
    delivery = Delivery(spool, SeawallClient(config.server, config.credential))
    try:
        watch = FailoverWatch(config, _routes("eth0", "wwan0"))
        watch.poll(spool.append)
        (start,) = watch.poll(spool.append)
        assert delivery.flush().delivered == 1
        assert await drain(db, tenant.msp_id) == 1
        started = datetime.fromisoformat(start["started_at"])
        assert (await _link_state(db, tenant, backup.id))["on_backup_since"] == started
        assert (await _link_state(db, tenant, primary.id))["on_backup_since"] is None

        await fa.evaluate(db, tenant, started + timedelta(minutes=61))
        (long,) = await fa.incidents(db, tenant.msp_id, R.ON_BACKUP_TOO_LONG, active=True)
        assert long.subject_id == str(backup.id)

        # The agent restarts while on the backup link, then traffic comes back to the fiber.
        after_restart = FailoverWatch(load_config(agent.config), _routes("wwan0", "eth0"))
        assert after_restart.poll(spool.append) == []  # not reported twice
        (end,) = after_restart.poll(spool.append)
        assert end["started_at"] == start["started_at"] and end["id"] != start["id"]
        assert delivery.flush().delivered == 1
        assert await drain(db, tenant.msp_id) == 1
    finally:
        delivery.client.close()

    (stored,) = await rows(db, tenant.msp_id, "SELECT from_link_id, to_link_id, started_at, ended_at FROM failover_event"
                                              " WHERE msp_id = :m")
    assert (stored["from_link_id"], stored["to_link_id"], stored["started_at"]) == (primary.id, backup.id, started)
    assert stored["ended_at"] == datetime.fromisoformat(end["ended_at"])
    assert (await _link_state(db, tenant, backup.id))["on_backup_since"] is None

    # The failover was the backup link's test: a month on, it is when the link last carried traffic.
    await fa.evaluate(db, tenant, started + timedelta(days=29))
    assert await fa.incidents(db, tenant.msp_id, R.BACKUP_NOT_EXERCISED) == []
    await fa.evaluate(db, tenant, started + timedelta(days=31))
    (untested,) = await fa.incidents(db, tenant.msp_id, R.BACKUP_NOT_EXERCISED, active=True)
    assert (untested.subject_id, untested.measured) == (str(backup.id), "last carried traffic 31 days ago")


async def _link_state(db, tenant, link_id):
    return await one(db, tenant.msp_id, "SELECT on_backup_since FROM link_state WHERE msp_id = :m AND link_id = :l",
                     l=link_id) or {"on_backup_since": None}
