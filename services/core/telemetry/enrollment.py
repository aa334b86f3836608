"""Enrollment: a short-lived, single-use token for a site, exchanged by an agent for its credential."""

from __future__ import annotations

import shlex
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import secret_index
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.db import Scope, set_scope
from services.core.errors import Unauthorized
from services.core.practices.models import Site
from services.core.secrets import new_token
from services.core.settings import get_settings
from services.core.telemetry import agents
from services.core.telemetry.models_ingest import EnrollmentToken
from services.core.telemetry.schemas_ingest import EnrolledOut, EnrollmentTokenOut

TOKEN_PREFIX = "swe"
SECRET_KIND = "enrollment"


def install_command(token: str) -> str:
    """A command to paste on the practice machine: install the agent, then enroll it.

    The token goes in an environment variable so it stays out of `ps` and the agent's arguments.
    """
    settings = get_settings()
    package = shlex.quote(settings.agent_package)
    server = shlex.quote(settings.public_url.rstrip("/"))
    return (f"python3 -m venv /opt/seawall-agent && /opt/seawall-agent/bin/pip install {package}"
            f" && SEAWALL_ENROLL_TOKEN={shlex.quote(token)} /opt/seawall-agent/bin/seawall-agent enroll --server {server}")


def _ps_quote(value: str) -> str:
    """A PowerShell single-quoted string: nothing inside is expanded, a quote is doubled."""
    return "'" + value.replace("'", "''") + "'"


def install_command_windows(token: str) -> str:
    """The same for Windows, in PowerShell run as administrator.

    The agent's defaults are POSIX paths, so the command names its config and spool under
    %ProgramData%; the token again travels in an environment variable, removed afterwards.
    """
    settings = get_settings()
    venv = _program_data("venv")
    return (f"py -3 -m venv {venv}; if ($?) {{ & {_program_data('venv', 'Scripts', 'pip.exe')} install {_ps_quote(settings.agent_package)} }};"
            f" if ($?) {{ $env:SEAWALL_ENROLL_TOKEN = {_ps_quote(token)}; & {_program_data('venv', 'Scripts', 'seawall-agent.exe')} enroll"
            f" --server {_ps_quote(settings.public_url.rstrip('/'))} --config {_program_data('config.toml')}"
            f" --state-dir {_program_data('state')}; Remove-Item Env:SEAWALL_ENROLL_TOKEN }}")


def _program_data(*parts: str) -> str:
    # Double quotes so PowerShell expands $env:ProgramData; the parts are our own constants.
    return '"' + "\\".join(("$env:ProgramData", "SeawallAgent", *parts)) + '"'


async def create_token(session: AsyncSession, site: Site, expires_in_minutes: int, actor: Actor) -> EnrollmentTokenOut:
    token = new_token(TOKEN_PREFIX)
    row = EnrollmentToken(msp_id=site.msp_id, practice_id=site.practice_id, site_id=site.id, token_hash=b"",
                          expires_at=utcnow() + timedelta(minutes=expires_in_minutes),
                          created_by=actor.id if actor.type in ("user", "token") else None)
    session.add(row)
    await session.flush()
    row.token_hash = await secret_index.register(session, token, SECRET_KIND, site.msp_id, row.id)
    await session.flush()
    await record(session, msp_id=site.msp_id, actor=actor, action="enrollment_token.created", object_type="enrollment_token",
                 object_id=row.id, practice_id=site.practice_id, changes={"site_id": site.id, "expires_at": row.expires_at})
    return EnrollmentTokenOut(token=token, expires_at=row.expires_at, site_id=site.id, install_command=install_command(token),
                              install_command_windows=install_command_windows(token))


# Single use under concurrency: of two exchanges racing on one token, the second UPDATE waits for
# the first to commit, re-reads used_at, and matches nothing.
_CLAIM = text(
    "UPDATE enrollment_token SET used_at = now() WHERE msp_id = :m AND id = :i AND used_at IS NULL AND expires_at > now()"
    " RETURNING practice_id, site_id, created_by"
)


async def exchange(session: AsyncSession, token: str, hostname: str, agent_version: str, ip: str | None) -> EnrolledOut:
    refused = Unauthorized("The enrollment token is unknown, expired or already used; create a new one in Seawall.")
    entry = await secret_index.lookup(session, token, SECRET_KIND)
    if entry is None:
        raise refused
    await set_scope(session, Scope(entry.tenant))
    claimed = (await session.execute(_CLAIM, {"m": entry.tenant, "i": entry.object_id})).first()
    if claimed is None:
        raise refused
    practice_id, site_id, created_by = claimed
    await secret_index.forget(session, SECRET_KIND, entry.object_id)
    agent, credential = await agents.create_agent(session, entry.tenant, practice_id, site_id, hostname=hostname,
                                                  agent_version=agent_version, enrolled_by=created_by)
    await record(session, msp_id=entry.tenant, actor=Actor("agent", agent.id, f"agent:{agent.id}", ip), action="agent.enrolled",
                 object_type="agent", object_id=agent.id, practice_id=practice_id,
                 changes={"site_id": site_id, "hostname": hostname, "agent_version": agent_version,
                          "enrollment_token_id": entry.object_id})
    config = await agents.config_of(session, agent)
    return EnrolledOut(credential=credential, **config.model_dump())

