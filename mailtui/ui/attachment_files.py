"""Saving an attachment, and opening one with the system's opener. No Textual.

The name comes from the message, so it is hostile: ``safe_filename`` makes it one plain
path component, and ``save_path`` still resolves the result and refuses anything that
would land outside the chosen directory (a symlink planted there, say). Saving never
replaces a file by accident: ``write_new`` creates with ``O_EXCL`` and reports
``FileExistsError``, and only after the user said yes does ``write_replace`` swap the file
in (written beside it, then renamed over it).

Opening writes a copy into a fresh private directory (0700, under the user's temp dir)
and starts ``xdg-open`` (``open`` on macOS) on it, as an argument list, never through a
shell; the opener's own output is discarded so it cannot draw over the screen.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mailtui.errors import MailtuiError
from mailtui.mime import safe_filename


class SaveError(MailtuiError):
    """Why an attachment cannot be saved there, in plain words."""


def save_path(directory: Path, filename: str, index: int = 0, content_type: str = "") -> Path:
    """Where ``filename`` goes in ``directory``: a safe name, checked to be inside it."""
    directory = directory.expanduser()
    if not directory.is_dir():
        raise SaveError(f"{directory} is not a folder")
    base = directory.resolve()
    target = (base / safe_filename(filename, index, content_type)).resolve()
    if target.parent != base:
        raise SaveError(f"refusing to save outside {base}")
    return target


def make_folder(directory: Path) -> None:
    """Create ``directory`` and any missing parents (the user asked for it)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a file where a folder must go
        raise SaveError(f"{directory} cannot be created: a file is in the way") from None
    except OSError as error:
        raise SaveError(f"{directory} cannot be created: {error.strerror or error}") from None


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``; ``FileExistsError`` if something is there already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def write_replace(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (the user agreed): a temp file renamed over it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".mailtui-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def private_copy(data: bytes, filename: str, index: int = 0, content_type: str = "") -> Path:
    """A copy of the attachment in a new 0700 directory, for an opener to read."""
    directory = Path(tempfile.mkdtemp(prefix="mailtui-open-"))  # mkdtemp makes it 0700
    path = directory / safe_filename(filename, index, content_type)
    write_new(path, data)
    return path


def opener_command(path: Path, platform: str = sys.platform) -> list[str] | None:
    """The argument list that opens ``path`` with the desktop's default program."""
    program = "open" if platform == "darwin" else "xdg-open"
    found = shutil.which(program)
    return [found, str(path)] if found else None


def start_opener(command: list[str]) -> None:
    """Start the opener detached from the terminal (no shell, no output on the screen)."""
    subprocess.Popen(  # noqa: S603 - an argument list, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
