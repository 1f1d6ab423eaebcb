"""``mailtui export``: every cached message, byte for byte, to a Maildir or an mbox file.

Nobody is locked in: the raw bytes are written exactly as the server sent them. Maildir
files get the standard info suffix (``:2,FRS``…); the mbox is *mboxrd* (``From `` lines
in bodies are quoted with one more ``>``, which a reader removes again), so both round-trip.

What is written is private like the cache it comes from: files 0600, the directories
created for a Maildir 0700, whatever the umask says.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mailtui.errors import ExportError
from mailtui.models import Flag, Folder
from mailtui.store import Store

PAGE = 500
_MBOXRD_FROM = re.compile(rb"^(>*From )", re.MULTILINE)
_MAILDIR_FLAGS = (  # Maildir info letters must be in ASCII order
    ("D", Flag.DRAFT),
    ("F", Flag.FLAGGED),
    ("P", Flag.FORWARDED),
    ("R", Flag.ANSWERED),
    ("S", Flag.SEEN),
    ("T", Flag.DELETED),
)
_PRIVATE_FILE = 0o600
_PRIVATE_DIR = 0o700


@dataclass(slots=True)
class ExportResult:
    written: int = 0
    headers_only: int = 0
    folders: int = 0


def maildir_info(flags: Flag) -> str:
    return ":2," + "".join(letter for letter, flag in _MAILDIR_FLAGS if flags & flag)


def mboxrd_quote(raw: bytes) -> bytes:
    return _MBOXRD_FROM.sub(rb">\1", raw)


def _safe_component(name: str) -> str:
    cleaned = "".join(c if c.isprintable() and c not in "/\\\0" else "_" for c in name)
    return cleaned.strip(". ") or "_"


async def _folders(store: Store, account: str, only: str | None) -> list[Folder]:
    matches = [a for a in await store.accounts() if a.name == account]
    if not matches:
        raise ExportError(
            f"nothing of account {account!r} is cached yet: run `mailtui sync --once` "
            "first, or export with --fetch"
        )
    folders = await store.folders(matches[0].id)
    if only is None:
        # An unsubscribed folder was never synced: nothing of it to export, unless it
        # holds what was cached while it was shown.
        return [f for f in folders if f.subscribed or f.total]
    chosen = [f for f in folders if f.name == only]
    if not chosen:
        known = ", ".join(f.name for f in folders)
        raise ExportError(f"account {account!r} has no folder {only!r} (folders: {known})")
    return chosen


async def export(
    store: Store,
    account: str,
    *,
    folder: str | None = None,
    maildir: Path | None = None,
    mbox: Path | None = None,
) -> ExportResult:
    folders = await _folders(store, account, folder)
    result = ExportResult(folders=len(folders))
    mbox_file: BinaryIO | None = None
    if mbox is not None:
        if mbox.exists():
            raise ExportError(f"{mbox} exists already; choose a new file name")
        mbox_file = _create_private(mbox)
    try:
        for f in folders:
            target: Path | None = None
            if maildir is not None:
                target = _private_dirs(maildir, [_safe_component(p) for p in f.name.split("/")])
                for sub in ("cur", "new", "tmp"):
                    (target / sub).mkdir(exist_ok=True, mode=_PRIVATE_DIR)
            async for msg_id, flags, date, raw in store.iter_raw(f.id, PAGE):
                if raw is None:
                    result.headers_only += 1
                    continue
                if target is not None:
                    _write_maildir(target, msg_id, flags, date, raw)
                elif mbox_file is not None:
                    stamp = time.asctime(time.gmtime(date or 0))
                    mbox_file.write(f"From MAILER-DAEMON {stamp}\n".encode())
                    body = mboxrd_quote(raw)
                    mbox_file.write(body if body.endswith(b"\n") else body + b"\n")
                    mbox_file.write(b"\n")
                result.written += 1
        if mbox_file is not None:
            mbox_file.flush()
            os.fsync(mbox_file.fileno())
    finally:
        if mbox_file is not None:
            mbox_file.close()
    return result


def _write_maildir(target: Path, msg_id: int, flags: Flag, date: int, raw: bytes) -> None:
    unique = f"{date}.M{msg_id}P{os.getpid()}.{socket.gethostname().replace('/', '_')}"
    tmp = target / "tmp" / unique
    with _create_private(tmp) as fh:
        fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())
    os.utime(tmp, (date, date))
    tmp.rename(target / "cur" / (unique + maildir_info(flags)))


def _create_private(path: Path) -> BinaryIO:
    """A new file only its owner can read (the umask could make it 0644); refuses to
    write over an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE)
    return os.fdopen(fd, "wb")


def _private_dirs(root: Path, parts: list[str]) -> Path:
    """``root/parts…``: the export's own levels created 0700 where missing
    (``mkdir(parents=True)`` gives every level but the last the umask's mode). Above
    ``root`` is the user's place: created as usual."""
    root.parent.mkdir(parents=True, exist_ok=True)
    path = root
    path.mkdir(exist_ok=True, mode=_PRIVATE_DIR)
    for part in parts:
        path = path / part
        path.mkdir(exist_ok=True, mode=_PRIVATE_DIR)
    return path
