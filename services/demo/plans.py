"""Demo plans in every state a real portfolio shows.

Bayside is the model practice (version 2 approved by its owner, exported, every role acknowledged);
Cedar's plan waits for Dr. Patel's approval; Lakeshore's was approved 14 months ago and its review
is overdue; Northside's was approved by the MSP on the owner's behalf and never exported; Summit
has an approved plan and a new draft in progress; Maple and Greenfield have drafts that still
have blanks; Riverside, Harbor Dermatology, Oakridge and Willow Creek have no plan at all.
Idempotent: a practice that already has a plan is left alone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor
from services.core.base import utcnow
from services.core.db import Database, Scope
from services.core.identity.models import User
from services.core.plans import people, service
from services.core.plans.exports import export
from services.core.plans.models import ExportFormat
from services.core.plans.templates import BLANK, default_sections
from services.core.practices.models import Practice
from services.demo.inventory import PROFILES
from services.demo.tenancy import demo_msp_id

# Per section, the practice's answers to the template's blanks, in order.
FILLS: dict[str, list[str]] = {
    "overview": ["{practice}", "a group text from the Incident lead", "the front-desk cabinet, top shelf (red binder)",
                 "the office manager's laptop"],
    "criticality_analysis": ["{ehr}, e-prescribing", "scheduling, billing, phones", "email archive, the website",
                             "without {ehr} we cannot see medication lists or allergies; appointments can run from the "
                             "printed schedule for a day", "{ehr}, the file server"],
    "data_backup": ["30", "Harborview IT", "quarterly"],
    "disaster_recovery": ["8 hours", "a cloud host prepared by Harborview IT"],
    "emergency_mode": ["the red downtime folder at the front desk", "{frontdesk}",
                       "printed prescription pads locked in {owner}'s office; urgent refills by phone to the pharmacy",
                       "24 hours"],
    "internet_contingency": ["the backup line switches over by itself within about a minute",
                             "the locked drawer of the front desk, charging", "{frontdesk}", "the red downtime folder",
                             "the front-desk mobile phone", "555-0190", "{manager}"],
    "ransomware": ["{manager}", "555-0177"],
    "power_outage": ["555-0166", "20", "15", "4", "the pharmacy fridge next door (agreement on file)"],
    "contacts_call_tree": ["10"],
    "testing_revision": ["quarterly", "monthly", "once a year, in September"],
}


def filled_sections(practice: str) -> list[dict[str, Any]]:
    profile = PROFILES.get(practice)
    owner, manager, frontdesk = profile.staff if profile else ("the practice owner", "the office manager", "the front desk")
    values = {"practice": practice, "ehr": profile.ehr if profile else "the EHR", "owner": owner, "manager": manager,
              "frontdesk": frontdesk}
    out = []
    for s in default_sections():
        answers = iter(a.format(**values) for a in FILLS.get(s["key"], []))
        out.append({**s, "body": BLANK.sub(lambda m: next(answers, m.group(0)), s["body"])})
    return out


async def _user(s: AsyncSession, email: str) -> User | None:
    return await s.scalar(select(User).where(User.email == email))


async def _actor(s: AsyncSession, email: str) -> Actor:
    user = await _user(s, email)
    return Actor("user", user.id if user else None, email)


async def _plan(s: AsyncSession, practice: Practice, *, approve: str | None = None, approved_days_ago: int = 20, exported: bool = True, draft_after: bool = False, state: str = "approved",
                filled: bool = True, versions: int = 1) -> None:
    tech = await _actor(s, "tech@demo.seawall.local")
    await service.create_plan(s, practice, tech, None)
    v = next(v for v in await service.list_versions(s, practice) if v.status == "draft")
    for n in range(versions):
        if n:
            v = await service.create_draft(s, practice, tech)
        if filled:
            await service.update_version(s, v, tech, {"sections": filled_sections(practice.name)})
        if state == "draft":
            return
        await service.submit(s, v, tech)
        if state == "in_review":
            return
        when = utcnow() - timedelta(days=approved_days_ago if n == versions - 1 else approved_days_ago + 200)
        # Without the owner's own account, the MSP admin approves on the owner's behalf.
        await service.approve(s, practice, v, await _actor(s, approve or "admin@demo.seawall.local"), approve is None,
                              when.date(), 12, approved_at=when)
    if exported:
        await export(s, practice, v, tech, ExportFormat.html)
    if draft_after:
        draft = await service.create_draft(s, practice, tech)
        sections = [{**sec, "body": sec["body"] + "\n\nImaging: the PACS server is restored after the EHR."}
                    if sec["key"] == "disaster_recovery" else sec for sec in draft.sections]
        await service.update_version(s, draft, tech, {"sections": sections})


async def _roles(s: AsyncSession, practice: Practice, roles: list[tuple[str, str, str]], acknowledged: bool) -> None:
    tech = await _actor(s, "tech@demo.seawall.local")
    for email, role, duties in roles:
        user = await _user(s, email)
        if user is None:
            continue
        await people.create_assignment(s, practice, tech, {"user_id": user.id, "role_name": role, "duties": duties,
                                                           "trained_at": (utcnow() - timedelta(days=30)).date()})
        if acknowledged:
            await people.acknowledge(s, practice, Actor("user", user.id, email))


async def seed(db: Database) -> None:
    msp_id = await demo_msp_id(db)
    if msp_id is None:
        return
    async with db.transaction(Scope(msp_id)) as s:
        practices = {p.name: p for p in await s.scalars(select(Practice).where(Practice.msp_id == msp_id))}

        async def fresh(name: str) -> Practice | None:
            p = practices.get(name)
            return p if p is not None and await service.find_plan(s, p) is None else None

        if p := await fresh("Bayside Family Clinic"):
            await _plan(s, p, approve="dr.lee@bayside.demo", versions=2)
            await _roles(s, p, [("dr.lee@bayside.demo", "Incident lead", "Declares the emergency and starts the call tree."),
                                ("frontdesk@bayside.demo", "Front-desk downtime lead",
                                 "Switches the front desk to paper and reads the patient notice.")], acknowledged=True)
        if p := await fresh("Cedar Dental Group"):
            await _plan(s, p, state="in_review")
            await _roles(s, p, [("dr.patel@cedar.demo", "Incident lead", "Declares the emergency and starts the call tree.")],
                         acknowledged=False)
        if p := await fresh("Lakeshore Eye Care"):
            await _plan(s, p, approved_days_ago=430)
        if p := await fresh("Northside Dental Studio"):
            await _plan(s, p, exported=False)
        if p := await fresh("Summit Orthopedics"):
            await _plan(s, p, draft_after=True)
        for name in ("Maple Pediatrics", "Greenfield Women's Health"):
            if p := await fresh(name):
                await _plan(s, p, state="draft", filled=False)
        for name in ("Pinecrest Hospital – East Satellite",):
            if p := await fresh(name):
                await _plan(s, p, approved_days_ago=90)
