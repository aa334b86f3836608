"""Invitations: MSP managers invite MSP staff, practice user managers invite the practice's people;
the invitee follows the emailed link, chooses a password and is signed in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.api.deps import CurrentPrincipal, DbSession, MspManager, PracticeUserManager, actor_of, client_ip
from services.api.routers.auth import LoginOut, set_session_cookies
from services.core import mail, ratelimit
from services.core.errors import Forbidden
from services.core.identity import invitations, sessions
from services.core.identity.models import Invitation, Role
from services.core.identity.policy import Permission

router = APIRouter(tags=["invitations"])
log = structlog.get_logger("seawall.invitations")

# No whitespace or control characters: the address goes into an email header.
EMAIL = Field(min_length=3, max_length=320, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
TOKEN = Field(min_length=10, max_length=200)


class MspInvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = EMAIL
    role: Literal["msp_owner", "msp_admin", "msp_technician"]
    practice_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000,
                                          description="For a technician: the only practices they will see (empty = all)")


class PracticeInvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = EMAIL
    role: Literal["practice_owner", "practice_staff"]


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    role: str
    practice_id: uuid.UUID | None
    practice_ids: list[uuid.UUID]
    status: Literal["pending", "accepted", "revoked", "expired"]
    expires_at: datetime
    created_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class CreatedInvitationOut(InvitationOut):
    email_sent: bool = Field(description="False when the mail server could not take the email; send the link yourself")
    link: str = Field(description="The one-time link, shown only in this answer: it is stored hashed and cannot be read again")


class InvitationLookupOut(BaseModel):
    email: str
    msp_name: str
    practice_name: str | None
    role: str
    existing_account: bool = Field(description="True when the email already has an account: accept with its password")
    expires_at: datetime


class InvitationAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = TOKEN
    name: str = Field(min_length=1, max_length=200, pattern=r"\S", description="How the person is shown to others")
    password: str = Field(min_length=1, max_length=1024)


def _out(inv: Invitation, model: type[InvitationOut] = InvitationOut, **extra) -> InvitationOut:
    return model(id=inv.id, email=inv.email, role=inv.role, practice_id=inv.practice_id,
                 practice_ids=[uuid.UUID(p) for p in inv.practice_ids], status=invitations.status_of(inv),
                 expires_at=inv.expires_at, created_at=inv.created_at, accepted_at=inv.accepted_at,
                 revoked_at=inv.revoked_at, **extra)


async def _send_after_commit(db: DbSession, created: invitations.NewInvitation) -> CreatedInvitationOut:
    # Commit first: the email must never announce an invitation that was rolled back, and the
    # MSP's audit lock must not be held while the mail server answers.
    await db.commit()
    try:
        await mail.send_message(created.message)
        sent = True
    except mail.MailError:
        sent = False
    return _out(created.invitation, CreatedInvitationOut, email_sent=sent, link=created.link)  # type: ignore[return-value]


@router.post("/api/v1/invitations", operation_id="create_msp_invitation", response_model=CreatedInvitationOut, status_code=201)
async def create_msp_invitation(body: MspInvitationIn, principal: MspManager, db: DbSession) -> CreatedInvitationOut:
    """Invite a person to the MSP's staff (owners only may invite owners); emails them a 7-day link, returned once."""
    created = await invitations.create(db, msp_id=principal.msp_id, email=body.email, role=Role(body.role), practice_id=None,
                                       practice_ids=body.practice_ids, inviter_id=principal.user_id,
                                       inviter_role=principal.msp_role, actor=actor_of(principal))
    return await _send_after_commit(db, created)


@router.get("/api/v1/invitations", operation_id="list_msp_invitations", response_model=list[InvitationOut])
async def list_msp_invitations(principal: MspManager, db: DbSession) -> list[InvitationOut]:
    """Every invitation of the MSP and its practices, newest first."""
    return [_out(i) for i in await invitations.list_invitations(db, principal.msp_id)]


@router.post("/api/v1/practices/{practice_id}/invitations", operation_id="create_practice_invitation",
             response_model=CreatedInvitationOut, status_code=201)
async def create_practice_invitation(body: PracticeInvitationIn, access: PracticeUserManager, db: DbSession) -> CreatedInvitationOut:
    """Invite a person to the practice as its owner or a member of staff; emails them a 7-day link, returned once."""
    p = access.principal
    created = await invitations.create(db, msp_id=access.msp_id, email=body.email, role=Role(body.role),
                                       practice_id=access.practice_id, practice_ids=[], inviter_id=p.user_id,
                                       inviter_role=p.msp_role, actor=access.actor)
    return await _send_after_commit(db, created)


@router.get("/api/v1/practices/{practice_id}/invitations", operation_id="list_practice_invitations",
            response_model=list[InvitationOut])
async def list_practice_invitations(access: PracticeUserManager, db: DbSession) -> list[InvitationOut]:
    """The practice's invitations, newest first."""
    return [_out(i) for i in await invitations.list_invitations(db, access.msp_id, access.practice_id)]


async def _managed_invitation(invitation_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession) -> Invitation:
    """The invitation, if the caller may manage it: MSP managers any, practice user managers their
    practice's. Invisible (another MSP, a practice the caller cannot see) is 404."""
    inv = await invitations.get(db, principal.msp_id, invitation_id)
    if not principal.can(Permission.practice_users if inv.practice_id else Permission.msp_manage, inv.practice_id):
        raise Forbidden("Your role does not allow managing this invitation.")
    return inv


@router.delete("/api/v1/invitations/{invitation_id:uuid}", operation_id="revoke_invitation", status_code=204)
async def revoke_invitation(inv: Annotated[Invitation, Depends(_managed_invitation)], principal: CurrentPrincipal,
                            db: DbSession) -> Response:
    """Withdraw a pending invitation; its link stops working at once."""
    await invitations.revoke(db, inv, actor_of(principal))
    return Response(status_code=204)


@router.get("/api/v1/invitations/lookup", operation_id="invitation_lookup", response_model=InvitationLookupOut,
            responses={404: {"description": "Unknown link"}, 410: {"description": "Used, withdrawn or expired"},
                       429: {"description": "Too many look-ups from this address"}})
async def invitation_lookup(request: Request, db: DbSession, token: Annotated[str, Query(min_length=10, max_length=200)]):
    """Describe an invitation by the token of its link (no sign-in needed)."""
    await ratelimit.hit("60/minute", "invitation-ip", client_ip(request) or "unknown")
    view = await invitations.describe(db, token)
    return InvitationLookupOut(email=view.email, msp_name=view.msp_name, practice_name=view.practice_name, role=view.role,
                               existing_account=view.existing_account, expires_at=view.expires_at)


@router.post("/api/v1/invitations/accept", operation_id="invitation_accept", response_model=LoginOut,
             responses={404: {"description": "Unknown link"}, 410: {"description": "Used, withdrawn or expired"},
                        429: {"description": "Too many attempts"}})
async def invitation_accept(body: InvitationAcceptIn, request: Request, response: Response, db: DbSession) -> LoginOut:
    """Accept an invitation: create the account (or link an existing one with its password) and sign in.
    MSP roles must then set up two-factor sign-in (status `mfa_enrollment_required`)."""
    ip = client_ip(request)
    await ratelimit.hit("20/minute", "invitation-accept-ip", ip or "unknown")
    user, inv = await invitations.accept(db, body.token, body.name, body.password, ip)
    memberships = await sessions.memberships_of(db, user.id)
    mfa_passed = user.mfa_enabled_at is None and not any(Role(m.role).is_msp_role for m in memberships)
    token, s = await sessions.start_session(db, user, inv.msp_id, mfa_passed=mfa_passed, ip=ip,
                                            user_agent=request.headers.get("user-agent"))
    set_session_cookies(request, response, token, s.csrf_token)
    return LoginOut(status=sessions.SessionState(s, user).status, csrf_token=s.csrf_token)
