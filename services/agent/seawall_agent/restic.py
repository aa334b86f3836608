"""Reading what `restic backup` says about the snapshot it made, with or without `--json`.

With `--json` restic prints one JSON object per line; the last one, `"message_type": "summary"`,
names the snapshot and its size. From restic 0.17 it also carries `backup_start`/`backup_end`; the
snapshot's time is the backup's start, which is the restore point the practice can go back to.

Without `--json` restic prints a few summary lines meant for people ("processed 2 files,
56.641 KiB in 0:00", "snapshot febaea35 saved"). The agent reads those too rather than adding
`--json` to the command itself: the backup runs and prints exactly as written
(docs/decisions/0008-agent-exit-codes-and-restic-output.md). Sizes read from text carry
restic's rounding (three decimals of KiB, MiB…), and there is no backup_start.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

# restic's documented exit code for "snapshot created, but some source files could not be
# read": there is a restore point, yet something is missing from it.
EXIT_INCOMPLETE_SNAPSHOT = 3


@dataclass(frozen=True)
class ResticSummary:
    snapshot_id: str | None = None
    bytes_processed: int | None = None
    data_added: int | None = None
    files_processed: int | None = None
    backup_start: datetime | None = None
    backup_end: datetime | None = None


# restic's human summary, as it prints it when stdout is not a terminal (older versions: "Added to the repo").
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50}
_SIZE = r"(?P<size>\d+(?:\.\d+)?) (?P<unit>B|KiB|MiB|GiB|TiB|PiB)"
_PROCESSED = re.compile(rf"^processed (?P<files>\d+) files, {_SIZE} in ")
_ADDED = re.compile(rf"^Added to the repo(?:sitory)?: {_SIZE}")
_SAVED = re.compile(r"^snapshot (?P<id>[0-9a-f]{8,64}) saved$")


class SummaryReader:
    """Reads restic's output line by line and keeps what its summary says; a JSON summary
    (exact sizes, backup_start) wins over the text one."""

    def __init__(self) -> None:
        self._json: ResticSummary | None = None
        self._text = ResticSummary()

    def feed(self, line: str | bytes) -> None:
        text = (line.decode("utf-8", "replace") if isinstance(line, bytes) else line).strip()
        if text.startswith("{"):
            self._json = parse_summary_line(text) or self._json
        elif match := _PROCESSED.match(text):
            self._text = replace(self._text, files_processed=int(match["files"]), bytes_processed=_size(match))
        elif match := _ADDED.match(text):
            self._text = replace(self._text, data_added=_size(match))
        elif match := _SAVED.match(text):
            self._text = replace(self._text, snapshot_id=match["id"])

    def summary(self) -> ResticSummary | None:
        """What restic said, or None when it printed no summary (`--quiet`, or it failed early)."""
        if self._json is not None:
            return self._json
        return None if self._text == ResticSummary() else self._text


def _size(match: re.Match[str]) -> int:
    return round(float(match["size"]) * _UNITS[match["unit"]])


def is_restic(argv: list[str], tool: str | None) -> bool:
    return tool == "restic" or (bool(argv) and os.path.basename(argv[0]) in ("restic", "restic.exe"))


def parse_summary_line(line: str | bytes) -> ResticSummary | None:
    """The summary if this line is restic's summary message, else None (status lines,
    errors, plain text all return None)."""
    text = (line.decode("utf-8", "replace") if isinstance(line, bytes) else line).strip()
    if not text.startswith("{"):
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("message_type") != "summary":
        return None
    return ResticSummary(
        snapshot_id=_text(message.get("snapshot_id")),
        bytes_processed=_count(message.get("total_bytes_processed")),
        data_added=_count(message.get("data_added")),
        files_processed=_count(message.get("total_files_processed")),
        backup_start=parse_restic_time(message.get("backup_start")),
        backup_end=parse_restic_time(message.get("backup_end")),
    )


def parse_restic_time(value: Any) -> datetime | None:
    """restic writes RFC 3339 with nanoseconds and a local offset; keep microseconds, in UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a time without an offset is ambiguous; fall back to the run's start
    return moment.astimezone(UTC)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
