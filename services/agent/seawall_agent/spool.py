"""The on-disk spool: every event is written here (and fsynced) before any attempt to send it.

Layout in the state directory:
  spool.jsonl    events, one JSON object per line, oldest first
  spool.offset   how many bytes at the front of spool.jsonl the server has acknowledged
  rejected.jsonl events the server refused (422/413), with its errors, kept for a human
  spool.lock     flock held briefly by anyone who reads or changes the files above
  send.lock      flock held by the one process that is delivering, so two agent processes
                 (the daemon and a `run`) never send the same event concurrently

Appenders only ever append; only the sender (holding send.lock) advances the offset or
rewrites the file. A batch it has read therefore stays where it was until it commits it.
Every crash window is ordered so the worst case is a resend, never a loss: the server
ignores an event id it already has.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seawall_agent.events import Event, now, rfc3339
from seawall_agent.files import atomic_write, ensure_private_dir, fsync_dir

COMPACT_AFTER_BYTES = 1 << 20  # rewrite the spool once this much acknowledged data sits at its front


@dataclass(frozen=True)
class SpooledBatch:
    events: list[Event]
    raw: list[bytes]  # the lines as stored, parallel to events, so rewrites keep them byte for byte
    corrupt: list[bytes] = field(default_factory=list)  # complete lines that are not JSON
    start: int = 0
    end: int = 0

    @property
    def empty(self) -> bool:
        return self.start == self.end


class Spool:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / "spool.jsonl"
        self.offset_path = state_dir / "spool.offset"
        self.rejected_path = state_dir / "rejected.jsonl"
        self._lock_path = state_dir / "spool.lock"
        self._send_lock_path = state_dir / "send.lock"

    # --- locking ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_private_dir(self.state_dir)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    @contextmanager
    def sender_lock(self, wait_seconds: float = 0.0) -> Iterator[bool]:
        """Yield True when this process may send; False if another one kept the lock for
        longer than `wait_seconds` (it will deliver our events too: it sends until empty)."""
        ensure_private_dir(self.state_dir)
        fd = os.open(self._send_lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.05)
            yield True
        finally:
            os.close(fd)

    # --- writing ---------------------------------------------------------------------------

    def append(self, *events: Event) -> None:
        """Durably add events; when this returns they survive a crash or a power cut."""
        with self._locked():
            self._append(events)

    def requeue_rejected(self, fix: Callable[[Event], Event]) -> list[Event]:
        """Move the refused events back to the end of the spool, each passed through `fix`
        (a corrected job name), and return them; unreadable lines stay in rejected.jsonl.

        Appended before rejected.jsonl is rewritten: a crash in between leaves an event in both,
        and sending it twice is harmless (the server ignores an id it already has)."""
        with self._locked():
            try:
                lines = self.rejected_path.read_bytes().splitlines(keepends=True)
            except FileNotFoundError:
                return []
            events: list[Event] = []
            kept: list[bytes] = []
            for line in lines:
                if not line.strip():
                    continue
                event = _event_of_rejected(line)
                if event is None:
                    kept.append(line if line.endswith(b"\n") else line + b"\n")
                else:
                    events.append(fix(event))
            if events:
                self._append(events)
                atomic_write(self.rejected_path, b"".join(kept))
            return events

    def _append(self, events: Sequence[Event]) -> None:
        data = b"".join(_encode(event) for event in events)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)  # read: torn-tail check
        try:
            _drop_torn_tail(fd)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.state_dir)

    # --- reading ---------------------------------------------------------------------------

    def peek(self, max_events: int = 500, max_bytes: int = 900_000) -> SpooledBatch:
        """The oldest unacknowledged events, at most `max_events` and about `max_bytes` of JSON
        (always at least one event, so one large event cannot stall the spool)."""
        with self._locked():
            start = self._read_offset()
            events: list[Event] = []
            raw: list[bytes] = []
            corrupt: list[bytes] = []
            end = start
            size = 0
            try:
                fh = self.path.open("rb")
            except FileNotFoundError:
                return SpooledBatch([], [], [], start, start)
            with fh:
                fh.seek(start)
                for line in fh:
                    if not line.endswith(b"\n"):
                        break  # a torn write from a crashed appender; repaired on next append
                    if events and (len(events) >= max_events or size + len(line) > max_bytes):
                        break
                    try:
                        event = json.loads(line)
                        if not isinstance(event, dict):
                            raise ValueError("not an object")
                    except ValueError:
                        corrupt.append(line)
                    else:
                        events.append(event)
                        raw.append(line)
                        size += len(line)
                    end += len(line)
            return SpooledBatch(events, raw, corrupt, start, end)

    def pending(self) -> int:
        """Number of events waiting to be delivered."""
        with self._locked():
            try:
                with self.path.open("rb") as fh:
                    fh.seek(self._read_offset())
                    return sum(1 for line in fh if line.endswith(b"\n"))
            except FileNotFoundError:
                return 0

    def rejected(self) -> list[dict[str, Any]]:
        """The readable entries of rejected.jsonl (a line torn by a crash is skipped, not fatal)."""
        try:
            with self.rejected_path.open("rb") as fh:
                return [entry for line in fh if line.strip() and isinstance(entry := _json_or_none(line), dict)]
        except FileNotFoundError:
            return []

    # --- after the server answered (caller holds sender_lock) --------------------------------

    def commit(self, batch: SpooledBatch) -> None:
        """The server acknowledged `batch` (202): drop it from the spool."""
        with self._locked():
            self._check_front(batch)
            if batch.corrupt:
                self._write_rejected([(None, line, [{"message": "spool line is not valid JSON"}])
                                      for line in batch.corrupt])
            self._advance_to(batch.end)

    def reject(self, batch: SpooledBatch, errors_by_index: Mapping[int, Sequence[Mapping[str, Any]]]) -> None:
        """The server refused the events at these batch indexes (422/413): move them to
        rejected.jsonl and keep the rest of the batch, in order, at the front of the spool."""
        with self._locked():
            self._check_front(batch)
            moved: list[tuple[Event | None, bytes, Sequence[Mapping[str, Any]]]] = [
                (batch.events[i], batch.raw[i], errors) for i, errors in sorted(errors_by_index.items())
            ]
            moved += [(None, line, [{"message": "spool line is not valid JSON"}]) for line in batch.corrupt]
            # Copy aside first: a crash after this line duplicates an entry in rejected.jsonl
            # and resends the batch, which is harmless; the other order could lose events.
            self._write_rejected(moved)
            keep = b"".join(line for i, line in enumerate(batch.raw) if i not in errors_by_index)
            with self.path.open("rb") as fh:
                fh.seek(batch.end)
                rest = fh.read()
            self._rewrite(keep + rest)

    # --- internals -------------------------------------------------------------------------

    def _check_front(self, batch: SpooledBatch) -> None:
        if self._read_offset() != batch.start:
            raise RuntimeError("spool changed under the sender; is send.lock held?")

    def _advance_to(self, end: int) -> None:
        size = self.path.stat().st_size if self.path.exists() else 0
        if end >= size:
            # All delivered. Reset the offset before truncating: a crash in between resends
            # (deduplicated by the server) instead of skipping events appended later.
            self._write_offset(0)
            with self.path.open("r+b") as fh:
                fh.truncate(0)
                os.fsync(fh.fileno())
        elif end >= COMPACT_AFTER_BYTES:
            with self.path.open("rb") as fh:
                fh.seek(end)
                rest = fh.read()
            self._rewrite(rest)
        else:
            self._write_offset(end)

    def _rewrite(self, content: bytes) -> None:
        tmp = self.path.with_name(".spool.jsonl.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        # Same ordering as above: offset 0 against the old file means a resend, not a loss.
        self._write_offset(0)
        os.replace(tmp, self.path)
        fsync_dir(self.state_dir)

    def _read_offset(self) -> int:
        try:
            offset = int(self.offset_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0
        size = self.path.stat().st_size if self.path.exists() else 0
        # Never trust an offset past the end of the file: start over (resend) rather than skip.
        return offset if 0 <= offset <= size else 0

    def _write_offset(self, offset: int) -> None:
        atomic_write(self.offset_path, f"{offset}\n".encode())

    def _write_rejected(self, entries: Sequence[tuple[Event | None, bytes, Sequence[Mapping[str, Any]]]]) -> None:
        stamp = rfc3339(now())
        lines = []
        for event, raw, errors in entries:
            record: dict[str, Any] = {"rejected_at": stamp, "errors": list(errors)}
            if event is not None:
                record["event"] = event
            else:
                record["raw"] = raw.decode("utf-8", "replace")
            lines.append(_encode(record))
        fd = os.open(self.rejected_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _write_all(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)


def _json_or_none(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _event_of_rejected(line: bytes) -> Event | None:
    entry = _json_or_none(line)
    event = entry.get("event") if isinstance(entry, dict) else None
    return event if isinstance(event, dict) else None


def _encode(obj: Mapping[str, Any]) -> bytes:
    # json.dumps escapes newlines inside strings, so one event is always exactly one line.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _drop_torn_tail(fd: int) -> None:
    """If a previous appender died mid-line, cut the partial line off so the next event
    does not get glued to it. Safe: we hold the lock, so no live writer owns that tail."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    position = size
    while position > 0:
        chunk_start = max(0, position - 65536)
        chunk = os.pread(fd, position - chunk_start, chunk_start)
        newline = chunk.rfind(b"\n")
        if newline != -1:
            os.ftruncate(fd, chunk_start + newline + 1)
            return
        position = chunk_start
    os.ftruncate(fd, 0)
