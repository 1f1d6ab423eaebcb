"""Messages read as one block (``Pop3Client._message``: up to ``\\r\\n.\\r\\n``, unstuffed
at once) come out byte for byte as the line-by-line reading (``_lines``) gives them, for
any message: lines that start with dots, bare CRs and LFs, empty messages."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.protocols.net.linereader import LineReader
from mailtui.protocols.pop3.client import Pop3Client

#: Line contents: dots often, first and inside, and CR/LF that are not line ends.
_line = st.lists(
    st.sampled_from([b".", b".", b"..", b" ", b"x", b"\r", b"\n", b"\x00", b"\xff"]),
    max_size=8,
).map(b"".join)


def stuffed(message: bytes) -> bytes:
    """The wire form of ``message`` (which ends in CRLF, or is empty): a dot added to each
    line that starts with one, then the lone dot."""
    lines = message.split(b"\r\n")[:-1] if message else []
    return b"".join((b"." + ln if ln[:1] == b"." else ln) + b"\r\n" for ln in lines) + b".\r\n"


async def _read(wire: bytes, block: bool) -> tuple[bytes, bytes]:
    """The message read from ``wire``, and the line that comes after it."""
    stream = LineReader(1 << 20)
    buf = stream.get_buffer(-1)
    buf[: len(wire)] = wire
    stream.buffer_updated(len(wire))
    conn = Pop3Client(stream, "test")
    if block:
        got = await conn._message(1 << 20, "message 1")
    else:
        got = b"".join(await conn._lines(1 << 20, "message 1"))
    return got, await stream.readline()


@settings(max_examples=500, deadline=None)
@given(st.lists(_line, max_size=12))
def test_block_unstuffing_equals_line_by_line(lines: list[bytes]) -> None:
    message = b"".join(ln + b"\r\n" for ln in lines)
    wire = stuffed(message) + b"+OK next\r\n"
    by_lines = asyncio.run(_read(wire, block=False))
    by_block = asyncio.run(_read(wire, block=True))
    assert by_block == by_lines
    assert by_block == (message, b"+OK next\r\n")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | st.lists(_line, max_size=12).map(b"\r\n".join))
def test_block_equals_line_by_line_for_any_bytes_before_a_terminator(raw: bytes) -> None:
    """Whatever a server sends (even unstuffed garbage), both readings agree, on the
    message and on where it ends."""
    wire = raw + b"\r\n.\r\n+OK next\r\n"
    by_lines = asyncio.run(_read(wire, block=False))
    by_block = asyncio.run(_read(wire, block=True))
    assert by_block == by_lines


def test_the_cases_by_name() -> None:
    for message in (
        b"",
        b"\r\n",
        b".\r\n",
        b"..\r\n",
        b"...\r\n",
        b". \r\n",
        b".x\r\n",
        b"a\r\n.\r\nb\r\n",
        b".a\r\n.b\r\n..\r\n",
        b"a\r\r\n.\r\n",
    ):
        wire = stuffed(message) + b"+OK next\r\n"
        assert asyncio.run(_read(wire, block=True)) == (message, b"+OK next\r\n")
        assert asyncio.run(_read(wire, block=False)) == (message, b"+OK next\r\n")
