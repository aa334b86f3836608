"""Delivering the spool: oldest first, in batches, removing events only after a 202.

When the server cannot take events (network down, 5xx, 429) the spool is left as it is and
the next attempt is pushed back: by the server's Retry-After for a 429, otherwise by an
exponential backoff with jitter, so a hundred practices coming back online after an ISP
outage do not all hit Seawall in the same second. The backoff is stored in the state
directory, so the daemon and a `run` wrapper honour the same pause.

A 422 refuses the whole batch; the events it names are moved to rejected.jsonl and the rest
is sent again, so one bad event never blocks the spool. Any other 4xx but 408/425/429 (a
revoked credential, a wrong server URL) keeps the events but is a refusal, not an outage. The
result says which events were refused and whether the request was, so a command can tell its
caller through its exit code (docs/decisions/0008-agent-exit-codes-and-restic-output.md).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from seawall_agent.client import IngestAnswer, SeawallClient
from seawall_agent.events import Event, describe
from seawall_agent.files import atomic_write
from seawall_agent.spool import Spool, SpooledBatch

log = logging.getLogger(__name__)

MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 900_000  # below the contract's 1 MiB body limit even when gzip does not help
MAX_RETRY_AFTER_SECONDS = 3600.0  # a bogus Retry-After must not silence an agent for days
BACKOFF_FILE = "backoff.json"
CREDENTIAL_REFUSED = "Seawall refused this agent's credential (401): revoked? enroll this agent again"
# Client errors that say "not now" rather than "not this": the batch is simply tried again later.
TRANSIENT_CLIENT_ERRORS = {408, 425, 429}


@dataclass(frozen=True)
class Refusal:
    """An event the server refused, and the reasons it gave."""

    event: Event
    errors: list[Mapping[str, Any]]

    def reasons(self) -> str:
        return "; ".join(reason(error) for error in self.errors)


@dataclass
class FlushResult:
    delivered: int = 0
    rejected: int = 0
    pending: int = 0
    retry_at: float | None = None  # wall-clock time before which no one should send again
    error: str | None = None
    busy: bool = False  # another agent process is delivering right now
    delivered_ids: set[str] = field(default_factory=set)
    refusals: list[Refusal] = field(default_factory=list)
    # The status of an answer that refused the whole request for a reason waiting will not fix
    # (401: the credential; another 4xx: a wrong server URL, a proxy in the way), now or in the
    # attempt whose backoff holds us back. The events stay spooled until a person acts.
    refused_status: int | None = None

    @property
    def credential_refused(self) -> bool:
        return self.refused_status == 401

    def refusal_of(self, event_id: str) -> Refusal | None:
        return next((r for r in self.refusals if r.event.get("id") == event_id), None)


@dataclass
class _Backoff:
    failures: int = 0
    not_before: float = 0.0
    rate_limited: bool = False  # the pause is the server's Retry-After, not our own backoff
    refused_status: int | None = None  # the failure was a 4xx that waiting alone will not fix


class Delivery:
    def __init__(
        self,
        spool: Spool,
        client: SeawallClient,
        *,
        batch_events: int = MAX_BATCH_EVENTS,
        batch_bytes: int = MAX_BATCH_BYTES,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        lock_wait_seconds: float = 10.0,
    ) -> None:
        self.spool = spool
        self.client = client
        self.batch_events = batch_events
        self.batch_bytes = batch_bytes
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.lock_wait_seconds = lock_wait_seconds
        self._backoff_path = spool.state_dir / BACKOFF_FILE

    def flush(self, *, skip_backoff: bool = False) -> FlushResult:
        """Send everything that is spooled, unless a recent failure or the server's Retry-After
        says to wait. `skip_backoff` (an operator's `flush`) ignores our own backoff, never
        the server's Retry-After."""
        with self.spool.sender_lock(self.lock_wait_seconds) as acquired:
            if not acquired:
                return FlushResult(busy=True, pending=self.spool.pending())
            result = FlushResult()
            backoff = self._load_backoff()
            if time.time() < backoff.not_before and (backoff.rate_limited or not skip_backoff):
                result.retry_at = backoff.not_before
                result.pending = self.spool.pending()
                result.refused_status = backoff.refused_status
                if backoff.refused_status is not None:
                    result.error = _refused_message(backoff.refused_status)
                return result
            self._send_until_empty(backoff, result)
            result.pending = self.spool.pending()
            return result

    def _send_until_empty(self, backoff: _Backoff, result: FlushResult) -> None:
        limit = self.batch_events
        while True:
            batch = self.spool.peek(limit, self.batch_bytes)
            if batch.empty:
                if backoff.failures or backoff.not_before:
                    self._save_backoff(_Backoff())
                return
            if not batch.events:  # only unreadable lines: set them aside without a request
                self.spool.commit(batch)
                continue
            try:
                answer = self.client.ingest(batch.events)
            except httpx.TransportError as exc:
                self._fail(backoff, result, f"server unreachable: {type(exc).__name__}: {exc}")
                return

            if answer.status == 202:
                self.spool.commit(batch)
                result.delivered += len(batch.events)
                result.delivered_ids.update(str(event.get("id")) for event in batch.events)
                if backoff.failures:
                    backoff = _Backoff()
                    self._save_backoff(backoff)
            elif answer.status == 422:
                limit = self._handle_422(batch, answer, limit, result)
            elif answer.status == 413:
                if len(batch.events) > 1:
                    limit = max(1, len(batch.events) // 2)  # split until it fits
                else:
                    self._reject(batch, {0: [{"message": "event larger than the server accepts (413)"}]}, result)
            elif answer.status == 429:
                delay = answer.retry_after
                if delay is None:
                    self._fail(backoff, result, "rate limited (429) without Retry-After")
                else:
                    backoff.not_before = time.time() + min(delay, MAX_RETRY_AFTER_SECONDS)
                    backoff.rate_limited = True
                    backoff.refused_status = None
                    self._save_backoff(backoff)
                    result.retry_at, result.error = backoff.not_before, f"rate limited; retry after {delay:g}s"
                return
            elif 400 <= answer.status < 500 and answer.status not in TRANSIENT_CLIENT_ERRORS:
                result.refused_status = answer.status
                self._fail(backoff, result, _refused_message(answer.status, answer.describe()),
                           refused_status=answer.status)
                return
            else:
                # 5xx and anything unexpected: keep the events and retry later.
                self._fail(backoff, result, f"server answered {answer.describe()}")
                return

    def _handle_422(self, batch: SpooledBatch, answer: IngestAnswer, limit: int, result: FlushResult) -> int:
        by_index = _errors_by_index(answer.event_errors(), batch.events)
        if by_index:
            self._reject(batch, by_index, result)
            return self.batch_events
        if len(batch.events) > 1:
            # The server did not say which event is wrong: send one at a time to find it.
            return 1
        errors = answer.event_errors() or [{"message": answer.describe()}]
        self._reject(batch, {0: errors}, result)
        return self.batch_events

    def _reject(self, batch: SpooledBatch, by_index: Mapping[int, Sequence[Mapping[str, Any]]],
                result: FlushResult) -> None:
        self.spool.reject(batch, by_index)
        for index, errors in sorted(by_index.items()):
            refusal = Refusal(batch.events[index], list(errors))
            result.refusals.append(refusal)
            log.error("Seawall refused %s: %s (kept in %s)", describe(refusal.event), refusal.reasons(),
                      self.spool.rejected_path)
        result.rejected += len(by_index)

    def _fail(self, backoff: _Backoff, result: FlushResult, message: str, *, refused_status: int | None = None) -> None:
        backoff.failures += 1
        delay = backoff_delay(backoff.failures, self.backoff_base, self.backoff_cap)
        backoff.not_before = time.time() + delay
        backoff.rate_limited = False
        backoff.refused_status = refused_status
        self._save_backoff(backoff)
        result.retry_at, result.error = backoff.not_before, message
        # A refusal is not the network's fault: it needs a person, so it is an error.
        level = logging.ERROR if refused_status is not None else logging.WARNING
        log.log(level, "%s; events stay spooled, next attempt in %.1fs", message, delay)

    def _load_backoff(self) -> _Backoff:
        try:
            data = json.loads(self._backoff_path.read_text())
            backoff = _Backoff(failures=int(data["failures"]), not_before=float(data["not_before"]),
                               rate_limited=bool(data.get("rate_limited", False)),
                               refused_status=_status_or_none(data.get("refused_status")))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return _Backoff()
        # After the clock jumps backwards a stored pause could look endless: cap it.
        limit = time.time() + max(self.backoff_cap, MAX_RETRY_AFTER_SECONDS)
        backoff.not_before = min(backoff.not_before, limit)
        return backoff

    def _save_backoff(self, backoff: _Backoff) -> None:
        atomic_write(self._backoff_path,
                     json.dumps({"failures": backoff.failures, "not_before": backoff.not_before,
                                 "rate_limited": backoff.rate_limited,
                                 "refused_status": backoff.refused_status}).encode())

def _refused_message(status: int, answer: str | None = None) -> str:
    if status == 401:
        return CREDENTIAL_REFUSED
    return (f"Seawall refused the request ({answer or f'HTTP {status}'}), which waiting will not fix: "
            "is `server` in the config right, or is a proxy in the way?")


def _status_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def forget_backoff(state_dir: Path) -> None:
    """A new credential (enrolled again) deserves an attempt now, not the old one's pause."""
    (state_dir / BACKOFF_FILE).unlink(missing_ok=True)


def reason(error: Mapping[str, Any]) -> str:
    """One problem+json `errors[]` entry as "field: message"."""
    message = str(error.get("message") or error)
    return f"{error['field']}: {message}" if error.get("field") else message


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after `failures` failed attempts in a row: doubling from `base` up to
    `cap`, with "equal jitter" (between half and all of it) so agents that failed together
    do not retry together, yet none retries almost at once."""
    ceiling = min(cap, base * 2 ** min(failures - 1, 30))
    return random.uniform(ceiling / 2, ceiling)


def _errors_by_index(errors: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
                     ) -> dict[int, list[Mapping[str, Any]]]:
    """Group 422 errors by the batch index they name; ignore any index that does not match
    what we sent (a wrong index must not move a good event aside)."""
    by_index: dict[int, list[Mapping[str, Any]]] = {}
    for error in errors:
        index = error.get("event_index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(events):
            continue
        event_id = error.get("event_id")
        if event_id is not None and event_id != events[index].get("id"):
            continue
        by_index.setdefault(index, []).append(error)
    return by_index
