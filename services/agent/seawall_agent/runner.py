"""`seawall-agent run`: run a backup command as if it ran alone, and describe how it went.

The command's output goes to our stdout as it arrives (journald, cron mail and a human at a
terminal see what they always saw); we only keep its tail and, for restic, its summary
(the JSON one or the text one).
stderr is merged into stdout so the tail shows errors where they happened in the run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import BinaryIO

from seawall_agent import events
from seawall_agent.events import LOG_TAIL_CHARS, Event
from seawall_agent.restic import EXIT_INCOMPLETE_SNAPSHOT, ResticSummary, SummaryReader

_TAIL_BYTES = LOG_TAIL_CHARS * 4  # enough bytes for 10,000 characters of any UTF-8
_MAX_LINE_BYTES = 1 << 20  # longer lines are not restic's summary; do not buffer them


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    started_at: datetime
    finished_at: datetime
    output_tail: str
    restic: ResticSummary | None = None

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


def run_command(argv: list[str], *, parse_restic: bool, out: BinaryIO | None = None) -> RunOutcome:
    """Run `argv` to completion, echoing its output; never raises for a failing command."""
    out = out or sys.stdout.buffer
    started_at = events.now()
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        # Shell conventions: 127 command not found, 126 found but not executable.
        code = 127 if isinstance(exc, FileNotFoundError) else 126
        message = f"seawall-agent: cannot run {argv[0]!r}: {exc.strerror or exc}\n"
        out.write(message.encode())
        out.flush()
        return RunOutcome(code, started_at, events.now(), message)

    tail = bytearray()
    reader = SummaryReader() if parse_restic else None
    line = bytearray()
    assert child.stdout is not None
    with _forward_stop_signals(child):
        fd = child.stdout.fileno()
        while chunk := _read(fd):
            out.write(chunk)
            out.flush()
            tail += chunk
            del tail[:-_TAIL_BYTES]
            if reader is not None:
                line += chunk
                *complete, rest = bytes(line).split(b"\n")
                for text in complete:
                    reader.feed(text)
                line = bytearray(rest if len(rest) < _MAX_LINE_BYTES else b"")
        child.stdout.close()
        returncode = child.wait()
    if reader is not None and line:
        reader.feed(bytes(line))
    summary = reader.summary() if reader is not None else None

    # A child killed by a signal reports -N; shells and systemd say 128+N.
    exit_code = returncode if returncode >= 0 else 128 - returncode
    output_tail = tail.decode("utf-8", "replace")[-LOG_TAIL_CHARS:]
    return RunOutcome(exit_code, started_at, events.now(), output_tail, summary)


def backup_run_event(job_ref: str, outcome: RunOutcome) -> Event:
    summary = outcome.restic
    made_snapshot = summary is not None and summary.snapshot_id is not None
    if outcome.exit_code == 0:
        status = "success"
    elif made_snapshot and outcome.exit_code == EXIT_INCOMPLETE_SNAPSHOT:
        status = "warning"  # restic made a snapshot but could not read some files
    else:
        status = "failed"
    restore_point = None
    if made_snapshot and status != "failed":
        assert summary is not None
        restore_point = summary.backup_start or outcome.started_at
    return events.backup_run(
        job_ref,
        status=status,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        exit_code=outcome.exit_code,
        log_tail=outcome.output_tail,
        bytes_=summary.bytes_processed if summary else None,
        files=summary.files_processed if summary else None,
        snapshot_id=summary.snapshot_id if summary else None,
        restore_point_at=restore_point,
    )


def _read(fd: int) -> bytes:
    while True:
        try:
            return os.read(fd, 65536)
        except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
            continue


class _forward_stop_signals:
    """While the child runs, pass SIGTERM/SIGHUP on to it (systemd stopping the unit, a closed
    terminal) and ignore our own SIGINT: Ctrl-C already reaches the child through the
    terminal, and we must live on to report the interrupted run."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self.previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        if self.child.poll() is None:
            self.child.send_signal(signum)

    def __enter__(self) -> None:
        try:
            for signum in (signal.SIGTERM, signal.SIGHUP):
                self.previous[signum] = signal.signal(signum, self._forward)
            self.previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:
            pass  # not the main thread (tests, embedding): leave signals alone

    def __exit__(self, *_: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
