"""TOTP second factor (RFC 6238 via pyotp) and one-time recovery codes.

A code is accepted once: the user's last accepted time step is kept, and any code for that step or
an earlier one is refused. Recovery codes are stored hashed and burnt on use.
"""

from __future__ import annotations

import secrets
import time

import pyotp
import segno
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.base import utcnow
from services.core.errors import Conflict, FieldError, ValidationFailed
from services.core.identity.models import MfaRecoveryCode, User
from services.core.secrets import decrypt, encrypt, hash_token

ISSUER = "Seawall"
STEP = 30
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning(user: User, secret: str) -> tuple[str, str]:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return uri, svg


def _matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step the code belongs to (±1 step of clock drift), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    now = int(at if at is not None else time.time())
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        step = now // STEP + drift
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def pending_secret(user: User) -> str | None:
    return decrypt(user.mfa_secret_encrypted) if user.mfa_secret_encrypted else None


def begin_enrolment(user: User) -> str:
    if user.mfa_enabled_at:
        raise Conflict("Two-factor sign-in is already enabled for this account.")
    secret = new_secret()
    user.mfa_secret_encrypted = encrypt(secret)
    return secret


def verify_code(user: User, code: str) -> bool:
    """Check a TOTP code and burn its time step."""
    secret = pending_secret(user)
    if secret is None:
        return False
    step = _matching_step(secret, code)
    if step is None or (user.mfa_last_step is not None and step <= user.mfa_last_step):
        return False
    user.mfa_last_step = step
    return True


async def enable(session: AsyncSession, user: User, code: str) -> list[str]:
    if user.mfa_enabled_at:
        raise Conflict("Two-factor sign-in is already enabled for this account.")
    if not user.mfa_secret_encrypted:
        raise Conflict("Start the set-up first: no authenticator secret was issued.")
    if not verify_code(user, code):
        raise ValidationFailed("That code is not valid; check the time on your phone and try the next code.",
                               errors=[FieldError("code", "invalid or already used code")])
    user.mfa_enabled_at = utcnow()
    return await _issue_recovery_codes(session, user)


async def _issue_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    for c in codes:
        session.add(MfaRecoveryCode(user_id=user.id, code_hash=hash_token("recovery:" + c)))
    await session.flush()
    return codes


async def use_recovery_code(session: AsyncSession, user: User, code: str) -> bool:
    digest = hash_token("recovery:" + code.strip().lower())
    row = await session.scalar(
        select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.code_hash == digest,
                                      MfaRecoveryCode.used_at.is_(None)).with_for_update()
    )
    if row is None:
        return False
    row.used_at = utcnow()
    return True
