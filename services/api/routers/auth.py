"""Sign-in with email, password and TOTP; sessions in HttpOnly cookies with a CSRF token."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from services.api.deps import SAFE_METHODS, DbSession, client_ip
from services.core import mail, ratelimit
from services.core.audit.service import Actor, record
from services.core.db import Scope, set_scope
from services.core.errors import Conflict, FieldError, Forbidden, Unauthorized, ValidationFailed
from services.core.identity import mfa, password_reset, sessions
from services.core.identity.models import Role, User
from services.core.identity.passwords import verify_password
from services.core.practices.models import Msp, Practice
from services.core.settings import get_settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

SessionStatus = Literal["ok", "mfa_required", "mfa_enrollment_required"]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Not EmailStr: sign-in must not reject an address an admin was allowed to create.
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    status: SessionStatus
    csrf_token: str


class MfaVerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(default=None, max_length=12)
    recovery_code: str | None = Field(default=None, max_length=40)


class MfaSetupOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class MfaEnableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=12)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


class StatusOut(BaseModel):
    status: SessionStatus


class SessionUserOut(BaseModel):
    id: str
    email: str
    name: str
    mfa_enabled: bool


class SessionMembershipOut(BaseModel):
    id: str
    msp_id: str
    msp_name: str
    practice_id: str | None
    practice_name: str | None
    role: str


class SessionOut(BaseModel):
    user: SessionUserOut
    status: SessionStatus
    csrf_token: str
    memberships: list[SessionMembershipOut]


def set_session_cookies(request: Request, response: Response, token: str, csrf: str) -> None:
    # The app's own settings (a test server may run several apps with different ones in one process).
    settings = getattr(request.app.state, "settings", None) or get_settings()
    max_age = settings.session_absolute_hours * 3600
    response.set_cookie(sessions.SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=settings.cookie_secure,
                        samesite="lax", path="/")
    # Readable by the app's JavaScript, which echoes it in X-CSRF-Token (double submit).
    response.set_cookie(sessions.CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=settings.cookie_secure,
                        samesite="lax", path="/")


def _clear_cookies(response: Response) -> None:
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    response.delete_cookie(sessions.CSRF_COOKIE, path="/")


async def _session_state(request: Request, db: DbSession) -> sessions.SessionState:
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    state = await sessions.load_session(db, cookie) if cookie else None
    if state is None:
        raise Unauthorized("Your session has ended; sign in again.")
    if request.method not in SAFE_METHODS and request.headers.get("x-csrf-token") != state.session.csrf_token:
        raise Forbidden("The request is missing its CSRF token; reload the page and try again.")
    return state


SessionState = Annotated[sessions.SessionState, Depends(_session_state)]


def _needs_mfa(memberships: list) -> bool:
    """MFA is mandatory for MSP roles."""
    return any(Role(m.role).is_msp_role for m in memberships)


async def _audit_sign_in(db: DbSession, memberships: list, user: User, action: str, ip: str | None, **changes) -> None:
    # One audit lock per MSP, taken in msp_id order so that two people of the same MSPs signing in
    # at once cannot wait on each other's (docs/decisions/0005-lock-order.md).
    for msp_id in sorted({m.msp_id for m in memberships}):
        await set_scope(db, Scope(msp_id, frozenset(), user.id))
        await record(db, msp_id=msp_id, actor=Actor("user", user.id, user.email, ip), action=action,
                     object_type="user", object_id=user.id, changes=changes)


@router.post("/login", operation_id="login", response_model=LoginOut)
async def login(body: LoginIn, request: Request, response: Response, db: DbSession) -> LoginOut:
    """Check email and password; the session then needs a TOTP code (or MFA enrolment) when required."""
    ip = client_ip(request) or "unknown"
    email = body.email.lower()
    limit = get_settings().login_rate_limit
    await ratelimit.hit(limit, "login-email", email)
    await ratelimit.hit(get_settings().login_ip_rate_limit, "login-ip", ip)
    user = await db.scalar(select(User).where(func.lower(User.email) == email))
    ok = verify_password(body.password, user.password_hash if user else None)
    memberships = await sessions.memberships_of(db, user.id) if user else []
    if not ok or user is None or not user.is_active:
        if user is not None:
            await _audit_sign_in(db, memberships, user, "auth.sign_in_failed", ip, reason="bad password")
            # The failure must be recorded even though the request answers with an error.
            await db.commit()
        raise Unauthorized("The email or password is not right.")
    if not memberships:
        raise Unauthorized("This account has no access to any practice or MSP yet.")
    mfa_passed = user.mfa_enabled_at is None and not _needs_mfa(memberships)
    token, s = await sessions.start_session(db, user, memberships[0].msp_id, mfa_passed=mfa_passed, ip=ip,
                                            user_agent=request.headers.get("user-agent"))
    await _audit_sign_in(db, memberships, user, "auth.sign_in" if mfa_passed else "auth.password_accepted", ip)
    await ratelimit.clear(limit, "login-email", email)
    set_session_cookies(request, response, token, s.csrf_token)
    return LoginOut(status=sessions.SessionState(s, user).status, csrf_token=s.csrf_token)


@router.post("/mfa/verify", operation_id="mfa_verify", response_model=StatusOut)
async def mfa_verify(body: MfaVerifyIn, request: Request, response: Response, state: SessionState, db: DbSession) -> StatusOut:
    """Second step of sign-in: a TOTP code or a one-time recovery code."""
    await ratelimit.hit("10/minute", "mfa", str(state.user.id))
    s, user = await sessions.lock_for_privilege_change(db, state.session, state.user)
    if s.mfa_passed:
        return StatusOut(status="ok")
    if not user.mfa_enabled_at:
        raise Conflict("Set up two-factor sign-in first.")
    if body.code:
        ok = mfa.verify_code(user, body.code)
    elif body.recovery_code:
        ok = await mfa.use_recovery_code(db, user, body.recovery_code)
    else:
        raise ValidationFailed("Enter the 6-digit code from your authenticator app.", errors=[FieldError("code", "required")])
    memberships = await sessions.memberships_of(db, user.id)
    if not ok:
        await _audit_sign_in(db, memberships, user, "auth.mfa_failed", client_ip(request))
        await db.commit()
        raise ValidationFailed("That code is not valid or was already used.",
                               errors=[FieldError("recovery_code" if body.recovery_code and not body.code else "code", "invalid or already used")])
    s.mfa_passed = True
    # The cookie issued after the password step must not become the signed-in session (0004).
    set_session_cookies(request, response, await sessions.rotate_session(db, s), s.csrf_token)
    await _audit_sign_in(db, memberships, user, "auth.sign_in", client_ip(request),
                         method="recovery_code" if not body.code else "totp")
    return StatusOut(status="ok")


@router.post("/mfa/setup", operation_id="mfa_setup", response_model=MfaSetupOut)
async def mfa_setup(state: SessionState) -> MfaSetupOut:
    """Issue a new authenticator secret (QR code and text) for a user who has not enabled MFA yet."""
    secret = mfa.begin_enrolment(state.user)
    uri, svg = mfa.provisioning(state.user, secret)
    return MfaSetupOut(secret=secret, otpauth_uri=uri, qr_svg=svg)


@router.post("/mfa/enable", operation_id="mfa_enable", response_model=RecoveryCodesOut)
async def mfa_enable(body: MfaEnableIn, request: Request, response: Response, state: SessionState,
                     db: DbSession) -> RecoveryCodesOut:
    """Confirm the authenticator with a code; returns recovery codes, shown this once. Every other
    session of the account ends: none of them passed the second factor."""
    session, user = await sessions.lock_for_privilege_change(db, state.session, state.user)
    codes = await mfa.enable(db, user, body.code)
    session.mfa_passed = True
    set_session_cookies(request, response, await sessions.rotate_session(db, session), session.csrf_token)
    await sessions.end_all_sessions(db, user.id, except_id=session.id)
    memberships = await sessions.memberships_of(db, user.id)
    await _audit_sign_in(db, memberships, user, "auth.mfa_enabled", client_ip(request))
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/logout", operation_id="logout", status_code=204)
async def logout(request: Request, db: DbSession) -> Response:
    """End the session on the server and clear its cookies."""
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    state = await sessions.load_session(db, cookie) if cookie else None
    if state is not None:
        if request.headers.get("x-csrf-token") != state.session.csrf_token:
            raise Forbidden("The request is missing its CSRF token.")
        await sessions.end_session(db, state.session.id)
        memberships = await sessions.memberships_of(db, state.user.id)
        await _audit_sign_in(db, memberships, state.user, "auth.sign_out", client_ip(request))
    response = Response(status_code=204)
    _clear_cookies(response)
    return response


@router.get("/session", operation_id="get_session", response_model=SessionOut)
async def get_session(state: SessionState, db: DbSession) -> SessionOut:
    """Who is signed in, what the session still needs, and their memberships."""
    memberships = await sessions.memberships_of(db, state.user.id)
    out: list[SessionMembershipOut] = []
    for m in memberships:
        await set_scope(db, Scope(m.msp_id, None, state.user.id))
        msp = await db.get(Msp, m.msp_id)
        practice = await db.get(Practice, (m.msp_id, m.practice_id)) if m.practice_id else None
        out.append(SessionMembershipOut(id=str(m.id), msp_id=str(m.msp_id), msp_name=msp.name if msp else "",
                                 practice_id=str(m.practice_id) if m.practice_id else None,
                                 practice_name=practice.name if practice else None, role=m.role))
    u = state.user
    return SessionOut(user=SessionUserOut(id=str(u.id), email=u.email, name=u.name, mfa_enabled=u.mfa_enabled_at is not None),
                      status=state.status, csrf_token=state.session.csrf_token, memberships=out)


class PasswordResetRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")


class PasswordResetConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/password-reset/request", operation_id="password_reset_request", status_code=202,
             responses={202: {"description": "Accepted (whether or not the email has an account)", "content": None},
                        429: {"description": "Too many requests from this address"}}, response_class=Response)
async def password_reset_request(body: PasswordResetRequestIn, request: Request, db: DbSession) -> Response:
    """Email a password reset link if the account exists; always 202, so nobody learns which emails have accounts."""
    ip = client_ip(request) or "unknown"
    await ratelimit.hit("30/hour", "password-reset-ip", ip)
    message = await password_reset.request_reset(db, body.email, ip)
    if message is not None:
        # Committed before sending so the link works when it arrives; sent in the background so
        # the answer comes as fast for an unknown email as for a known one.
        await db.commit()
        mail.send_in_background(mail.send_message(message))
    return Response(status_code=202)


@router.post("/password-reset/confirm", operation_id="password_reset_confirm", status_code=204,
             responses={404: {"description": "Unknown link"}, 410: {"description": "Used or expired link"},
                        429: {"description": "Too many attempts from this address"}})
async def password_reset_confirm(body: PasswordResetConfirmIn, request: Request, db: DbSession) -> Response:
    """Set a new password with the token from the emailed link; every session of the account ends."""
    ip = client_ip(request) or "unknown"
    await ratelimit.hit("20/minute", "password-reset-confirm-ip", ip)
    user = await password_reset.confirm(db, body.token, body.password, ip)
    await ratelimit.clear(get_settings().login_rate_limit, "login-email", user.email.lower())
    response = Response(status_code=204)
    _clear_cookies(response)
    return response
