"""Failover detection: the default route's interface, read on the probe schedule, becomes
`failover` events (started, then the same one ended), and what was seen survives a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawall_agent.client import SeawallClient
from seawall_agent.config import AgentConfig, LinkConfig, load_config
from seawall_agent.daemon import run_daemon
from seawall_agent.delivery import Delivery
from seawall_agent.events import Event
from seawall_agent.failover import FailoverWatch, parse_route_table, read_default_interface
from seawall_agent.spool import Spool

from .conftest import FakeSeawall

FIXTURES = Path(__file__).parent / "fixtures"
FIBER = LinkConfig(name="Comcast fiber", id="7d1c1f0e-0000-4000-8000-00000000011a", role="primary", interface="eth0")
LTE = LinkConfig(name="T-Mobile LTE", id="7d1c1f0e-0000-4000-8000-00000000011b", role="backup", interface="wwan0")
HOTSPOT = LinkConfig(name="Front desk hotspot", role="hotspot", interface="usb0")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Routes:
    """A route table that tests move from one interface to the next."""

    def __init__(self, *interfaces: str | None) -> None:
        self.sequence = list(interfaces)
        self.now: str | None = self.sequence[0] if self.sequence else None

    def __call__(self) -> str | None:
        if self.sequence:
            self.now = self.sequence.pop(0)
        return self.now


def _config(tmp_path: Path, *links: LinkConfig) -> AgentConfig:
    return AgentConfig(server="http://127.0.0.1:9", credential="swa_x", state_dir=tmp_path / "state", links=links)


def _drive(watch: FailoverWatch, steps: int, start: datetime = T0) -> list[Event]:
    sent: list[Event] = []
    for minute in range(steps):
        watch.poll(lambda *events: sent.extend(events), start + timedelta(minutes=minute))
    return sent


def _shape(events: list[Event]) -> list[tuple[str, str, str, str | None]]:
    return [(e["from_link"], e["to_link"], e["started_at"], e.get("ended_at")) for e in events]


def test_the_route_table_gives_the_interface_of_the_lowest_metric_default_route_that_is_up() -> None:
    # After a failover NetworkManager demotes the primary's default route (metric 700) below the
    # LTE modem's (100); eth1's default route has the lowest metric but is not up.
    text = (FIXTURES / "proc_net_route_failed_over").read_text()
    assert parse_route_table(text) == "wwan0"
    assert read_default_interface(FIXTURES / "proc_net_route_failed_over") == "wwan0"
    back = text.replace("\t700\t00000000", "\t50\t00000000")  # the primary's metric restored
    assert parse_route_table(back) == "eth0"


def test_a_route_table_without_a_default_route_or_that_cannot_be_read_names_no_interface(tmp_path: Path) -> None:
    text = (FIXTURES / "proc_net_route_failed_over").read_text()
    header, *routes = text.splitlines()
    only_subnets = "\n".join([header, *(line for line in routes if line.split()[1] != "00000000")])
    assert parse_route_table(only_subnets) is None
    assert parse_route_table("") is None
    assert read_default_interface(tmp_path / "no-such-file") is None


def test_moving_to_the_backup_link_and_back_reports_one_failover_started_then_the_same_one_ended(tmp_path: Path) -> None:
    watch = FailoverWatch(_config(tmp_path, FIBER, LTE), Routes("eth0", "wwan0", "wwan0", "wwan0", "eth0", "eth0"))
    sent = _drive(watch, 6)

    started = "2026-03-02T09:01:00.000+00:00"
    assert _shape(sent) == [(FIBER.ref, LTE.ref, started, None),
                            (FIBER.ref, LTE.ref, started, "2026-03-02T09:04:00.000+00:00")]
    assert [e["type"] for e in sent] == ["failover", "failover"]
    assert sent[0]["occurred_at"] == started and len({e["id"] for e in sent}) == 2


def test_a_failover_that_began_before_a_restart_is_not_reported_again_and_ends_with_its_own_start(tmp_path: Path) -> None:
    config = _config(tmp_path, FIBER, LTE)
    before = _drive(FailoverWatch(config, Routes("eth0", "wwan0")), 2)
    assert len(before) == 1

    after = _drive(FailoverWatch(config, Routes("wwan0", "wwan0", "eth0")), 3, T0 + timedelta(hours=2))
    assert _shape(after) == [(FIBER.ref, LTE.ref, before[0]["started_at"], "2026-03-02T11:02:00.000+00:00")]
    assert _drive(FailoverWatch(config, Routes("eth0", "wwan0")), 2, T0 + timedelta(hours=3))[0]["started_at"] \
        == "2026-03-02T12:01:00.000+00:00"  # a new failover after the restart is a new one


def test_moving_on_from_one_backup_link_to_another_ends_the_first_and_starts_one_from_it(tmp_path: Path) -> None:
    watch = FailoverWatch(_config(tmp_path, FIBER, LTE, HOTSPOT), Routes("eth0", "wwan0", "usb0", "eth0"))
    sent = _drive(watch, 4)
    assert _shape(sent) == [
        (FIBER.ref, LTE.ref, "2026-03-02T09:01:00.000+00:00", None),
        (FIBER.ref, LTE.ref, "2026-03-02T09:01:00.000+00:00", "2026-03-02T09:02:00.000+00:00"),
        (LTE.ref, HOTSPOT.ref, "2026-03-02T09:02:00.000+00:00", None),
        (LTE.ref, HOTSPOT.ref, "2026-03-02T09:02:00.000+00:00", "2026-03-02T09:03:00.000+00:00"),
    ]


def test_an_agent_started_on_the_backup_link_names_the_primary_it_came_from(tmp_path: Path) -> None:
    sent = _drive(FailoverWatch(_config(tmp_path, FIBER, LTE), Routes("wwan0")), 1)
    assert _shape(sent) == [(FIBER.ref, LTE.ref, "2026-03-02T09:00:00.000+00:00", None)]


def test_an_interface_no_link_names_reports_nothing_and_says_so_once(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="seawall_agent.failover")
    watch = FailoverWatch(_config(tmp_path, FIBER, LTE), Routes("eth0", "tun0", "tun0", "tun0"))
    assert _drive(watch, 4) == []
    assert sum("tun0" in r.getMessage() for r in caplog.records) == 1


def test_links_without_an_interface_detect_no_failover_and_say_so_once(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="seawall_agent.failover")
    bare = _config(tmp_path, replace(FIBER, interface=None), replace(LTE, interface=None))
    watch = FailoverWatch(bare, Routes("eth0", "wwan0", "eth0"))
    assert not watch.active
    assert _drive(watch, 3) == []
    assert sum("no link has an `interface`" in r.getMessage() for r in caplog.records) == 1


def test_traffic_leaving_the_backup_link_for_an_unnamed_interface_ends_the_failover(tmp_path: Path) -> None:
    # The primary is pinned by `source`, so its interface is unknown: coming back to it must still
    # end the failover, or Seawall would count the site on its backup link for ever.
    watch = FailoverWatch(_config(tmp_path, replace(FIBER, interface=None, source="192.168.1.10"), LTE),
                          Routes("eth0", "wwan0", "eth0", "eth0"))
    sent = _drive(watch, 4)
    assert _shape(sent) == [(FIBER.ref, LTE.ref, "2026-03-02T09:01:00.000+00:00", None),
                            (FIBER.ref, LTE.ref, "2026-03-02T09:01:00.000+00:00", "2026-03-02T09:02:00.000+00:00")]


def test_the_daemon_reports_failovers_on_the_probe_schedule(config_path: Path, seawall: FakeSeawall) -> None:
    stored = load_config(config_path)
    config = replace(stored, probe_interval_seconds=1, heartbeat_interval_seconds=60,
                     links=tuple(replace(link, interface=iface) for link, iface in zip(stored.links, ("eth0", "wwan0"))))
    routes = Routes("eth0")
    delivery = Delivery(Spool(config.state_dir), SeawallClient(config.server, config.credential))
    with _daemon(config, delivery, routes):
        _wait_for(lambda: (config.state_dir / "failover.json").exists())  # saw the primary
        routes.now = "wwan0"
        _wait_for(lambda: len(_failovers(seawall)) == 1)
        routes.now = "eth0"
        _wait_for(lambda: len(_failovers(seawall)) == 2)

    start, end = _failovers(seawall)
    assert (start["from_link"], start["to_link"]) == (FIBER.id, LTE.id) and "ended_at" not in start
    assert (end["from_link"], end["to_link"], end["started_at"]) == (FIBER.id, LTE.id, start["started_at"])
    assert end["ended_at"] >= start["started_at"]


def _failovers(seawall: FakeSeawall) -> list[Event]:
    return [e for e in seawall.events if e["type"] == "failover"]


class _daemon:
    def __init__(self, config: AgentConfig, delivery: Delivery, routes: Callable[[], str | None]) -> None:
        self.stop = threading.Event()
        self.delivery = delivery
        self.thread = threading.Thread(target=run_daemon, args=(config, delivery, self.stop),
                                       kwargs={"route_reader": routes})

    def __enter__(self) -> None:
        self.thread.start()

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.delivery.client.close()


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)

