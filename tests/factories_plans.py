"""Plan factories: plans in any state, written through the plan service (so the rules hold)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.core.audit.service import Actor
from services.core.db import Database, Scope
from services.core.plans import people, service
from services.core.plans.exports import export
from services.core.plans.models import OPEN_STATUSES, ExportFormat, PlanVersion, RoleAssignment
from services.core.plans.templates import BLANK, default_sections
from services.core.practices.models import Practice
from tests.factories import Person

TECH = Actor("user", None, "factory@example.test")


def filled_sections(**bodies: str) -> list[dict[str, Any]]:
    """The built-in sections with every [[blank]] filled in (or the bodies given by key)."""
    return [{**s, "body": bodies.get(s["key"], BLANK.sub("the front desk", s["body"]))} for s in default_sections()]


async def create_plan(db: Database, practice: Practice, *, state: str = "draft", sections: list[dict[str, Any]] | None = None,
                      effective_date: date | None = None, interval: int = 12, exported: bool = False) -> PlanVersion:
    """A plan whose newest version is in `state` (draft, in_review, approved); returns that version."""
    async with db.transaction(Scope(practice.msp_id)) as s:
        p = await s.get(Practice, (practice.msp_id, practice.id))
        plan = await service.find_plan(s, p)
        if plan is None:
            await service.create_plan(s, p, TECH, None)
            v = next(v for v in await service.list_versions(s, p) if v.status == "draft")
        else:
            # Carry on with the open version when there is one (one draft or version in review at a time).
            open_v = next((v for v in await service.list_versions(s, p) if v.status in OPEN_STATUSES), None)
            v = open_v or await service.create_draft(s, p, TECH)
        if v.status == "in_review" and (sections is not None or state == "draft"):
            await service.back_to_draft(s, v, TECH, "plan_version.withdrawn")
        if sections is not None:
            await service.update_version(s, v, TECH, {"sections": sections})
        if state in ("in_review", "approved") and v.status == "draft":
            await service.submit(s, v, TECH)
        if state == "approved":
            await service.approve(s, p, v, Actor("user", None, "owner@example.test"), False, effective_date, interval)
            if exported:
                await export(s, p, v, TECH, ExportFormat.html)
        return v


async def assign_role(db: Database, practice: Practice, person: Person, role_name: str = "Incident lead",
                      **fields: Any) -> RoleAssignment:
    async with db.transaction(Scope(practice.msp_id)) as s:
        p = await s.get(Practice, (practice.msp_id, practice.id))
        return await people.create_assignment(s, p, TECH, {"user_id": person.user_id, "role_name": role_name, **fields})


async def acknowledge(db: Database, practice: Practice, person: Person) -> None:
    async with db.transaction(Scope(practice.msp_id)) as s:
        p = await s.get(Practice, (practice.msp_id, practice.id))
        await people.acknowledge(s, p, Actor("user", person.user_id, person.email))
