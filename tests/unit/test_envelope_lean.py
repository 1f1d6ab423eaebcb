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
from mailtui.mime import headers
from mailtui.models import Address, Envelope
from mailtui.protocols.imap.messages import header_block

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
MESSAGES = sorted((DATA / "valid").glob("*.eml")) + sorted((DATA / "malformed").glob("*.eml"))


def _slow_one_line(s: str, limit: int) -> str:
    return headers._SPACES.sub(" ", headers.clean_line(s)).strip()[:limit]


def _general(header: bytes, monkeypatch: pytest.MonkeyPatch) -> Envelope:
    """``header_envelope`` with every fast path of ``mime.headers`` off."""
    with monkeypatch.context() as m:
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
