"""A line-and-literal reader for text protocols (IMAP, POP3, SMTP) on asyncio transports.

What ``asyncio.StreamReader`` does, minus the copies that dominated a full IMAP sync: a
``BufferedProtocol``, so the transport receives (plain TCP) or decrypts (TLS) straight
into this reader's memory, and a block of known size (an IMAP literal, a message body)
is filled in place: the bytes of a 40 MB attachment land once, in the ``bytearray``
handed to the caller. ``StreamReader`` on TLS copied each 16 KB record into a new
``bytes``, joined them, appended them to its buffer and sliced them out again (py-spy: a
third of the event loop's time in a full sync).

    reader = LineReader(limit=16 << 20)
    transport, _ = await loop.create_connection(lambda: reader, host, port, ssl=ctx)
    line = await reader.readline()        # through b"\\r\\n"
    body = await reader.readexactly(size)

Flow control both ways: reading pauses while more than ``high_water`` bytes wait unread
(and nothing waits for them), writes wait in ``drain`` while the transport's buffer is
full. One consumer at a time (the protocol's command loop).

``idle_timeout``: a read that waits that long without a byte arriving raises
``TimeoutError``. A silent server is caught; a slow one that keeps sending is not cut
off, however long its 40 MB attachment takes (a timeout per response did that). One
timer serves every read: it is armed once and moves itself on while bytes arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, TypeVar

T = TypeVar("T")

#: Free space handed to the transport per receive (TLS decrypts records of 16 KB).
_MIN_FREE: Final = 256 * 1024


class StreamClosed(ConnectionError):
    """The connection ended before the line or block asked for was complete."""


class LineTooLong(ValueError):
    """A line did not end within the reader's limit."""


class BlockTooLong(ValueError):
    """A block read up to a terminator did not end within the limit asked for."""


class LineReader(asyncio.BufferedProtocol):
    def __init__(
        self, limit: int, high_water: int = 4 << 20, idle_timeout: float | None = None
    ) -> None:
        self.limit = limit
        self.idle_timeout = idle_timeout
        self.high_water = max(high_water, 2 * _MIN_FREE)
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray(_MIN_FREE)
        self._start = 0  # first unread byte of _buf
        self._end = 0  # end of the received bytes in _buf
        self._scan = 0  # where the search for the next line end goes on
        self._block: bytearray | None = None  # a readexactly being filled in place
        self._filled = 0
        self._waiter: asyncio.Future[None] | None = None
        self._eof = False
        self._error: BaseException | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._loop = asyncio.get_running_loop()
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._last_data = 0.0  # loop time of the last bytes, or of the start of a wait
        self._timer: asyncio.TimerHandle | None = None

    # --- protocol callbacks -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._block is not None:
            return memoryview(self._block)[self._filled :]
        if len(self._buf) - self._end < _MIN_FREE:
            unread = self._end - self._start
            if len(self._buf) - unread >= _MIN_FREE:
                # Room enough once the unread bytes move to the front: moved in place (a
                # new array each time was a new 512 KB of memory, faulted in page by
                # page, every 256 KB of a download).
                view = memoryview(self._buf)
                view[:unread] = view[self._start : self._end]
                view.release()
            else:
                # A new array rather than resizing this one: the transport may still hold
                # a view of it, and a bytearray with views cannot be resized.
                buf = bytearray(max(2 * _MIN_FREE, 2 * unread))
                buf[:unread] = memoryview(self._buf)[self._start : self._end]
                self._buf = buf
            self._scan -= self._start
            self._start, self._end = 0, unread
        return memoryview(self._buf)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self._last_data = self._loop.time()
        if self._block is not None:
            self._filled += nbytes
            if self._filled < len(self._block):
                return
            # Complete: what comes next goes to the line buffer, even before the reader
            # runs again (an empty buffer handed to the transport would read as EOF).
            self._block = None
        else:
            self._end += nbytes
            if self._end - self._start > self.high_water and self._waiter is None:
                self._pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        if exc is not None:
            self._error = exc
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(exc or ConnectionResetError("connection lost"))
        self._drain_waiter = None
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
        self._drain_waiter = None

    # --- reading ----------------------------------------------------------------------

    async def readline(self) -> bytes:
        """The next line, with its ``\\r\\n``. StreamClosed at the end of the stream,
        LineTooLong past ``limit`` bytes without a line end."""
        while True:
            i = self._buf.find(b"\r\n", self._scan, self._end)
            if i >= 0:
                line = bytes(memoryview(self._buf)[self._start : i + 2])
                self._consumed(i + 2)
                return line
            self._scan = max(self._start, self._end - 1)
            if self._end - self._start > self.limit:
                raise LineTooLong(f"a line longer than {self.limit} bytes")
            await self._more()

    @property
    def buffered(self) -> int:
        """Bytes received and not read yet."""
        return self._end - self._start

    def take(self, frame: Callable[[bytearray, int, int], tuple[list[T], int]]) -> list[T]:
        """What ``frame`` cuts out of the unread bytes already here, marked read: it is
        given the buffer, the first unread byte and the end of the received ones, and
        returns the pieces and where they end. No wait: [] when nothing is buffered."""
        if self._block is not None or self._start == self._end:
            return []
        pieces, upto = frame(self._buf, self._start, self._end)
        if upto != self._start:
            self._consumed(upto)
        return pieces

    async def read_until(self, terminator: bytes, limit: int) -> bytes:
        """The next bytes up to and including ``terminator`` (a POP3 answer up to its
        ``\\r\\n.\\r\\n``), in one piece. StreamClosed at the end of the stream,
        BlockTooLong past ``limit`` bytes without the terminator (the buffer grows no
        further than that)."""
        n = len(terminator)
        searched = 0  # bytes after _start searched already (the buffer may move)
        while True:
            i = self._buf.find(terminator, self._start + searched, self._end)
            if i >= 0:
                data = bytes(memoryview(self._buf)[self._start : i + n])
                self._consumed(i + n)
                return data
            if self._end - self._start > limit:
                raise BlockTooLong(f"no {terminator!r} within {limit} bytes")
            searched = max(0, self._end - self._start - n + 1)
            await self._more()

    async def peek(self, n: int) -> bytes:
        """The next ``n`` bytes, left unread. StreamClosed if the stream ends before."""
        while self._end - self._start < n:
            await self._more()
        return bytes(memoryview(self._buf)[self._start : self._start + n])

    async def readexactly(self, n: int) -> bytes | bytearray:
        """The next ``n`` bytes. StreamClosed if the stream ends before.

        ``bytes`` when they are in the buffer already; else a ``bytearray`` the transport
        filled in place, handed on as it is (a copy into ``bytes`` doubled the memory
        traffic of a full sync: 500 MB copied once more, in new pages)."""
        have = self._end - self._start
        if have >= n:
            data = bytes(memoryview(self._buf)[self._start : self._start + n])
            self._consumed(self._start + n)
            return data
        block = bytearray(n)
        block[:have] = memoryview(self._buf)[self._start : self._end]
        self._start = self._end = self._scan = 0
        self._block, self._filled = block, have
        try:
            while self._block is block:  # buffer_updated lets go of it when it is full
                await self._more()
        finally:
            self._block = None
        return block

    async def _more(self) -> None:
        """Wait for more bytes (or the end)."""
        if self._error is not None:
            raise StreamClosed(f"connection lost: {self._error}")
        if self._eof:
            raise StreamClosed("the connection was closed")
        self._resume_reading()
        self._waiter = self._loop.create_future()
        if self.idle_timeout is not None:
            self._last_data = max(self._last_data, self._loop.time())
            if self._timer is None:
                self._timer = self._loop.call_at(
                    self._last_data + self.idle_timeout, self._check_idle
                )
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _check_idle(self) -> None:
        """The idle timer: fail the waiting read if nothing came for ``idle_timeout``,
        else move on to the new deadline (or stop: no read waits)."""
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done() or self.idle_timeout is None:
            return
        due = self._last_data + self.idle_timeout
        if self._loop.time() >= due:
            waiter.set_exception(TimeoutError())
        else:
            self._timer = self._loop.call_at(due, self._check_idle)

    def _consumed(self, upto: int) -> None:
        self._start = self._scan = upto
        if self._start == self._end:
            self._start = self._end = self._scan = 0
        if self._reading_paused and self._end - self._start <= self.high_water // 2:
            self._resume_reading()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _pause_reading(self) -> None:
        if self.transport is not None and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.transport is not None and self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    # --- writing and closing ----------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        self.transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        if self._error is not None or self._closed.done():
            raise ConnectionResetError("the connection is closed")
        if not self._writing_paused:
            return
        self._drain_waiter = asyncio.get_running_loop().create_future()
        await self._drain_waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)
