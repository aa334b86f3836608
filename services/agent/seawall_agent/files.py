"""Durable file writes shared by the config and the spool."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` so a crash leaves either the old or the new file, never half
    of one; the mode is set before any byte is written (the config holds the credential)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is masked by umask and ignored for an existing file
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path) -> None:
    """State holds backup log tails, which can name patients' files: owner-only access."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def check_writable(directory: Path) -> None:
    """Create `directory` (owner-only) if needed and prove a file can be written in it; raises OSError."""
    ensure_private_dir(directory)
    fd, name = tempfile.mkstemp(prefix=".write-check-", dir=directory)
    os.close(fd)
    os.unlink(name)
