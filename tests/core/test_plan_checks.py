"""Each plan finding is produced by a practice built to trigger it, and disappears when it is fixed."""

from __future__ import annotations

from datetime import date, timedelta

from services.core.base import utcnow
from services.core.db import Scope
from services.core.plans.checks import plan_findings
from services.core.practices.models import Practice
from services.core.plans.exports import export
from services.core.plans.models import ExportFormat
from services.core.plans.service import get_version
from services.core.plans.templates import blanks_in, default_sections
from tests.factories_plans import TECH, acknowledge, assign_role, create_plan, filled_sections


async def findings(db, practice, now=None) -> dict[str, list]:
    async with db.transaction(Scope(practice.msp_id)) as s:
        found = await plan_findings(s, practice.msp_id, practice.id, now or utcnow())
    out: dict[str, list] = {}
    for f in found:
        out.setdefault(f.rule_id, []).append(f)
    return out


async def export_version(db, practice, version_id) -> None:
    async with db.transaction(Scope(practice.msp_id)) as s:
        p = await s.get(Practice, (practice.msp_id, practice.id))
        await export(s, p, await get_version(s, p, version_id), TECH, ExportFormat.html)


async def test_no_approved_plan_until_one_is_approved(db, tenant):
    assert [f.subject_type for f in (await findings(db, tenant.practice))["plan.not_approved"]] == ["practice"]
    await create_plan(db, tenant.practice, state="in_review", sections=filled_sections())
    f = (await findings(db, tenant.practice))["plan.not_approved"][0]
    assert (f.subject_type, f.measured) == ("plan", "version 1 is in review")
    await create_plan(db, tenant.practice, state="approved", sections=filled_sections(), exported=True)
    assert await findings(db, tenant.practice) == {}


async def test_one_finding_per_required_section_left_empty_or_with_blanks(db, tenant):
    sections = filled_sections(data_backup="", ransomware="Call [[who]] first.")
    sections = [{**s, "body": ""} if s["key"] == "testing_revision" else s for s in sections]
    sections = [{**s, "required": False} if s["key"] == "testing_revision" else s for s in sections]  # optional: no finding
    await create_plan(db, tenant.practice, state="approved", sections=sections, exported=True)
    found = (await findings(db, tenant.practice))["plan.section_empty"]
    assert {f.subject_id: f.measured for f in found} == {"data_backup": "empty in the approved version",
                                                          "ransomware": "1 blank(s) in the approved version"}
    assert next(f for f in found if f.subject_id == "data_backup").hipaa.startswith("164.308(a)(7)(ii)(A)")
    await create_plan(db, tenant.practice, state="approved", sections=filled_sections(), exported=True)
    assert "plan.section_empty" not in await findings(db, tenant.practice)


async def test_the_starting_template_counts_as_unwritten(db, tenant):
    await create_plan(db, tenant.practice, state="draft")
    found = (await findings(db, tenant.practice))["plan.section_empty"]
    with_blanks = {s["key"] for s in default_sections() if blanks_in(s["body"])}
    assert len(with_blanks) >= 10 and {f.subject_id for f in found} == with_blanks
    assert all("draft version 1" in f.measured for f in found)


async def test_approved_but_not_exported_since_approval(db, tenant):
    draft = await create_plan(db, tenant.practice, state="draft", sections=filled_sections())
    await export_version(db, tenant.practice, draft.id)  # exported while a draft: does not count once approved
    v = await create_plan(db, tenant.practice, state="approved", sections=filled_sections())
    assert v.id == draft.id
    assert [f.subject_id for f in (await findings(db, tenant.practice))["plan.not_exported"]] == [str(v.id)]
    await export_version(db, tenant.practice, v.id)
    assert "plan.not_exported" not in await findings(db, tenant.practice)


async def test_review_overdue_once_the_next_review_date_passes(db, tenant):
    long_ago = date.today() - timedelta(days=400)
    await create_plan(db, tenant.practice, state="approved", sections=filled_sections(), effective_date=long_ago, exported=True)
    f = (await findings(db, tenant.practice))["plan.review_overdue"][0]
    assert f.measured.endswith("day(s) ago") and f.target == "reviewed every 12 months"
    # The day before it fell due, nothing was overdue.
    assert "plan.review_overdue" not in await findings(db, tenant.practice, now=utcnow() - timedelta(days=40))
    await create_plan(db, tenant.practice, state="approved", sections=filled_sections(), exported=True)
    assert "plan.review_overdue" not in await findings(db, tenant.practice)


async def test_acknowledgement_missing_per_role_holder_and_per_version(db, tenant):
    await create_plan(db, tenant.practice, state="approved", sections=filled_sections(), exported=True)
    staff = await assign_role(db, tenant.practice, tenant["practice_staff"], "Front-desk downtime lead")
    owner = await assign_role(db, tenant.practice, tenant["practice_owner"], "Incident lead")
    found = (await findings(db, tenant.practice))["plan.acknowledgement_missing"]
    assert {f.subject_id for f in found} == {str(staff.id), str(owner.id)}
    await acknowledge(db, tenant.practice, tenant["practice_staff"])
    await acknowledge(db, tenant.practice, tenant["practice_owner"])
    assert "plan.acknowledgement_missing" not in await findings(db, tenant.practice)
    await create_plan(db, tenant.practice, state="approved", sections=filled_sections(), exported=True)
    assert len((await findings(db, tenant.practice))["plan.acknowledgement_missing"]) == 2
