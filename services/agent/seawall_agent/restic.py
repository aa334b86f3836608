"""Reading what `restic backup --json` says about the snapshot it made.

restic prints one JSON object per line; the last one, `"message_type": "summary"`, names the
snapshot and its size. From restic 0.17 it also carries `backup_start`/`backup_end`; the
snapshot's time is the backup's start, which is the restore point the practice can go back to.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
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
