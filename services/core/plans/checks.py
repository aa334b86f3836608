"""Plan checks: what is missing or stale in a practice's plan, as findings (services/core/findings.py).

Rules (ids are stable; docs/rules.md explains each):
  plan.not_approved            no approved version (or no plan at all)
  plan.section_empty           a required section is empty or still has [[blanks]] (one per section)
  plan.not_exported            the approved version has not been exported since its approval
  plan.review_overdue          the approved version's next review date has passed
  plan.acknowledgement_missing a role holder has not acknowledged the approved version (one per assignment)
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.findings import (HIPAA_CRITICALITY, HIPAA_DATA_BACKUP, HIPAA_DISASTER_RECOVERY, HIPAA_EMERGENCY_MODE,
                                    HIPAA_TESTING, HIPAA_TRAINING, Component, Finding, Severity)
from services.core.identity.models import User
from services.core.plans import templates as T
from services.core.plans.models import Plan, PlanVersion, VersionStatus
from services.core.plans.people import acknowledgements, list_assignments
from services.core.plans.service import last_export_since_approval

HIPAA_CONTINGENCY_PLAN = "164.308(a)(7)(i) Contingency plan"

# The HIPAA specification each built-in section answers; other sections count toward the plan as a whole.
SECTION_HIPAA = {
    T.KEY_BACKUP: HIPAA_DATA_BACKUP, T.KEY_DISASTER_RECOVERY: HIPAA_DISASTER_RECOVERY, T.KEY_EMERGENCY_MODE: HIPAA_EMERGENCY_MODE,
    T.KEY_TESTING: HIPAA_TESTING, T.KEY_CRITICALITY: HIPAA_CRITICALITY, T.KEY_ROLES: HIPAA_TRAINING,
}


def _section_findings(version: PlanVersion) -> list[Finding]:
    out = []
    for s in version.sections:
        if not s.get("required", True) or not T.is_incomplete(s):
            continue
        blanks = T.blanks_in(s.get("body", ""))
        empty = not (s.get("body") or "").strip()
        where = "the approved version" if version.status == VersionStatus.approved.value else f"draft version {version.number}"
        out.append(Finding(
            rule_id="plan.section_empty", component=Component.plan, severity=Severity.medium,
            subject_type="plan_section", subject_id=s["key"],
            title=f"'{s['title']}' is not written yet" if empty else f"'{s['title']}' still has {blanks} blank(s) to fill in",
            remediation="Complete this section in a draft (replace every [[…]] with the practice's own details) and approve it.",
            hipaa=SECTION_HIPAA.get(s["key"], HIPAA_CONTINGENCY_PLAN),
            measured=f"empty in {where}" if empty else f"{blanks} blank(s) in {where}", target="written, no blanks"))
    return out


async def plan_findings(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, now: datetime) -> list[Finding]:
    plan = await session.scalar(select(Plan).where(Plan.msp_id == msp_id, Plan.practice_id == practice_id))
    if plan is None:
        return [Finding(
            rule_id="plan.not_approved", component=Component.plan, severity=Severity.high, subject_type="practice",
            subject_id=str(practice_id), title="The practice has no continuity plan",
            remediation="Create the plan from a template, fill it in with the practice and have the owner approve it.",
            hipaa=HIPAA_CONTINGENCY_PLAN, measured="no plan", target="an approved plan")]
    versions = list(await session.scalars(select(PlanVersion).where(
        PlanVersion.msp_id == msp_id, PlanVersion.plan_id == plan.id).order_by(PlanVersion.number.desc())))
    approved = next((v for v in versions if v.status == VersionStatus.approved.value), None)
    findings: list[Finding] = []
    if approved is None:
        open_version = next((v for v in versions if v.status != VersionStatus.superseded.value), None)
        state = f"version {open_version.number} is {open_version.status.replace('_', ' ')}" if open_version else "no version"
        findings.append(Finding(
            rule_id="plan.not_approved", component=Component.plan, severity=Severity.high, subject_type="plan",
            subject_id=str(plan.id), title="The continuity plan has not been approved",
            remediation="Submit the draft for review and have the practice owner approve it.",
            hipaa=HIPAA_CONTINGENCY_PLAN, measured=state, target="an approved version"))
        if versions:
            findings += _section_findings(versions[0])
        return findings
    findings += _section_findings(approved)
    if await last_export_since_approval(session, approved) is None:
        findings.append(Finding(
            rule_id="plan.not_exported", component=Component.plan, severity=Severity.medium, subject_type="plan_version",
            subject_id=str(approved.id), title="The approved plan has not been printed or saved offline",
            remediation="Export the PDF binder and the offline HTML copy, and keep them where staff can reach them without the internet.",
            hipaa=HIPAA_EMERGENCY_MODE, measured=f"version {approved.number} approved {approved.approved_at:%Y-%m-%d}, not exported since",
            target="exported after approval"))
    today = now.date()
    if approved.next_review_date is not None and approved.next_review_date < today:
        days = (today - approved.next_review_date).days
        findings.append(Finding(
            rule_id="plan.review_overdue", component=Component.plan, severity=Severity.high, subject_type="plan_version",
            subject_id=str(approved.id), title="The plan's review is overdue",
            remediation="Review the plan with the MSP, make any changes in a new draft and have it approved.",
            hipaa=HIPAA_TESTING, measured=f"due {approved.next_review_date:%Y-%m-%d}, {days} day(s) ago",
            target=f"reviewed every {approved.review_interval_months} months"))
    assignments = await list_assignments(session, msp_id, practice_id)
    acks = await acknowledgements(session, approved)
    missing = [a for a in assignments if a.user_id not in acks]
    if missing:
        names = {u.id: u.name or u.email for u in await session.scalars(select(User).where(User.id.in_({a.user_id for a in missing})))}
        for a in missing:
            findings.append(Finding(
                rule_id="plan.acknowledgement_missing", component=Component.people, severity=Severity.medium,
                subject_type="role_assignment", subject_id=str(a.id),
                title=f"{names.get(a.user_id, 'A role holder')} has not acknowledged their role '{a.role_name}' in version {approved.number}",
                remediation="Ask them to sign in to Seawall, read the plan and acknowledge their role.",
                hipaa=HIPAA_TRAINING, measured="not acknowledged", target=f"acknowledged version {approved.number}"))
    return findings
