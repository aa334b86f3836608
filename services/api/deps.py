"""Request dependencies: the transaction, the caller, and what the caller may do.

Routers declare needs with the Annotated aliases at the bottom (`DbSession`, `MspReader`,
`PracticeReader(…)` …); the checks themselves live in services/core/identity/policy.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import Actor
from services.core.db import Database
from services.core.errors import Forbidden, NotFound, Unauthorized
from services.core.identity import sessions
from services.core.identity.policy import Permission
from services.core.identity.principal import Principal
from services.core.practices.models import Practice
from services.core.telemetry.agents import authenticate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def database(request: Request) -> Database:
    return request.app.state.db


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One request, one transaction: committed when the handler returns, rolled back if it raises."""
    async with request.app.state.db.sessionmaker() as session:
        async with session.begin():
            yield session


# scope="function": the commit happens before the response is sent, so a client never sees a 2xx
# for a change that then fails to commit, and its next request reads what it just wrote.
# A streamed response therefore cannot use this session; it opens its own transaction.
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def optional_principal(request: Request, db: DbSession) -> Principal | None:
    """The caller from a Bearer API token or the session cookie; None when anonymous."""
    if "principal" in request.state._state:
        return request.state.principal
    ip = client_ip(request)
    principal: Principal | None = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        if not token.startswith("swt_"):
            raise Unauthorized("This endpoint takes a personal API token or a signed-in session.")
        principal = await sessions.principal_for_token(db, token, ip)
        if principal is None:
            raise Unauthorized("The API token is not valid or has been revoked.")
    elif cookie := request.cookies.get(sessions.SESSION_COOKIE):
        state = await sessions.load_session(db, cookie)
        if state is not None and state.session.mfa_passed:
            if request.method not in SAFE_METHODS and request.headers.get("x-csrf-token") != state.session.csrf_token:
                raise Forbidden("The request is missing its CSRF token; reload the page and try again.")
            principal = await sessions.principal_for_user(db, state.user, state.session.active_msp_id,
                                                          session_id=state.session.id, ip=ip)
    request.state.principal = principal
    return principal


async def current_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None or principal.kind == "agent":
        raise Unauthorized("Sign in, or send a personal API token.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def agent_principal(request: Request, db: DbSession) -> Principal:
    """An agent presenting its credential (`Authorization: Bearer swa_…`); revoked or unknown → 401."""
    auth = request.headers.get("authorization", "")
    credential = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    agent = await authenticate(db, credential) if credential.startswith("swa_") else None
    if agent is None:
        raise Unauthorized("The agent credential is missing, not valid or has been revoked.")
    return Principal(kind="agent", msp_id=agent.msp_id, agent_id=agent.id, practice_id=agent.practice_id, site_id=agent.site_id,
                     visible_practices=frozenset({agent.practice_id}), ip=client_ip(request))


AgentCaller = Annotated[Principal, Depends(agent_principal)]


def actor_of(p: Principal) -> Actor:
    kind = "token" if p.kind == "token" else p.kind
    return Actor(kind, p.user_id if p.kind != "agent" else p.agent_id, p.label, p.ip)


def msp_permission(permission: Permission):
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise Forbidden("Your role does not allow this.")
        return principal

    return Depends(check)


async def _practice(db: AsyncSession, principal: Principal, practice_id: uuid.UUID) -> Practice:
    if not principal.sees_practice(practice_id):
        raise NotFound("No such practice.")
    practice = await db.scalar(select(Practice).where(Practice.msp_id == principal.msp_id, Practice.id == practice_id))
    if practice is None:
        raise NotFound("No such practice.")
    return practice


class PracticeAccess:
    """The practice named in the path, visible to the caller, with the permission checked."""

    def __init__(self, principal: Principal, practice: Practice):
        self.principal = principal
        self.practice = practice

    @property
    def msp_id(self) -> uuid.UUID:
        return self.practice.msp_id

    @property
    def practice_id(self) -> uuid.UUID:
        return self.practice.id

    @property
    def actor(self) -> Actor:
        return actor_of(self.principal)


def practice_permission(permission: Permission):
    async def check(practice_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession) -> PracticeAccess:
        practice = await _practice(db, principal, practice_id)
        if not principal.can(permission, practice.id):
            raise Forbidden("Your role does not allow this for this practice.")
        return PracticeAccess(principal, practice)

    return Depends(check)


MspReader = Annotated[Principal, msp_permission(Permission.msp_read)]
MspManager = Annotated[Principal, msp_permission(Permission.msp_manage)]
MspBilling = Annotated[Principal, msp_permission(Permission.msp_billing)]
PracticeReader = Annotated[PracticeAccess, practice_permission(Permission.practice_read)]
PracticeOperator = Annotated[PracticeAccess, practice_permission(Permission.practice_operate)]
PracticeUserManager = Annotated[PracticeAccess, practice_permission(Permission.practice_users)]
PlanApprover = Annotated[PracticeAccess, practice_permission(Permission.plan_approve)]
PlanAcknowledger = Annotated[PracticeAccess, practice_permission(Permission.plan_acknowledge)]
TelemetryInspector = Annotated[Principal, msp_permission(Permission.telemetry_inspect)]
PracticeTelemetryInspector = Annotated[PracticeAccess, practice_permission(Permission.telemetry_inspect)]
TelemetryReplayer = Annotated[PracticeAccess, practice_permission(Permission.telemetry_replay)]


async def rescore_after_write(request: Request, db: DbSession) -> AsyncIterator[None]:
    """After a successful write under /practices/{practice_id}, ask for that practice's readiness to be
    recomputed (in the same transaction), so a fixed plan or inventory shows in minutes, not hours."""
    yield
    practice_id = request.path_params.get("practice_id")
    principal: Principal | None = getattr(request.state, "principal", None)
    if request.method not in SAFE_METHODS and practice_id and principal is not None:
        from services.core.readiness.service import mark_dirty

        await mark_dirty(db, principal.msp_id, uuid.UUID(practice_id))


# Routers whose writes change what readiness is computed from declare this.
RescoresPractice = Depends(rescore_after_write, scope="function")
