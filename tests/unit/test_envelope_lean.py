"""The fast paths of the envelope parse (``mime.headers``: the address memo, the common
Date shape, plain one-line strings) give what the general code gives: the same
``Envelope`` for the test messages, generated mail and hostile headers, with the fast
paths on and off."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui import mime
from mailtui.mime import envelope, headers, lean
from mailtui.models import Address, Envelope
from mailtui.protocols.imap.messages import header_block

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
MESSAGES = sorted((DATA / "valid").glob("*.eml")) + sorted((DATA / "malformed").glob("*.eml"))


def _slow_one_line(s: str, limit: int) -> str:
    return headers._SPACES.sub(" ", headers.clean_line(s)).strip()[:limit]


def _general(header: bytes, monkeypatch: pytest.MonkeyPatch) -> Envelope:
    """``header_envelope`` with every fast path of ``mime.headers`` off, and without
    the lean reader of the common block shape (``mime.lean``)."""
    with monkeypatch.context() as m:
        m.setattr(envelope, "lean_envelope", lambda block: None)
        m.setattr(headers, "_common_date", lambda raw: None)
        m.setattr(headers, "_addresses", lambda raw: headers._parse_addresses(raw) if raw else ())
        m.setattr(headers, "_one_line", _slow_one_line)
        return mime.header_envelope(header)


def _same(header: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    headers._ADDRESS_MEMO.clear()
    cold = mime.header_envelope(header)
    warm = mime.header_envelope(header)  # the addresses from the memo now
    assert cold == warm == _general(header, monkeypatch)


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_test_messages(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _same(header_block(path.read_bytes()), monkeypatch)


def _generated() -> Iterator[bytes]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import mailgen
    finally:
        sys.path.remove(str(ROOT / "bench"))
    for raw in mailgen.messages(300, seed=7):
        yield header_block(raw)


def test_generated_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    headers_seen = list(_generated())
    assert len(headers_seen) == 300
    for header in headers_seen:
        _same(header, monkeypatch)


def _lean(header: bytes) -> Envelope | None:
    return lean.lean_envelope(header.decode("ascii", "surrogateescape"))


def test_the_common_shape_takes_the_lean_path() -> None:
    """What IMAP sends for the envelope fields (``HEADER.FIELDS``: CRLF lines, one blank
    line at the end) is read by the lean path, so the comparisons above exercise it."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import envelope_parse
        import mailgen
    finally:
        sys.path.remove(str(ROOT / "bench"))
    literals = [envelope_parse.answer(1, raw)[1] for raw in mailgen.messages(100, seed=3)]
    assert all(_lean(literal) is not None for literal in literals)


@pytest.mark.parametrize(
    "header",
    [
        b"Subject: a\r\n",  # no blank line at the end
        b"Subject: a\nFrom: b@c\r\n\r\n",  # a bare LF
        b"Subject: a\rb\r\n\r\n",  # a bare CR
        b"Subject: a\r\n\r\nFrom: b@c\r\n\r\n",  # a blank line inside
        b" folded first\r\nSubject: a\r\n\r\n",
        b"Not a field\r\nSubject: a\r\n\r\n",
        b"From x@y Mon Dec  2 10:00:00 2024\r\nSubject: a\r\n\r\n",
        b"Bad Name: x\r\nSubject: a\r\n\r\n",
        b": no name\r\nSubject: a\r\n\r\n",
        b"\r\n",
        b"",
    ],
)
def test_other_shapes_take_the_general_path(
    header: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _lean(header) is None
    _same(header, monkeypatch)


def test_a_seen_field_name_without_its_colon_is_not_a_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _same(b"Subject: a\r\nSubject\r\nFrom: b@c\r\n\r\n", monkeypatch)
    assert _lean(b"Subject: a\r\nSubject\r\nFrom: b@c\r\n\r\n") is None


@pytest.mark.parametrize("length", [994, 995, 996, 997, 998, 1999, 2000, 2001, 8001])
def test_lengths_at_the_cuts(length: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids and subjects around the lengths where the general code cuts them."""
    long_id = b"<" + b"i" * (length - 2) + b">"
    header = (
        b"Message-ID: " + long_id + b"\r\nIn-Reply-To: " + long_id
        + b"\r\nReferences: <a@b> " + long_id + b"\r\nSubject: " + b"s" * length
        + b"\r\nSubject: second\r\n\r\n"
    )
    _same(header, monkeypatch)
    utf8 = b"Subject: " + "é".encode() * (length // 2) + b"\r\n\r\n"
    _same(utf8, monkeypatch)


def test_huge_references(monkeypatch: pytest.MonkeyPatch) -> None:
    refs = b"\r\n ".join(b"<r%d@x.org>" % i for i in range(5000))
    header = b"References: " + refs + b"\r\nMessage-ID: <m@x>\r\n\r\n"
    assert _lean(header) is not None
    _same(header, monkeypatch)
    assert len(mime.header_envelope(header).references) == headers.MAX_REFERENCES


NAME = st.sampled_from(
    [b"From", b"FROM", b"from", b"To", b"Cc", b"CC", b"Subject", b"SUBJECT", b"Date",
     b"Message-ID", b"Message-Id", b"In-Reply-To", b"References", b"Content-Type",
     b"X-Other", b"Bad Name", b"", b"F\xc3\xa9"]
)
BYTES = st.sampled_from(
    [
        b"Ann <ann@example.org>", b'"Doe, John" <j@x.org>', b"bare@example.org",
        b"=?utf-8?q?J=C3=BCrgen?=", b"=?x-unknown?b?AAAA?=", b"=?utf-8?b?w6k=?=", b"=?",
        b"<id@host>", b"<a b@c>", b"<>", b"<<x@y>>", b"<x@y", b"x@y>",
        b"Thu, 05 Dec 2024 01:25:49 +0000", b"5 Dec 2024 1:2:3 +0000", b"Feb",
        b"Mon, 31 Feb 2024 25:61:61 -9999", b"Thu, 05 Dec 0999 01:25:49 +0000",
        b"\r\n ", b"\r\n\t", b"\r\n", b"\r", b"\n", b"\r\n\r\n", b" ", b"  ", b"\t",
        b"\x00", b"\x1b[31m", b"\x7f", b"\x85", b"\xc3\xa9", b"\xff\xfe", b"\xe2\x80\xae",
        b"\xc2\xa0", b"\xe2\x80\xa8", b"(comment)", b",", b":", b";", b'"', b"\\", b"x",
        b"multipart/mixed; boundary=x", b"MULTIPART/Report",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(NAME, st.lists(BYTES, max_size=6)), max_size=9),
    st.sampled_from([b"\r\n", b"\n", b"", b"\r\nX-After: y\r\n"]),
)
def test_hostile_blocks(fields: list[tuple[bytes, list[bytes]]], end: bytes) -> None:
    """Byte-level blocks: 8-bit bytes that are UTF-8 and that are not, control
    characters, bare CR and LF, folding, duplicate names in any case, missing fields."""
    header = b"".join(name + b": " + b"".join(value) + b"\r\n" for name, value in fields)
    with pytest.MonkeyPatch.context() as m:
        _same(header + end, m)


FIELD = st.sampled_from(["From", "To", "Cc", "Subject", "Date", "Message-ID", "References"])
PIECE = st.sampled_from(
    [
        "Ann <ann@example.org>",
        '"Doe, John" <j@x.org>',
        "=?utf-8?q?J=C3=BCrgen?= <j@x>",
        "bare@example.org",
        "  ",
        "\t",
        ",",
        "<",
        ">",
        '"',
        "(comment)",
        "group: a@b;",
        "Thu, 05 Dec 2024 01:25:49 +0000",
        "5 Dec 99 01:25:49 -0730",
        "31 Feb 2024 25:61:61 +9999",
        "Mon, 01 Jan 0001 00:00:00 +0000",
        "=?",
        "?=",
        "\x1b[31m",
        "\u202e",
        "\xa0",
        "é",
        "\r\n ",
        "<id@host>",
        "x",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(FIELD, st.lists(PIECE, max_size=6)), max_size=8))
def test_hostile_headers(fields: list[tuple[str, list[str]]]) -> None:
    header = "".join(f"{name}: {''.join(value)}\r\n" for name, value in fields)
    with pytest.MonkeyPatch.context() as m:
        _same(header.encode("utf-8") + b"\r\n", m)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9998, 12, 31)),
    st.integers(min_value=-99 * 60 - 59, max_value=99 * 60 + 59),
    st.booleans(),
)
def test_common_dates(when: datetime, minutes: int, weekday: bool) -> None:
    zone = timezone(timedelta(minutes=minutes)) if abs(minutes) < 24 * 60 else UTC
    text = format_datetime(when.replace(tzinfo=zone))  # "Thu, 05 Dec 2024 01:25:49 +0000"
    if not weekday:
        text = text.split(", ", 1)[1]
    assert headers._common_date(text) is not None
    with pytest.MonkeyPatch.context() as m:
        fast = headers._date(text)
        m.setattr(headers, "_common_date", lambda raw: None)
        assert fast == headers._date(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thu, 05 Dec 0099 01:25:49 +0000",  # a year below 1000: read as 1999 by email
        "Thu, 05 dec 2024 01:25:49 +0000",
        "Thu, 05 Dec 2024 01:25 +0000",
        "Thu, 05 Dec 2024 01:25:49 GMT",
        "Thu, 05 Dec 2024 01:25:49 +0000 (UTC)",
        "Thu,  05 Dec 2024 01:25:49 +0000",
        "Foo, 05 Bar 2024 01:25:49 +0000",
    ],
)
def test_other_dates_take_the_general_parser(text: str) -> None:
    assert headers._common_date(text) is None


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(headers, "_MEMO_ENTRIES", 10)
    headers._ADDRESS_MEMO.clear()
    for i in range(25):
        assert headers._addresses(f"u{i} <u{i}@x.org>") == (Address(f"u{i}", f"u{i}@x.org"),)
    assert 0 < len(headers._ADDRESS_MEMO) <= 10
    long_value = ", ".join(f"u{i}@x.org" for i in range(100))
    assert len(headers._addresses(long_value)) == 100
    assert long_value not in headers._ADDRESS_MEMO
