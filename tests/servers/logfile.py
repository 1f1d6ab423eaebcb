"""Reading a daemon's log file while it grows: what a test did shows after an offset."""

from __future__ import annotations

from pathlib import Path


def log_text(path: Path, start: int = 0) -> str:
    """The log from byte offset `start` (see `log_size`); "" while there is no file."""
    try:
        with open(path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def log_size(path: Path) -> int:
    """The log's size in bytes now (0 while there is no file): an offset for `log_text`."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
