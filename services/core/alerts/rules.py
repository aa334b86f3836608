"""The live-rules catalogue: every rule's stable id, meaning, default thresholds, severity,
readiness component and HIPAA specification. docs/rules.md documents each one.

A rule is a pure function of a practice's facts, the thresholds the policy resolved for it, and
the time; it yields Hits (a Finding plus the site it happened at, for overrides, maintenance
windows and WAN-aware grouping). The checks themselves live in rules_live.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.core.findings import (
    HIPAA_DATA_BACKUP,
    HIPAA_DISASTER_RECOVERY,
    HIPAA_EMERGENCY_MODE,
    HIPAA_TESTING,
    Component,
    Finding,
    Severity,
)


@dataclass(frozen=True)
class Hit:
    finding: Finding
    site_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Param:
    default: float | None
    meaning: str
    minimum: float = 0
    maximum: float = 1_000_000


Check = Callable[[Any, dict[str, Any], datetime], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    meaning: str
    component: Component
    severity: Severity
    hipaa: str
    params: dict[str, Param] = field(default_factory=dict)
    # Needs evaluating as time passes, not only when telemetry arrives.
    time_based: bool = False
    # A consequence of a site's internet outage: grouped under the outage incident while it lasts.
    follows_outage: bool = False
    # Every rule is registered with its check (@rule): required, keyword-only so it may follow the defaults.
    check: Check = field(kw_only=True)

    def defaults(self) -> dict[str, Any]:
        return {k: p.default for k, p in self.params.items()}


RULES: dict[str, Rule] = {}


def rule(**kwargs: Any) -> Callable[[Check], Check]:
    """Register a check function as the rule described by kwargs."""

    def register(fn: Check) -> Check:
        r = Rule(check=fn, **kwargs)
        if r.id in RULES:
            raise ValueError(f"rule {r.id} registered twice")
        RULES[r.id] = r
        return fn

    return register


# Ids of the catalogue, grouped as in docs/rules.md.
RPO_AT_RISK = "backup.rpo_at_risk"
RPO_BREACHED = "backup.rpo_breached"
FAILED_IN_A_ROW = "backup.failed_in_a_row"
NO_OFFSITE_WITHIN = "backup.no_offsite_within"
SUSPICIOUS_RUN = "backup.suspicious_run"
STALE_SUCCESS = "backup.stale_success"
NO_RESTORE_TEST = "testing.no_restore_test"
RTO_ABOVE_TARGET = "testing.rto_above_target"
AGENT_SILENT = "agent.silent"
INTERNET_OUTAGE = "site.internet_outage"
LINK_DOWN = "link.down"
LINK_FLAPPING = "link.flapping"
LINK_NO_DATA = "link.no_data"
ON_BACKUP_TOO_LONG = "link.on_backup_too_long"
BACKUP_NOT_EXERCISED = "link.backup_not_exercised"
SINGLE_CIRCUIT = "link.single_circuit"
LINK_LOSS = "link.loss_high"
LINK_LATENCY = "link.latency_high"
LINK_JITTER = "link.jitter_high"

SEVERITY_RANK = {Severity.low.value: 0, Severity.medium.value: 1, Severity.high.value: 2, Severity.critical.value: 3}

_COMPONENT_HIPAA = {
    Component.backups: HIPAA_DATA_BACKUP,
    Component.connectivity: HIPAA_EMERGENCY_MODE,
    Component.testing: HIPAA_TESTING,
    Component.plan: HIPAA_DISASTER_RECOVERY,
}


def get(rule_id: str) -> Rule | None:
    return RULES.get(rule_id)


def catalogue() -> list[Rule]:
    # Importing rules_live registers every check; done lazily to keep the import graph one-way.
    from services.core.alerts import rules_live  # noqa: F401

    return sorted(RULES.values(), key=lambda r: r.id)


def hipaa_for(component: Component) -> str:
    return _COMPONENT_HIPAA.get(component, "")


def ago(minutes: float) -> str:
    """A duration in the words a practice owner reads: '45 min', '26 h', '12 days'."""
    if minutes < 120:
        return f"{round(minutes)} min"
    if minutes < 72 * 60:
        return f"{round(minutes / 60, 1):g} h"
    return f"{round(minutes / 1440)} days"
