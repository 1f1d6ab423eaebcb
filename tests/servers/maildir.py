"""Putting messages straight into a user's Maildir++ tree, the way a delivery agent does.

Layout (Dovecot's default Maildir++, with `separator = /` in the IMAP namespace):

    Maildir/                 INBOX            (cur/ new/ tmp/)
    Maildir/.Sent/           "Sent"
    Maildir/.Work.Projects/  "Work/Projects"  (IMAP hierarchy "/" is "." on disk)
    Maildir/.&AMk-t&AOk-/    "Été"            (names are stored in modified UTF-7)

A folder name therefore cannot contain "."; `folder_dir` refuses it.

A message is written to tmp/ and renamed into new/ (no flags: the message is \\Recent
and unseen) or into cur/ with a ":2,FLAGS" suffix. Dovecot notices both on its next
sync (inotify wakes IDLE clients too). UIDs follow delivery order: file names start with
a strictly increasing "seconds.Mmicroseconds" stamp, which is how Dovecot sorts new
files before assigning UIDs. The file's mtime is the message's INTERNALDATE.

Keywords ($Forwarded, $Junk, custom labels) are the letters a-z, indexed by the folder's
dovecot-keywords file; `deliver` adds missing keywords to that file. Do that before an
IMAP client creates keywords in the same folder, as two writers of that file would race.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

# IMAP system flag -> Maildir info letter. (Dovecot has no IMAP flag for "P", passed.)
SYSTEM_FLAG_LETTERS = {
    "\\draft": "D",
    "\\flagged": "F",
    "\\answered": "R",
    "\\seen": "S",
    "\\deleted": "T",
}
MAILDIR_LETTERS = frozenset("DFPRST")
MAX_KEYWORDS = 26

Flags = str | Iterable[str]
"""Either Maildir letters ("SF") or IMAP flag names ("\\Seen", "\\Flagged", "$Forwarded")."""


def imap_utf7_encode(name: str) -> str:
    """Encode a mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            b64 = base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")
            out.append(f"&{b64}-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


class _UniqueStamp:
    """Strictly increasing (seconds, microseconds) pairs shared by every Maildir writer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._seq = 0

    def next(self) -> tuple[int, int, int]:
        with self._lock:
            now = time.time_ns() // 1000
            self._last = max(now, self._last + 1)
            self._seq += 1
            return self._last // 1_000_000, self._last % 1_000_000, self._seq


_STAMP = _UniqueStamp()
_HOST = socket.gethostname().replace("/", "_").replace(":", "_") or "localhost"


class Maildir:
    """One user's Maildir++ tree, written with the mail user's ownership.

    `uid`/`gid` are None when the test process itself is the mail user (non-root);
    as root every file and directory is chowned to them (Dovecot refuses uid 0).
    """

    def __init__(self, root: Path, uid: int | None = None, gid: int | None = None) -> None:
        self.root = root
        self.uid = uid
        self.gid = gid

    # ------------------------------------------------------------------ folders
    def folder_dir(self, folder: str) -> Path:
        """The directory of IMAP folder `folder` ("INBOX", "Sent", "Work/Projects")."""
        if folder.upper() == "INBOX":
            return self.root
        if "." in folder:
            raise ValueError(f"Maildir++ folder names cannot contain '.': {folder!r}")
        parts = folder.split("/")
        if any(not p for p in parts):
            raise ValueError(f"empty hierarchy level in folder name {folder!r}")
        return self.root / ("." + ".".join(imap_utf7_encode(p) for p in parts))

    def _mkdir(self, path: Path) -> None:
        if path.is_dir():
            return
        path.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)

    def create(self) -> None:
        """Create the tree's root (INBOX) if missing; its parent must exist."""
        self._mkdir(self.root)
        for sub in ("cur", "new", "tmp"):
            self._mkdir(self.root / sub)

    def create_folder(self, folder: str) -> Path:
        """Create `folder` (and the root) if missing; returns its directory.

        IMAP LIST shows it at once. Parent levels ("Work" for "Work/Projects") are not
        created: Dovecot lists them as \\NonExistent parents, as Maildir++ has it.
        """
        self.create()
        path = self.folder_dir(folder)
        if path != self.root:
            self._mkdir(path)
            for sub in ("cur", "new", "tmp"):
                self._mkdir(path / sub)
            marker = path / "maildirfolder"
            if not marker.exists():
                self._write_file(marker, b"")
        return path

    # ------------------------------------------------------------------ messages
    def deliver(
        self,
        raw: bytes,
        folder: str = "INBOX",
        flags: Flags = "",
        *,
        internaldate: datetime | float | None = None,
    ) -> Path:
        """Put one message into `folder` (created when missing); returns its file."""
        directory = self.create_folder(folder)
        letters = self._flag_letters(directory, flags)
        return self._deliver_one(directory, raw, letters, internaldate)

    def deliver_many(
        self,
        raws: Iterable[bytes],
        folder: str = "INBOX",
        flags: Flags = "",
        *,
        internaldate: datetime | float | None = None,
    ) -> list[Path]:
        """Put many messages into `folder` in order (thousands per second)."""
        directory = self.create_folder(folder)
        letters = self._flag_letters(directory, flags)
        return [self._deliver_one(directory, raw, letters, internaldate) for raw in raws]

    def message_files(self, folder: str = "INBOX") -> list[Path]:
        """The message files of `folder` (new/ and cur/), in delivery order."""
        directory = self.folder_dir(folder)
        files = [p for sub in ("new", "cur") for p in (directory / sub).glob("*") if p.is_file()]
        return sorted(files, key=lambda p: _sort_key(p.name))

    def _deliver_one(
        self,
        directory: Path,
        raw: bytes,
        letters: str | None,
        internaldate: datetime | float | None,
    ) -> Path:
        sec, usec, seq = _STAMP.next()
        base = f"{sec}.M{usec}P{os.getpid()}Q{seq}.{_HOST},S={len(raw)}"
        tmp = directory / "tmp" / base
        self._write_file(tmp, raw)
        if letters is None:
            final = directory / "new" / base
        else:
            final = directory / "cur" / f"{base}:2,{letters}"
        if internaldate is not None:
            stamp = internaldate.timestamp() if isinstance(internaldate, datetime) else internaldate
            os.utime(tmp, (stamp, stamp))
        os.rename(tmp, final)
        return final

    def _write_file(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            if self.uid is not None:
                os.fchown(fd, self.uid, self.gid if self.gid is not None else -1)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ flags
    def _flag_letters(self, directory: Path, flags: Flags) -> str | None:
        """Maildir info letters for `flags`, or None for "no flags: put it in new/"."""
        if isinstance(flags, str):
            bad = set(flags) - MAILDIR_LETTERS
            if bad:
                raise ValueError(f"not Maildir flag letters: {''.join(sorted(bad))!r}")
            return "".join(sorted(set(flags))) or None
        letters: set[str] = set()
        keywords: list[str] = []
        for flag in flags:
            if flag.startswith("\\"):
                letter = SYSTEM_FLAG_LETTERS.get(flag.lower())
                if letter is None:
                    raise ValueError(f"cannot store system flag {flag!r} in a Maildir")
                letters.add(letter)
            else:
                keywords.append(flag)
        if keywords:
            letters.update(self._keyword_letters(directory, keywords))
        return "".join(sorted(letters)) or None

    def _keyword_letters(self, directory: Path, keywords: list[str]) -> set[str]:
        path = directory / "dovecot-keywords"
        known: dict[str, int] = {}
        if path.exists():
            for line in path.read_text("utf-8").splitlines():
                idx, _, name = line.partition(" ")
                if idx.isdigit() and name:
                    known[name] = int(idx)
        changed = False
        for keyword in keywords:
            if keyword in known:
                continue
            free = sorted(set(range(MAX_KEYWORDS)) - set(known.values()))
            if not free:
                raise ValueError(f"more than {MAX_KEYWORDS} keywords in {directory}")
            known[keyword] = free[0]
            changed = True
        if changed:
            text = "".join(f"{idx} {name}\n" for name, idx in sorted(known.items(), key=_by_idx))
            tmp = directory / "tmp" / f"dovecot-keywords.{os.getpid()}.{_STAMP.next()[2]}"
            self._write_file(tmp, text.encode("utf-8"))
            os.rename(tmp, path)
        return {chr(ord("a") + known[k]) for k in keywords}


def _by_idx(item: tuple[str, int]) -> int:
    return item[1]


def _sort_key(name: str) -> tuple[int, int, str]:
    """Dovecot's order for new files: the "sec.Musec" stamp first, then the name."""
    sec, _, rest = name.partition(".")
    usec = 0
    if rest.startswith("M"):
        digits = ""
        for ch in rest[1:]:
            if not ch.isdigit():
                break
            digits += ch
        usec = int(digits or 0)
    return (int(sec) if sec.isdigit() else 0, usec, name)
