"""Responses found whole in the reader's buffer, many at a time, without parsing them.

A first pass reads 100,000 FETCH answers, and the reader's buffer usually holds
hundreds of them: reading each line and literal with its own ``readline`` and
``readexactly`` and tokenizing it on the event loop was ≈ 9 µs a message there.
``frame`` finds where complete responses end (a line; if it announces a literal
``{n}``, the n bytes and the line after them, and so on) and cuts them out as ``bytes``,
one copy each; ``ImapCommands`` then reads them one by one as if from the wire.
A header FETCH answer for a command that takes them unparsed (``Pending.raw_fetch``)
stays raw (``lazy_fetch``): the parse thread tokenizes it (``fetch_items``), so the
loop only frames (docs/decisions.md, "The envelope rate, second step").

The framing follows ``ImapCommands._read_raw`` exactly (the same line ends, the same
literal marker test as ``wire.literal_size``). Whatever it cannot take whole is left
in the buffer for that reader: an incomplete response, a line without an end (the
reader's limit raises ``LineTooLong``), a literal beyond ``MAX_LITERAL`` (the reader
raises ``ProtocolError``), so hostile input fails the same way and never grows memory
beyond what the reader holds anyway.
"""

from __future__ import annotations

import re

from mailtui.protocols.imap.wire import MAX_LITERAL, Item, fetch_dict, literal_size, parse_response

#: At most this many responses are cut out per call: the loop's pacing (every 12 ms)
#: comes between responses, so one call stays well under it.
MOST = 256

# The literal marker at the end of a line, from its last "{": ``wire._LITERAL_AT_END``.
_MARKER = re.compile(rb"\{([0-9]+)\+?\}\r\n")
# An untagged header FETCH answer of a first pass, as far as the loop needs to look: the
# sequence number and the UID. The rest is checked where it is parsed (``fetch_items``).
_LAZY = re.compile(
    rb"\* ([0-9]+) FETCH \(UID ([0-9]+) FLAGS \([^()\r\n]*\) INTERNALDATE "
    rb'"[^"\r\n]*" RFC822\.SIZE [0-9]+ BODY\[HEADER'
)


def frame(buf: bytearray, start: int, end: int) -> tuple[list[bytes], int]:
    """The complete responses in ``buf[start:end]`` (at most ``MOST``), each with its
    CRLF and literals, and the offset after the last one."""
    out: list[bytes] = []
    pos = start
    find = buf.find
    view = memoryview(buf)
    try:
        while len(out) < MOST:
            scan = pos
            while True:
                i = find(b"\r\n", scan, end)
                if i < 0:
                    return out, pos
                if buf[i - 1] == 0x7D:  # "}": perhaps a literal marker
                    j = buf.rfind(b"{", scan, i)
                    m = _MARKER.fullmatch(buf, j, i + 2) if j >= 0 else None
                    if m is not None:
                        digits = m.group(1)
                        size = int(digits) if len(digits) <= 10 else MAX_LITERAL + 1
                        if size > MAX_LITERAL or i + 2 + size > end:
                            return out, pos  # left to the reader
                        scan = i + 2 + size
                        continue
                break
            out.append(bytes(view[pos : i + 2]))
            pos = i + 2
        return out, pos
    finally:
        view.release()


# A header FETCH answer of a first pass whole: its first line up to the literal's length
# (nothing in it a line end, a parenthesis, a quote or a brace where ``frame`` would see
# another line or a literal marker), then the literal and ``)`` CRLF (checked by
# ``header_answers``).
_HEADER_ANSWER = re.compile(
    rb"\* [0-9]+ FETCH \(UID ([0-9]+) FLAGS \([^()\r\n{}\"]*\) INTERNALDATE "
    rb'"[^"\r\n{}]*" RFC822\.SIZE [0-9]+ BODY\[HEADER\.FIELDS \([A-Z0-9.\- ]*\)\] '
    rb"\{([0-9]{1,10})\}\r\n"
)


def header_answers(buf: bytearray, start: int, end: int) -> tuple[list[tuple[str, bytes]], int]:
    """The header FETCH answers of the common shape whole at the head of
    ``buf[start:end]`` (at most ``MOST``), as (UID, answer), and the offset after the
    last one: what ``frame`` cuts out and ``lazy_fetch`` names, in one match each. It
    stops at the first response of any other shape (or incomplete), for ``frame``."""
    out: list[tuple[str, bytes]] = []
    pos = start
    match = _HEADER_ANSWER.match
    view = memoryview(buf)
    try:
        while len(out) < MOST:
            m = match(buf, pos, end)
            if m is None:
                break
            stop = m.end() + int(m.group(2))
            if stop - m.end() > MAX_LITERAL or stop + 3 > end or not buf.startswith(b")\r\n", stop):
                break
            out.append((m.group(1).decode("ascii"), bytes(view[pos : stop + 3])))
            pos = stop + 3
        return out, pos
    finally:
        view.release()


def segments_of(raw: bytes) -> list[bytes]:
    """A framed response as the segments ``_read_raw`` reads: lines, each but the last
    followed by the literal it announces."""
    segments: list[bytes] = []
    pos = 0
    while True:
        i = raw.find(b"\r\n", pos)
        line = raw[pos : i + 2]
        segments.append(line)
        size = literal_size(line)
        if size is None:
            return segments
        segments.append(raw[i + 2 : i + 2 + size])
        pos = i + 2 + size


def lazy_fetch(raw: bytes) -> tuple[int, str] | None:
    """The sequence number and the UID (as the tokenizer spells it) of an untagged
    header FETCH answer of the common shape, which may go to the parse thread
    unparsed; None for any other response."""
    m = _LAZY.match(raw)
    return None if m is None else (int(m.group(1)), m.group(2).decode("ascii"))


def fetch_items(raw: bytes) -> dict[str, Item]:
    """The ``fetch_dict`` of a raw FETCH answer, as if it had been parsed when read;
    ``ProtocolError`` where that read would have raised it."""
    return fetch_dict(parse_response(segments_of(raw)).items)
