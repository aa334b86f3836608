"""Server-side browser sessions and the principal behind a session or an API token.

A session ends when it is idle too long, when it reaches its absolute lifetime, or at logout;
each of those is checked on every request, so an ended session is refused at once. At every change
of privilege the session's secret and CSRF token are replaced, or the session ends
(docs/decisions/0004-session-renewal.md), so a cookie seen before the change is worth nothing after it.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import secret_index
from services.core.base import utcnow
from services.core.db import Scope, set_scope
from services.core.errors import Unauthorized
from services.core.identity.models import ApiToken, Membership, Role, TechnicianAssignment, User, UserSession
from services.core.identity.principal import Principal
from services.core.secrets import hash_token, new_token
from services.core.settings import get_settings

SESSION_COOKIE = "seawall_session"
CSRF_COOKIE = "seawall_csrf"
# Writing last_seen_at on every request would turn reads into writes; a minute is precise enough
# for a 15-minute idle timeout.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass
class SessionState:
    session: UserSession
    user: User

    @property
    def status(self) -> str:
        if self.session.mfa_passed:
            return "ok"
        return "mfa_required" if self.user.mfa_enabled_at else "mfa_enrollment_required"


async def start_session(db: AsyncSession, user: User, msp_id: uuid.UUID | None, *, mfa_passed: bool, ip: str | None,
                        user_agent: str | None) -> tuple[str, UserSession]:
    token = new_token("sws")
    settings = get_settings()
    s = UserSession(token_hash=hash_token(token), user_id=user.id, active_msp_id=msp_id, csrf_token=secrets.token_urlsafe(32),
                    mfa_passed=mfa_passed, expires_at=utcnow() + timedelta(hours=settings.session_absolute_hours),
                    last_seen_at=utcnow(), ip=ip, user_agent=(user_agent or "")[:300])
    db.add(s)
    await db.flush()
    return token, s


async def lock_for_privilege_change(db: AsyncSession, s: UserSession, user: User) -> tuple[UserSession, User]:
    """Lock the session as presented (its current secret) and its user before a privilege change.

    Two MFA verifications racing with the same password-step cookie: the first locks the row, the
    other waits, then finds the secret replaced by the first's renewal and is refused, so it can
    neither reuse the time step (read again here, under the user's lock) nor overwrite the renewal
    (docs/decisions/0004-session-renewal.md). Rows before the audit lock (0005)."""
    # The user's row before its sessions, as a password reset changes them.
    presented = s.token_hash
    fresh = await db.scalar(select(User).where(User.id == user.id).with_for_update()
                            .execution_options(populate_existing=True))
    locked = await db.scalar(select(UserSession).where(UserSession.id == s.id, UserSession.token_hash == presented,
                                                       UserSession.ended_at.is_(None))
                             .with_for_update().execution_options(populate_existing=True))
    if fresh is None or locked is None:
        raise Unauthorized("Your session has ended; sign in again.")
    return locked, fresh


async def rotate_session(db: AsyncSession, s: UserSession) -> str:
    """Give the session a new secret and CSRF token; the old cookie stops working at once.

    The row (its id, start and absolute expiry) stays: a renewal is not a new sign-in and must not
    extend the session's lifetime (docs/decisions/0004-session-renewal.md).
    """
    token = new_token("sws")
    s.token_hash = hash_token(token)
    s.csrf_token = secrets.token_urlsafe(32)
    await db.flush()
    return token


def _expired(s: UserSession, now: datetime) -> bool:
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return s.ended_at is not None or now >= s.expires_at or now - s.last_seen_at >= idle


async def load_session(db: AsyncSession, token: str) -> SessionState | None:
    s = await db.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    if s is None:
        return None
    now = utcnow()
    if _expired(s, now):
        if s.ended_at is None:
            s.ended_at = now
        return None
    user = await db.get(User, s.user_id)
    if user is None or not user.is_active:
        return None
    if now - s.last_seen_at >= TOUCH_EVERY:
        s.last_seen_at = now
    return SessionState(s, user)


async def end_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(update(UserSession).where(UserSession.id == session_id).values(ended_at=utcnow()))


async def end_all_sessions(db: AsyncSession, user_id: uuid.UUID, *, except_id: uuid.UUID | None = None) -> None:
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    await db.execute(query.values(ended_at=utcnow()))


async def end_sessions_in_msp(db: AsyncSession, user_id: uuid.UUID, msp_id: uuid.UUID, *,
                              except_id: uuid.UUID | None = None) -> None:
    """End the user's sessions acting in this MSP (their role there changed); sessions elsewhere go on."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.active_msp_id == msp_id,
                                      UserSession.ended_at.is_(None))
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    await db.execute(query.values(ended_at=utcnow()))


async def memberships_of(db: AsyncSession, user_id: uuid.UUID) -> list[Membership]:
    """Every membership of the user, across MSPs (the own_memberships policy allows it)."""
    await set_scope(db, Scope(user_id=user_id))
    return list(await db.scalars(select(Membership).where(Membership.user_id == user_id).order_by(Membership.created_at)))


async def principal_for_user(db: AsyncSession, user: User, msp_id: uuid.UUID | None, *, kind: str = "user",
                             read_only: bool = False, session_id: uuid.UUID | None = None,
                             token_id: uuid.UUID | None = None, ip: str | None = None) -> Principal | None:
    """Build the principal and bind the transaction to its scope. None when the user has no role there."""
    memberships = [m for m in await memberships_of(db, user.id) if msp_id is None or m.msp_id == msp_id]
    if not memberships:
        return None
    msp_id = memberships[0].msp_id
    memberships = [m for m in memberships if m.msp_id == msp_id]
    msp_membership = next((m for m in memberships if m.practice_id is None), None)
    msp_role = Role(msp_membership.role) if msp_membership else None
    practice_roles = {m.practice_id: Role(m.role) for m in memberships if m.practice_id is not None}

    technician = msp_membership if msp_role is Role.msp_technician else None

    visible: frozenset[uuid.UUID] | None
    if msp_role in (Role.msp_owner, Role.msp_admin) or (technician is not None and technician.all_practices):
        visible = None
    else:
        assigned: set[uuid.UUID] = set()
        if technician is not None:
            # Assignments are read in the MSP's full scope, then the transaction is narrowed.
            await set_scope(db, Scope(msp_id, None, user.id))
            assigned = set(await db.scalars(select(TechnicianAssignment.practice_id).where(
                TechnicianAssignment.msp_id == msp_id, TechnicianAssignment.membership_id == technician.id)))
        visible = frozenset(assigned | set(practice_roles))
    principal = Principal(kind=kind, msp_id=msp_id, user_id=user.id, email=user.email, msp_role=msp_role,  # type: ignore[arg-type]
                          practice_roles=practice_roles, visible_practices=visible, read_only=read_only,
                          session_id=session_id, token_id=token_id, ip=ip)
    await set_scope(db, principal.scope)
    return principal


async def principal_for_token(db: AsyncSession, token: str, ip: str | None) -> Principal | None:
    entry = await secret_index.lookup(db, token, "api_token")
    if entry is None:
        return None
    await set_scope(db, Scope(entry.tenant, frozenset()))
    row = await db.scalar(select(ApiToken).where(ApiToken.msp_id == entry.tenant, ApiToken.id == entry.object_id))
    if row is None or row.revoked_at is not None:
        return None
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return await principal_for_user(db, user, row.msp_id, kind="token", read_only=row.read_only, token_id=row.id, ip=ip)
