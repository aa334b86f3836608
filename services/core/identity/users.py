"""The people of an MSP and its practices: memberships, roles and technician assignments.

Rules that no permission table can express live here: a person cannot raise their own role, only
an owner makes or unmakes an owner, and an MSP always keeps at least one owner. A change of role
ends the person's sessions in the MSP (the caller's own is renewed by the router instead), so no
session id outlives the privilege it was issued with (docs/decisions/0004-session-renewal.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import secret_index
from services.core.audit.service import Actor, diff, record
from services.core.base import utcnow
from services.core.db import Scope, current_scope, set_scope
from services.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from services.core.identity import sessions
from services.core.identity.models import ApiToken, Membership, Role, TechnicianAssignment, User, UserSession
from services.core.identity.principal import Principal
from services.core.practices.models import Practice

# Higher = more rights; compared only within one kind (MSP roles, practice roles).
RANK = {Role.msp_technician: 1, Role.msp_admin: 2, Role.msp_owner: 3, Role.practice_staff: 1, Role.practice_owner: 2}


@dataclass
class MembershipView:
    membership: Membership
    practice_name: str | None
    assigned_practice_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass
class UserView:
    user: User
    memberships: list[MembershipView]


async def validate_practice_ids(session: AsyncSession, msp_id: uuid.UUID, practice_ids: list[uuid.UUID],
                                field_name: str = "practice_ids") -> list[uuid.UUID]:
    """The given practices, de-duplicated; 422 naming every id that is not a practice of this MSP."""
    wanted = list(dict.fromkeys(practice_ids))
    if not wanted:
        return []
    found = set(await session.scalars(select(Practice.id).where(Practice.msp_id == msp_id, Practice.id.in_(wanted))))
    errors = [FieldError(f"{field_name}.{i}", f"no practice {pid} in this MSP", {"value": str(pid)})
              for i, pid in enumerate(practice_ids) if pid not in found]
    if errors:
        missing = ", ".join(e.extra["value"] for e in errors if e.extra)
        raise ValidationFailed(f"These are not practices of this MSP: {missing}.", errors=errors)
    return wanted


async def _practice_names(session: AsyncSession, msp_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return dict((await session.execute(select(Practice.id, Practice.name).where(Practice.msp_id == msp_id))).tuples().all())


async def _assignments(session: AsyncSession, msp_id: uuid.UUID, membership_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    if not membership_ids:
        return out
    rows = await session.execute(select(TechnicianAssignment.membership_id, TechnicianAssignment.practice_id).where(
        TechnicianAssignment.msp_id == msp_id, TechnicianAssignment.membership_id.in_(membership_ids)))
    for membership_id, practice_id in rows.tuples():
        out.setdefault(membership_id, []).append(practice_id)
    return out


async def _views(session: AsyncSession, msp_id: uuid.UUID, memberships: list[Membership]) -> list[UserView]:
    names = await _practice_names(session, msp_id)
    assigned = await _assignments(session, msp_id, [m.id for m in memberships if m.role == Role.msp_technician.value])
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_({m.user_id for m in memberships})))}
    by_user: dict[uuid.UUID, UserView] = {}
    for m in memberships:
        view = by_user.setdefault(m.user_id, UserView(users[m.user_id], []))
        view.memberships.append(MembershipView(m, names.get(m.practice_id) if m.practice_id else None,
                                               sorted(assigned.get(m.id, []), key=str)))
    return sorted(by_user.values(), key=lambda v: v.user.email.lower())


async def list_msp_users(session: AsyncSession, msp_id: uuid.UUID) -> list[UserView]:
    """Everyone with a role in the MSP or any of its practices, with all their memberships there."""
    memberships = list(await session.scalars(select(Membership).where(Membership.msp_id == msp_id).order_by(Membership.created_at)))
    return await _views(session, msp_id, memberships)


async def list_practice_users(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> list[UserView]:
    """The practice's own people (practice owner and staff)."""
    memberships = list(await session.scalars(select(Membership).where(
        Membership.msp_id == msp_id, Membership.practice_id == practice_id).order_by(Membership.created_at)))
    return await _views(session, msp_id, memberships)


async def get_membership(session: AsyncSession, msp_id: uuid.UUID, membership_id: uuid.UUID) -> Membership:
    m = await session.scalar(select(Membership).where(Membership.msp_id == msp_id, Membership.id == membership_id))
    if m is None:
        raise NotFound("No such membership.")
    return m


async def membership_view(session: AsyncSession, m: Membership) -> MembershipView:
    name = await session.scalar(select(Practice.name).where(Practice.msp_id == m.msp_id, Practice.id == m.practice_id)) \
        if m.practice_id else None
    assigned = (await _assignments(session, m.msp_id, [m.id])).get(m.id, [])
    return MembershipView(m, name, sorted(assigned, key=str))


async def _ensure_another_owner(session: AsyncSession, m: Membership) -> None:
    # Lock the owners' rows so two simultaneous demotions cannot each leave the other as "the last".
    owners = list(await session.scalars(select(Membership.id).where(
        Membership.msp_id == m.msp_id, Membership.practice_id.is_(None), Membership.role == Role.msp_owner.value).with_for_update()))
    if [o for o in owners if o != m.id] == []:
        raise Conflict("An MSP must keep at least one owner: make someone else an owner first.")


async def update_membership(session: AsyncSession, m: Membership, principal: Principal, actor: Actor,
                            changes: dict[str, Any]) -> Membership:
    old_role = Role(m.role)
    new_role = Role(changes.get("role", m.role))
    if new_role.is_msp_role != old_role.is_msp_role:
        kind = "an MSP role" if old_role.is_msp_role else "a practice role"
        raise ValidationFailed(f"This membership holds {kind}; invite the person again for another kind of role.",
                               errors=[FieldError("role", f"must be {kind}")])
    if "all_practices" in changes and new_role is not Role.msp_technician:
        raise ValidationFailed("Only technicians can be limited to chosen practices.",
                               errors=[FieldError("all_practices", "only for the msp_technician role")])
    if Role.msp_owner in (old_role, new_role) and old_role is not new_role and principal.msp_role is not Role.msp_owner:
        raise Forbidden("Only an MSP owner may make someone an owner or change an owner's role.")
    if m.user_id == principal.user_id and (RANK[new_role] > RANK[old_role] or
                                           (changes.get("all_practices") is True and not m.all_practices)):
        raise Forbidden("You cannot raise your own role.")
    if old_role is Role.msp_owner and new_role is not Role.msp_owner:
        await _ensure_another_owner(session, m)

    before = {"role": m.role, "all_practices": m.all_practices}
    m.role = new_role.value
    if new_role is not Role.msp_technician:
        m.all_practices = True
    elif "all_practices" in changes:
        m.all_practices = bool(changes["all_practices"])
    after = {"role": m.role, "all_practices": m.all_practices}
    await session.flush()
    changed = diff(before, after)
    if "role" in changed:
        # Only the role: which practices a technician sees is read on every request (like assignments).
        await _end_sessions_after_role_change(session, m, principal)
    if changed:
        # Recorded last: the audit chain's lock comes after every row lock (docs/decisions/0005-lock-order.md).
        await record(session, msp_id=m.msp_id, actor=actor, action="membership.updated", object_type="membership", object_id=m.id,
                     practice_id=m.practice_id, changes={**changed, "user_id": m.user_id})
    return m


async def _end_sessions_after_role_change(session: AsyncSession, m: Membership, principal: Principal) -> None:
    """The person signs in again under their new role; the caller's own session is spared here
    because the router renews it in the same response."""
    own = principal.session_id if m.user_id == principal.user_id else None
    await sessions.end_sessions_in_msp(session, m.user_id, m.msp_id, except_id=own)


async def delete_membership(session: AsyncSession, m: Membership, principal: Principal, actor: Actor) -> None:
    role = Role(m.role)
    if role is Role.msp_owner:
        if principal.msp_role is not Role.msp_owner:
            raise Forbidden("Only an MSP owner may remove an owner.")
        await _ensure_another_owner(session, m)
    msp_id, user_id, membership_id, practice_id, role_name = m.msp_id, m.user_id, m.id, m.practice_id, m.role
    await _end_sessions_after_role_change(session, m, principal)
    await session.delete(m)
    await session.flush()
    revoked = await _cut_off_if_gone(session, msp_id, user_id)
    # Recorded after every row is changed: the audit chain's lock comes last
    # (docs/decisions/0005-lock-order.md).
    await record(session, msp_id=msp_id, actor=actor, action="membership.deleted", object_type="membership",
                 object_id=membership_id, practice_id=practice_id, changes={"user_id": user_id, "role": role_name})
    if revoked:
        await record(session, msp_id=msp_id, actor=actor, action="api_token.revoked", object_type="user", object_id=user_id,
                     changes={"reason": "no role left in the MSP", "token_ids": revoked})


async def cut_off_members_of_removed_practice(session: AsyncSession, msp_id: uuid.UUID,
                                              user_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The members of a removed practice lose that role with it (the membership rows cascade): as
    for a removed membership, their sessions in the MSP end, and whoever has no role left in the
    MSP loses their tokens there (docs/decisions/0004-session-renewal.md). Returns the revoked
    tokens by user, for the caller to record after its own event."""
    revoked: dict[uuid.UUID, list[uuid.UUID]] = {}
    for user_id in sorted(user_ids):
        await sessions.end_sessions_in_msp(session, user_id, msp_id)
        if tokens := await _cut_off_if_gone(session, msp_id, user_id):
            revoked[user_id] = tokens
    return revoked


async def _cut_off_if_gone(session: AsyncSession, msp_id: uuid.UUID, user_id: uuid.UUID) -> list[uuid.UUID]:
    """A person with no role left in the MSP keeps no way in: their sessions there end and their
    tokens for it are revoked, so that a later re-invitation does not bring old tokens back.
    Returns the revoked tokens' ids, for the caller to record."""
    # The caller may see only one practice (a practice owner removing staff); whether the person
    # keeps a role elsewhere in the MSP is asked in the MSP's full scope, then the scope is restored.
    scope = current_scope(session)
    await set_scope(session, Scope(msp_id, None, scope.user_id))
    try:
        remaining = await session.scalar(select(Membership.id).where(Membership.msp_id == msp_id, Membership.user_id == user_id).limit(1))
    finally:
        await set_scope(session, scope)
    if remaining is not None:
        return []
    await session.execute(update(UserSession).where(UserSession.user_id == user_id, UserSession.active_msp_id == msp_id,
                                                    UserSession.ended_at.is_(None)).values(ended_at=utcnow()))
    tokens = list(await session.scalars(select(ApiToken).where(ApiToken.msp_id == msp_id, ApiToken.user_id == user_id,
                                                               ApiToken.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = utcnow()
        await secret_index.forget(session, "api_token", token.id)
    return [t.id for t in tokens]


async def set_assignments(session: AsyncSession, m: Membership, practice_ids: list[uuid.UUID], actor: Actor) -> Membership:
    """Limit a technician to exactly these practices (effective on their next request)."""
    if m.role != Role.msp_technician.value:
        raise Conflict("Only technicians are assigned to practices; owners and admins see every practice.")
    wanted = await validate_practice_ids(session, m.msp_id, practice_ids)
    before = sorted((await _assignments(session, m.msp_id, [m.id])).get(m.id, []), key=str)
    await session.execute(delete(TechnicianAssignment).where(TechnicianAssignment.msp_id == m.msp_id,
                                                             TechnicianAssignment.membership_id == m.id))
    for pid in wanted:
        session.add(TechnicianAssignment(msp_id=m.msp_id, membership_id=m.id, practice_id=pid))
    was_all = m.all_practices
    m.all_practices = False
    await session.flush()
    await record(session, msp_id=m.msp_id, actor=actor, action="membership.practices_set", object_type="membership",
                 object_id=m.id, changes={"user_id": m.user_id, "all_practices": [was_all, False],
                                          "practice_ids": [before, sorted(wanted, key=str)]})
    return m
