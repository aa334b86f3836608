"""The agent's configuration file: where it lives, how it is read and how enroll writes it.

The file holds the agent credential, so it is always written with mode 0600 and the
credential never appears in a repr, a log line or an error message.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from seawall_agent.files import atomic_write
from seawall_agent.probes import ProbeSpecError, parse_probe_spec

log = logging.getLogger(__name__)

CONFIG_ENV = "SEAWALL_AGENT_CONFIG"
DEFAULT_CONFIG_PATH = Path("/etc/seawall-agent/config.toml")
DEFAULT_STATE_DIR = Path("/var/lib/seawall-agent")


class ConfigError(Exception):
    """The configuration file is missing or wrong; the message names the file and field."""


@dataclass(frozen=True)
class LinkConfig:
    """An internet link of the site, and how this agent probes through it."""

    name: str
    id: str | None = None
    role: str | None = None
    probe: str | None = None  # "tcp:1.1.1.1:443", "icmp:9.9.9.9" or "https://…"
    source: str | None = None  # local address bound to this link
    interface: str | None = None  # or the interface that carries it, e.g. "wwan0"

    @property
    def ref(self) -> str:
        """How events name the link: by id when enrollment gave one, else by name."""
        return self.id or self.name


@dataclass(frozen=True)
class JobConfig:
    """A backup job this agent reports runs for."""

    name: str
    id: str | None = None
    tool: str | None = None

    @property
    def ref(self) -> str:
        return self.id or self.name


@dataclass(frozen=True)
class AgentConfig:
    server: str
    credential: str = field(repr=False)
    state_dir: Path = DEFAULT_STATE_DIR
    agent_id: str | None = None
    msp_id: str | None = None
    practice_id: str | None = None
    site_id: str | None = None
    heartbeat_interval_seconds: int = 60
    probe_interval_seconds: int = 60
    probe_attempts: int = 5
    probe_timeout_seconds: float = 2.0
    links: tuple[LinkConfig, ...] = ()
    jobs: tuple[JobConfig, ...] = ()

    def find_job(self, name: str) -> JobConfig | None:
        return next((job for job in self.jobs if name in (job.name, job.id)), None)


def resolve_config_path(cli_value: str | os.PathLike[str] | None) -> Path:
    """--config wins over $SEAWALL_AGENT_CONFIG, which wins over /etc/seawall-agent/config.toml."""
    if cli_value:
        return Path(cli_value)
    if env_value := os.environ.get(CONFIG_ENV):
        return Path(env_value)
    return DEFAULT_CONFIG_PATH


def default_state_dir(config_path: Path) -> Path:
    """/var/lib/seawall-agent for the system install; next to the config file otherwise,
    so an unprivileged install (or a test) never needs write access to /var/lib."""
    if config_path == DEFAULT_CONFIG_PATH:
        return DEFAULT_STATE_DIR
    return config_path.parent / "state"


def load_config(path: Path) -> AgentConfig:
    try:
        with path.open("rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; run `seawall-agent enroll` first") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users; it holds the agent credential (chmod 600)", path)
    return _parse(path, data)


def _parse(path: Path, data: Mapping[str, Any]) -> AgentConfig:
    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{path}: {key}: {message}")

    def text(table: Mapping[str, Any], key: str, where: str, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise fail(where + key, "is required")
            return None
        if not isinstance(value, str) or not value:
            raise fail(where + key, "must be a non-empty string")
        return value

    def number(key: str, default: float, kind: type) -> Any:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise fail(key, "must be a positive number")
        if kind is int and not isinstance(value, int):
            raise fail(key, "must be a whole number")
        return kind(value)

    server = text(data, "server", "", required=True)
    assert server is not None
    if not server.startswith(("https://", "http://")):
        raise fail("server", "must be an http(s) URL")
    credential = text(data, "credential", "", required=True)
    assert credential is not None

    links = []
    for i, raw in enumerate(_tables(data, "links", path)):
        where = f"links[{i}]."
        link = LinkConfig(
            name=text(raw, "name", where, required=True) or "",
            id=text(raw, "id", where),
            role=text(raw, "role", where),
            probe=text(raw, "probe", where),
            source=text(raw, "source", where),
            interface=text(raw, "interface", where),
        )
        if link.probe is not None:
            try:
                parse_probe_spec(link.probe)
            except ProbeSpecError as exc:
                raise fail(where + "probe", str(exc)) from None
        if link.source and link.interface:
            raise fail(where + "source", "give either source or interface, not both")
        links.append(link)

    jobs = [
        JobConfig(
            name=text(raw, "name", f"jobs[{i}].", required=True) or "",
            id=text(raw, "id", f"jobs[{i}]."),
            tool=text(raw, "tool", f"jobs[{i}]."),
        )
        for i, raw in enumerate(_tables(data, "jobs", path))
    ]

    state_dir = text(data, "state_dir", "")
    return AgentConfig(
        server=server.rstrip("/"),
        credential=credential,
        state_dir=Path(state_dir) if state_dir else default_state_dir(path),
        agent_id=text(data, "agent_id", ""),
        msp_id=text(data, "msp_id", ""),
        practice_id=text(data, "practice_id", ""),
        site_id=text(data, "site_id", ""),
        heartbeat_interval_seconds=_at_most_a_day(number("heartbeat_interval_seconds", 60, int), "heartbeat_interval_seconds",
                                                  fail),
        probe_interval_seconds=_at_most_a_day(number("probe_interval_seconds", 60, int), "probe_interval_seconds", fail),
        probe_attempts=number("probe_attempts", 5, int),
        probe_timeout_seconds=number("probe_timeout_seconds", 2.0, float),
        links=tuple(links),
        jobs=tuple(jobs),
    )


# What Seawall accepts in a heartbeat for either interval (docs/api/agent-protocol.md): a config
# past it would have every heartbeat refused.
MAX_INTERVAL_SECONDS = 86_400


def _at_most_a_day(value: int, key: str, fail: Callable[[str, str], ConfigError]) -> int:
    if value > MAX_INTERVAL_SECONDS:
        raise fail(key, "must be at most 86400 (a day)")
    return value


def _tables(data: Mapping[str, Any], key: str, path: Path) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{path}: {key}: must be an array of tables ([[{key}]])")
    return value


def config_from_server(
    server: str,
    payload: Mapping[str, Any],
    state_dir: Path,
    credential: str,
    previous: AgentConfig | None = None,
) -> AgentConfig:
    """Build the config from an enroll (or agents/me) answer.

    The server knows links and jobs but not how this machine reaches each link, so probe,
    source and interface set by hand in a previous config are kept (matched by id, then name).
    """

    def as_str(value: Any) -> str | None:
        return None if value is None else str(value)

    old_links = {link.id or link.name: link for link in previous.links} if previous else {}
    old_by_name = {link.name: link for link in previous.links} if previous else {}
    links = []
    for raw in payload.get("links") or []:
        link = LinkConfig(name=str(raw["name"]), id=as_str(raw.get("id")), role=as_str(raw.get("role")))
        old = old_links.get(link.id or link.name) or old_by_name.get(link.name)
        if old:
            link = replace(link, probe=old.probe, source=old.source, interface=old.interface)
        links.append(link)
    jobs = tuple(
        JobConfig(name=str(raw["name"]), id=as_str(raw.get("id")), tool=as_str(raw.get("tool")))
        for raw in payload.get("jobs") or []
    )
    base = previous or AgentConfig(server=server, credential=credential)
    return replace(
        base,
        server=server.rstrip("/"),
        credential=credential,
        state_dir=state_dir,
        agent_id=as_str(payload.get("agent_id")) or base.agent_id,
        msp_id=as_str(payload.get("msp_id")),
        practice_id=as_str(payload.get("practice_id")),
        site_id=as_str(payload.get("site_id")),
        # The interval is this machine's setting once it has a config (each heartbeat tells Seawall
        # which one it uses); the server's answer only seeds a first config.
        heartbeat_interval_seconds=(previous.heartbeat_interval_seconds if previous else
                                    int(payload.get("heartbeat_interval_seconds") or base.heartbeat_interval_seconds)),
        links=tuple(links),
        jobs=jobs,
    )


def write_config(path: Path, config: AgentConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, render_config(config).encode(), mode=0o600)


def render_config(config: AgentConfig) -> str:
    lines = [
        "# Seawall agent configuration, written by `seawall-agent enroll`.",
        "# The credential is secret: keep this file mode 0600.",
        "# Per link you may add probe = \"tcp:HOST:PORT\" | \"icmp:HOST\" | \"https://URL\"",
        "# and source = \"<local address on that link>\" or interface = \"<interface name>\".",
    ]
    top: dict[str, Any] = {
        "server": config.server,
        "credential": config.credential,
        "agent_id": config.agent_id,
        "msp_id": config.msp_id,
        "practice_id": config.practice_id,
        "site_id": config.site_id,
        "state_dir": str(config.state_dir),
        "heartbeat_interval_seconds": config.heartbeat_interval_seconds,
        "probe_interval_seconds": config.probe_interval_seconds,
        "probe_attempts": config.probe_attempts,
        "probe_timeout_seconds": config.probe_timeout_seconds,
    }
    lines += _render_table(top)
    for link in config.links:
        lines += ["", "[[links]]"]
        lines += _render_table(
            {"id": link.id, "name": link.name, "role": link.role, "probe": link.probe,
             "source": link.source, "interface": link.interface}
        )
    for job in config.jobs:
        lines += ["", "[[jobs]]"]
        lines += _render_table({"id": job.id, "name": job.name, "tool": job.tool})
    return "\n".join(lines) + "\n"


def _render_table(values: Mapping[str, Any]) -> list[str]:
    # TOML has no null: an absent value is simply left out.
    return [f"{key} = {toml_value(value)}" for key, value in values.items() if value is not None]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    raise TypeError(f"cannot write {type(value).__name__} to the config file")


def toml_string(value: str) -> str:
    escaped = []
    for char in value:
        if char == '"':
            escaped.append('\\"')
        elif char == "\\":
            escaped.append("\\\\")
        elif char < " " or char == "\x7f":  # TOML forbids raw control characters
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
