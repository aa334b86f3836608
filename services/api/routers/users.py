"""The people of the MSP and its practices: who they are, their memberships, technician assignments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.api.deps import CurrentPrincipal, DbSession, MspManager, PracticeUserManager, actor_of
from services.api.routers.auth import set_session_cookies
from services.core.errors import Forbidden
from services.core.identity import sessions, users
from services.core.identity.models import Membership, UserSession
from services.core.identity.policy import Permission

router = APIRouter(prefix="/api/v1", tags=["users"])


class MembershipOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    role: str
    practice_id: uuid.UUID | None
    practice_name: str | None
    all_practices: bool = Field(description="For a technician: sees every practice (else only assigned_practice_ids)")
    assigned_practice_ids: list[uuid.UUID]
    created_at: datetime


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    mfa_enabled: bool
    is_active: bool
    memberships: list[MembershipOut]


class MembershipPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["msp_owner", "msp_admin", "msp_technician", "practice_owner", "practice_staff"] | None = None
    all_practices: bool | None = None


class AssignmentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    practice_ids: list[uuid.UUID] = Field(max_length=1000, description="Exactly the practices the technician will see")


def _membership_out(v: users.MembershipView) -> MembershipOut:
    m = v.membership
    return MembershipOut(id=m.id, user_id=m.user_id, role=m.role, practice_id=m.practice_id, practice_name=v.practice_name,
                         all_practices=m.all_practices, assigned_practice_ids=v.assigned_practice_ids, created_at=m.created_at)


def _user_out(v: users.UserView) -> UserOut:
    u = v.user
    return UserOut(id=u.id, email=u.email, name=u.name, mfa_enabled=u.mfa_enabled_at is not None, is_active=u.is_active,
                   memberships=[_membership_out(m) for m in v.memberships])


@router.get("/users", operation_id="list_users", response_model=list[UserOut])
async def list_users(principal: MspManager, db: DbSession) -> list[UserOut]:
    """MSP staff and the practices' people, each with their memberships in this MSP."""
    return [_user_out(v) for v in await users.list_msp_users(db, principal.msp_id)]


@router.get("/practices/{practice_id}/users", operation_id="list_practice_users", response_model=list[UserOut])
async def list_practice_users(access: PracticeUserManager, db: DbSession) -> list[UserOut]:
    """The practice's owner and staff."""
    return [_user_out(v) for v in await users.list_practice_users(db, access.msp_id, access.practice_id)]


def _membership_permission(assignments: bool):
    async def check(membership_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession) -> Membership:
        # Checked before the body is read, so a caller who may not touch the membership learns
        # nothing from validation errors. MSP roles are the MSP managers' to manage; practice roles
        # also their practice's user managers'; assignments are always an MSP manager's.
        m = await users.get_membership(db, principal.msp_id, membership_id)
        permission = Permission.msp_manage if assignments or m.practice_id is None else Permission.practice_users
        if not principal.can(permission, m.practice_id if permission is Permission.practice_users else None):
            raise Forbidden("Your role does not allow managing this person's access.")
        return m

    return Depends(check)


ManagedMembership = Annotated[Membership, _membership_permission(assignments=False)]
ManagedAssignments = Annotated[Membership, _membership_permission(assignments=True)]


@router.patch("/memberships/{membership_id}", operation_id="update_membership", response_model=MembershipOut)
async def update_membership(body: MembershipPatch, m: ManagedMembership, principal: CurrentPrincipal, db: DbSession,
                            request: Request, response: Response) -> MembershipOut:
    """Change a membership's role (within its kind) or whether a technician sees every practice;
    a new role ends the person's sessions in this MSP (the caller's own is renewed)."""
    before = m.role
    await users.update_membership(db, m, principal, actor_of(principal), body.model_dump(exclude_unset=True, exclude_none=True))
    if m.role != before and m.user_id == principal.user_id:
        await _renew_own_session(db, principal, request, response)
    return _membership_out(await users.membership_view(db, m))


@router.delete("/memberships/{membership_id}", operation_id="delete_membership", status_code=204)
async def delete_membership(m: ManagedMembership, principal: CurrentPrincipal, db: DbSession, request: Request) -> Response:
    """Remove a person's role; their sessions in this MSP end, and with no role left here their tokens too."""
    own = m.user_id == principal.user_id
    await users.delete_membership(db, m, principal, actor_of(principal))
    response = Response(status_code=204)
    if own:
        await _renew_own_session(db, principal, request, response)
    return response


async def _renew_own_session(db: DbSession, principal: CurrentPrincipal, request: Request, response: Response) -> None:
    """A caller who changed their own role keeps working under a new session id (0004); one left
    with no role here has no session to renew."""
    if principal.session_id is None:
        return
    s = await db.get(UserSession, principal.session_id, populate_existing=True)
    if s is not None and s.ended_at is None:
        set_session_cookies(request, response, await sessions.rotate_session(db, s), s.csrf_token)


@router.put("/memberships/{membership_id}/practices", operation_id="set_membership_practices", response_model=MembershipOut)
async def set_membership_practices(body: AssignmentsIn, m: ManagedAssignments, principal: CurrentPrincipal,
                                   db: DbSession) -> MembershipOut:
    """Limit a technician to exactly these practices of the MSP (takes effect on their next request)."""
    await users.set_assignments(db, m, body.practice_ids, actor_of(principal))
    return _membership_out(await users.membership_view(db, m))

