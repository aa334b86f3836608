"""What an agent command's exit code tells its caller (the table is in the agent's README; the
reasons are in docs/decisions/0008-agent-exit-codes-and-restic-output.md).

Cron, systemd and `set -e` scripts see only the exit code, so an event Seawall refused must not
exit like one it took. Spooling while Seawall cannot be reached is success: the event is safe on
disk and the daemon, or the next command, delivers it.
"""

from __future__ import annotations

from collections.abc import Iterable

from seawall_agent.delivery import TRANSIENT_CLIENT_ERRORS, FlushResult

EX_OK = 0
EX_FAILED = 1  # enroll refused, refresh failed; the message says why
EX_USAGE = 2
EX_DATAERR = 65  # Seawall refused an event this command made (422/413); kept in rejected.jsonl
EX_IOERR = 74  # the event could not be written to the spool (disk full?): it is lost
EX_TEMPFAIL = 75  # Seawall could not be reached (flush: events remain spooled)
EX_PROTOCOL = 76  # Seawall refused the request itself (a 4xx such as 403 or 404); events stay spooled
EX_NOPERM = 77  # Seawall refused the agent's credential; events stay spooled until enrolled again
EX_CONFIG = 78  # the config file is missing or wrong


def for_own_events(event_ids: Iterable[str], result: FlushResult) -> int:
    """The exit code of a command that made these events and then delivered the spool."""
    ids = list(event_ids)
    if any(result.refusal_of(event_id) for event_id in ids):
        return EX_DATAERR
    if all(event_id in result.delivered_ids for event_id in ids):
        return EX_OK
    return _for_refused_request(result) or EX_OK  # else spooled


def _for_refused_request(result: FlushResult) -> int | None:
    if result.refused_status is None:
        return None
    return EX_NOPERM if result.credential_refused else EX_PROTOCOL


def for_flush(result: FlushResult) -> int:
    if (code := _for_refused_request(result)) is not None:
        return code
    if result.refusals:
        return EX_DATAERR
    return EX_TEMPFAIL if result.pending else EX_OK


def for_answer(status: int | None) -> int:
    """enroll and refresh: no answer, a 5xx, 408, 425 or 429 mean "try later" (75) as they do for
    delivery; 401 is a refused credential (77); any other answer is a refusal (1)."""
    if status is None or status >= 500 or status in TRANSIENT_CLIENT_ERRORS:
        return EX_TEMPFAIL
    return EX_NOPERM if status == 401 else EX_FAILED


def for_run(command_exit_code: int, report_exit_code: int) -> int:
    """The wrapped command's own failure wins: that is what the caller scheduled."""
    return command_exit_code if command_exit_code != 0 else report_exit_code
