import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seawall_agent.cli import main
from seawall_agent.probes import (
    ProbeSpecError,
    ProbeTarget,
    ProbeUnavailable,
    parse_ping_output,
    parse_probe_spec,
    ping_command,
    probe_https,
    probe_icmp,
    probe_tcp,
)

from .conftest import FakeSeawall


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)  # the kernel completes handshakes without accept()
        yield server.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tcp_probe_of_a_listening_socket_measures_latency_with_no_loss(listening_port: int) -> None:
    result = probe_tcp("127.0.0.1", listening_port, source="127.0.0.1", attempts=5, interval=0)

    assert result.up
    assert result.loss_pct == 0
    assert result.latency_ms is not None and 0 < result.latency_ms < 100
    assert result.jitter_ms is not None and result.jitter_ms >= 0


def test_tcp_probe_of_a_closed_port_reports_the_link_down_with_full_loss(closed_port: int) -> None:
    result = probe_tcp("127.0.0.1", closed_port, attempts=3, interval=0)

    assert not result.up
    assert result.loss_pct == 100
    assert result.latency_ms is None
    assert result.error and "refused" in result.error.lower()


def test_tcp_probe_bound_to_an_address_this_machine_does_not_have_reports_down(listening_port: int) -> None:
    # What happens when the LTE modem drops and its address disappears from the interface.
    result = probe_tcp("127.0.0.1", listening_port, source="192.0.2.10", attempts=2, interval=0)

    assert not result.up and result.loss_pct == 100
    assert result.error and "assign" in result.error.lower()


def test_https_probe_times_the_answer_of_a_local_server(seawall: FakeSeawall, closed_port: int) -> None:
    up = probe_https(f"{seawall.url}/probe", source="127.0.0.1", attempts=3, interval=0)
    down = probe_https(f"http://127.0.0.1:{closed_port}/", attempts=2, interval=0)

    assert up.up and up.loss_pct == 0 and up.latency_ms is not None and up.latency_ms > 0
    assert not down.up and down.loss_pct == 100 and down.error and "ConnectError" in down.error


def test_probe_specs_are_parsed_and_bad_ones_are_refused() -> None:
    assert parse_probe_spec("tcp:1.1.1.1:443") == ProbeTarget("tcp", "1.1.1.1", 443)
    assert parse_probe_spec("tcp:[2606:4700::1111]:443") == ProbeTarget("tcp", "2606:4700::1111", 443)
    assert parse_probe_spec("icmp:9.9.9.9") == ProbeTarget("icmp", "9.9.9.9")
    assert parse_probe_spec("https://example.org/") == ProbeTarget("https", "example.org", url="https://example.org/")
    for bad in ("tcp:1.1.1.1", "tcp:host:99999", "icmp:", "udp:1.1.1.1:53", "https://"):
        with pytest.raises(ProbeSpecError):
            parse_probe_spec(bad)


IPUTILS_OUTPUT = """\
PING 9.9.9.9 (9.9.9.9) from 192.168.1.10 wwan0: 56(84) bytes of data.
64 bytes from 9.9.9.9: icmp_seq=1 ttl=58 time=31.2 ms
64 bytes from 9.9.9.9: icmp_seq=2 ttl=58 time=29.8 ms
64 bytes from 9.9.9.9: icmp_seq=4 ttl=58 time=35.1 ms
64 bytes from 9.9.9.9: icmp_seq=5 ttl=58 time=30.4 ms

--- 9.9.9.9 ping statistics ---
5 packets transmitted, 4 received, 20% packet loss, time 802ms
rtt min/avg/max/mdev = 29.812/31.625/35.104/2.047 ms
"""

BUSYBOX_OUTPUT = """\
PING 9.9.9.9 (9.9.9.9): 56 data bytes
64 bytes from 9.9.9.9: seq=0 ttl=58 time=10.000 ms
64 bytes from 9.9.9.9: seq=1 ttl=58 time=14.000 ms

--- 9.9.9.9 ping statistics ---
2 packets transmitted, 2 packets received, 0% packet loss
round-trip min/avg/max = 10.000/12.000/14.000 ms
"""

ALL_LOST_OUTPUT = """\
PING 9.9.9.9 (9.9.9.9) 56(84) bytes of data.

--- 9.9.9.9 ping statistics ---
5 packets transmitted, 0 received, +5 errors, 100% packet loss, time 4093ms
"""


def test_ping_output_gives_loss_latency_and_mdev_as_jitter() -> None:
    iputils = parse_ping_output(IPUTILS_OUTPUT)
    busybox = parse_ping_output(BUSYBOX_OUTPUT)
    lost = parse_ping_output(ALL_LOST_OUTPUT)

    assert iputils is not None and (iputils.transmitted, iputils.received) == (5, 4)
    assert (iputils.avg_ms, iputils.mdev_ms) == (31.625, 2.047)
    assert busybox is not None and (busybox.avg_ms, busybox.mdev_ms) == (12.0, 2.0)  # mdev from replies
    assert lost is not None and (lost.received, lost.avg_ms) == (0, None)
    assert parse_ping_output("ping: unknown iface wwan0") is None


def test_ping_is_pinned_to_the_links_interface_or_source_address() -> None:
    by_interface = ping_command("9.9.9.9", source=None, interface="wwan0", attempts=5, timeout=2, interval=0.2)
    by_source = ping_command("9.9.9.9", source="192.168.1.10", interface=None, attempts=3, timeout=1.5, interval=0.2)

    assert by_interface == ["ping", "-n", "-c", "5", "-W", "2", "-i", "0.2", "-I", "wwan0", "9.9.9.9"]
    assert by_source[-3:] == ["-I", "192.168.1.10", "9.9.9.9"] and by_source[4:6] == ["-W", "2"]


def test_icmp_probe_without_a_ping_binary_is_unavailable_rather_than_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no ping here

    with pytest.raises(ProbeUnavailable, match="ping"):
        probe_icmp("127.0.0.1", attempts=1)


def test_icmp_probe_runs_the_system_ping_and_reads_its_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in `ping` on PATH that checks its arguments and prints iputils' output, so this
    # runs the real subprocess path on machines without iputils-ping (and in CI containers).
    fake = tmp_path / "ping"
    check_args = '[ "$6" = "-i" ] && [ "$9" = "wwan0" ] || exit 2'
    fake.write_text(f"#!/bin/sh\n{check_args}\ncat <<'EOF'\n{IPUTILS_OUTPUT}EOF\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    result = probe_icmp("9.9.9.9", interface="wwan0", attempts=5)

    assert result.up and result.loss_pct == 20 and result.latency_ms == 31.625 and result.jitter_ms == 2.047


def _add_probes(config_path: Path, fiber: str, lte: str) -> None:
    text = config_path.read_text()
    text = text.replace('role = "primary"', f'role = "primary"\nprobe = "{fiber}"\nsource = "127.0.0.1"')
    text = text.replace('role = "backup"', f'role = "backup"\nprobe = "{lte}"')
    config_path.write_text(text)


def test_probe_command_sends_one_link_sample_per_link(
    config_path: Path, seawall: FakeSeawall, listening_port: int, closed_port: int
) -> None:
    _add_probes(config_path, f"tcp:127.0.0.1:{listening_port}", f"tcp:127.0.0.1:{closed_port}")

    assert main(["probe", "--config", str(config_path)]) == 0

    fiber, lte = seawall.events
    links = seawall.agent_payload()["links"]
    assert (fiber["type"], fiber["link"], fiber["up"], fiber["loss_pct"]) == ("link_sample", links[0]["id"], True, 0)
    assert fiber["latency_ms"] > 0
    assert (lte["link"], lte["up"], lte["loss_pct"]) == (links[1]["id"], False, 100)
    assert "latency_ms" not in lte


def test_daemon_sends_heartbeats_and_probes_on_its_interval_and_stops_on_sigterm(
    config_path: Path, seawall: FakeSeawall, listening_port: int, closed_port: int
) -> None:
    _add_probes(config_path, f"tcp:127.0.0.1:{listening_port}", f"tcp:127.0.0.1:{closed_port}")
    config_path.write_text(config_path.read_text()
                           .replace("heartbeat_interval_seconds = 60", "heartbeat_interval_seconds = 1")
                           .replace("probe_attempts = 5", "probe_attempts = 2"))
    executable = shutil.which("seawall-agent", path=os.path.dirname(sys.executable))
    assert executable, "pip install -e services/agent into this venv"
    daemon = subprocess.Popen([executable, "daemon", "--config", str(config_path)],
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while sum(e["type"] == "heartbeat" for e in seawall.events) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    daemon.send_signal(signal.SIGTERM)

    assert daemon.wait(timeout=10) == 0
    kinds = [event["type"] for event in seawall.events]
    assert kinds.count("heartbeat") >= 2
    assert kinds.count("link_sample") >= 2
    assert "daemon stopped" in daemon.stderr.read()  # type: ignore[union-attr]


def test_probe_command_exits_78_when_a_configured_probe_cannot_run_yet_sends_the_other_links_sample(
    config_path: Path, seawall: FakeSeawall, listening_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    _add_probes(config_path, f"tcp:127.0.0.1:{listening_port}", "icmp:127.0.0.1")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ping binary on this machine

    assert main(["probe", "--config", str(config_path)]) == 78

    [fiber] = seawall.events
    assert fiber["up"] is True
    assert "T-Mobile LTE: not probed (the `ping` command is not installed" in caplog.text
