"""Which backup copies a system's plan requires, and which jobs make each: the one definition.

The inventory rules (checks.py: a required copy no job makes), the live RPO rules
(alerts/rules_live.py) and the Systems page's RPO gauges (telemetry/recovery.py) all read the
copies from here, so a gauge, a lost point and an incident always speak of the same copies
(docs/decisions/0010-every-required-copy-is-judged.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from services.core.inventory.models import BackupLocation

ONSITE = "onsite"
OFFSITE = "offsite"
# A cloud job's copy is off-site too: one event at the office cannot take it.
OFFSITE_LOCATIONS = (BackupLocation.offsite.value, BackupLocation.cloud.value)
# The same test for SQL over `backup_job` aliased `j` (a test checks it against is_offsite).
OFFSITE_SQL = "j.location IN (" + ", ".join(f"'{loc}'" for loc in OFFSITE_LOCATIONS) + ")"


class PlannedSystem(Protocol):
    requires_onsite_copy: bool
    requires_offsite_copy: bool


J = TypeVar("J")


def is_offsite(location: str) -> bool:
    return location in OFFSITE_LOCATIONS


def required_copies(system: PlannedSystem) -> tuple[str, ...]:
    """The copies the system's plan requires, on-site first."""
    return tuple(copy for copy, required in ((ONSITE, system.requires_onsite_copy), (OFFSITE, system.requires_offsite_copy))
                 if required)


def jobs_by_copy(system: PlannedSystem, jobs: Iterable[J], offsite: Callable[[J], bool]) -> Iterator[tuple[str, list[J]]]:
    """Each required copy with the jobs (of those protecting the system) that make it; a copy no
    job makes comes with an empty list."""
    jobs = list(jobs)
    for copy in required_copies(system):
        yield copy, [j for j in jobs if offsite(j) == (copy == OFFSITE)]
