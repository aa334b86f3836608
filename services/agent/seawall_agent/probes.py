"""Link probes: is the internet reachable *through this link*, and how well?

Each probe makes several attempts (default 5) and reports latency (mean round trip of the
attempts that succeeded), loss (share that failed) and jitter (population standard deviation
of the round trips, which is what ping prints as "mdev", so all three probe kinds agree).
Traffic is pinned to the link by binding to its local source address or its interface;
without that the OS would route every probe over whichever link is the default.
"""

from __future__ import annotations

import math
import re
import socket
import statistics
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from seawall_agent import __version__


class ProbeSpecError(ValueError):
    """A link's `probe` setting cannot be understood."""


class ProbeUnavailable(Exception):
    """The probe cannot run on this machine (e.g. no ping binary). Not a link failure, so no
    sample is sent: reporting the link down would page someone for a packaging problem."""


@dataclass(frozen=True)
class ProbeTarget:
    kind: Literal["icmp", "tcp", "https"]
    host: str
    port: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    up: bool
    loss_pct: float
    latency_ms: float | None = None
    jitter_ms: float | None = None
    error: str | None = None


def parse_probe_spec(spec: str) -> ProbeTarget:
    """`tcp:HOST:PORT`, `icmp:HOST` or an http(s) URL. IPv6 hosts go in brackets for tcp."""
    if spec.startswith(("https://", "http://")):
        parts = urllib.parse.urlsplit(spec)
        if not parts.hostname:
            raise ProbeSpecError(f"{spec!r}: URL has no host")
        return ProbeTarget(kind="https", host=parts.hostname, url=spec)
    kind, _, rest = spec.partition(":")
    if kind == "icmp":
        host = rest.strip("[]")
        if not host:
            raise ProbeSpecError(f"{spec!r}: expected icmp:HOST")
        return ProbeTarget(kind="icmp", host=host)
    if kind == "tcp":
        host, _, port_text = rest.rpartition(":")
        host = host.strip("[]")
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ProbeSpecError(f"{spec!r}: expected tcp:HOST:PORT")
        return ProbeTarget(kind="tcp", host=host, port=int(port_text))
    raise ProbeSpecError(f"{spec!r}: expected tcp:HOST:PORT, icmp:HOST or an https:// URL")


def probe(
    target: ProbeTarget,
    *,
    source: str | None = None,
    interface: str | None = None,
    attempts: int = 5,
    timeout: float = 2.0,
    interval: float = 0.2,
) -> ProbeResult:
    if target.kind == "icmp":
        return probe_icmp(target.host, source=source, interface=interface, attempts=attempts,
                          timeout=timeout, interval=interval)
    if target.kind == "tcp":
        assert target.port is not None
        return probe_tcp(target.host, target.port, source=source, interface=interface,
                         attempts=attempts, timeout=timeout, interval=interval)
    assert target.url is not None
    return probe_https(target.url, source=source, interface=interface, attempts=attempts,
                       timeout=timeout, interval=interval)


def summarize(round_trips_ms: list[float], attempts: int, error: str | None = None) -> ProbeResult:
    loss = 100.0 * (attempts - len(round_trips_ms)) / attempts
    if not round_trips_ms:
        return ProbeResult(up=False, loss_pct=100.0, error=error)
    return ProbeResult(
        up=True,
        loss_pct=round(loss, 1),
        latency_ms=round(statistics.fmean(round_trips_ms), 3),
        jitter_ms=round(statistics.pstdev(round_trips_ms), 3),
        error=error,
    )


# --- TCP ---------------------------------------------------------------------------------

def probe_tcp(
    host: str,
    port: int,
    *,
    source: str | None = None,
    interface: str | None = None,
    attempts: int = 5,
    timeout: float = 2.0,
    interval: float = 0.2,
) -> ProbeResult:
    """Time TCP handshakes. The name is resolved once, before timing, so DNS is not latency."""
    try:
        family, address = _resolve(host, port, source)
    except OSError as exc:
        return ProbeResult(up=False, loss_pct=100.0, error=f"cannot resolve {host}: {exc}")
    round_trips: list[float] = []
    error: str | None = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(interval)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if interface:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode() + b"\0")
            if source:
                sock.bind((source, 0))
            started = time.perf_counter()
            sock.connect(address)
            round_trips.append((time.perf_counter() - started) * 1000)
        except OSError as exc:
            error = _describe(exc)
        finally:
            sock.close()
    return summarize(round_trips, attempts, error)


def _resolve(host: str, port: int, source: str | None) -> tuple[socket.AddressFamily, tuple[Any, ...]]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if source:
        # Binding an IPv4 source to an IPv6 destination cannot work: pick the source's family.
        wanted = socket.AF_INET6 if ":" in source else socket.AF_INET
        infos = [info for info in infos if info[0] == wanted] or infos
    family, _, _, _, address = infos[0]
    return family, address


def _describe(exc: OSError) -> str:
    if isinstance(exc, TimeoutError) or isinstance(exc, socket.timeout):
        return "timed out"
    return exc.strerror or str(exc)


# --- ICMP --------------------------------------------------------------------------------

_TRANSMITTED = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_SUMMARY_RTT = re.compile(
    r"(?:rtt|round-trip) min/avg/max(?:/(?:mdev|stddev))? = "
    r"([\d.]+)/([\d.]+)/([\d.]+)(?:/([\d.]+))? ms"
)
_REPLY_TIME = re.compile(r"time[=<]([\d.]+) ?ms")


@dataclass(frozen=True)
class PingSummary:
    transmitted: int
    received: int
    avg_ms: float | None
    mdev_ms: float | None


def parse_ping_output(output: str) -> PingSummary | None:
    """Read iputils / BusyBox / BSD ping output; None if it has no statistics (ping failed)."""
    counts = _TRANSMITTED.search(output)
    if not counts:
        return None
    transmitted, received = int(counts.group(1)), int(counts.group(2))
    rtt = _SUMMARY_RTT.search(output)
    avg = float(rtt.group(2)) if rtt else None
    mdev = float(rtt.group(4)) if rtt and rtt.group(4) else None
    if mdev is None and received:
        # BusyBox prints no mdev; derive it from the per-reply times the same way iputils does.
        times = [float(t) for t in _REPLY_TIME.findall(output)]
        if times:
            mdev = statistics.pstdev(times)
            avg = avg if avg is not None else statistics.fmean(times)
    return PingSummary(transmitted, received, avg, mdev)


def ping_command(host: str, *, source: str | None, interface: str | None, attempts: int,
                 timeout: float, interval: float) -> list[str]:
    command = ["ping", "-n", "-c", str(attempts), "-W", str(max(1, math.ceil(timeout)))]
    if interval != 1:
        # iputils refuses intervals below 0.2 s for unprivileged users.
        command += ["-i", f"{max(interval, 0.2):g}"]
    if interface or source:
        command += ["-I", interface or source or ""]
    return command + [host]


def probe_icmp(
    host: str,
    *,
    source: str | None = None,
    interface: str | None = None,
    attempts: int = 5,
    timeout: float = 2.0,
    interval: float = 0.2,
) -> ProbeResult:
    command = ping_command(host, source=source, interface=interface, attempts=attempts,
                           timeout=timeout, interval=interval)
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, errors="replace",
            timeout=attempts * (max(interval, 0.2) + timeout) + 5,
        )
    except FileNotFoundError:
        raise ProbeUnavailable("the `ping` command is not installed (apt-get install iputils-ping)") from None
    except subprocess.TimeoutExpired:
        return ProbeResult(up=False, loss_pct=100.0, error="ping did not finish")
    output = completed.stdout + completed.stderr
    summary = parse_ping_output(output)
    if summary is None or summary.transmitted == 0:
        # Unknown host, missing interface, unreachable network: the link is not usable.
        message = (completed.stderr or completed.stdout).strip().splitlines()
        return ProbeResult(up=False, loss_pct=100.0, error=message[-1] if message else "ping failed")
    if summary.received == 0:
        return ProbeResult(up=False, loss_pct=100.0, error="no replies")
    return ProbeResult(
        up=True,
        loss_pct=round(100.0 * (summary.transmitted - summary.received) / summary.transmitted, 1),
        latency_ms=summary.avg_ms,
        jitter_ms=round(summary.mdev_ms, 3) if summary.mdev_ms is not None else None,
    )


# --- HTTPS -------------------------------------------------------------------------------

def probe_https(
    url: str,
    *,
    source: str | None = None,
    interface: str | None = None,
    attempts: int = 5,
    timeout: float = 2.0,
    interval: float = 0.2,
) -> ProbeResult:
    """Time a fresh connection + TLS handshake + response headers. Any HTTP answer, even an
    error status, proves the link carries traffic; the body is never downloaded."""
    socket_options = (
        [(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode() + b"\0")] if interface else None
    )
    round_trips: list[float] = []
    error: str | None = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(interval)
        # A new client per attempt: a pooled connection would skip the handshake we want to time.
        # trust_env=False: a proxy from the environment would measure the proxy's path instead.
        transport = httpx.HTTPTransport(local_address=source, socket_options=socket_options, retries=0)
        with httpx.Client(transport=transport, timeout=timeout, trust_env=False,
                          headers={"User-Agent": f"seawall-agent/{__version__} (link probe)"}) as client:
            started = time.perf_counter()
            try:
                with client.stream("GET", url):
                    round_trips.append((time.perf_counter() - started) * 1000)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return summarize(round_trips, attempts, error)
