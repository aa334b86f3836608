"""End-to-end fixtures: the real API on a real socket, and the reference agent as a real process.

`live_server` serves the API (uvicorn in a thread, the test database, the application role) on a
free 127.0.0.1 port for the whole session; reuse it in any test that needs real HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.core.audit.service import SYSTEM
from services.core.db import Database, Scope
from services.core.practices.models import Site
from services.core.telemetry import enrollment
from tests import live_server as live

AGENT = Path(sys.executable).with_name("seawall-agent")


@pytest.fixture(scope="session")
def live_server(database_urls):
    """The API on http://127.0.0.1:<port>, backed by this session's test database."""
    server = live.start(database_urls[1])
    yield server
    server.stop()


@dataclass
class AgentProcess:
    """The reference agent, run as a subprocess with its own config and spool."""

    config: Path

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(AGENT), "--config", str(self.config), *args], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})

    def set_server(self, url: str) -> None:
        lines = self.config.read_text().splitlines()
        self.config.write_text("\n".join(f'server = "{url}"' if line.startswith("server =") else line for line in lines) + "\n")


async def enroll_agent(db: Database, site: Site, server_url: str, directory: Path) -> AgentProcess:
    """Enroll a real seawall-agent through the real API with a fresh enrollment token."""
    async with db.transaction(Scope(site.msp_id)) as s:
        token = (await enrollment.create_token(s, site, 10, SYSTEM)).token
    agent = AgentProcess(directory / "agent.toml")
    done = agent.run("enroll", "--server", server_url, env={"SEAWALL_ENROLL_TOKEN": token})
    assert done.returncode == 0, done.stdout + done.stderr
    return agent
