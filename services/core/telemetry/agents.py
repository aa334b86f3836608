"""Agents: who they are, their configuration, credential rotation with overlap, and revocation."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import secret_index
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.db import Scope, set_scope
from services.core.errors import Conflict, NotFound
from services.core.secret_index import SecretIndex
from services.core.secrets import hash_token, new_token, tokens_equal
from services.core.settings import get_settings
from services.core.telemetry.models_ingest import Agent
from services.core.telemetry import liveness
from services.core.telemetry.schemas_ingest import AgentConfigOut, AgentOut, JobRef, LinkRef, SystemRef
from services.core.telemetry.site_scope import JOBS_OF_SITE, LINKS_OF_SITE, SYSTEMS_OF_SITE

CREDENTIAL_PREFIX = "swa"
SECRET_KIND = "agent"


def credential_matches(agent: Agent, presented_hash: bytes) -> bool:
    """The current credential, or the previous one inside its overlap window (constant-time compares)."""
    if agent.revoked_at is not None:
        return False
    current = tokens_equal(agent.credential_hash, presented_hash)
    previous = (agent.previous_credential_hash is not None and agent.previous_valid_until is not None
                and tokens_equal(agent.previous_credential_hash, presented_hash) and agent.previous_valid_until > utcnow())
    return current or previous


async def authenticate(session: AsyncSession, credential: str) -> Agent | None:
    """The agent presenting this credential, with the transaction scoped to its practice; None if refused."""
    entry = await secret_index.lookup(session, credential, SECRET_KIND)
    if entry is None:
        return None
    # Read the agent's practice with the MSP's scope, then narrow the transaction to that practice.
    await set_scope(session, Scope(entry.tenant))
    practice_id = await session.scalar(select(Agent.practice_id).where(Agent.msp_id == entry.tenant, Agent.id == entry.object_id))
    if practice_id is None:
        return None
    await set_scope(session, Scope(entry.tenant, frozenset({practice_id})))
    agent = await session.scalar(select(Agent).where(Agent.msp_id == entry.tenant, Agent.id == entry.object_id))
    if agent is None or not credential_matches(agent, hash_token(credential)):
        return None
    return agent


async def config_of(session: AsyncSession, agent: Agent) -> AgentConfigOut:
    """What the agent may report on: exactly what ingest accepts from it (site_scope.py)."""
    at = {"m": agent.msp_id, "p": agent.practice_id, "s": agent.site_id}
    links = (await session.execute(text(LINKS_OF_SITE + " ORDER BY l.name"), at)).all()
    jobs = (await session.execute(text(JOBS_OF_SITE + " ORDER BY j.name"), at)).all()
    systems = (await session.execute(text(SYSTEMS_OF_SITE + " ORDER BY y.name"), at)).all()
    return AgentConfigOut(
        agent_id=agent.id, msp_id=agent.msp_id, practice_id=agent.practice_id, site_id=agent.site_id,
        heartbeat_interval_seconds=agent.heartbeat_interval_seconds,
        probe_interval_seconds=agent.probe_interval_seconds,
        links=[LinkRef(id=x.id, name=x.name, role=x.role) for x in links],
        jobs=[JobRef(id=x.id, name=x.name, tool=x.tool) for x in jobs],
        systems=[SystemRef(id=x.id, name=x.name) for x in systems],
    )


async def list_agents(session: AsyncSession, msp_id: uuid.UUID, practice_ids: frozenset[uuid.UUID] | None = None,
                      practice_id: uuid.UUID | None = None) -> list[Agent]:
    q = select(Agent).where(Agent.msp_id == msp_id)
    if practice_id is not None:
        q = q.where(Agent.practice_id == practice_id)
    if practice_ids is not None:
        q = q.where(Agent.practice_id.in_(practice_ids))
    return list(await session.scalars(q.order_by(Agent.created_at)))


async def with_liveness(session: AsyncSession, msp_id: uuid.UUID, rows: list[Agent]) -> list[AgentOut]:
    """The agents as the API shows them, each with `silent` by the one definition (liveness.py)."""
    from services.core.alerts.liveness import graces  # the grace is an alert-policy setting

    if not rows:  # no policy read when there is nothing to judge
        return []
    now = utcnow()
    grace = await graces(session, msp_id, {a.practice_id for a in rows})
    out = []
    for a in rows:
        item = AgentOut.model_validate(a)
        item.silent = a.revoked_at is None and liveness.is_silent(a.last_seen_at, a.created_at, a.heartbeat_interval_seconds,
                                                                  grace(a.practice_id, a.site_id), now)
        out.append(item)
    return out


async def get_agent(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    agent = await session.scalar(select(Agent).where(Agent.msp_id == msp_id, Agent.practice_id == practice_id, Agent.id == agent_id))
    if agent is None:
        raise NotFound("No such agent in this practice.")
    return agent


async def create_agent(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, site_id: uuid.UUID, *,
                       hostname: str, agent_version: str, enrolled_by: uuid.UUID | None) -> tuple[Agent, str]:
    credential = new_token(CREDENTIAL_PREFIX)
    agent = Agent(msp_id=msp_id, practice_id=practice_id, site_id=site_id, hostname=hostname, agent_version=agent_version,
                  credential_hash=b"", enrolled_by=enrolled_by,
                  heartbeat_interval_seconds=liveness.DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
                  probe_interval_seconds=liveness.DEFAULT_PROBE_INTERVAL_SECONDS)
    session.add(agent)
    await session.flush()
    agent.credential_hash = await secret_index.register(session, credential, SECRET_KIND, msp_id, agent.id)
    await session.flush()
    return agent, credential


async def rotate_credential(session: AsyncSession, agent: Agent, actor: Actor) -> str:
    """A new credential; the current one stays valid for the overlap window, any older one stops now."""
    if agent.revoked_at is not None:
        raise Conflict("This agent is revoked; enroll a new agent instead.")
    credential = new_token(CREDENTIAL_PREFIX)
    overlap = timedelta(hours=get_settings().agent_credential_overlap_hours)
    keep = agent.credential_hash
    await session.execute(delete(SecretIndex).where(SecretIndex.kind == SECRET_KIND, SecretIndex.object_id == agent.id,
                                                    SecretIndex.token_hash != keep))
    agent.previous_credential_hash = keep
    agent.previous_valid_until = utcnow() + overlap
    agent.credential_hash = await secret_index.register(session, credential, SECRET_KIND, agent.msp_id, agent.id)
    await session.flush()
    await record(session, msp_id=agent.msp_id, actor=actor, action="agent.credential_rotated", object_type="agent",
                 object_id=agent.id, practice_id=agent.practice_id,
                 changes={"previous_valid_until": agent.previous_valid_until})
    return credential


async def revoke(session: AsyncSession, agent: Agent, actor: Actor) -> Agent:
    """Revoked agents are refused from their next request on, whatever they present."""
    if agent.revoked_at is None:
        agent.revoked_at = utcnow()
        await secret_index.forget(session, SECRET_KIND, agent.id)
        await session.flush()
        await record(session, msp_id=agent.msp_id, actor=actor, action="agent.revoked", object_type="agent",
                     object_id=agent.id, practice_id=agent.practice_id, changes={"hostname": agent.hostname})
    return agent
