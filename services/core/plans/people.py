"""The people in a plan: who holds which role, and who has acknowledged the version in force."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor, diff, record
from services.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from services.core.identity.models import Membership, User
from services.core.inventory.models import Contact
from services.core.plans.models import PlanAcknowledgement, PlanVersion, RoleAssignment
from services.core.plans.service import current_version, jsonable
from services.core.practices.models import Practice


class NothingToAcknowledge(Conflict):
    code, title = "nothing-to-acknowledge", "Nothing to acknowledge"


async def list_assignments(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> list[RoleAssignment]:
    return list(await session.scalars(select(RoleAssignment).where(
        RoleAssignment.msp_id == msp_id, RoleAssignment.practice_id == practice_id).order_by(RoleAssignment.role_name)))


async def acknowledgements(session: AsyncSession, version: PlanVersion) -> dict[uuid.UUID, PlanAcknowledgement]:
    rows = await session.scalars(select(PlanAcknowledgement).where(
        PlanAcknowledgement.msp_id == version.msp_id, PlanAcknowledgement.plan_version_id == version.id))
    return {a.user_id: a for a in rows}


async def assignments_out(session: AsyncSession, practice: Practice, only: uuid.UUID | None = None) -> list[dict[str, Any]]:
    rows = [a for a in await list_assignments(session, practice.msp_id, practice.id) if only is None or a.id == only]
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_({a.user_id for a in rows})))} if rows else {}
    version = await current_version(session, practice.msp_id, practice.id)
    acks = await acknowledgements(session, version) if version else {}
    return [{"id": a.id, "user_id": a.user_id, "user_name": users[a.user_id].name if a.user_id in users else "",
             "user_email": users[a.user_id].email if a.user_id in users else "", "contact_id": a.contact_id,
             "role_name": a.role_name, "duties": a.duties, "trained_at": a.trained_at,
             "acknowledged_at": acks[a.user_id].acknowledged_at if a.user_id in acks else None} for a in rows]


async def get_assignment(session: AsyncSession, practice: Practice, assignment_id: uuid.UUID) -> RoleAssignment:
    a = await session.scalar(select(RoleAssignment).where(
        RoleAssignment.msp_id == practice.msp_id, RoleAssignment.practice_id == practice.id, RoleAssignment.id == assignment_id))
    if a is None:
        raise NotFound("No such role assignment in this practice.")
    return a


async def _check_refs(session: AsyncSession, practice: Practice, fields: dict[str, Any]) -> None:
    errors = []
    if fields.get("user_id") is not None:
        member = await session.scalar(select(Membership.id).where(
            Membership.msp_id == practice.msp_id, Membership.practice_id == practice.id, Membership.user_id == fields["user_id"]))
        if member is None:
            errors.append(FieldError("user_id", "is not a user of this practice; invite them to the practice first"))
    if fields.get("contact_id") is not None:
        contact = await session.scalar(select(Contact.id).where(
            Contact.msp_id == practice.msp_id, Contact.practice_id == practice.id, Contact.id == fields["contact_id"]))
        if contact is None:
            errors.append(FieldError("contact_id", "is not a contact of this practice"))
    if errors:
        raise ValidationFailed("The role assignment names someone outside this practice.", errors=errors)


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("This person already holds that role.", errors=[FieldError("role_name", "already held by this person")]) from exc


async def create_assignment(session: AsyncSession, practice: Practice, actor: Actor, fields: dict[str, Any]) -> RoleAssignment:
    await _check_refs(session, practice, fields)
    a = RoleAssignment(msp_id=practice.msp_id, practice_id=practice.id, **fields)
    session.add(a)
    await _flush_unique(session)
    await record(session, msp_id=practice.msp_id, actor=actor, action="role_assignment.created", object_type="role_assignment",
                 object_id=a.id, practice_id=practice.id, changes=jsonable(fields))
    return a


async def update_assignment(session: AsyncSession, practice: Practice, a: RoleAssignment, actor: Actor,
                            changes: dict[str, Any]) -> RoleAssignment:
    await _check_refs(session, practice, changes)
    before = {k: getattr(a, k) for k in changes}
    for k, v in changes.items():
        setattr(a, k, v)
    await _flush_unique(session)
    await record(session, msp_id=practice.msp_id, actor=actor, action="role_assignment.updated", object_type="role_assignment",
                 object_id=a.id, practice_id=practice.id, changes=jsonable(diff(before, changes)))
    return a


async def delete_assignment(session: AsyncSession, practice: Practice, a: RoleAssignment, actor: Actor) -> None:
    await session.delete(a)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="role_assignment.deleted", object_type="role_assignment",
                 object_id=a.id, practice_id=practice.id, changes={"user_id": a.user_id, "role_name": a.role_name})


async def acknowledge(session: AsyncSession, practice: Practice, actor: Actor) -> PlanAcknowledgement:
    """The caller acknowledges their role(s) in the approved version; doing it twice changes nothing."""
    version = await current_version(session, practice.msp_id, practice.id)
    if version is None:
        raise NothingToAcknowledge("This practice has no approved plan yet.")
    roles = [a for a in await list_assignments(session, practice.msp_id, practice.id) if a.user_id == actor.id]
    if not roles:
        raise NothingToAcknowledge("You have no role in this plan; ask the practice owner or the MSP to assign you one.")
    assert actor.id is not None  # a role matched it, and a role's user_id is never NULL
    existing = (await acknowledgements(session, version)).get(actor.id)
    if existing is not None:
        return existing
    ack = PlanAcknowledgement(msp_id=practice.msp_id, practice_id=practice.id, plan_version_id=version.id, user_id=actor.id,
                              user_label=actor.label)
    session.add(ack)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="plan_version.acknowledged", object_type="plan_version",
                 object_id=version.id, practice_id=practice.id,
                 changes={"number": version.number, "roles": [a.role_name for a in roles]})
    return ack


async def list_acknowledgements(session: AsyncSession, version: PlanVersion) -> list[PlanAcknowledgement]:
    return sorted((await acknowledgements(session, version)).values(), key=lambda a: a.acknowledged_at)
