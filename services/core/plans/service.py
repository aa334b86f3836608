"""A practice's plan and its versions: draft → in review → approved → superseded.

Only a draft is edited. Approving a version supersedes the one before it in the same transaction;
the database refuses any other change to an approved version (migration 0003), so a bug here
fails loudly instead of rewriting evidence.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.errors import Conflict, FieldError, NotFound
from services.core.identity.principal import Principal
from services.core.plans import sections as sec
from services.core.plans.diff import diff_versions
from services.core.plans.models import OPEN_STATUSES, Plan, PlanExport, PlanVersion, VersionStatus
from services.core.plans.template_service import sections_of
from services.core.practices.models import Practice

S = VersionStatus


class PlanNotEditable(Conflict):
    code, title = "plan-not-editable", "This version cannot be edited"


class PlanNotApprovable(Conflict):
    code, title = "plan-not-approvable", "This version cannot be approved"


def jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    """Dates as ISO strings: the audit trail stores JSON."""
    def plain(v: Any) -> Any:
        if isinstance(v, date) and not isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v
    return {k: plain(v) for k, v in changes.items()}


def add_months(d: date, months: int) -> date:
    """Same day `months` later, or the month's last day when it is shorter (31 Jan + 1 → 28/29 Feb)."""
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def approves_on_behalf(principal: Principal, practice_id: uuid.UUID) -> bool:
    """An approval by anyone but the practice's own owner is recorded as made on the owner's behalf."""
    role = principal.role_in(practice_id)
    return role is None or role.is_msp_role


async def find_plan(session: AsyncSession, practice: Practice, lock: bool = False) -> Plan | None:
    q = select(Plan).where(Plan.msp_id == practice.msp_id, Plan.practice_id == practice.id)
    return await session.scalar(q.with_for_update() if lock else q)


async def get_plan(session: AsyncSession, practice: Practice, lock: bool = False) -> Plan:
    plan = await find_plan(session, practice, lock)
    if plan is None:
        raise NotFound("This practice has no plan yet.")
    return plan


async def list_versions(session: AsyncSession, practice: Practice) -> list[PlanVersion]:
    return list(await session.scalars(
        select(PlanVersion).where(PlanVersion.msp_id == practice.msp_id, PlanVersion.practice_id == practice.id)
        .order_by(PlanVersion.number.desc())))


async def get_version(session: AsyncSession, practice: Practice, version_id: uuid.UUID) -> PlanVersion:
    v = await session.scalar(select(PlanVersion).where(
        PlanVersion.msp_id == practice.msp_id, PlanVersion.practice_id == practice.id, PlanVersion.id == version_id))
    if v is None:
        raise NotFound("No such version of this practice's plan.")
    return v


async def current_version(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> PlanVersion | None:
    """The approved version in force, if any."""
    return await session.scalar(select(PlanVersion).where(
        PlanVersion.msp_id == msp_id, PlanVersion.practice_id == practice_id, PlanVersion.status == S.approved.value))


async def last_export_since_approval(session: AsyncSession, version: PlanVersion) -> datetime | None:
    if version.approved_at is None:
        return None
    return await session.scalar(select(func.max(PlanExport.exported_at)).where(
        PlanExport.msp_id == version.msp_id, PlanExport.plan_version_id == version.id,
        PlanExport.exported_at >= version.approved_at))


async def plan_out(session: AsyncSession, plan: Plan) -> dict[str, Any]:
    versions = list(await session.scalars(select(PlanVersion).where(
        PlanVersion.msp_id == plan.msp_id, PlanVersion.plan_id == plan.id, PlanVersion.status.in_(
            (S.approved.value, *OPEN_STATUSES)))))
    current = next((v for v in versions if v.status == S.approved.value), None)
    working = next((v for v in versions if v.status in OPEN_STATUSES), None)
    return {"id": plan.id, "practice_id": plan.practice_id, "template_name": plan.template_name, "created_at": plan.created_at,
            "current_version": current, "working_version": working,
            "last_exported_at": await last_export_since_approval(session, current) if current else None}


def version_out(v: PlanVersion) -> dict[str, Any]:
    return {**{c: getattr(v, c) for c in (
        "id", "number", "status", "created_at", "created_by_label", "updated_at", "submitted_at", "submitted_by_label",
        "approved_at", "approved_by_label", "approved_on_behalf", "effective_date", "review_interval_months",
        "next_review_date")}, "sections": sec.shown(v.sections)}


async def _next_number(session: AsyncSession, plan: Plan) -> int:
    top = await session.scalar(select(func.max(PlanVersion.number)).where(PlanVersion.msp_id == plan.msp_id,
                                                                         PlanVersion.plan_id == plan.id))
    return (top or 0) + 1


def _new_version(plan: Plan, number: int, sections: list[dict[str, Any]], actor: Actor, interval: int = 12) -> PlanVersion:
    return PlanVersion(msp_id=plan.msp_id, practice_id=plan.practice_id, plan_id=plan.id, number=number,
                       status=S.draft.value, sections=sections, created_by=actor.id, created_by_label=actor.label,
                       review_interval_months=interval)


async def create_plan(session: AsyncSession, practice: Practice, actor: Actor, template_id: uuid.UUID | None) -> Plan:
    if await find_plan(session, practice) is not None:
        raise Conflict("This practice already has a plan; edit its draft or start a new draft.")
    try:
        name, content = await sections_of(session, practice.msp_id, template_id)
    except NotFound as exc:
        raise NotFound("No such plan template.", errors=[FieldError("template_id", "no such template")]) from exc
    plan = Plan(msp_id=practice.msp_id, practice_id=practice.id, template_name=name)
    session.add(plan)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # created by a concurrent request a moment ago
        raise Conflict("This practice already has a plan; edit its draft or start a new draft.") from exc
    version = _new_version(plan, 1, content, actor)
    session.add(version)
    await session.flush()
    await record(session, msp_id=plan.msp_id, actor=actor, action="plan.created", object_type="plan", object_id=plan.id,
                 practice_id=practice.id, changes={"template": name, "draft_version_id": version.id})
    return plan


async def create_draft(session: AsyncSession, practice: Practice, actor: Actor) -> PlanVersion:
    """A new draft copied from the approved version (there is at most one draft or version in review)."""
    plan = await get_plan(session, practice, lock=True)
    versions = await list_versions(session, practice)
    open_version = next((v for v in versions if v.status in OPEN_STATUSES), None)
    if open_version is not None:
        raise Conflict(f"Version {open_version.number} is already {open_version.status.replace('_', ' ')}; edit that one.")
    base = next((v for v in versions if v.status == S.approved.value), versions[0] if versions else None)
    content = [dict(s) for s in base.sections] if base else (await sections_of(session, practice.msp_id, None))[1]
    draft = _new_version(plan, await _next_number(session, plan), content, actor,
                         base.review_interval_months if base else 12)
    session.add(draft)
    await session.flush()
    await record(session, msp_id=plan.msp_id, actor=actor, action="plan_version.created", object_type="plan_version",
                 object_id=draft.id, practice_id=practice.id,
                 changes={"number": draft.number, "copied_from": base.number if base else None})
    return draft


def _require_draft(v: PlanVersion) -> None:
    if v.status != S.draft.value:
        hint = "Withdraw it or return it to draft first." if v.status == S.in_review.value else "Start a new draft instead."
        raise PlanNotEditable(f"Version {v.number} is {v.status.replace('_', ' ')}; only a draft can be edited. {hint}")


async def update_version(session: AsyncSession, v: PlanVersion, actor: Actor, changes: dict[str, Any]) -> PlanVersion:
    _require_draft(v)
    audit: dict[str, Any] = {}
    if changes.get("sections") is not None:
        new = sec.normalise(changes["sections"])
        audit["sections_changed"] = [s["key"] for s in new if s not in v.sections] + [
            s["key"] for s in v.sections if s["key"] not in {n["key"] for n in new}]
        v.sections = new
    if changes.get("review_interval_months") is not None:
        audit["review_interval_months"] = [v.review_interval_months, changes["review_interval_months"]]
        v.review_interval_months = changes["review_interval_months"]
    v.updated_at = utcnow()
    await session.flush()
    await record(session, msp_id=v.msp_id, actor=actor, action="plan_version.updated", object_type="plan_version",
                 object_id=v.id, practice_id=v.practice_id, changes=audit)
    return v


async def update_section(session: AsyncSession, v: PlanVersion, key: str, actor: Actor, changes: dict[str, Any]) -> PlanVersion:
    _require_draft(v)
    if not any(s["key"] == key for s in v.sections):
        raise NotFound(f"This version has no section '{key}'.")
    changes = {k: val for k, val in changes.items() if val is not None and k in ("title", "body")}
    v.sections = [{**s, **changes} if s["key"] == key else s for s in v.sections]
    v.updated_at = utcnow()
    await session.flush()
    await record(session, msp_id=v.msp_id, actor=actor, action="plan_version.section_updated", object_type="plan_version",
                 object_id=v.id, practice_id=v.practice_id, changes={"section": key, "fields": sorted(changes)})
    return v


async def _transition(session: AsyncSession, v: PlanVersion, actor: Actor, action: str, to: S,
                      extra: dict[str, Any] | None = None) -> PlanVersion:
    before = v.status
    v.status = to.value
    v.updated_at = utcnow()
    await session.flush()
    await record(session, msp_id=v.msp_id, actor=actor, action=action, object_type="plan_version", object_id=v.id,
                 practice_id=v.practice_id, changes={"status": [before, to.value], "number": v.number, **(extra or {})})
    return v


async def submit(session: AsyncSession, v: PlanVersion, actor: Actor) -> PlanVersion:
    await session.refresh(v, with_for_update=True)  # judged as it is now: an approval may have just committed
    if v.status != S.draft.value:
        raise PlanNotEditable(f"Only a draft can be submitted for review; version {v.number} is {v.status.replace('_', ' ')}.")
    v.submitted_at, v.submitted_by_label = utcnow(), actor.label
    return await _transition(session, v, actor, "plan_version.submitted", S.in_review)


async def back_to_draft(session: AsyncSession, v: PlanVersion, actor: Actor, action: str, comment: str = "") -> PlanVersion:
    await session.refresh(v, with_for_update=True)  # judged as it is now: an approval may have just committed
    if v.status != S.in_review.value:
        raise PlanNotEditable(f"Version {v.number} is not in review.")
    v.submitted_at, v.submitted_by_label = None, ""
    return await _transition(session, v, actor, action, S.draft, {"comment": comment} if comment else None)


async def approve(session: AsyncSession, practice: Practice, v: PlanVersion, actor: Actor, on_behalf: bool,
                  effective_date: date | None, review_interval_months: int | None,
                  approved_at: datetime | None = None) -> PlanVersion:
    """approved_at: only for recording an approval given earlier (demo data, imports); the API never passes it."""
    await get_plan(session, practice, lock=True)  # serialises approvals of one plan
    # The version's row before the audit chain's lock, which recording the superseded version takes
    # (docs/decisions/0005-lock-order.md): a withdrawal holds the row while it waits for that lock.
    await session.refresh(v, with_for_update=True)
    if v.status != S.in_review.value:
        raise PlanNotApprovable(f"Version {v.number} is {v.status.replace('_', ' ')}; only a version in review can be approved.")
    previous = await current_version(session, practice.msp_id, practice.id)
    if previous is not None:
        # Core UPDATE of the status alone: the one change the immutability trigger lets through.
        await session.execute(update(PlanVersion).where(PlanVersion.msp_id == previous.msp_id, PlanVersion.id == previous.id)
                              .values(status=S.superseded.value).execution_options(synchronize_session=False))
        await session.refresh(previous)
        await record(session, msp_id=v.msp_id, actor=actor, action="plan_version.superseded", object_type="plan_version",
                     object_id=previous.id, practice_id=v.practice_id,
                     changes={"number": previous.number, "superseded_by": v.number})
    now = approved_at or utcnow()
    interval = review_interval_months or v.review_interval_months
    effective = effective_date or now.date()
    v.review_interval_months = interval
    v.effective_date, v.next_review_date = effective, add_months(effective, interval)
    v.approved_at, v.approved_by, v.approved_by_label, v.approved_on_behalf = now, actor.id, actor.label, on_behalf
    return await _transition(session, v, actor, "plan_version.approved", S.approved, jsonable({
        "on_behalf": on_behalf, "effective_date": effective, "next_review_date": v.next_review_date}))


async def diff(session: AsyncSession, practice: Practice, a_id: uuid.UUID, b_id: uuid.UUID) -> dict[str, Any]:
    a, b = await get_version(session, practice, a_id), await get_version(session, practice, b_id)
    return {"from_version": {"id": a.id, "number": a.number, "status": a.status},
            "to_version": {"id": b.id, "number": b.number, "status": b.status},
            "sections": diff_versions(a.sections, b.sections, f"v{a.number}", f"v{b.number}")}
