"""Responses framed in bulk out of the reader's buffer (``imap/framing.py``) are the
responses the line-by-line reader reads, whatever the server sends and however the
bytes arrive; header FETCH answers left raw for the parse thread give the same items and
envelope jobs as parsed ones; hostile input fails as it did, without a hang.

The reader is fed by hand (a ``LineReader`` without a socket): a contract test of the
framing against the reader it stands in for; tests/integration/test_imap_*.py run it
against Dovecot."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.errors import TransientError
from mailtui.protocols.imap.commands import ImapCommands, Pending
from mailtui.protocols.imap.framing import (
    MOST,
    fetch_items,
    frame,
    header_answers,
    lazy_fetch,
    segments_of,
)
from mailtui.protocols.imap.messages import RAW_ANSWER, envelope_jobs, header_item, raw_job
from mailtui.protocols.imap.wire import (
    MAX_LITERAL,
    ProtocolError,
    fetch_dict,
    literal_size,
    parse_response,
)
from mailtui.protocols.net.linereader import LineReader

ROOT = Path(__file__).resolve().parents[2]
FIELDS = b"DATE FROM TO CC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES CONTENT-TYPE"


class _Transport:
    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _feed(reader: LineReader, data: bytes) -> None:
    pos = 0
    while pos < len(data):
        view = reader.get_buffer(-1)
        size = min(len(view), len(data) - pos)
        view[:size] = data[pos : pos + size]
        reader.buffer_updated(size)
        pos += size


def _reader(data: bytes, eof: bool = True, limit: int = 1 << 20) -> LineReader:
    reader = LineReader(limit)
    reader.transport = _Transport()  # type: ignore[assignment]
    _feed(reader, data)
    if eof:
        reader.eof_received()
    return reader


def header_answer(seq: int, uid: int, header: bytes, flags: bytes = b"\\Seen") -> bytes:
    return (
        b'* %d FETCH (UID %d FLAGS (%s) INTERNALDATE "04-Dec-2026 23:40:46 +0000" '
        b"RFC822.SIZE %d BODY[HEADER.FIELDS (%s)] {%d}\r\n%s)\r\n"
        % (seq, uid, flags, 1000 + uid, FIELDS, len(header), header)
    )


HEADER = b"Subject: hi\r\nFrom: a@b\r\nMessage-ID: <m@x>\r\n\r\n"

# Responses of every kind a reader meets, literals in every place a literal may be.
RESPONSE = st.sampled_from(
    [
        header_answer(1, 11, HEADER),
        header_answer(2, 12, b""),
        header_answer(3, 13, b"}\r\n{5}\r\n* 1 EXISTS\r\n\r\n"),  # framing inside
        header_answer(4, 14, HEADER, b""),
        header_answer(5, 15, HEADER, b"\\Seen  \\Flagged"),
        header_answer(6, 16, HEADER, b"NIL"),
        b"* 7 FETCH (UID 17 FLAGS (\\Seen))\r\n",
        b"* 8 FETCH (UID 18 BODY[] {3}\r\nabc FLAGS ())\r\n",
        b"* 9 FETCH (UID 19 BODY[1] {2}\r\nxy BODY[2] {0}\r\n)\r\n",
        b"* 10 FETCH (UID 20 BODY[HEADER] {4+}\r\nab\r\n)\r\n",
        b"* 23 EXISTS\r\n",
        b"* 4 EXPUNGE\r\n",
        b"* OK [ALERT] {not a literal}\r\n",
        b"* SEARCH 1 2 3\r\n",
        b"* 11 FETCH (UID 21 X {abc}\r\n",
        b"\r\n",
        b"+ go on\r\n",
        b"m1 OK done\r\n",
        b"m2 NO [TRYCREATE] nope\r\n",
    ]
)


async def _line_by_line(data: bytes) -> list[list[bytes]]:
    """The segments of each response as ``_read_raw`` reads them without framing."""
    reader = _reader(data)
    out: list[list[bytes]] = []
    while reader._start != reader._end:
        segments: list[bytes] = []
        while True:
            line = await reader.readline()
            segments.append(line)
            size = literal_size(line)
            if size is None:
                break
            segments.append(bytes(await reader.readexactly(size)))
        out.append(segments)
    return out


def _framed(data: bytes, cut: int) -> tuple[list[list[bytes]], int]:
    """The segments of each response ``frame`` cuts out of the first ``cut`` bytes, in
    calls of ``MOST`` at most, and where it stopped."""
    buf = bytearray(data[:cut])
    pos, out = 0, []
    while True:
        found, upto = frame(buf, pos, len(buf))
        assert len(found) <= MOST
        assert b"".join(found) == bytes(buf[pos:upto])
        out += [segments_of(raw) for raw in found]
        if not found:
            return out, pos
        pos = upto


@settings(max_examples=300, deadline=None)
@given(st.lists(RESPONSE, max_size=40), st.data())
def test_framing_agrees_with_the_line_reader(responses: list[bytes], data: Any) -> None:
    wire = b"".join(responses)
    expected = asyncio.run(_line_by_line(wire))
    framed, end = _framed(wire, len(wire))
    assert framed == expected and end == len(wire)
    # Cut anywhere: the complete responses before the cut, nothing of the one cut.
    cut = data.draw(st.integers(0, len(wire)))
    framed, end = _framed(wire, cut)
    assert framed == expected[: len(framed)]
    assert end == sum(len(b"".join(s)) for s in framed)
    if len(framed) < len(expected):  # the next one is not whole before the cut
        assert end + len(b"".join(expected[len(framed)])) > cut


@settings(max_examples=300, deadline=None)
@given(st.lists(RESPONSE, max_size=40), st.data())
def test_header_answers_are_what_frame_and_lazy_fetch_give(
    responses: list[bytes], data: Any
) -> None:
    """``header_answers`` takes header answers at the head of the buffer as ``frame``
    cuts them out and ``lazy_fetch`` names them, and stops before any other response or
    an incomplete one (``frame`` and ``lazy_fetch`` go on from there); the answers of
    the shape the parse thread reads fast (``raw_job``) it takes all."""
    wire = b"".join(responses)
    cut = data.draw(st.integers(0, len(wire)))
    buf = bytearray(wire[:cut])
    taken, upto = header_answers(buf, 0, len(buf))
    assert len(taken) <= MOST and b"".join(raw for _, raw in taken) == bytes(buf[:upto])
    framed, _ = frame(buf, 0, len(buf))
    named = []
    for raw in framed:
        lazy = lazy_fetch(raw)
        if lazy is None:
            break
        named.append((lazy[1], raw))
    assert taken == named[: len(taken)]
    if len(taken) < len(named):
        assert raw_job(named[len(taken)][1]) is None


def test_a_call_takes_at_most_most_responses() -> None:
    wire = b"* 1 EXISTS\r\n" * (MOST + 10)
    found, upto = frame(bytearray(wire), 0, len(wire))
    assert len(found) == MOST and upto == 12 * MOST


async def _commands(wire: bytes, eof: bool = True, limit: int = 1 << 20) -> ImapCommands:
    return ImapCommands(_reader(wire, eof, limit), "test")


async def _answers(
    conn: ImapCommands, pending: Pending, into: list[tuple[str, bytes]] | None = None
) -> list[Any]:
    return [r async for r in conn.responses(pending, raw_into=into)]


def _pending(tag: str, raw: bool) -> Pending:
    return Pending(tag, "UID FETCH", frozenset({"FETCH"}), raw_fetch=raw)


def test_raw_answers_give_what_parsed_ones_give() -> None:
    """Header answers come raw to a command that takes them so, everything else parsed;
    the items and the envelope jobs are those of the line-by-line read."""
    wire = (
        header_answer(1, 11, HEADER)
        + b"* 23 EXISTS\r\n"  # during the FETCH
        + header_answer(2, 12, HEADER, b"\\Seen  \\Flagged")
        + b"* 3 FETCH (UID 13 FLAGS (\\Seen))\r\n"  # a flag change, unasked
        + b"* 4 EXPUNGE\r\n"
        + b'* 5 FETCH (UID 15 FLAGS () INTERNALDATE "1-Feb-2026 00:00:00 +0000" '
        + b"RFC822.SIZE 9 BODY[HEADER] {4}\r\nab\r\n)\r\n"  # the whole header
        + b"m1 OK done\r\n"
    )

    async def read(raw: bool) -> list[Any]:
        conn = await _commands(wire)
        pending = _pending("m1", raw)
        conn._pending.append(pending)
        out = await _answers(conn, pending)
        assert conn.changed and not conn.broken and conn._pending == []
        return out

    parsed, lazy = asyncio.run(read(False)), asyncio.run(read(True))
    assert [r.kind for r in lazy] == [r.kind for r in parsed]
    assert [r.number for r in lazy] == [r.number for r in parsed]
    assert [r.raw is not None for r in lazy] == [True, False, True, False, False, True]
    assert all(r.raw is None for r in parsed)
    for got, want in zip(lazy, parsed, strict=True):
        if got.raw is None:
            assert got == want
        else:
            assert fetch_items(got.raw) == fetch_dict(want.items)
            assert got.raw_uid == fetch_dict(want.items)["UID"]
    as_read = [fetch_dict(r.items) for r in parsed if r.kind == "FETCH"]
    as_raw = [
        {"UID": r.raw_uid, RAW_ANSWER: r.raw} if r.raw else fetch_dict(r.items)
        for r in lazy
        if r.kind == "FETCH"
    ]
    wanted = [d for d in as_read if header_item(d) is not None]
    assert envelope_jobs(wanted) == envelope_jobs([d for d in as_raw if RAW_ANSWER in d or
                                                   header_item(d) is not None])


def test_answers_taken_in_bulk_are_those_read_one_by_one() -> None:
    """With ``raw_into``, the raw header answers go to the list, in order, and the rest
    is yielded as before: the same answers, the same state of the connection."""
    wire = (
        header_answer(1, 11, HEADER)
        + header_answer(2, 12, HEADER, b"\\Seen  \\Flagged")
        + b"* 23 EXISTS\r\n"  # during the FETCH
        + header_answer(3, 13, HEADER)
        + b"* 4 FETCH (UID 14 FLAGS (\\Seen))\r\n"  # a flag change, unasked
        + b"* 4 EXPUNGE\r\n"
        + b'* 5 FETCH (UID 15 FLAGS () INTERNALDATE "1-Feb-2026 00:00:00 +0000" '
        + b"RFC822.SIZE 9 BODY[HEADER] {4}\r\nab\r\n)\r\n"  # the whole header
        + b"m1 OK done\r\n"
    )

    async def read(bulk: bool) -> tuple[list[Any], list[tuple[str, bytes]]]:
        conn = await _commands(wire)
        pending = _pending("m1", True)
        conn._pending.append(pending)
        into: list[tuple[str, bytes]] = []
        out = await _answers(conn, pending, into if bulk else None)
        assert conn.changed and not conn.broken and conn._pending == []
        assert conn.last_ok.tag == "m1"
        return out, into

    one_by_one, nothing = asyncio.run(read(False))
    rest, taken = asyncio.run(read(True))
    assert nothing == []
    assert [uid for uid, _ in taken] == ["11", "12", "13", "15"]
    assert taken == [(r.raw_uid, r.raw) for r in one_by_one if r.raw is not None]
    assert rest == [r for r in one_by_one if r.raw is None]
    assert [r.kind for r in rest] == ["EXISTS", "FETCH", "EXPUNGE"]


def test_answers_in_bulk_are_only_those_of_the_command_read() -> None:
    """Pipelined: the answers of an earlier command are read into its handle first
    (one by one, as before), never into the list of a later one."""
    wire = (
        header_answer(1, 11, HEADER)
        + b"m1 OK done\r\n"
        + header_answer(2, 12, HEADER)
        + b"m2 OK done\r\n"
    )

    async def run() -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        conn = await _commands(wire)
        first, second = _pending("m1", True), _pending("m2", True)
        conn._pending += [first, second]
        into_first: list[tuple[str, bytes]] = []
        into_second: list[tuple[str, bytes]] = []
        theirs = await _answers(conn, second, into_second)
        mine = await _answers(conn, first, into_first)
        return mine, into_first, theirs, into_second

    mine, into_first, theirs, into_second = asyncio.run(run())
    assert [r.raw_uid for r in mine] == ["11"] and into_first == []
    assert theirs == [] and [uid for uid, _ in into_second] == ["12"]


def test_answers_of_other_commands_wait_in_their_handle() -> None:
    """Pipelined: the answers of an earlier command read while a later one's are wanted
    stay raw only for a command that takes them raw; none is lost."""
    wire = (
        header_answer(1, 11, HEADER)
        + b"m1 OK done\r\n"
        + header_answer(2, 12, HEADER)
        + b"m2 OK done\r\n"
    )

    async def run(first_raw: bool) -> tuple[list[Any], list[Any]]:
        conn = await _commands(wire)
        first, second = _pending("m1", first_raw), _pending("m2", True)
        conn._pending += [first, second]
        await conn.settle()  # every answer into its handle
        return await _answers(conn, first), await _answers(conn, second)

    mine, theirs = asyncio.run(run(True))
    assert [r.raw is not None for r in mine + theirs] == [True, True]
    mine, theirs = asyncio.run(run(False))
    assert [r.raw is not None for r in mine + theirs] == [False, True]
    assert fetch_dict(mine[0].items)["UID"] == "11"


def test_answers_out_of_order_are_seen() -> None:
    """A FETCH answer after its command's tagged answer goes to the next FETCH, whose
    batch does not want its UID (``batch_of``'s spill): the order is kept."""
    wire = b"m1 OK done\r\n" + header_answer(1, 11, HEADER) + b"m2 OK done\r\n"

    async def run() -> tuple[list[Any], list[Any]]:
        conn = await _commands(wire)
        first, second = _pending("m1", True), _pending("m2", True)
        conn._pending += [first, second]
        return await _answers(conn, first), await _answers(conn, second)

    mine, theirs = asyncio.run(run())
    assert mine == [] and [r.raw_uid for r in theirs] == ["11"]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        # A literal that lies (longer than what comes): the end of the stream, no hang.
        (b"* 1 FETCH (UID 1 BODY[HEADER] {500}\r\nabc)\r\n", "closed the connection"),
        # Beyond the limit on a literal: refused before anything is allocated.
        (b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % (MAX_LITERAL + 1), "not IMAP"),
        # A length of 5,000 digits (int() alone would raise ValueError).
        (b"* 1 FETCH (UID 1 BODY[] {" + b"9" * 5000 + b"}\r\n", "not IMAP"),
        # A line without an end.
        (b"* 1 FETCH (UID 1 " + b"x" * 9000, "overlong line"),
        # Framed whole, but not IMAP.
        (b"* 1 FETCH ((UID 1)\r\n", "not IMAP"),
    ],
    ids=["lying literal", "huge literal", "5000 digits", "no line end", "not IMAP"],
)
def test_hostile_input_fails_as_before(wire: bytes, message: str) -> None:
    async def run(raw: bool) -> str:
        conn = await _commands(wire, limit=8192)
        pending = _pending("m1", raw)
        conn._pending.append(pending)
        with pytest.raises(TransientError) as caught:
            await _answers(conn, pending)
        assert conn.broken
        return str(caught.value)

    for raw in (False, True):
        assert message in asyncio.run(run(raw))

    async def in_bulk() -> str:
        conn = await _commands(wire, limit=8192)
        pending = _pending("m1", True)
        conn._pending.append(pending)
        with pytest.raises(TransientError) as caught:
            await _answers(conn, pending, [])
        assert conn.broken
        return str(caught.value)

    assert message in asyncio.run(in_bulk())


def test_a_raw_answer_that_is_not_imap_fails_in_the_parse() -> None:
    """Framed whole and matching the loop's look, but broken further on: the parse
    thread raises what the read would have raised."""
    broken = (
        b'* 1 FETCH (UID 1 FLAGS () INTERNALDATE "x" RFC822.SIZE 1 BODY[HEADER] {2}\r\nab'
        b")) (\r\n"
    )
    conn_answers = asyncio.run(_read_raw_answers(broken + b"m1 OK done\r\n"))
    assert [r.raw for r in conn_answers] == [broken]
    with pytest.raises(ProtocolError):
        envelope_jobs([{"UID": "1", RAW_ANSWER: broken}])
    with pytest.raises(ProtocolError):
        parse_response(segments_of(broken))
    twice = header_answer(1, 11, HEADER).replace(b")\r\n", b" UID 12)\r\n")
    with pytest.raises(ProtocolError, match="two UIDs"):
        envelope_jobs([{"UID": "11", RAW_ANSWER: twice}])


async def _read_raw_answers(wire: bytes) -> list[Any]:
    conn = await _commands(wire)
    pending = _pending("m1", True)
    conn._pending.append(pending)
    return await _answers(conn, pending)


def test_generated_answers_give_the_same_jobs() -> None:
    """bench/mailgen.py's messages, as Dovecot answers a first pass: the jobs of the raw
    answers (parsed in the thread) are those of the answers parsed on the loop."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import envelope_parse
        import mailgen
    finally:
        sys.path.remove(str(ROOT / "bench"))
    answers = [envelope_parse.answer(i + 1, raw) for i, raw in enumerate(mailgen.messages(300))]
    wire = b"".join(b"* %d FETCH " % (i + 1) + b"".join(a) for i, a in enumerate(answers))
    wire += b"m1 OK done\r\n"

    async def run(raw: bool) -> list[dict[str, Any]]:
        return (await envelope_parse._read_answers(wire, raw))[1]

    parsed, framed = asyncio.run(run(False)), asyncio.run(run(True))
    assert all(RAW_ANSWER in d for d in framed) and len(framed) == 300
    assert envelope_jobs(parsed) == envelope_jobs(framed)
    # Every one of them of the shape taken in one match.
    taken, upto = header_answers(bytearray(wire), 0, len(wire))
    assert len(taken) == 256 and upto == sum(len(d[RAW_ANSWER]) for d in framed[-256:])
