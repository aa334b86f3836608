"""Agents: enrollment tokens, the enrollment exchange, the agent's own configuration, and the
people-facing list, rotation and revocation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from services.api.deps import AgentCaller, DbSession, MspReader, PracticeOperator, PracticeReader, client_ip
from services.core import ratelimit
from services.core.practices import service as practices
from services.core.settings import get_settings
from services.core.telemetry import agents, enrollment
from services.core.telemetry.schemas_ingest import (
    AgentConfigOut,
    AgentOut,
    EnrolledOut,
    EnrollIn,
    EnrollmentTokenIn,
    EnrollmentTokenOut,
    RotatedOut,
)

router = APIRouter(tags=["agents"])


@router.post("/api/v1/practices/{practice_id}/sites/{site_id}/enrollment-tokens", operation_id="create_enrollment_token",
             response_model=EnrollmentTokenOut, status_code=201)
async def create_enrollment_token(site_id: uuid.UUID, access: PracticeOperator, db: DbSession,
                                  body: EnrollmentTokenIn | None = None) -> EnrollmentTokenOut:
    """Create a single-use enrollment token for a site (shown once) and the command that installs and enrolls an agent."""
    site = await practices.get_site(db, access.practice, site_id)
    return await enrollment.create_token(db, site, (body or EnrollmentTokenIn()).expires_in_minutes, access.actor)


@router.post("/api/v1/agents/enroll", operation_id="enroll_agent", response_model=EnrolledOut, status_code=201)
async def enroll_agent(body: EnrollIn, request: Request, db: DbSession) -> EnrolledOut:
    """Exchange an enrollment token for the agent's own credential (shown once) and its configuration."""
    ip = client_ip(request)
    # Tokens carry 256 random bits; the limit only keeps guessers from loading the database.
    await ratelimit.hit(get_settings().login_rate_limit, "enroll", ip or "")
    return await enrollment.exchange(db, body.token, body.hostname, body.agent_version, ip)


@router.get("/api/v1/agents/me", operation_id="get_agent_config", response_model=AgentConfigOut)
async def get_agent_config(agent: AgentCaller, db: DbSession) -> AgentConfigOut:
    """The calling agent's configuration: its site's links and backup jobs, and the systems those jobs protect."""
    row = await agents.get_agent(db, agent.msp_id, agent.practice_id, agent.agent_id)  # type: ignore[arg-type]
    return await agents.config_of(db, row)


@router.get("/api/v1/agents", operation_id="list_agents", response_model=list[AgentOut])
async def list_agents(principal: MspReader, db: DbSession) -> list:
    """Every agent of the practices the caller can see."""
    return await agents.with_liveness(db, principal.msp_id, await agents.list_agents(db, principal.msp_id,
                                                                                    principal.visible_practices))


@router.get("/api/v1/practices/{practice_id}/agents", operation_id="list_practice_agents", response_model=list[AgentOut])
async def list_practice_agents(access: PracticeReader, db: DbSession) -> list:
    """The practice's agents."""
    return await agents.with_liveness(db, access.msp_id, await agents.list_agents(db, access.msp_id,
                                                                                 practice_id=access.practice_id))


@router.post("/api/v1/practices/{practice_id}/agents/{agent_id}/rotate", operation_id="rotate_agent_credential",
             response_model=RotatedOut)
async def rotate_agent_credential(agent_id: uuid.UUID, access: PracticeOperator, db: DbSession) -> RotatedOut:
    """Issue a new agent credential (shown once); the old one keeps working for the overlap window."""
    agent = await agents.get_agent(db, access.msp_id, access.practice_id, agent_id)
    credential = await agents.rotate_credential(db, agent, access.actor)
    return RotatedOut(agent_id=agent.id, credential=credential, previous_valid_until=agent.previous_valid_until)


@router.post("/api/v1/practices/{practice_id}/agents/{agent_id}/revoke", operation_id="revoke_agent", response_model=AgentOut)
async def revoke_agent(agent_id: uuid.UUID, access: PracticeOperator, db: DbSession):
    """Revoke an agent: its next request is refused."""
    agent = await agents.get_agent(db, access.msp_id, access.practice_id, agent_id)
    return await agents.revoke(db, agent, access.actor)
