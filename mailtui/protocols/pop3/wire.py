"""POP3 on the wire (RFC 1939, CAPA and response codes RFC 2449, AUTH RFC 5034): parse
what the server says, spell APOP. No I/O here; ``client.py`` reads the lines.

    status line      ``+OK text`` / ``-ERR [CODE] text`` / ``+ challenge``   parse_status
    STAT             ``+OK count octets``                                     parse_stat
    UIDL / LIST      ``n uid`` / ``n octets``, one per line or in the +OK     parse_uidl, parse_list
    CAPA             ``NAME arg…`` lines                                      parse_capa
    greeting         an APOP timestamp ``<…@…>`` in the text                  apop_timestamp

Anything else is a ``ProtocolViolation``: a ``TransientError`` (the worker retries later,
as with a broken IMAP server) whose text says what the server sent instead, cut short and
with control characters replaced, so a hostile server cannot write to the terminal.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailtui.errors import TransientError

#: RFC 1939 7: a unique-id is 1 to 70 characters in 0x21..0x7E.
_UID = re.compile(rb"[\x21-\x7e]{1,70}")
_NUMBER = re.compile(rb"[0-9]{1,10}")  # a message number or size: at most 10 digits
#: RFC 1939 7 (APOP): the greeting's timestamp is a msg-id, ``<process.clock@host>``.
_TIMESTAMP = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")
_CODE = re.compile(r"^\[([^\]\s]+)\]\s?")
SHOWN = 120  # how much of a bad line an error quotes


class ProtocolViolation(TransientError):
    """The server sent something that is not POP3."""


def shown(line: bytes | str, limit: int | None = SHOWN) -> str:
    """A server's line as an error quotes it: decoded, controls replaced, cut short
    (after ``limit`` characters; None: whole)."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    text = text.rstrip("\r\n")
    cut = text if limit is None else text[:limit]
    cleaned = "".join(c if c.isprintable() else "?" for c in cut)
    return cleaned + ("…" if len(cut) < len(text) else "")


@dataclass(frozen=True, slots=True)
class Status:
    """A status line: ``+OK`` (ok), ``-ERR`` (not ok), or a SASL challenge (``+ ``).

    ``code`` is the RFC 2449 response code in brackets at the start of the text (upper
    case: ``AUTH``, ``IN-USE``, ``SYS/TEMP``, ``LOGIN-DELAY``), "" without one."""

    ok: bool
    text: str = ""
    code: str = ""
    challenge: bool = False


def parse_status(line: bytes) -> Status:
    """The first line of any answer."""
    body = line.rstrip(b"\r\n")
    if body == b"+OK" or body.startswith(b"+OK "):
        # Whole: a greeting's APOP timestamp may come after a long banner.
        return Status(True, shown(body[4:], None))
    if body == b"-ERR" or body.startswith(b"-ERR "):
        text = shown(body[5:])
        code = _CODE.match(text)
        if code:
            return Status(False, text[code.end() :], code.group(1).upper())
        return Status(False, text)
    if body == b"+" or body.startswith(b"+ "):
        # A SASL challenge is base64: kept as it came (``shown`` would cut it).
        return Status(True, body[2:].decode("ascii", "replace"), challenge=True)
    raise ProtocolViolation(f"the server sent something that is not POP3: {shown(line)!r}")


def _number(word: bytes, what: str, line: bytes) -> int:
    if not _NUMBER.fullmatch(word):
        raise ProtocolViolation(f"the server sent a bad {what} in {shown(line)!r}")
    return int(word)


def parse_stat(text: str) -> tuple[int, int]:
    """``count octets`` of a STAT answer (the text after ``+OK``)."""
    raw = text.encode()
    words = raw.split()
    if len(words) < 2:
        raise ProtocolViolation(f"the server answered STAT with {shown(text)!r}")
    return _number(words[0], "message count", raw), _number(words[1], "size", raw)


def parse_uidl_line(line: bytes) -> tuple[int, str]:
    """``n unique-id`` (a line of UIDL, or the text of ``UIDL n``'s +OK)."""
    words = line.split()
    if len(words) < 2 or not _UID.fullmatch(words[1]):
        raise ProtocolViolation(f"the server sent a bad UIDL line {shown(line)!r}")
    number = _number(words[0], "message number", line)
    if number < 1:
        raise ProtocolViolation(f"the server sent a bad UIDL line {shown(line)!r}")
    return number, words[1].decode("ascii")


def parse_list_line(line: bytes) -> tuple[int, int]:
    """``n octets`` (a line of LIST, or the text of ``LIST n``'s +OK)."""
    words = line.split()
    if len(words) < 2:
        raise ProtocolViolation(f"the server sent a bad LIST line {shown(line)!r}")
    number = _number(words[0], "message number", line)
    if number < 1:
        raise ProtocolViolation(f"the server sent a bad LIST line {shown(line)!r}")
    return number, _number(words[1], "size", line)


def parse_uidl(lines: Iterable[bytes]) -> dict[int, str]:
    """A whole UIDL listing: message number → unique id, in the server's order. Two
    lines for one number, or two numbers with one id, are a ProtocolViolation: the id is
    what decides whether a message was downloaded (and may be deleted)."""
    found: dict[int, str] = {}
    seen: set[str] = set()
    for line in lines:
        number, uid = parse_uidl_line(line)
        if number in found:
            raise ProtocolViolation(f"the server listed message {number} twice in UIDL")
        if uid in seen:
            raise ProtocolViolation(f"the server gave two messages the UIDL {uid!r}")
        found[number] = uid
        seen.add(uid)
    return found


def parse_list(lines: Iterable[bytes]) -> dict[int, int]:
    """A whole LIST listing: message number → size in octets."""
    found: dict[int, int] = {}
    for line in lines:
        number, size = parse_list_line(line)
        if number in found:
            raise ProtocolViolation(f"the server listed message {number} twice in LIST")
        found[number] = size
    return found


def parse_capa(lines: Iterable[bytes]) -> dict[str, tuple[str, ...]]:
    """CAPA lines: capability name (upper case) → its arguments (``SASL PLAIN LOGIN`` →
    ``{"SASL": ("PLAIN", "LOGIN")}``). Lines that are not ASCII words are left out."""
    caps: dict[str, tuple[str, ...]] = {}
    for line in lines:
        try:
            words = line.decode("ascii").split()
        except UnicodeDecodeError:
            continue
        if words and words[0].isprintable():
            caps[words[0].upper()] = tuple(words[1:])
    return caps


def apop_timestamp(greeting: str) -> str | None:
    """The APOP timestamp of a greeting's text (``<1896.697170952@dbc.mtview.ca.us>``),
    None when the server offers no APOP."""
    found = _TIMESTAMP.search(greeting)
    return found.group(0) if found else None


def apop_digest(timestamp: str, password: str) -> str:
    """RFC 1939 7: MD5 of the timestamp followed by the shared secret, in lower-case hex."""
    return hashlib.md5((timestamp + password).encode(), usedforsecurity=False).hexdigest()


#: Commands whose arguments are login data: the debug log shows the command alone.
_LOGIN_COMMANDS = (b"USER", b"PASS", b"APOP", b"AUTH")
AUTH_DATA = "<authentication data>"
TRACE_CHARS = 200  # of a line the debug log shows


def traced(who: str, data: bytes) -> list[str]:
    """The lines of ``data`` as the debug log shows them (``who`` is ``C`` or ``S``):
    the first line of each command (pipelined commands come several to a write), with
    USER, PASS and APOP arguments, and AUTH's initial response, left out."""
    out = []
    for line in data.split(b"\r\n"):
        if not line:
            continue
        words = line.split(b" ", 2)
        if who == "C" and words[0].upper() in _LOGIN_COMMANDS and len(words) > 1:
            keep = 2 if words[0].upper() == b"AUTH" else 1
            if len(words) > keep:
                line = b" ".join(words[:keep]) + b" " + AUTH_DATA.encode()
        out.append(shown(line, TRACE_CHARS))
        if who == "S":
            break
    return out
