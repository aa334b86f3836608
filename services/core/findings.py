"""The shape every check speaks: a Finding.

Plan checks (plans/inventory), live rules (alerts) and the readiness score all use this one type,
so a lost readiness point can always be traced to the finding that cost it.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Component(str, enum.Enum):
    """The parts of readiness (SPEC section 3)."""

    plan = "plan"
    backups = "backups"
    connectivity = "connectivity"
    testing = "testing"
    people = "people"


class Severity(str, enum.Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


# HIPAA Security Rule, 45 CFR 164.308(a)(7) — contingency plan implementation specifications.
HIPAA_DATA_BACKUP = "164.308(a)(7)(ii)(A) Data backup plan"
HIPAA_DISASTER_RECOVERY = "164.308(a)(7)(ii)(B) Disaster recovery plan"
HIPAA_EMERGENCY_MODE = "164.308(a)(7)(ii)(C) Emergency mode operation plan"
HIPAA_TESTING = "164.308(a)(7)(ii)(D) Testing and revision procedures"
HIPAA_CRITICALITY = "164.308(a)(7)(ii)(E) Applications and data criticality analysis"
HIPAA_TRANSMISSION = "164.312(e)(1) Transmission security"
HIPAA_ENCRYPTION = "164.312(a)(2)(iv) Encryption and decryption"
HIPAA_BAA = "164.308(b)(1) Business associate contracts"
HIPAA_TRAINING = "164.308(a)(5) Security awareness and training"


@dataclass(frozen=True)
class Finding:
    rule_id: str  # stable, documented id: "plan.section_empty", "backup.rpo_breached" …
    component: Component
    severity: Severity
    subject_type: str  # practice, site, system, backup_job, link, plan, plan_section, person …
    subject_id: str
    title: str  # plain words for a practice owner
    remediation: str  # one line: what to do
    hipaa: str = ""  # the specification it concerns
    measured: str | None = None  # the measured value, in words ("26 h ago")
    target: str | None = None  # the target it is compared with ("24 h")
    # The one run of the subject the finding judged, by its finish time (backup.stale_success: the
    # success whose restore point did not move). Screens label that run, not the subject's newest,
    # so a good run that arrives before the next rescoring is not shown as the stale one.
    judged_run_finished_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """One finding per (rule, subject): the incident key too."""
        return (self.rule_id, self.subject_type, self.subject_id)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["component"] = self.component.value
        d["severity"] = self.severity.value
        # Stored as JSON; left out when unset so that every other finding is stored as before.
        judged = d.pop("judged_run_finished_at")
        if judged is not None:
            d["judged_run_finished_at"] = judged.isoformat()
        return d


class FindingOut(BaseModel):
    """A finding as the API shows it (one schema for every endpoint that lists findings)."""

    model_config = ConfigDict(from_attributes=True)
    rule_id: str
    component: Component
    severity: Severity
    subject_type: str
    subject_id: str
    title: str
    remediation: str
    hipaa: str
    measured: str | None
    target: str | None
