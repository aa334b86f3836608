"""Password reset by email: a one-hour, single-use link; using it signs the person out everywhere.

The request never tells whether an account exists: the API answers 202 either way, and the email
is sent in the background so the response time does not tell either.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import mail, ratelimit
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.db import Scope, set_scope
from services.core.errors import DomainError, NotFound, RateLimited
from services.core.identity import sessions
from services.core.identity.models import PasswordReset, User
from services.core.identity.passwords import hash_password
from services.core.identity.service import find_user
from services.core.secrets import hash_token, new_token
from services.core.settings import get_settings

VALID_FOR = timedelta(hours=1)
# Per address: enough for a person who lost an email, too few to flood someone's inbox.
PER_EMAIL_LIMIT = "5/hour"


class ResetLinkUnusable(DomainError):
    status, code, title = 410, "reset-link-unusable", "This reset link can no longer be used"


async def _audit(session: AsyncSession, user: User, action: str, actor: Actor, **changes: Any) -> None:
    """One event in the chain of every MSP the person belongs to (the account is global)."""
    for msp_id in dict.fromkeys(m.msp_id for m in await sessions.memberships_of(session, user.id)):
        await set_scope(session, Scope(msp_id, frozenset(), user.id))
        await record(session, msp_id=msp_id, actor=actor, action=action, object_type="user", object_id=user.id, changes=changes)


async def request_reset(session: AsyncSession, email: str, ip: str | None) -> EmailMessage | None:
    """Record a reset and build its email, or None when there is no such active account (or the
    address has asked too often); the caller answers the same way in every case."""
    try:
        await ratelimit.hit(PER_EMAIL_LIMIT, "password-reset-email", email.strip().lower())
    except RateLimited:
        return None
    user = await find_user(session, email.strip())
    if user is None or not user.is_active:
        return None
    token = new_token("swr")
    session.add(PasswordReset(user_id=user.id, token_hash=hash_token(token), expires_at=utcnow() + VALID_FOR))
    await session.flush()
    await _audit(session, user, "auth.password_reset_requested", Actor("anonymous", None, user.email, ip))
    link = f"{get_settings().public_url.rstrip('/')}/reset-password?{urlencode({'token': token})}"
    text, html = mail.render("password_reset", name=user.name, email=user.email, link=link,
                             valid_minutes=int(VALID_FOR.total_seconds() // 60))
    return mail.build_message(user.email, "Reset your Seawall password", text, html)


async def confirm(session: AsyncSession, token: str, password: str, ip: str | None) -> User:
    """Set the new password, burn every outstanding link of the account, end all its sessions."""
    row = await session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_token(token)).with_for_update())
    if row is None:
        raise NotFound("This reset link is not valid. Check that the whole link was copied, or ask for a new one.")
    if row.used_at is not None:
        raise ResetLinkUnusable("This reset link has already been used. Ask for a new one if you still need it.")
    now = utcnow()
    if now >= row.expires_at:
        raise ResetLinkUnusable("This reset link has expired. Ask for a new one.")
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise ResetLinkUnusable("This account has been disabled.")
    user.password_hash = hash_password(password)
    await session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                          .values(used_at=now))
    await sessions.end_all_sessions(session, user.id)
    await _audit(session, user, "auth.password_reset", Actor("user", user.id, user.email, ip), sessions_ended=True)
    return user

