"""What `seawall-agent run` says about a backup run and its report: which job the run is
for, a readable summary of it, and what became of the report (as an exit code).

An unknown --job is only warned about, never refused: a backup that runs unreported is better
than none (docs/decisions/0008-agent-exit-codes-and-restic-output.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from seawall_agent import events, outcome
from seawall_agent.client import SeawallClient
from seawall_agent.config import AgentConfig, JobConfig
from seawall_agent.delivery import FlushResult
from seawall_agent.outcome import EX_IOERR, EX_OK
from seawall_agent.runner import RunOutcome
from seawall_agent.spool import Spool

log = logging.getLogger("seawall_agent")

# Asking Seawall about an unknown job must not hold a backup back for long when it is offline.
JOB_LOOKUP_TIMEOUT = httpx.Timeout(5.0)


def resolve_job(config: AgentConfig, name: str) -> tuple[JobConfig | None, list[str]]:
    """The job `name` means, and the names of the jobs this agent knows, asking Seawall when
    the config does not know the name (a job created since enrolling, or a typo)."""
    job = config.find_job(name)
    if job is not None:
        return job, [known.name for known in config.jobs]
    try:
        with SeawallClient(config.server, config.credential, timeout=JOB_LOOKUP_TIMEOUT) as client:
            answer = client.me()
    except Exception as exc:  # noqa: BLE001 - nothing about this lookup may stop the backup
        log.warning("job %r is not in the config and Seawall could not be asked (%s); "
                    "the backup runs and is reported by that name", name, exc)
        return None, [known.name for known in config.jobs]
    listed = [JobConfig(name=str(j.get("name")), id=str(j["id"]) if j.get("id") else None,
                        tool=str(j["tool"]) if j.get("tool") else None)
              for j in answer.get("jobs") or [] if isinstance(j, dict)]
    names = [known.name for known in listed]
    job = next((known for known in listed if name in (known.name, known.id)), None)
    if job is not None:
        log.info("job %r is not in the config yet (`seawall-agent refresh` adds it); reporting it by its id", name)
    else:
        log.error("Seawall lists no job %r for this agent (its jobs: %s): check --job. "
                  "The backup runs anyway and is reported by that name", name, ", ".join(names) or "none")
    return job, names


def say_how_it_ran(job_name: str, event: events.Event, ran: RunOutcome, parse_restic: bool) -> None:
    summary = ran.restic
    details = ""
    if summary and summary.snapshot_id:
        details += f"; snapshot {summary.snapshot_id}"
    if summary and summary.bytes_processed is not None:
        details += f"; {human_bytes(summary.bytes_processed)} in {summary.files_processed} file(s)"
    log.info("job %s: %s (exit %d) in %.1fs%s", job_name, event["status"], ran.exit_code,
             ran.duration_seconds, details)
    if parse_restic and event["status"] != "failed" and not (summary and summary.snapshot_id):
        log.warning("restic printed no snapshot summary (--quiet? --dry-run?), so the report carries no "
                    "snapshot, size or restore point; run restic backup without --quiet, or with --json")


def report_run(config: AgentConfig, event: events.Event, known_jobs: list[str],
               deliver: Callable[[AgentConfig, Spool], FlushResult]) -> int:
    """Spool the run's report and `deliver` the spool; the exit code that says how that went."""
    spool = Spool(config.state_dir)
    try:
        spool.append(event)
    except Exception as exc:
        log.error("the backup ran, but its report could not be written to %s (%s): it is lost",
                  spool.path, getattr(exc, "strerror", None) or exc)
        return EX_IOERR
    try:
        result = deliver(config, spool)
    except Exception:
        # A bug in delivery must not hide the backup's own exit code; the report is spooled.
        log.exception("the report is spooled, but delivering it failed")
        return EX_OK
    refusal = result.refusal_of(event["id"])
    if refusal is not None and any(error.get("field") == "job" for error in refusal.errors):
        log.error("this agent's jobs: %s; give one of them as --job, and `seawall-agent resend --job %s=NAME` "
                  "sends this run's report again", ", ".join(known_jobs) or "none", event["job"])
    return outcome.for_own_events([event["id"]], result)


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
