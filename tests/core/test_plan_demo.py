"""The demo plans: idempotent, and practices in every state a real portfolio shows."""

from __future__ import annotations

from sqlalchemy import func, select

from services.core.base import utcnow
from services.core.db import Scope
from services.core.plans.checks import plan_findings
from services.core.plans.models import PlanExport, PlanVersion
from services.core.practices.models import Practice


async def test_demo_plans_are_idempotent_and_cover_every_state(db):
    from services.demo import SEEDERS, inventory, plans, tenancy

    assert SEEDERS.index(plans.seed) == SEEDERS.index(inventory.seed) + 1
    msp_id = await tenancy.seed(db)
    await inventory.seed(db)
    await plans.seed(db)

    async def snapshot():
        async with db.transaction(Scope(msp_id)) as s:
            sizes = [await s.scalar(select(func.count()).select_from(m).where(m.msp_id == msp_id)) for m in (PlanVersion, PlanExport)]
            practices = {p.name: p.id for p in await s.scalars(select(Practice).where(Practice.msp_id == msp_id))}
            found = {name: {f.rule_id for f in await plan_findings(s, msp_id, pid, utcnow())} for name, pid in practices.items()}
            states = {name: sorted(v.status for v in await s.scalars(select(PlanVersion).where(
                PlanVersion.msp_id == msp_id, PlanVersion.practice_id == pid))) for name, pid in practices.items()}
        return sizes, found, states

    sizes, found, states = await snapshot()
    await plans.seed(db)
    assert (await snapshot())[0] == sizes  # a second run adds nothing
    assert states["Bayside Family Clinic"] == ["approved", "superseded"] and found["Bayside Family Clinic"] == set()
    assert states["Cedar Dental Group"] == ["in_review"] and "plan.not_approved" in found["Cedar Dental Group"]
    assert found["Lakeshore Eye Care"] == {"plan.review_overdue"}
    assert found["Northside Dental Studio"] == {"plan.not_exported"}
    assert states["Summit Orthopedics"] == ["approved", "draft"] and found["Summit Orthopedics"] == set()
    assert {"plan.not_approved", "plan.section_empty"} <= found["Maple Pediatrics"]
    assert states["Riverside Physiotherapy"] == [] and found["Riverside Physiotherapy"] == {"plan.not_approved"}
