"""`seawall-agent daemon`: heartbeats and link probes on their intervals, spool replayed
whenever the server is willing to take it. Failover detection (failover.py) runs on the probe
schedule: which link carries the default route is a fact about the links, read as often.

When Seawall refuses the credential (or the request itself: a wrong server URL) the daemon keeps
spooling and looks at the config file again: once the agent is enrolled again, or the server
fixed, it delivers with the new config, without a restart.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path

from seawall_agent import events
from seawall_agent.client import SeawallClient
from seawall_agent.config import AgentConfig, ConfigError, load_config
from seawall_agent.delivery import Delivery, forget_backoff
from seawall_agent.failover import FailoverWatch, RouteReader, read_default_interface
from seawall_agent.links import probe_links

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 5.0


def run_daemon(config: AgentConfig, delivery: Delivery, stop: threading.Event,
               config_path: Path | None = None, route_reader: RouteReader = read_default_interface) -> None:
    spool = delivery.spool
    watch = FailoverWatch(config, route_reader)
    probing = any(link.probe for link in config.links) or watch.active
    # Monotonic time for the schedule: a wall-clock jump must not skip or bunch up heartbeats.
    next_heartbeat = next_probe = time.monotonic()
    log.info("daemon started: heartbeat every %ss, %d link(s) probed every %ss",
             config.heartbeat_interval_seconds, sum(1 for link in config.links if link.probe),
             config.probe_interval_seconds)
    if not watch.active:
        watch.poll(spool.append)  # says, once, why failovers will not be reported
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_heartbeat:
            spool.append(events.heartbeat(config.heartbeat_interval_seconds, config.probe_interval_seconds))
            next_heartbeat = now + config.heartbeat_interval_seconds
        if probing and now >= next_probe:
            reports = probe_links(config)
            for report in reports:
                if report.result is None or not report.result.up:
                    log.warning("%s", report.describe())
            spool.append(*(event for report in reports if (event := report.event())))
            watch.poll(spool.append)
            next_probe = now + config.probe_interval_seconds

        result = delivery.flush()
        if result.refused_status is not None and config_path is not None:
            renewed = _take_new_config(config, config_path, delivery)
            if renewed is not config:
                config = renewed
                watch = FailoverWatch(config, route_reader)  # its state is on disk; the links may have changed
                continue  # deliver with the new config now, not after the old one's pause
        wake = min(next_heartbeat, next_probe if probing else math.inf)
        if result.retry_at is not None:
            wake = min(wake, time.monotonic() + max(0.0, result.retry_at - time.time()))
        elif result.busy:
            wake = min(wake, time.monotonic() + BUSY_RETRY_SECONDS)
        stop.wait(max(0.0, wake - time.monotonic()))
    log.info("daemon stopped; %d event(s) left in the spool", spool.pending())


def _take_new_config(config: AgentConfig, config_path: Path, delivery: Delivery) -> AgentConfig:
    """The config as it is on disk now, with `delivery` switched to it if enroll changed the
    credential or the server; otherwise `config` unchanged."""
    try:
        current = load_config(config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        return config
    if (current.credential, current.server) == (config.credential, config.server):
        return config
    log.info("the config has a new credential or server; delivering with it")
    delivery.client.close()
    delivery.client = SeawallClient(current.server, current.credential)
    forget_backoff(delivery.spool.state_dir)
    return current
