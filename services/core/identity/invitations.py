"""Invitations: an emailed, single-use link that gives a person a role in an MSP or a practice.

The link carries a secret (`swi_…`); only its keyed hash is stored, in the invitation and in the
secret index (kind "invitation"), which is how an anonymous visitor's link finds its tenant. The
index entry is kept after the invitation is used or revoked so that an old link gets a clear
"already used" or "revoked" answer instead of "unknown".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import mail, secret_index
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.db import Scope, set_scope
from services.core.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from services.core.identity import sessions
from services.core.identity.models import Invitation, Membership, Role, TechnicianAssignment, User
from services.core.identity.passwords import check_strength, hash_password, verify_password
from services.core.identity.service import find_user
from services.core.identity.users import validate_practice_ids
from services.core.practices.models import Msp, Practice
from services.core.secrets import new_token
from services.core.settings import get_settings

KIND = "invitation"
VALID_FOR = timedelta(days=7)

ROLE_LABELS = {
    Role.msp_owner: "an owner of the MSP",
    Role.msp_admin: "an administrator of the MSP",
    Role.msp_technician: "a technician",
    Role.practice_owner: "the practice owner",
    Role.practice_staff: "a member of staff",
}


class InvitationUnusable(DomainError):
    """The link was real but can no longer be used (accepted, revoked or expired)."""

    status, code, title = 410, "invitation-unusable", "This invitation can no longer be used"


def status_of(inv: Invitation, now: datetime | None = None) -> str:
    if inv.accepted_at is not None:
        return "accepted"
    if inv.revoked_at is not None:
        return "revoked"
    if (now or utcnow()) >= inv.expires_at:
        return "expired"
    return "pending"


@dataclass
class NewInvitation:
    invitation: Invitation
    message: EmailMessage
    # The one-time link, for the inviter to copy (shown once by the API, never stored or logged:
    # only its keyed hash is kept, so it cannot be shown again).
    link: str


async def _organisation(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID | None) -> tuple[str, str | None]:
    msp = await session.get(Msp, msp_id)
    practice = await session.get(Practice, (msp_id, practice_id)) if practice_id else None
    return (msp.name if msp else ""), (practice.name if practice else None)


async def create(session: AsyncSession, *, msp_id: uuid.UUID, email: str, role: Role, practice_id: uuid.UUID | None,
                 practice_ids: list[uuid.UUID], inviter_id: uuid.UUID | None, inviter_role: Role | None,
                 actor: Actor) -> NewInvitation:
    """Record an invitation and build the email that carries its link (the caller sends it after commit)."""
    email = email.strip()
    if role.is_msp_role != (practice_id is None):
        raise ValidationFailed("That role does not belong here: MSP roles are invited to the MSP, practice roles to a practice.",
                               errors=[FieldError("role", "not a role of this scope")])
    if role is Role.msp_owner and inviter_role is not Role.msp_owner:
        raise Forbidden("Only an MSP owner may invite another owner.")
    if practice_ids and role is not Role.msp_technician:
        raise ValidationFailed("Only technicians are limited to chosen practices.",
                               errors=[FieldError("practice_ids", "only for the msp_technician role")])
    practice_ids = await validate_practice_ids(session, msp_id, practice_ids)

    existing = await find_user(session, email)
    if existing is not None and await session.scalar(select(Membership.id).where(
            Membership.msp_id == msp_id, Membership.user_id == existing.id,
            Membership.practice_id.is_(None) if practice_id is None else Membership.practice_id == practice_id)):
        raise Conflict("This person already has a role here; change it on the users page instead.",
                       errors=[FieldError("email", "already a member")])

    # A new invitation to the same person and place replaces any pending one (the usual reason to
    # invite again is a lost email); the old link stops working.
    now = utcnow()
    replaced = list(await session.scalars(select(Invitation).where(
        Invitation.msp_id == msp_id, func.lower(Invitation.email) == email.lower(),
        Invitation.practice_id.is_(None) if practice_id is None else Invitation.practice_id == practice_id,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)))
    for old in replaced:
        old.revoked_at = now

    token = new_token("swi")
    inv = Invitation(msp_id=msp_id, email=email, role=role.value, practice_id=practice_id,
                     practice_ids=[str(p) for p in practice_ids], token_hash=b"", invited_by=inviter_id,
                     expires_at=now + VALID_FOR)
    session.add(inv)
    await session.flush()
    inv.token_hash = await secret_index.register(session, token, KIND, msp_id, inv.id)
    await record(session, msp_id=msp_id, actor=actor, action="invitation.created", object_type="invitation", object_id=inv.id,
                 practice_id=practice_id, changes={"email": email, "role": role.value, "practice_ids": practice_ids,
                                                   "replaces": [o.id for o in replaced]})

    msp_name, practice_name = await _organisation(session, msp_id, practice_id)
    inviter = await session.get(User, inviter_id) if inviter_id else None
    link = f"{get_settings().public_url.rstrip('/')}/accept-invite?{urlencode({'token': token})}"
    text, html = mail.render(
        "invitation", inviter=(inviter.name or inviter.email) if inviter else msp_name,
        organisation=f"{practice_name} ({msp_name})" if practice_name else msp_name, role_label=ROLE_LABELS[role],
        link=link, expires=inv.expires_at.strftime("%d %B %Y at %H:%M UTC"), mfa_required=role.is_msp_role)
    subject = f"You are invited to {practice_name or msp_name} on Seawall"
    return NewInvitation(inv, mail.build_message(email, subject, text, html), link)


async def list_invitations(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID | None = None) -> list[Invitation]:
    """Every invitation of the MSP, or of one practice, newest first."""
    q = select(Invitation).where(Invitation.msp_id == msp_id)
    if practice_id is not None:
        q = q.where(Invitation.practice_id == practice_id)
    return list(await session.scalars(q.order_by(Invitation.created_at.desc()).limit(1000)))


async def get(session: AsyncSession, msp_id: uuid.UUID, invitation_id: uuid.UUID) -> Invitation:
    inv = await session.scalar(select(Invitation).where(Invitation.msp_id == msp_id, Invitation.id == invitation_id))
    if inv is None:
        raise NotFound("No such invitation.")
    return inv


async def revoke(session: AsyncSession, inv: Invitation, actor: Actor) -> None:
    if inv.accepted_at is not None:
        raise Conflict("This invitation was already accepted; remove the person's membership instead.")
    if inv.revoked_at is not None:
        return
    inv.revoked_at = utcnow()
    await record(session, msp_id=inv.msp_id, actor=actor, action="invitation.revoked", object_type="invitation",
                 object_id=inv.id, practice_id=inv.practice_id, changes={"email": inv.email, "role": inv.role})


async def resolve(session: AsyncSession, token: str) -> Invitation:
    """The invitation behind a link, whatever its state; binds the transaction to its MSP."""
    entry = await secret_index.lookup(session, token, KIND)
    if entry is None:
        raise NotFound("This invitation link is not valid. Check that the whole link was copied.")
    await set_scope(session, Scope(entry.tenant))
    inv = await session.scalar(select(Invitation).where(Invitation.msp_id == entry.tenant, Invitation.id == entry.object_id))
    if inv is None:  # the practice it was for has been removed
        raise InvitationUnusable("The practice this invitation was for no longer exists.")
    return inv


def ensure_usable(inv: Invitation) -> None:
    status = status_of(inv)
    if status == "accepted":
        raise InvitationUnusable("This invitation has already been used. Sign in with your email and password.")
    if status == "revoked":
        raise InvitationUnusable("This invitation was withdrawn. Ask whoever invited you for a new one.")
    if status == "expired":
        raise InvitationUnusable("This invitation has expired. Ask whoever invited you for a new one.")


@dataclass
class InvitationView:
    email: str
    msp_name: str
    practice_name: str | None
    role: str
    existing_account: bool
    expires_at: datetime


async def describe(session: AsyncSession, token: str) -> InvitationView:
    inv = await resolve(session, token)
    ensure_usable(inv)
    msp_name, practice_name = await _organisation(session, inv.msp_id, inv.practice_id)
    user = await find_user(session, inv.email)
    return InvitationView(inv.email, msp_name, practice_name, inv.role,
                          existing_account=bool(user and user.password_hash), expires_at=inv.expires_at)


async def accept(session: AsyncSession, token: str, name: str, password: str, ip: str | None) -> tuple[User, Invitation]:
    """Create (or link) the account, give it the invited role, and burn the invitation."""
    inv = await resolve(session, token)
    # Lock the invitation so that two simultaneous clicks cannot both accept it.
    await session.refresh(inv, with_for_update=True)
    ensure_usable(inv)
    user = await find_user(session, inv.email)
    if user is None:
        user = User(email=inv.email, name=name.strip(), password_hash=hash_password(password))
        session.add(user)
        await session.flush()
    elif user.password_hash:
        # An existing account is linked only with its own password: the invitation proves the
        # email address, not the right to replace someone's password.
        if not verify_password(password, user.password_hash):
            raise ValidationFailed("This email already has a Seawall account: enter its current password to accept.",
                                   errors=[FieldError("password", "not the password of the existing account")])
    else:
        check_strength(password)
        user.password_hash = hash_password(password)
        user.name = user.name or name.strip()
    if not user.is_active:
        raise Forbidden("This account has been disabled.")

    role = Role(inv.role)
    scope_filter = Membership.practice_id.is_(None) if inv.practice_id is None else Membership.practice_id == inv.practice_id
    if await session.scalar(select(Membership.id).where(Membership.msp_id == inv.msp_id, Membership.user_id == user.id, scope_filter)):
        raise Conflict("You already have a role here; sign in instead.")
    assigned = [uuid.UUID(p) for p in inv.practice_ids]
    membership = Membership(msp_id=inv.msp_id, user_id=user.id, role=role.value, practice_id=inv.practice_id,
                            all_practices=not assigned)
    session.add(membership)
    await session.flush()
    if assigned:
        still_there = set(await session.scalars(select(Practice.id).where(Practice.msp_id == inv.msp_id, Practice.id.in_(assigned))))
        for pid in assigned:
            if pid in still_there:
                session.add(TechnicianAssignment(msp_id=inv.msp_id, membership_id=membership.id, practice_id=pid))
    inv.accepted_at = utcnow()
    await session.flush()
    # An existing account gains a role in this MSP: its sessions here end rather than carry on with
    # the new role under an old id (docs/decisions/0004-session-renewal.md). Before the record: the
    # audit chain's lock comes after every row lock (docs/decisions/0005-lock-order.md).
    await sessions.end_sessions_in_msp(session, user.id, inv.msp_id)
    await record(session, msp_id=inv.msp_id, actor=Actor("user", user.id, user.email, ip), action="invitation.accepted",
                 object_type="invitation", object_id=inv.id, practice_id=inv.practice_id,
                 changes={"membership_id": membership.id, "role": role.value, "email": user.email})
    return user, inv
