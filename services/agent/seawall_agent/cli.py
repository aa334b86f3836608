"""The `seawall-agent` command line.

Every command that creates an event writes it to the spool first and then tries to deliver
the spool; if Seawall cannot be reached the event waits on disk and the command still
succeeds (the daemon or the next command delivers it).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from seawall_agent import __version__, events
from seawall_agent.client import EnrollError, SeawallClient, ServerError, enroll
from seawall_agent.config import (
    AgentConfig,
    ConfigError,
    config_from_server,
    default_state_dir,
    load_config,
    resolve_config_path,
    write_config,
)
from seawall_agent.daemon import run_daemon
from seawall_agent.delivery import Delivery, FlushResult
from seawall_agent.files import ensure_private_dir
from seawall_agent.links import probe_links
from seawall_agent.restic import is_restic
from seawall_agent.runner import backup_run_event, run_command
from seawall_agent.spool import Spool

log = logging.getLogger("seawall_agent")

EX_USAGE = 2
EX_TEMPFAIL = 75  # sysexits: "try again later" — events are safe in the spool


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Not set_defaults(): argparse shares option objects with the parent parser, so a default
    # set on the main parser would overwrite a --config given before the command.
    _setup_logging(getattr(args, "verbose", False))
    config_path = resolve_config_path(getattr(args, "config", None))
    try:
        if args.command == "enroll":
            return cmd_enroll(args, config_path)
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            if args.command == "run":
                # A broken agent must never stop the practice's backup from running.
                log.error("%s; the backup runs, but will NOT be reported to Seawall", exc)
                return _run_unreported(args)
            raise
        ensure_private_dir(config.state_dir)
        handler = {
            "heartbeat": cmd_heartbeat,
            "probe": cmd_probe,
            "run": cmd_run,
            "daemon": cmd_daemon,
            "flush": cmd_flush,
            "refresh": cmd_refresh,
            "status": cmd_status,
        }[args.command]
        return handler(args, config, config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        return 1
    except PermissionError as exc:
        log.error("%s: permission denied (run as the agent's user, or root)", exc.filename)
        return 1


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # Accepted before or after the command; SUPPRESS keeps a later default from erasing it.
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="config file (default: $SEAWALL_AGENT_CONFIG or /etc/seawall-agent/config.toml)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)

    parser = argparse.ArgumentParser(prog="seawall-agent", parents=[common],
                                     description="Seawall reference agent")
    parser.add_argument("--version", action="version", version=f"seawall-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    enroll_cmd = commands.add_parser("enroll", parents=[common],
                                     help="exchange an enrollment token and write the config")
    enroll_cmd.add_argument("--server", required=True, help="Seawall URL, e.g. https://seawall.example.com")
    enroll_cmd.add_argument("--token", default=os.environ.get("SEAWALL_ENROLL_TOKEN"),
                            help="enrollment token swe_… (or $SEAWALL_ENROLL_TOKEN, which stays out of `ps`)")
    enroll_cmd.add_argument("--state-dir", help="spool directory (default /var/lib/seawall-agent)")
    enroll_cmd.add_argument("--allow-http", action="store_true",
                            help="allow a plain-http server that is not on this machine (testing only)")

    commands.add_parser("heartbeat", parents=[common], help="send one heartbeat")
    commands.add_parser("probe", parents=[common], help="probe every configured link once")
    run_cmd = commands.add_parser("run", parents=[common], help="run a backup command and report it",
                                  usage="seawall-agent run --job NAME [--tool restic] -- COMMAND [ARG …]")
    run_cmd.add_argument("--job", required=True, help="backup job name (or id) as configured in Seawall")
    run_cmd.add_argument("--tool", choices=["restic", "generic"], help="how to read the command's output")
    run_cmd.add_argument("argv", nargs=argparse.REMAINDER, help="the command, after --")
    commands.add_parser("daemon", parents=[common], help="heartbeats, probes and spool replay, forever")
    commands.add_parser("flush", parents=[common], help="deliver the spool now (exit 75 if events remain)")
    commands.add_parser("refresh", parents=[common], help="reload links and jobs from the server")
    commands.add_parser("status", parents=[common], help="show configuration and spool state")
    return parser


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="seawall-agent: %(levelname)s %(message)s")
    # httpx logs one line per request at INFO; the agent reports outcomes itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


# --- commands --------------------------------------------------------------------------------

def cmd_enroll(args: argparse.Namespace, config_path: Path) -> int:
    server = args.server.rstrip("/")
    problem = _server_url_problem(server, args.allow_http)
    if problem:
        log.error("--server: %s", problem)
        return EX_USAGE
    token = args.token or ""
    if not token.startswith("swe_"):
        log.error("--token: expected an enrollment token starting with swe_ (create one in Seawall for this site)")
        return EX_USAGE
    previous = None
    if config_path.exists():
        try:
            previous = load_config(config_path)
        except ConfigError as exc:
            log.warning("existing config ignored: %s", exc)
    try:
        answer = enroll(server, token)
    except EnrollError as exc:
        log.error("%s", exc)
        return 1
    state_dir = Path(args.state_dir) if args.state_dir else (
        previous.state_dir if previous else default_state_dir(config_path))
    config = config_from_server(server, answer, state_dir, answer["credential"], previous)
    write_config(config_path, config)
    ensure_private_dir(state_dir)
    log.info("enrolled as agent %s (site %s); config written to %s (mode 0600)",
             config.agent_id, config.site_id, config_path)
    unprobed = [link.name for link in config.links if not link.probe]
    if unprobed:
        log.info("set `probe` (and `source` or `interface`) for these links in the config: %s",
                 ", ".join(unprobed))
    return 0


def cmd_heartbeat(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    spool = Spool(config.state_dir)
    spool.append(events.heartbeat())
    _deliver(config, spool)
    return 0


def cmd_probe(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    if not config.links:
        log.warning("no links in the config; nothing to probe")
        return 0
    reports = probe_links(config)
    for report in reports:
        print(report.describe())
    samples = [event for report in reports if (event := report.event())]
    spool = Spool(config.state_dir)
    if samples:
        spool.append(*samples)
    _deliver(config, spool)
    return 0


def cmd_run(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    argv = _wrapped_argv(args)
    if not argv:
        return EX_USAGE
    job = config.find_job(args.job)
    if job is None:
        log.warning("job %r is not in the config; reporting it by name", args.job)
    tool = args.tool or (job.tool if job else None)
    outcome = run_command(argv, parse_restic=is_restic(argv, tool))
    event = backup_run_event(job.ref if job else args.job, outcome)
    log.info("job %s: %s (exit %d) in %.1fs", args.job, event["status"], outcome.exit_code,
             outcome.duration_seconds)
    try:
        spool = Spool(config.state_dir)
        spool.append(event)
        _deliver(config, spool)
    except Exception:
        # Whatever went wrong with reporting (disk full, a bug), the caller must still see
        # the backup's own exit code, not ours.
        log.exception("the backup ran but its report could not be recorded")
    return outcome.exit_code  # whatever called us (cron, systemd) sees the backup's own result


def _run_unreported(args: argparse.Namespace) -> int:
    argv = _wrapped_argv(args)
    if not argv:
        return EX_USAGE
    return run_command(argv, parse_restic=False).exit_code


def _wrapped_argv(args: argparse.Namespace) -> list[str]:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        log.error("run: give the command after --, e.g. seawall-agent run --job nightly -- restic backup …")
    return argv


def cmd_daemon(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with SeawallClient(config.server, config.credential) as client:
        run_daemon(config, Delivery(Spool(config.state_dir), client), stop)
    return 0


def cmd_flush(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    # An operator asking to flush (network just fixed) should not wait out our backoff.
    result = _deliver(config, Spool(config.state_dir), lock_wait_seconds=60.0, skip_backoff=True)
    return 0 if result.pending == 0 else EX_TEMPFAIL


def cmd_refresh(args: argparse.Namespace, config: AgentConfig, config_path: Path) -> int:
    try:
        with SeawallClient(config.server, config.credential) as client:
            answer = client.me()
    except ServerError as exc:
        log.error("refresh failed: %s", exc)
        return 1
    updated = config_from_server(config.server, answer, config.state_dir, config.credential, config)
    write_config(config_path, updated)
    log.info("config refreshed: %d link(s), %d job(s)", len(updated.links), len(updated.jobs))
    return 0


def cmd_status(args: argparse.Namespace, config: AgentConfig, config_path: Path) -> int:
    spool = Spool(config.state_dir)
    print(f"config:     {config_path}")
    print(f"server:     {config.server}")
    print(f"agent:      {config.agent_id or '-'}  practice {config.practice_id or '-'}  site {config.site_id or '-'}")
    for link in config.links:
        via = link.source or link.interface or "default route"
        print(f"link:       {link.name} [{link.role or '-'}] probe={link.probe or 'none'} via {via}")
    for job in config.jobs:
        print(f"job:        {job.name} ({job.tool or 'generic'})")
    print(f"spooled:    {spool.pending()} event(s) in {spool.path}")
    print(f"rejected:   {len(spool.rejected())} event(s) in {spool.rejected_path}")
    return 0


# --- helpers ---------------------------------------------------------------------------------

def _deliver(config: AgentConfig, spool: Spool, lock_wait_seconds: float = 10.0,
             skip_backoff: bool = False) -> FlushResult:
    with SeawallClient(config.server, config.credential) as client:
        result = Delivery(spool, client, lock_wait_seconds=lock_wait_seconds).flush(skip_backoff=skip_backoff)
    if result.busy:
        log.info("another agent process is delivering; %d event(s) spooled", result.pending)
    elif result.pending:
        when = ""
        if result.retry_at:
            when = f"; next attempt after {datetime.fromtimestamp(result.retry_at, UTC):%H:%M:%S} UTC"
        log.warning("%d event(s) spooled in %s%s%s", result.pending, spool.path,
                    f" ({result.error})" if result.error else "", when)
    else:
        log.debug("delivered %d event(s)", result.delivered)
    if result.rejected:
        log.error("%d event(s) rejected by the server; see %s", result.rejected, spool.rejected_path)
    return result


def _server_url_problem(server: str, allow_http: bool) -> str | None:
    parts = urllib.parse.urlsplit(server)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{server!r} is not an http(s) URL"
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        # The credential would cross the network in clear text.
        return "refusing plain http to a remote server (use https, or --allow-http for a lab)"
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
