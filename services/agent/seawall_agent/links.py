"""Probing every configured link of the site once, side by side."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from seawall_agent import events
from seawall_agent.config import AgentConfig, LinkConfig
from seawall_agent.events import Event
from seawall_agent.probes import ProbeResult, ProbeUnavailable, parse_probe_spec, probe


@dataclass(frozen=True)
class LinkReport:
    link: LinkConfig
    result: ProbeResult | None = None
    problem: str | None = None  # why no sample was taken (no probe configured, no ping binary)

    def event(self) -> Event | None:
        return events.link_sample(self.link.ref, self.result) if self.result else None

    def describe(self) -> str:
        if self.result is None:
            return f"{self.link.name}: not probed ({self.problem})"
        r = self.result
        if not r.up:
            return f"{self.link.name}: DOWN ({r.error or 'no answer'})"
        return (f"{self.link.name}: up, {r.latency_ms:.1f} ms, loss {r.loss_pct:g}%, "
                f"jitter {r.jitter_ms or 0:.1f} ms")


def probe_links(config: AgentConfig, interval: float = 0.2) -> list[LinkReport]:
    """One report per configured link, in config order. Links are probed in parallel so a
    dead link's timeouts do not delay the samples of the healthy ones."""
    if not config.links:
        return []
    with ThreadPoolExecutor(max_workers=len(config.links), thread_name_prefix="probe") as pool:
        return list(pool.map(lambda link: _probe_one(config, link, interval), config.links))


def _probe_one(config: AgentConfig, link: LinkConfig, interval: float) -> LinkReport:
    if not link.probe:
        return LinkReport(link, problem="no probe configured for this link")
    try:
        result = probe(
            parse_probe_spec(link.probe),
            source=link.source,
            interface=link.interface,
            attempts=config.probe_attempts,
            timeout=config.probe_timeout_seconds,
            interval=interval,
        )
    except ProbeUnavailable as exc:
        return LinkReport(link, problem=str(exc))
    return LinkReport(link, result=result)
