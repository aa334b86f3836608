"""Failover detection: which configured link carries the default route, and when that changes.

A site fails over when its traffic leaves the primary link for a backup or hotspot link. The
agent sees that as the default route moving to another interface: it reads the route table on
the probe schedule, matches the default route's interface to the link whose `interface` it is,
and reports a `failover` event (docs/api/agent-protocol.md) when traffic moves onto a backup
link (started, no `ended_at`) and again when it comes back to a primary (the same `from_link`,
`to_link` and `started_at`, now with `ended_at`): Seawall keys a failover by those three, so the
second report closes the first.

What the agent last saw is kept in `<state_dir>/failover.json`, so a failover that began before a
restart ends properly, and one still running is not reported again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from seawall_agent import events
from seawall_agent.config import AgentConfig, LinkConfig
from seawall_agent.events import Event
from seawall_agent.files import atomic_write, ensure_private_dir

log = logging.getLogger(__name__)

PROC_NET_ROUTE = Path("/proc/net/route")
STATE_FILE = "failover.json"
BACKUP_ROLES = ("backup", "hotspot")
_RTF_UP = 0x0001

# What carries the default route now: an interface name, or None when it cannot be told (no
# default route, not Linux). Injectable so tests can drive a sequence of routes.
RouteReader = Callable[[], "str | None"]


def parse_route_table(text: str) -> str | None:
    """The interface of the lowest-metric default route in /proc/net/route's format, or None.

    Each line after the header is `Iface Destination Gateway Flags RefCnt Use Metric Mask …`,
    addresses and flags in hex; a default route has destination and mask 0 and the UP flag.
    Columns are found by the header's names, not their position, so a kernel that adds one
    does not shift them."""
    lines = text.splitlines()
    if not lines:
        return None
    header = lines[0].split()
    try:
        iface_at, dest_at, flags_at, metric_at, mask_at = (
            header.index(name) for name in ("Iface", "Destination", "Flags", "Metric", "Mask"))
    except ValueError:
        return None
    best: tuple[int, int, str] | None = None  # (metric, line number, interface): ties go to the first
    for number, line in enumerate(lines[1:]):
        fields = line.split()
        if len(fields) <= max(iface_at, dest_at, flags_at, metric_at, mask_at):
            continue
        try:
            destination, mask = int(fields[dest_at], 16), int(fields[mask_at], 16)
            flags, metric = int(fields[flags_at], 16), int(fields[metric_at])
        except ValueError:
            continue
        if destination == 0 and mask == 0 and flags & _RTF_UP:
            candidate = (metric, number, fields[iface_at])
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


def read_default_interface(path: Path = PROC_NET_ROUTE) -> str | None:
    """The interface carrying the default route on Linux; None where there is no route table."""
    try:
        return parse_route_table(path.read_text())
    except OSError:
        return None


@dataclass(frozen=True)
class _Failover:
    from_link: str
    to_link: str
    started_at: str  # as sent, so the end repeats it to the character


class FailoverWatch:
    """Turns the default route's interface, read now and then, into failover events."""

    def __init__(self, config: AgentConfig, route_reader: RouteReader = read_default_interface) -> None:
        self.config = config
        self.route_reader = route_reader
        self.path = config.state_dir / STATE_FILE
        self.by_interface = {link.interface: link for link in config.links if link.interface}
        self._said: set[str] = set()  # what has been logged once already
        self.current, self.failover = self._load()

    @property
    def active(self) -> bool:
        """Whether there is anything to watch: some link says which interface carries it."""
        return bool(self.by_interface)

    def poll(self, emit: Callable[..., None], now: datetime | None = None) -> list[Event]:
        """Read the route once; hand any failover event to `emit` (the spool's append), then
        remember the new state. The event is spooled before the state is saved: a crash between
        the two resends an event Seawall already keys (a repeat end, or a start it merges),
        never loses one."""
        if not self.active:
            self._once("no-interface", "no link has an `interface` in the config: failover is not detected "
                                       "(set interface = \"…\" on each link to report failovers)")
            return []
        interface = self.route_reader()
        if interface is None:
            self._once("no-route", "cannot tell which link carries traffic (no default route, or no "
                                   "/proc/net/route on this system): failover is not detected until there is one")
            return []
        if unnamed := [link.name for link in self.config.links if not link.interface]:
            self._once("unnamed", f"no `interface` in the config for {', '.join(unnamed)}: traffic over "
                                  f"{'that link' if len(unnamed) == 1 else 'those links'} is not recognised, "
                                  "so no failover onto it is reported")
        link = self.by_interface.get(interface)
        if link is None:
            self._once(f"unknown:{interface}", f"the default route goes through {interface}, which no configured "
                                               "link names as its interface: no failover reported for it")
        out = self._step(link, now or events.now())
        if out:
            emit(*out)
        current = link.ref if link else self.current
        if out or current != self.current:  # written on a change only: no fsync every probe interval
            self.current = current
            self._save()
        return out

    def _step(self, link: LinkConfig | None, now: datetime) -> list[Event]:
        """The events for traffic now on `link` (None: an interface no link names)."""
        out: list[Event] = []
        moment = events.rfc3339(now)
        on_backup = link is not None and link.role in BACKUP_ROLES
        if self.failover is not None and link is not None and self.failover.to_link == link.ref:
            return out  # still on the same backup link: reported when it started
        if self.failover is not None:
            # Traffic left the backup link it failed over to (back to a primary, on to another
            # backup, or onto an interface no link names): that failover is over, or Seawall would
            # keep counting the site on its backup link.
            # A wall clock set back must not end a failover before it began (Seawall refuses that).
            out.append(_event(self.failover, now, ended_at=max(moment, self.failover.started_at)))
            log.info("failover from %s to %s ended", self.failover.from_link, self.failover.to_link)
            previous, self.failover = self.failover.to_link, None
            if on_backup:
                assert link is not None
                self.failover = _Failover(previous, link.ref, moment)
        elif on_backup:
            assert link is not None
            origin = self._origin()
            if origin is None:
                self._once("no-primary", f"traffic moved to {link.name}, but no primary link is configured "
                                         "to say where it came from: failover not reported")
                return out
            self.failover = _Failover(origin, link.ref, moment)
        if self.failover is not None and link is not None and self.failover.to_link == link.ref:
            out.append(_event(self.failover, now))
            log.warning("traffic failed over from %s to %s", self.failover.from_link, link.name)
        return out

    def _origin(self) -> str | None:
        """The link traffic came from: the one seen last if it was a primary, else the first primary."""
        primaries = [link.ref for link in self.config.links if link.role not in BACKUP_ROLES]
        if self.current in primaries:
            return self.current
        return primaries[0] if primaries else None

    def _once(self, key: str, message: str) -> None:
        if key not in self._said:
            self._said.add(key)
            log.warning("%s", message)

    def _load(self) -> tuple[str | None, _Failover | None]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:
            log.warning("%s cannot be read (%s): starting failover detection afresh", self.path, exc)
            return None, None
        raw = data.get("failover") if isinstance(data, dict) else None
        failover = None
        if isinstance(raw, dict) and all(isinstance(raw.get(k), str) for k in ("from_link", "to_link", "started_at")):
            failover = _Failover(raw["from_link"], raw["to_link"], raw["started_at"])
        current = data.get("current") if isinstance(data, dict) else None
        return (current if isinstance(current, str) else None), failover

    def _save(self) -> None:
        state: dict[str, Any] = {"current": self.current, "failover": None}
        if self.failover is not None:
            state["failover"] = {"from_link": self.failover.from_link, "to_link": self.failover.to_link,
                                 "started_at": self.failover.started_at}
        ensure_private_dir(self.path.parent)
        atomic_write(self.path, (json.dumps(state) + "\n").encode())


def _event(failover: _Failover, now: datetime, ended_at: str | None = None) -> Event:
    return events.new_event("failover", now, from_link=failover.from_link, to_link=failover.to_link,
                            started_at=failover.started_at, ended_at=ended_at)
