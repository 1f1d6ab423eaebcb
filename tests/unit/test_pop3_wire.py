"""Pure POP3 parsing (mailtui.protocols.pop3.wire): status lines, STAT, UIDL, LIST, CAPA,
the APOP timestamp and digest; bad input is a ProtocolViolation with a readable quote."""

from __future__ import annotations

import pytest

from mailtui.errors import TransientError
from mailtui.protocols.pop3 import wire
from mailtui.protocols.pop3.wire import ProtocolViolation, Status


@pytest.mark.parametrize(
    ("line", "status"),
    [
        (b"+OK\r\n", Status(True, "")),
        (b"+OK 2 320\r\n", Status(True, "2 320")),
        (b"-ERR\r\n", Status(False, "")),
        (b"-ERR no such message\r\n", Status(False, "no such message")),
        (
            b"-ERR [AUTH] Authentication failed.\r\n",
            Status(False, "Authentication failed.", "AUTH"),
        ),
        (b"-ERR [sys/temp] try later\r\n", Status(False, "try later", "SYS/TEMP")),
        (b"+ \r\n", Status(True, "", challenge=True)),
        (
            b"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n",
            Status(True, "eyJzdGF0dXMiOiI0MDEifQ==", challenge=True),
        ),
        (b"-ERR bad \x1b[31mred\r\n", Status(False, "bad ?[31mred")),
    ],
)
def test_status_lines(line: bytes, status: Status) -> None:
    assert wire.parse_status(line) == status


@pytest.mark.parametrize("line", [b"HTTP/1.1 400 Bad\r\n", b"+OKAY\r\n", b"\r\n", b"ok\r\n"])
def test_a_line_that_is_not_a_status_is_a_protocol_violation(line: bytes) -> None:
    with pytest.raises(ProtocolViolation, match="not POP3"):
        wire.parse_status(line)


def test_protocol_violation_is_transient() -> None:
    assert issubclass(ProtocolViolation, TransientError)


def test_quotes_are_short_and_harmless() -> None:
    assert wire.shown(b"a" * 500 + b"\x07\r\n") == "a" * wire.SHOWN + "…"
    assert wire.shown(b"\x1b]0;title\x07\r\n") == "?]0;title?"


def test_stat() -> None:
    assert wire.parse_stat("2 320") == (2, 320)
    assert wire.parse_stat("0 0 extra words") == (0, 0)
    for bad in ("", "2", "two 320", "-1 5", "2 99999999999"):
        with pytest.raises(ProtocolViolation):
            wire.parse_stat(bad)


def test_uidl_listing() -> None:
    lines = [b"1 whqtswO00WBw418f9t5JxYwZ\r\n", b"2 QhdPYR:00WBw1Ph7x7\r\n"]
    assert wire.parse_uidl(lines) == {1: "whqtswO00WBw418f9t5JxYwZ", 2: "QhdPYR:00WBw1Ph7x7"}
    assert wire.parse_uidl([]) == {}
    assert wire.parse_uidl_line(b"7 " + b"~" * 70) == (7, "~" * 70)


@pytest.mark.parametrize(
    "line",
    [
        b"garbage\r\n",
        b"1\r\n",
        b"x abc\r\n",
        b"0 abc\r\n",
        b"-1 abc\r\n",
        b"12345678901 abc\r\n",
        b"1 " + b"a" * 71 + b"\r\n",
        b"1 caf\xc3\xa9\r\n",
    ],
)
def test_garbage_uidl_lines(line: bytes) -> None:
    with pytest.raises(ProtocolViolation, match="UIDL|message number"):
        wire.parse_uidl([line])


def test_uidl_duplicates_are_refused() -> None:
    with pytest.raises(ProtocolViolation, match="twice"):
        wire.parse_uidl([b"1 a\r\n", b"1 b\r\n"])
    with pytest.raises(ProtocolViolation, match="two messages the UIDL"):
        wire.parse_uidl([b"1 a\r\n", b"2 a\r\n"])


def test_list_listing() -> None:
    assert wire.parse_list([b"1 120\r\n", b"2 200000\r\n"]) == {1: 120, 2: 200000}
    assert wire.parse_list_line(b"3 15 extra") == (3, 15)
    for bad in (b"1\r\n", b"1 x\r\n", b"0 5\r\n", b"a 5\r\n"):
        with pytest.raises(ProtocolViolation):
            wire.parse_list([bad])
    with pytest.raises(ProtocolViolation, match="twice"):
        wire.parse_list([b"1 5\r\n", b"1 6\r\n"])


def test_capa() -> None:
    lines = [b"TOP\r\n", b"uidl\r\n", b"SASL PLAIN LOGIN\r\n", b"IMPLEMENTATION x\r\n", b"\xff\r\n"]
    assert wire.parse_capa(lines) == {
        "TOP": (),
        "UIDL": (),
        "SASL": ("PLAIN", "LOGIN"),
        "IMPLEMENTATION": ("x",),
    }


def test_apop_timestamp_and_digest() -> None:
    # RFC 1939 7, the example exchange.
    greeting = "POP3 server ready <1896.697170952@dbc.mtview.ca.us>"
    stamp = wire.apop_timestamp(greeting)
    assert stamp == "<1896.697170952@dbc.mtview.ca.us>"
    assert wire.apop_digest(stamp, "tanstaaf") == "c4c9334bac560ecc979e58001b3e22fb"
    assert wire.apop_timestamp("Dovecot ready.") is None
    assert wire.apop_timestamp("ready <no-at-sign>") is None
