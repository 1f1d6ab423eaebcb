"""Raw message bytes in append-only pack files beside the cache database.

Why packs (docs/decisions.md, "Bodies in packs"): a body in SQLite is written twice (WAL,
then checkpoint), and a file per message costs a file creation per message, which on
ext4 is anything from 20 µs to over 500 µs (it slows down for minutes after other files
were deleted) and on any file system leaves a million inodes for a million messages. A
pack takes a sync's batch of bodies in a few ``writev`` calls (of 64 KB: ``_WRITE``) and
gives one back with one ``pread``: the layout Dovecot's mdbox uses for the same reasons.

Layout: ``<root>/<n>.pack``, ``n`` from the ``packs`` table (AUTOINCREMENT: a number is
never used for a second pack). A pack is a sequence of records, each a 24-byte header
(``MTB1``, four zero bytes, the message id and the size as little-endian 64-bit
integers) followed by the raw message. The ``bodies`` row names the record: ``pack``,
``pos`` (of the header) and ``size``.

Consistency with the database, which is the only thing that says a body is cached:

- records are appended before the rows that name them commit, and ``packs.size`` (the end
  of the last committed record) commits with them;
- one writer per pack: a store appends to its *active* pack only while it holds an
  exclusive ``flock`` on it, so the app and a ``mailtui sync --once`` running beside it
  append to different packs; readers need no lock;
- a transaction that rolls back cuts its pack back to where it was; a crash leaves a tail
  no row names, which the next writer that takes the pack cuts off (at ``packs.size``);
- bodies that exist nowhere else (POP3 messages the server deletes after the commit,
  local drafts) are *durable*: the pack (and the directory, for a new pack) is fsynced
  before the commit. Others are not, like the database itself (``synchronous =
  NORMAL``); after a power loss a record may be missing or zeros, so every read checks
  its header (magic, message id, size) and treats a mismatch as "not cached";
- a deleted or replaced body leaves dead bytes, which triggers count in ``packs.dead``;
  ``Store.compact_bodies`` copies the live records out of mostly dead packs and unlinks
  them.

Bodies of schema 3 (a file per message, ``<root>/<id >> 12 in hex>/<id>``) stay readable
here until they are stored again or deleted.

Every function here is blocking; the store runs them in a thread. Writing is done by one
thread at a time (the store's write lock); reading from any number of threads.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

#: A record's header: magic, 4 zero bytes, message id, size.
HEADER: Final = struct.Struct("<4s4xQQ")
HEADER_SIZE: Final = HEADER.size
MAGIC: Final = b"MTB1"
#: A writer starts a new pack once its active one has grown past this; compaction copies
#: at most this much to free a pack.
PACK_TARGET: Final = 64 << 20
#: Buffers per ``writev`` (Linux's IOV_MAX is 1024).
_IOV: Final = 1024
#: Bytes per ``writev``. The page cache takes a write in folios as large as the write
#: (Linux 6 on ext4): 16 MB at once wanted 2 MB blocks of free memory, which a machine
#: that has run a while has few of, so they came from memory never used (on a VM, a
#: fault in the host per page): 500 MB took 0.6 s against 0.1 s in 64 KB writes.
_WRITE: Final = 64 << 10
#: Read descriptors kept open (a million messages make about 800 packs).
_OPEN_READERS: Final = 64
#: Schema 3's directories of a file per message: ``id >> 12``.
_LEGACY_SHIFT: Final = 12


class PackBusy(Exception):
    """Another writer holds the pack."""


class Packs:
    """The pack directory of one cache database: one writer, many readers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        #: The pack this store appends to, its descriptor (holding the flock) and end.
        self.active: int | None = None
        self.end = 0
        self._fd = -1
        self._readers: OrderedDict[int, int] = OrderedDict()
        self._readers_lock = threading.Lock()

    def path(self, pack: int) -> Path:
        return self.root / f"{pack}.pack"

    # --- writing ----------------------------------------------------------------------

    def take(self, pack: int, end: int) -> None:
        """Make ``pack`` the active one, cut to ``end`` (the committed end: what lies
        beyond is a crashed writer's). PackBusy if another writer holds it;
        FileNotFoundError if it is gone."""
        fd = os.open(self.path(pack), os.O_RDWR | os.O_CLOEXEC)
        try:
            _lock(fd)
            if os.fstat(fd).st_size != end:
                os.ftruncate(fd, end)
        except BaseException:
            os.close(fd)
            raise
        self._activate(pack, fd, end)

    def create(self, pack: int) -> None:
        """Create ``pack`` (empty, 0600) and make it the active one.

        A file of that name can only be left by a transaction that created it and then
        rolled back without removing it (its number was never committed): it is
        emptied."""
        self._ensure_root()
        fd = os.open(self.path(pack), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            _lock(fd)
            # Only when not empty already: on ext4, truncating a file to 0 marks it to
            # be written back at its close (auto_da_alloc), a wait of ~15 ms per pack.
            if os.fstat(fd).st_size:
                os.ftruncate(fd, 0)
        except BaseException:
            os.close(fd)
            raise
        self._activate(pack, fd, 0)

    def _activate(self, pack: int, fd: int, end: int) -> None:
        self.release()
        self.active, self._fd, self.end = pack, fd, end

    def release(self) -> None:
        """Stop appending to the active pack (closing it releases the flock)."""
        if self._fd >= 0:
            os.close(self._fd)
        self.active, self._fd, self.end = None, -1, 0

    def append(self, bodies: Sequence[tuple[int, bytes | bytearray]], durable: bool) -> list[int]:
        """Append a record for each ``(message_id, raw)`` to the active pack; their
        positions. ``durable``: fsync before returning (``sync_dir`` for a new pack).

        On an error (disk full) the pack is cut back to where it was and the ``OSError``
        propagates."""
        assert self._fd >= 0, "no active pack"
        start = pos = self.end
        positions: list[int] = []
        buffers: list[bytes | bytearray | memoryview] = []
        for message_id, raw in bodies:
            positions.append(pos)
            buffers.append(HEADER.pack(MAGIC, message_id, len(raw)))
            buffers.append(raw)
            pos += HEADER_SIZE + len(raw)
        try:
            os.lseek(self._fd, start, os.SEEK_SET)
            for piece in _pieces(buffers):
                _writev_all(self._fd, piece)
            if durable:
                os.fsync(self._fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            raise
        self.end = pos
        return positions

    def cut(self, end: int) -> None:
        """Cut the active pack back to ``end`` (a transaction rolled back)."""
        if self._fd >= 0:
            os.ftruncate(self._fd, end)
            self.end = end

    def sync_dir(self) -> None:
        """fsync the pack directory (and its parent, which names it): a new pack's name
        survives a power loss."""
        for d in (self.root, self.root.parent):
            fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _ensure_root(self) -> None:
        if not self.root.is_dir():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)  # mkdir's mode is filtered through the umask

    def try_lock(self, pack: int) -> int | None:
        """A descriptor holding the flock of ``pack`` (no writer appends to it while it
        is held), None if another writer has it or it is gone."""
        try:
            fd = os.open(self.path(pack), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            _lock(fd)
        except PackBusy:
            os.close(fd)
            return None
        return fd

    def unlink(self, pack: int) -> None:
        """Remove a pack no row names any more; gone already is fine."""
        self._forget(pack)
        with contextlib.suppress(FileNotFoundError):
            self.path(pack).unlink()

    # --- reading ----------------------------------------------------------------------

    def read(self, pack: int, pos: int, message_id: int, size: int) -> bytes | None:
        """The body the row ``(pack, pos, size)`` of ``message_id`` names, None if the
        pack is gone or the record there is not that body (lost in a power loss)."""
        for fresh in (False, True):
            fd = self._reader(pack, fresh)
            if fd is None:
                return None
            try:
                data = os.pread(fd, HEADER_SIZE + size, pos)
            except OSError:
                data = b""
            if len(data) == HEADER_SIZE + size:
                magic, got_id, got_size = HEADER.unpack_from(data)
                if magic == MAGIC and got_id == message_id and got_size == size:
                    return data[HEADER_SIZE:]
            # A descriptor kept from before the pack was replaced can be stale: look once
            # more at the file that has the name now.
        return None

    def _reader(self, pack: int, fresh: bool) -> int | None:
        with self._readers_lock:
            fd = self._readers.pop(pack, None)
            if fd is not None and fresh:
                os.close(fd)
                fd = None
            if fd is None:
                try:
                    fd = os.open(self.path(pack), os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    return None
            self._readers[pack] = fd
            while len(self._readers) > _OPEN_READERS:
                os.close(self._readers.popitem(last=False)[1])
            return fd

    def _forget(self, pack: int) -> None:
        with self._readers_lock:
            fd = self._readers.pop(pack, None)
            if fd is not None:
                os.close(fd)

    def close(self) -> None:
        self.release()
        with self._readers_lock:
            for fd in self._readers.values():
                os.close(fd)
            self._readers.clear()

    # --- schema 3: a file per message -------------------------------------------------

    def legacy_path(self, message_id: int) -> Path:
        return self.root / f"{message_id >> _LEGACY_SHIFT:x}" / str(message_id)

    def read_legacy(self, message_id: int, size: int) -> bytes | None:
        """A schema-3 body file, if it is there with ``size`` bytes."""
        try:
            with open(self.legacy_path(message_id), "rb", buffering=0) as f:
                data = f.read(size + 1)
        except OSError:
            return None
        return data if len(data) == size else None

    def remove_legacy(self, message_ids: Iterable[int]) -> None:
        """Unlink the schema-3 files of ``message_ids``; missing files are fine."""
        for message_id in message_ids:
            with contextlib.suppress(FileNotFoundError):
                self.legacy_path(message_id).unlink()


def _lock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise PackBusy() from None
        raise


def _pieces(
    buffers: Sequence[bytes | bytearray | memoryview],
) -> Iterator[list[bytes | bytearray | memoryview]]:
    """``buffers`` cut into ``writev`` calls of at most ``_WRITE`` bytes and ``_IOV``
    buffers each, in order."""
    piece: list[bytes | bytearray | memoryview] = []
    size = 0
    for buffer in buffers:
        view = memoryview(buffer) if len(buffer) > _WRITE - size else buffer
        while len(view):
            take = view if len(view) <= _WRITE - size else view[: _WRITE - size]
            piece.append(take)
            size += len(take)
            view = view[len(take) :]
            if size >= _WRITE or len(piece) >= _IOV:
                yield piece
                piece, size = [], 0
    if piece:
        yield piece


def _writev_all(fd: int, buffers: list[bytes | bytearray | memoryview]) -> None:
    """``writev`` until every byte is written (a write may stop short on a signal)."""
    i = 0
    while i < len(buffers):
        written = os.writev(fd, buffers[i:] if i else buffers)
        if written == 0:
            raise OSError(errno.EIO, "write wrote nothing")
        while i < len(buffers) and written >= len(buffers[i]):
            written -= len(buffers[i])
            i += 1
        if written:
            buffers[i] = memoryview(buffers[i])[written:]
