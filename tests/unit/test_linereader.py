"""The line-and-literal reader (mailtui/protocols/net/linereader.py) over real loopback
connections, plain and TLS: whatever way the peer cuts its bytes, lines and blocks come
out whole and in order; the end of the stream, overlong lines, and both directions of
flow control behave."""

from __future__ import annotations

import asyncio
import os
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from mailtui.protocols.net.linereader import (
    BlockTooLong,
    LineReader,
    LineTooLong,
    StreamClosed,
)
from tests.servers import TLSFiles, make_self_signed_cert

Peer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_self_signed_cert(tmp_path_factory.mktemp("linereader-tls"))


@asynccontextmanager
async def connected(
    peer: Peer, tls: TLSFiles | None, limit: int = 1 << 20, high_water: int = 4 << 20
) -> AsyncIterator[LineReader]:
    """A LineReader connected to a loopback server that runs ``peer``."""
    server_ctx = client_ctx = None
    if tls is not None:
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(tls.cert_path, tls.key_path)
        client_ctx = ssl.create_default_context(cafile=tls.ca_path)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await peer(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    _, stream = await loop.create_connection(
        lambda: LineReader(limit, high_water),
        "127.0.0.1",
        port,
        ssl=client_ctx,
        server_hostname="localhost" if tls else None,
    )
    try:
        yield stream
    finally:
        stream.close()
        await stream.wait_closed()
        server.close()
        await server.wait_closed()


def pieces(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut at random places, from 1 byte to 70 KB a piece."""
    out, i = [], 0
    while i < len(data):
        n = rng.choice((1, 2, 3, 7, 100, 4096, 16_385, 70_000))
        out.append(data[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls"])
async def test_lines_and_blocks_come_out_whole_however_the_peer_cuts_them(
    secure: bool, tls_files: TLSFiles
) -> None:
    rng = random.Random(7)
    script: list[tuple[str, bytes]] = []
    for i in range(300):
        if rng.random() < 0.5:
            script.append(("line", b"* %d FETCH (BODY[] {n})\r\n" % i))
        else:
            size = rng.choice((0, 1, 2, 50, 16_384, 100_000, 3_000_000))
            script.append(("block", os.urandom(size)))
    wire = b"".join(data for _, data in script)

    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for piece in pieces(wire, rng):
            writer.write(piece)
            if rng.random() < 0.1:
                await writer.drain()
                await asyncio.sleep(0)
        await writer.drain()

    async with connected(peer, tls_files if secure else None) as stream:
        for kind, data in script:
            if kind == "line":
                assert await stream.readline() == data
            else:
                block = await stream.readexactly(len(data))
                assert block == data
                if len(data) > 1 << 20:  # more than the buffer: filled in place
                    assert isinstance(block, bytearray)
        with pytest.raises(StreamClosed):
            await stream.readline()


async def test_the_end_of_the_stream_in_a_line_or_a_block_is_streamclosed() -> None:
    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"complete\r\nhalf a li")
        await writer.drain()

    async with connected(peer, None) as stream:
        assert await stream.readline() == b"complete\r\n"
        with pytest.raises(StreamClosed):
            await stream.readline()

    async def short(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"x" * 1000)
        await writer.drain()

    async with connected(short, None) as stream:
        with pytest.raises(StreamClosed):
            await stream.readexactly(5000)


async def test_a_line_past_the_limit_is_refused_not_buffered_forever() -> None:
    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"y" * 300_000)
        await writer.drain()
        await asyncio.sleep(5)

    async with connected(peer, None, limit=100_000) as stream:
        with pytest.raises(LineTooLong):
            await asyncio.wait_for(stream.readline(), 5)


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls"])
async def test_reading_pauses_while_the_consumer_is_behind(
    secure: bool, tls_files: TLSFiles
) -> None:
    """A peer that sends 40 MB to a consumer that reads nothing for a while: the reader
    holds about its high-water mark, not the 40 MB, and then everything arrives."""
    line = b"z" * 1000 + b"\r\n"
    count = 40_000

    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(count // 100):
            writer.write(line * 100)
            await writer.drain()

    async with connected(peer, tls_files if secure else None, high_water=1 << 20) as stream:
        await asyncio.sleep(0.5)  # the peer fills what it can meanwhile
        held = stream._end - stream._start
        assert 0 < held < 4 << 20, held
        for _ in range(count):
            assert await stream.readline() == line


async def test_drain_waits_while_the_peer_does_not_read() -> None:
    release = asyncio.Event()
    received = 0

    async def peer(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        nonlocal received
        await release.wait()
        while data := await reader.read(1 << 20):
            received += len(data)

    async with connected(peer, None) as stream:
        chunk = b"w" * (1 << 20)
        sent = 0
        blocked = False
        while sent < 200 << 20:
            stream.write(chunk)
            sent += len(chunk)
            try:
                await asyncio.wait_for(stream.drain(), 0.2)
            except TimeoutError:
                blocked = True
                break
        assert blocked, "drain never waited: nothing pushed back"
        release.set()
        await asyncio.wait_for(stream.drain(), 10)  # the peer reads: drain returns
        assert sent < 200 << 20



async def test_silence_past_the_idle_timeout_is_a_timeout() -> None:
    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK half a li")
        await writer.drain()
        await asyncio.sleep(10)

    async with connected(peer, None) as stream:
        stream.idle_timeout = 0.3
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await stream.readline()
        assert 0.25 < asyncio.get_running_loop().time() - started < 3


async def test_a_slow_peer_that_keeps_sending_is_not_cut_off() -> None:
    """A 40 MB attachment on a slow link takes longer than the timeout: fine as long as
    bytes keep coming (the old timeout per response cut it off)."""

    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(12):
            writer.write(b"x" * 10)
            await writer.drain()
            await asyncio.sleep(0.1)

    async with connected(peer, None) as stream:
        stream.idle_timeout = 0.5
        assert await stream.readexactly(120) == b"x" * 120  # 1.2 s in all


# --- read_until: a block up to a terminator (POP3's "\r\n.\r\n") -----------------------


def feed(stream: LineReader, data: bytes) -> None:
    """What the transport does with bytes that arrive: into get_buffer, then
    buffer_updated (no transport: pausing and resuming are no-ops)."""
    buf = stream.get_buffer(-1)
    buf[: len(data)] = data
    stream.buffer_updated(len(data))


async def test_read_until_a_terminator_split_across_two_receives() -> None:
    stream = LineReader(1 << 20)
    stream.connection_made(_FakeTransport())
    task = asyncio.create_task(stream.read_until(b"\r\n.\r\n", 1000))
    feed(stream, b"A: b\r\n\r\nbody\r\n.")
    await asyncio.sleep(0)
    assert not task.done()
    feed(stream, b"\r\n+OK next\r\n")
    assert await task == b"A: b\r\n\r\nbody\r\n.\r\n"
    assert await stream.readline() == b"+OK next\r\n"


async def test_read_until_past_the_limit_is_refused_not_buffered_forever() -> None:
    stream = LineReader(1 << 20)
    stream.connection_made(_FakeTransport())
    task = asyncio.create_task(stream.read_until(b"\r\n.\r\n", 100_000))
    for _ in range(10):
        if task.done():
            break
        feed(stream, b"y" * 30_000 + b"\r\n")
        await asyncio.sleep(0)
    with pytest.raises(BlockTooLong):
        await task
    assert stream._end - stream._start <= 100_000 + 30_002


async def test_read_until_when_the_stream_ends_or_stays_silent() -> None:
    stream = LineReader(1 << 20)
    stream.connection_made(_FakeTransport())
    task = asyncio.create_task(stream.read_until(b"\r\n.\r\n", 1000))
    feed(stream, b"half a message\r\n")
    await asyncio.sleep(0)
    stream.eof_received()
    with pytest.raises(StreamClosed):
        await task

    stream = LineReader(1 << 20, idle_timeout=0.3)
    stream.connection_made(_FakeTransport())
    feed(stream, b"half a message\r\n")
    with pytest.raises(TimeoutError):
        await stream.read_until(b"\r\n.\r\n", 1000)


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls"])
async def test_read_until_and_readline_take_turns_on_one_stream(
    secure: bool, tls_files: TLSFiles
) -> None:
    """POP3 answers (status line, then a block up to its terminator) among IMAP-like
    lines and literals, cut at random places: each read gets exactly its bytes."""
    rng = random.Random(11)
    script: list[tuple[str, bytes]] = []
    for i in range(200):
        kind = rng.choice(("line", "block", "until"))
        if kind == "line":
            script.append(("line", b"* %d FETCH (BODY[] {n})\r\n" % i))
        elif kind == "block":
            script.append(("block", os.urandom(rng.choice((0, 5, 20_000)))))
        else:
            body = os.urandom(rng.choice((0, 10, 70_000, 600_000))).replace(b"\r\n.\r\n", b"")
            script.append(("until", body + b"\r\n.\r\n"))
    wire = b"".join(data for _, data in script)

    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for piece in pieces(wire, rng):
            writer.write(piece)
            if rng.random() < 0.1:
                await writer.drain()
                await asyncio.sleep(0)
        await writer.drain()

    async with connected(peer, tls_files if secure else None) as stream:
        for kind, data in script:
            if kind == "line":
                assert await stream.readline() == data
            elif kind == "block":
                assert await stream.readexactly(len(data)) == data
            else:
                assert await stream.read_until(b"\r\n.\r\n", 1 << 20) == data
        with pytest.raises(StreamClosed):
            await stream.read_until(b"\r\n.\r\n", 1 << 20)


async def test_read_until_a_large_block_with_flow_control() -> None:
    """40 MB up to the terminator, with a consumer that waits first: the reader holds
    about its high-water mark meanwhile, then the whole block comes."""
    body = (b"z" * 1000 + b"\r\n") * 40_000

    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK\r\n")
        for i in range(0, len(body), 1 << 20):
            writer.write(body[i : i + (1 << 20)])
            await writer.drain()
        writer.write(b".\r\n+OK\r\n")
        await writer.drain()

    async with connected(peer, None, high_water=1 << 20) as stream:
        await asyncio.sleep(0.5)
        assert 0 < stream._end - stream._start < 4 << 20
        assert await stream.readline() == b"+OK\r\n"
        assert await stream.read_until(b"\r\n.\r\n", 64 << 20) == body + b".\r\n"
        assert await stream.readline() == b"+OK\r\n"


class _FakeTransport(asyncio.Transport):
    """Enough of a transport for a reader fed by hand."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls"])
async def test_take_cuts_whole_pieces_between_reads(secure: bool, tls_files: TLSFiles) -> None:
    """``take`` hands what a framer cuts out of the bytes already received, never waits,
    and leaves the rest for the next read; mixed with readline and readexactly, every
    byte comes out once, in order, however the peer cuts them."""
    rng = random.Random(11)
    records = [
        b"%d:%s\n" % (i, os.urandom(rng.choice((0, 5, 900, 70_000))).hex().encode())
        for i in range(400)
    ]
    wire = b"".join(records)

    def by_newline(buf: bytearray, start: int, end: int) -> tuple[list[bytes], int]:
        out, pos = [], start
        while len(out) < 3:
            i = buf.find(b"\n", pos, end)
            if i < 0:
                break
            out.append(bytes(buf[pos : i + 1]))
            pos = i + 1
        return out, pos

    async def peer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for piece in pieces(wire, rng):
            writer.write(piece)
            if rng.random() < 0.2:
                await writer.drain()
                await asyncio.sleep(0)
        await writer.drain()

    async with connected(peer, tls_files if secure else None) as stream:
        got: list[bytes] = []
        via_take = 0
        while len(got) < len(records):
            taken = stream.take(by_newline)
            got += taken
            via_take += len(taken)
            if not taken:  # nothing whole buffered: one record the usual way
                head = await stream.read_until(b":", 20)
                rest = await stream.read_until(b"\n", 1 << 20)
                got.append(head + rest)
        assert got == records
        assert 0 < via_take < len(records)  # both ways were taken
        assert stream.take(by_newline) == []
