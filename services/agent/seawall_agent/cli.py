"""The `seawall-agent` command line.

Every command that creates an event writes it to the spool first and then tries to deliver
the spool; if Seawall cannot be reached the event waits on disk and the command still
succeeds (the daemon or the next command delivers it). If Seawall refuses the event, or the
agent's credential, the command says so on stderr and exits non-zero (outcome.py).
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

from seawall_agent import __version__, events, outcome
from seawall_agent.backup_report import report_run, resolve_job, say_how_it_ran
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
from seawall_agent.delivery import Delivery, FlushResult, forget_backoff, reason
from seawall_agent.files import check_writable, ensure_private_dir
from seawall_agent.links import probe_links
from seawall_agent.outcome import EX_CONFIG, EX_FAILED, EX_IOERR, EX_OK, EX_USAGE
from seawall_agent.restic import is_restic
from seawall_agent.runner import backup_run_event, run_command
from seawall_agent.spool import Spool

log = logging.getLogger("seawall_agent")

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
        try:
            ensure_private_dir(config.state_dir)
        except OSError as exc:
            if args.command != "run":
                raise
            # The same rule as a broken config: the backup still runs, unreported (exit 74 after it).
            log.error("%s: %s; the backup runs, but will NOT be reported to Seawall", exc.filename or config.state_dir,
                      exc.strerror or exc)
            return _run_unreported(args, EX_IOERR)
        handler = {
            "heartbeat": cmd_heartbeat,
            "probe": cmd_probe,
            "run": cmd_run,
            "daemon": cmd_daemon,
            "flush": cmd_flush,
            "resend": cmd_resend,
            "refresh": cmd_refresh,
            "status": cmd_status,
        }[args.command]
        return handler(args, config, config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        return EX_CONFIG
    except PermissionError as exc:
        log.error("%s: permission denied (run as the agent's user, or root)", exc.filename)
        return EX_IOERR
    except OSError as exc:
        # Disk full, read-only state directory: an event that was never stored is lost.
        log.error("%s: %s", exc.filename or "the state directory", exc.strerror or exc)
        return EX_IOERR


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
    resend_cmd = commands.add_parser("resend", parents=[common],
                                     help="send the events Seawall refused again, once what it named is fixed")
    resend_cmd.add_argument("--job", action="append", default=[], metavar="OLD=NEW",
                            help="report the refused runs of job OLD as runs of job NEW (repeatable)")
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
    state_dir = Path(args.state_dir) if args.state_dir else (
        previous.state_dir if previous else default_state_dir(config_path))
    try:
        # The token is single-use and the credential is shown once: a config that cannot be
        # written afterwards would waste both, so find out before spending the token.
        check_writable(config_path.parent)
        check_writable(state_dir)
    except OSError as exc:
        log.error("%s: %s; the enrollment token was not used (run as root, or choose --config and --state-dir)",
                  exc.filename, exc.strerror or exc)
        return EX_IOERR
    try:
        answer = enroll(server, token)
    except EnrollError as exc:
        log.error("%s", exc)
        # 401 here is the token refused (used, expired), not a credential: it is a refusal (1).
        return EX_FAILED if exc.status == 401 else outcome.for_answer(exc.status)
    config = config_from_server(server, answer, state_dir, answer["credential"], previous)
    write_config(config_path, config)
    forget_backoff(state_dir)
    log.info("enrolled as agent %s (site %s); config written to %s (mode 0600)",
             config.agent_id, config.site_id, config_path)
    unprobed = [link.name for link in config.links if not link.probe]
    if unprobed:
        log.info("set `probe` (and `source` or `interface`) for these links in the config: %s",
                 ", ".join(unprobed))
    return 0


def cmd_heartbeat(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    spool = Spool(config.state_dir)
    event = events.heartbeat(config.heartbeat_interval_seconds, config.probe_interval_seconds)
    spool.append(event)
    return outcome.for_own_events([event["id"]], _deliver(config, spool))


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
    code = outcome.for_own_events([event["id"] for event in samples], _deliver(config, spool))
    # A probe that is configured but cannot run (no ping binary, say) is a setup mistake, not
    # an outage: no sample is sent, so the exit code is what tells the person setting it up.
    unavailable = [report for report in reports if report.link.probe and report.result is None]
    for report in unavailable:
        log.error("%s", report.describe())
    return code or (EX_CONFIG if unavailable else EX_OK)


def cmd_run(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    argv = _wrapped_argv(args)
    if not argv:
        return EX_USAGE
    # An unknown --job is only warned about here, never refused: a backup that runs unreported
    # is better than none (docs/decisions/0008-agent-exit-codes-and-restic-output.md).
    job, known_jobs = resolve_job(config, args.job)
    tool = args.tool or (job.tool if job else None)
    parse_restic = is_restic(argv, tool)
    ran = run_command(argv, parse_restic=parse_restic)
    event = backup_run_event(job.ref if job else args.job, ran)
    say_how_it_ran(args.job, event, ran, parse_restic)
    code = outcome.for_run(ran.exit_code, report_run(config, event, known_jobs, _deliver))
    if code != ran.exit_code:
        log.error("the backup succeeded, but Seawall has not taken its report: exit %d", code)
    return code


def _run_unreported(args: argparse.Namespace, why: int = EX_CONFIG) -> int:
    argv = _wrapped_argv(args)
    if not argv:
        return EX_USAGE
    code = run_command(argv, parse_restic=False).exit_code
    # Nothing was reported: a backup that succeeded must still not look fully done to cron.
    return outcome.for_run(code, why)


def _wrapped_argv(args: argparse.Namespace) -> list[str]:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        log.error("run: give the command after --, e.g. seawall-agent run --job nightly -- restic backup …")
    return argv


def cmd_daemon(args: argparse.Namespace, config: AgentConfig, config_path: Path) -> int:
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    delivery = Delivery(Spool(config.state_dir), SeawallClient(config.server, config.credential))
    try:
        run_daemon(config, delivery, stop, config_path)
    finally:
        delivery.client.close()  # the daemon may have replaced the client it started with
    return 0


def cmd_flush(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    # An operator asking to flush (network just fixed) should not wait out our backoff.
    result = _deliver(config, Spool(config.state_dir), lock_wait_seconds=60.0, skip_backoff=True)
    return outcome.for_flush(result)


def cmd_resend(args: argparse.Namespace, config: AgentConfig, _path: Path) -> int:
    renames: dict[str, str] = {}
    for pair in args.job:
        old, sep, new = pair.partition("=")
        if not (sep and old and new):
            log.error("--job: expected OLD=NEW (the name that was refused = the right one), not %r", pair)
            return EX_USAGE
        target = config.find_job(new)
        renames[old] = target.ref if target else new

    def fix(event: events.Event) -> events.Event:
        if event.get("type") in ("backup_run", "restore_test") and event.get("job") in renames:
            return {**event, "job": renames[event["job"]]}
        return event

    spool = Spool(config.state_dir)
    # Same ids as before: Seawall stored none of them, so nothing can be counted twice.
    requeued = spool.requeue_rejected(fix)
    if not requeued:
        log.info("no refused events to send again")
        return EX_OK
    log.info("%d refused event(s) are back in the spool", len(requeued))
    result = _deliver(config, spool, lock_wait_seconds=60.0, skip_backoff=True)
    return outcome.for_own_events([event["id"] for event in requeued], result)


def cmd_refresh(args: argparse.Namespace, config: AgentConfig, config_path: Path) -> int:
    try:
        with SeawallClient(config.server, config.credential) as client:
            answer = client.me()
    except ServerError as exc:
        log.error("refresh failed: %s", exc)
        return outcome.for_answer(exc.status)
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
    rejected = spool.rejected()
    print(f"rejected:   {len(rejected)} event(s) in {spool.rejected_path}")
    for entry in rejected[-5:]:  # the newest, so a mistake made today is in view
        event = entry.get("event")
        what = events.describe(event) if isinstance(event, dict) else "an unreadable spool line"
        reasons = "; ".join(reason(error) for error in entry.get("errors") or [] if isinstance(error, dict))
        print(f"            {entry.get('rejected_at', '?')} {what}: {reasons}")
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
