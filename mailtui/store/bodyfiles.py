"""Raw message bytes as files beside the cache database, one file per message.

Why files and not BLOBs (docs/decisions.md, "Bodies in files"): a body synced into SQLite
is written twice (the WAL, then the checkpoint into the database) and passes through the
page cache of the writer connection; 500 MB of mail cost 3-4 s of a full sync that way.
A file is written once, by one ``write``, and read back by one ``read``.

Layout: ``<root>/<id >> 12 in hex>/<id>``, the local message id (``messages.id`` is
AUTOINCREMENT, so a name is never reused for another message) in directories of 4,096
consecutive ids, so a million messages make 245 directories of at most 4,096 files.

Consistency with the database, which is the only thing that says a body is cached
(``bodies.size``):

- a file is written before the row that names it commits; a crash in between leaves a
  file without a row, which the next write of that message replaces;
- bodies that exist nowhere else (POP3 messages the server deletes after the commit,
  local drafts) are written *durably*: the file and its directory are fsynced before the
  commit. Bodies the server keeps (IMAP, Exchange) are not, like the database itself
  (``synchronous = NORMAL``); after a power loss such a file may be short, so every read
  checks the size the row recorded and treats a mismatch as "not cached" (fetched again);
- a deleted row leaves its id in ``dead_bodies`` (trigger, same transaction); the store
  unlinks those files after the commit, and again at open after a crash.

Every function here is blocking; the store runs them in a thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

#: Message ids per directory (a power of two: the directory is ``id >> _SHIFT``).
_SHIFT: Final = 12


class BodyFiles:
    """The body directory of one cache database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: set[int] = set()

    def path(self, message_id: int) -> Path:
        return self.root / f"{message_id >> _SHIFT:x}" / str(message_id)

    def _directory(self, message_id: int) -> Path:
        bucket = message_id >> _SHIFT
        d = self.root / f"{bucket:x}"
        if bucket not in self._dirs:
            if not self.root.is_dir():
                self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(self.root, 0o700)  # mkdir's mode is filtered through the umask
            d.mkdir(mode=0o700, exist_ok=True)
            self._dirs.add(bucket)
        return d

    def write(self, bodies: Sequence[tuple[int, bytes]], durable: bool) -> list[Path]:
        """Write each ``(message_id, raw)``; all or nothing of the *new* files, which it
        returns (for the caller to ``discard`` if its transaction fails).

        A cache body goes straight to its final name, three system calls a file (each one
        a trip through the GIL while the sync parses in other threads): a crash half-way
        leaves a short file that no committed row names, or, when a body is stored again,
        one that the size check of ``read`` refuses. A durable body goes to ``<id>.tmp``,
        is fsynced and renamed, so its final name only ever holds all of it.

        On an error (disk full, permissions) the files this call created are removed again
        and the ``OSError`` propagates; files it replaced stay replaced (the same message).
        """
        created: list[Path] = []  # new files, removed again on an error
        touched: set[Path] = set()
        try:
            for message_id, raw in bodies:
                d = self._directory(message_id)
                final = d / str(message_id)
                if durable:
                    tmp = d / f"{message_id}.tmp"
                    existed = os.path.lexists(final)
                    _write_file(tmp, raw, os.O_CREAT | os.O_TRUNC, fsync=True)
                    os.replace(tmp, final)
                    touched.add(d)
                    if not existed:
                        created.append(final)
                    continue
                try:
                    _write_file(final, raw, os.O_CREAT | os.O_EXCL, fsync=False)
                    created.append(final)
                except FileExistsError:
                    _write_file(final, raw, os.O_TRUNC, fsync=False)
            if durable:
                for d in touched:
                    _fsync_dir(d)
                _fsync_dir(self.root)
        except BaseException:
            if durable:
                for message_id, _ in bodies:
                    with contextlib.suppress(OSError):
                        self.path(message_id).with_suffix(".tmp").unlink()
            self.discard(created)
            raise
        return created

    def discard(self, paths: Iterable[Path]) -> None:
        """Remove files ``write`` created, best effort (an error path)."""
        for p in paths:
            with contextlib.suppress(OSError):
                p.unlink()

    def read(self, message_id: int, size: int) -> bytes | None:
        """The body of ``message_id`` if its file is there and has ``size`` bytes."""
        try:
            with open(self.path(message_id), "rb", buffering=0) as f:
                data = f.read(size + 1)
        except OSError:
            return None
        return data if len(data) == size else None

    def remove(self, message_ids: Iterable[int]) -> None:
        """Unlink the files of ``message_ids``; missing files are fine."""
        for message_id in message_ids:
            with contextlib.suppress(FileNotFoundError):
                self.path(message_id).unlink()


def _write_file(path: Path, raw: bytes, mode: int, fsync: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | mode, 0o600)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        if mode & os.O_CREAT:
            with contextlib.suppress(OSError):
                path.unlink()  # half a new file: nothing names it
        raise
    os.close(fd)


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
