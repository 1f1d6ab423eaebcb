"""IMAP on the wire: parse server responses, spell command arguments. No I/O here.

A server response arrives as *segments*: text lines, each but the last ending in a
literal marker ``{n}``, followed by exactly ``n`` bytes (``connection.read_response``
reads those with ``readexactly`` and never scans them). ``parse_response`` turns the
segments into a ``Response``; a literal becomes one ``bytes`` item without being copied
or searched, which is what keeps a 500 MB ``FETCH BODY[]`` cheap.

Parsed data items (``Item``):

    atom / number   str          ``UID``, ``17``, ``\\Seen``, ``BODY[HEADER]``
    quoted string   str
    literal         bytes
    NIL             None
    list            list[Item]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

#: A literal is ``bytes``, or a ``bytearray`` when it did not fit in the reader's buffer
#: (a message body, filled in place: ``LineReader.readexactly``).
Item: TypeAlias = str | bytes | bytearray | None | list["Item"]
Arg = bytes | tuple[bytes]  # a command argument; a 1-tuple is sent as a literal

MAX_LITERAL = 1 << 30  # a hostile server may not make us allocate more than 1 GiB at once

# One token of a response line. An atom may carry a section ``BODY[HEADER.FIELDS (A B)]``
# and a partial ``<0.100>`` (spaces and parens inside the brackets are part of it).
_TOKEN = re.compile(
    rb"""[ ]*(?:
      (\()                                            # 1 open list
    | (\))                                            # 2 close list
    | "((?:[^"\\\r\n]|\\.)*)"                          # 3 quoted string
    | \{(\d+)\+?\}$                                   # 4 literal marker (end of segment)
    | ([^ ()"{\[\]\r\n]*\[[^\]]*\](?:<[0-9.]+>)?      # 5 atom with a [section]
       | [^ ()"{\r\n]+)                               #   or a plain atom
    )""",
    re.X,
)
_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r\n$")
_UNQUOTE = re.compile(rb"\\(.)")
_CODE = re.compile(r"^\[([^\] ]+)(?: ([^\]]*))?\] ?(.*)$", re.S)
_STATUS_KINDS = frozenset({"OK", "NO", "BAD", "BYE", "PREAUTH"})


class ProtocolError(Exception):
    """The server sent something that is not IMAP."""


@dataclass(slots=True)
class Response:
    """One server response.

    ``tag`` is ``"*"`` (untagged), ``"+"`` (continuation) or the command's tag. ``kind``
    is upper case: ``OK``/``NO``/``BAD``/``BYE``/``PREAUTH`` for status responses, else
    the response name (``FETCH``, ``EXISTS``, ``LIST``, ``VANISHED``…). ``number`` is the
    leading number of ``* 5 EXISTS`` / ``* 5 FETCH``. Status responses have ``code`` (the
    ``[CODE …]`` name, upper case), ``code_args`` and ``text``; others have ``items``.
    """

    tag: str
    kind: str
    number: int | None = None
    items: list[Item] = field(default_factory=list)
    code: str = ""
    code_args: str = ""
    text: str = ""
    #: A header FETCH answer left unparsed for the parse thread (``framing``): the
    #: whole response as read, and its UID; ``items`` empty.
    raw: bytes | None = None
    raw_uid: str = ""

    @property
    def is_status(self) -> bool:
        return self.kind in _STATUS_KINDS


def literal_size(line: bytes) -> int | None:
    """``n`` when ``line`` (ending in CRLF) announces a literal ``{n}``, else None."""
    if not line.endswith(b"}\r\n"):
        return None
    m = _LITERAL_AT_END.search(line)
    if m is None:
        return None
    if len(m.group(1)) > 10:  # int() of thousands of digits would raise ValueError
        raise ProtocolError(f"the server announced a literal of {len(m.group(1))} digits")
    size = int(m.group(1))
    if size > MAX_LITERAL:
        raise ProtocolError(f"the server announced a {size}-byte literal")
    return size


def _text(data: bytes | bytearray) -> str:
    return data.decode("utf-8", "surrogateescape")


# The answer a first pass gets tens of thousands of times, as Dovecot and most servers
# spell it: ``(UID 7 FLAGS (\\Seen) INTERNALDATE "…" RFC822.SIZE 123 BODY[…] {n}``, the
# literal, ``)``. Read by one match (``_fetch_fast``); anything else, or anything odd
# inside it, goes to the general tokenizer, which gives the same items for these lines.
_FETCH_FAST = re.compile(
    rb'\(UID ([0-9]+) FLAGS \(([^()"{}\[\]\r\n]*)\) INTERNALDATE "([^"\\\r\n]*)"'
    rb" RFC822\.SIZE ([0-9]+) (BODY\[(?:HEADER\.FIELDS \([A-Z0-9.\- ]*\))?\]) \{([0-9]+)\}"
)


def _fetch_fast(segments: Sequence[bytes | bytearray]) -> list[Item] | None:
    """The items of a FETCH answer of the common shape above, or None."""
    if len(segments) != 3 or segments[2] not in (b")\r\n", b")"):
        return None
    m = _FETCH_FAST.fullmatch(segments[0].rstrip(b"\r\n"))
    literal = segments[1]
    if m is None or int(m.group(6)) != len(literal):
        return None
    uid, flags, date, size, section, _ = m.groups()
    names: list[Item] = []
    if flags:
        for flag in flags.split(b" "):
            if not flag or flag.upper() == b"NIL":
                return None  # two spaces, or NIL (None to the tokenizer)
            names.append(_text(flag))
    return [
        [
            "UID",
            uid.decode("ascii"),
            "FLAGS",
            names,
            "INTERNALDATE",
            _text(date),
            "RFC822.SIZE",
            size.decode("ascii"),
            section.decode("ascii"),
            literal,
        ]
    ]


def tokenize(segments: Sequence[bytes | bytearray]) -> list[Item]:
    """Items of a response body. ``segments`` alternate text and literal bytes, starting
    and ending with text (which may be empty).

    The common FETCH answer of a first pass is read by one match (``_fetch_fast``, a
    quarter of the time); the rest by ``tokenize_any``.
    """
    return _fetch_fast(segments) or tokenize_any(segments)


def tokenize_any(segments: Sequence[bytes | bytearray]) -> list[Item]:
    """``tokenize`` for any response body.

    One ``finditer`` per text segment and ``lastindex`` for the token's kind: a full sync
    tokenizes a FETCH line per message, and matching token by token was ≈ 30 µs a line.
    """
    stack: list[list[Item]] = [[]]
    top = stack[0]
    for index in range(0, len(segments), 2):
        text = segments[index].rstrip(b"\r\n")
        literal = segments[index + 1] if index + 1 < len(segments) else None
        pos = 0
        for m in _TOKEN.finditer(text):
            if m.start() != pos:
                break  # something no token matches starts at pos
            pos = m.end()
            kind = m.lastindex
            if kind == 5:
                atom = m.group(5)
                top.append(None if atom.upper() == b"NIL" else _text(atom))
            elif kind == 1:
                new: list[Item] = []
                top.append(new)
                stack.append(new)
                top = new
            elif kind == 2:
                if len(stack) == 1:
                    raise ProtocolError("unbalanced ')'")
                stack.pop()
                top = stack[-1]
            elif kind == 3:
                top.append(_text(_UNQUOTE.sub(rb"\1", m.group(3))))
            else:
                if literal is None:
                    raise ProtocolError("literal marker without data")
                top.append(literal)
                literal = None
        if text[pos:].strip():
            raise ProtocolError(f"cannot parse {text[pos : pos + 40]!r}")
        if literal is not None:
            raise ProtocolError("literal without a marker")
    if len(stack) != 1:
        raise ProtocolError("unbalanced '('")
    return stack[0]


def parse_response(segments: Sequence[bytes | bytearray]) -> Response:
    first = segments[0]
    if first.startswith(b"+"):
        return Response(tag="+", kind="+", text=_text(first[1:].strip()))
    head, _, rest = first.partition(b" ")
    tag = _text(head)
    if not tag:
        raise ProtocolError(f"no tag in {first[:40]!r}")
    word, _, rest2 = rest.partition(b" ")
    number: int | None = None
    if tag == "*" and word.isdigit():
        number = int(word)
        word, _, rest2 = rest2.partition(b" ")
    kind = _text(word).rstrip("\r\n").upper()
    if not kind:
        raise ProtocolError(f"no response name in {first[:40]!r}")
    if kind in _STATUS_KINDS and len(segments) == 1:
        text = _text(rest2).rstrip("\r\n")
        code = code_args = ""
        m = _CODE.match(text)
        if m:
            code, code_args, text = m.group(1).upper(), m.group(2) or "", m.group(3)
        return Response(
            tag=tag, kind=kind, number=number, code=code, code_args=code_args, text=text
        )
    if kind == "SEARCH" and len(segments) == 1 and b"(" not in rest2:
        # Numbers only (no MODSEQ): split at C speed. A big folder's UID listing is
        # 100,000 of them, read on the event loop right after its first screen.
        words: list[Item] = list(rest2.decode("ascii", "replace").split())
        return Response(tag=tag, kind=kind, number=number, items=words)
    body = [rest2, *segments[1:]]
    return Response(tag=tag, kind=kind, number=number, items=tokenize(body))


# ------------------------------------------------------------------ reading items


def fetch_dict(items: Sequence[Item]) -> dict[str, Item]:
    """The ``(NAME value NAME value …)`` of a FETCH response, by upper-case name."""
    if len(items) != 1 or not isinstance(items[0], list):
        raise ProtocolError("FETCH without a parenthesized list")
    pairs = items[0]
    out: dict[str, Item] = {}
    for i in range(0, len(pairs) - 1, 2):
        name = pairs[i]
        if isinstance(name, str):
            out[name.upper()] = pairs[i + 1]
    return out


def as_int(item: Item, default: int = 0) -> int:
    if isinstance(item, str) and item.isdigit():
        return int(item)
    if isinstance(item, list) and len(item) == 1:  # MODSEQ (12345)
        return as_int(item[0], default)
    return default


def as_bytes(item: Item) -> bytes | bytearray:
    if isinstance(item, bytes | bytearray):
        return item
    if isinstance(item, str):
        return item.encode("utf-8", "surrogateescape")
    return b""


def as_str(item: Item) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, bytes | bytearray):
        return item.decode("utf-8", "replace")
    return ""


def as_list(item: Item) -> list[Item]:
    return item if isinstance(item, list) else []


# ------------------------------------------------------------------ sequence sets


def parse_uid_set(text: str) -> list[int]:
    """``1:3,7`` → [1, 2, 3, 7] (``*`` is not allowed here: servers never send it)."""
    out: list[int] = []
    for span in uid_ranges(text):
        out.extend(span)
    return out


def uid_ranges(text: str) -> Iterator[range]:
    """``1:3,7`` → range(1, 4), range(7, 8): ``parse_uid_set`` without the numbers
    made (an array takes each range a number at a time)."""
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition(":")
        a = int(lo)
        b = int(hi) if hi else a
        if a > b:
            a, b = b, a
        if b - a > 10_000_000:
            raise ProtocolError("absurd UID range")
        yield range(a, b + 1)


def uid_set(uids: Iterable[int]) -> str:
    """[1, 2, 3, 7] → ``1:3,7`` (sorted, duplicates dropped)."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


# ------------------------------------------------------------------ spelling arguments

_ATOM_SAFE = re.compile(r"^[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~]+$")


def quote(value: str) -> bytes | tuple[bytes]:
    """An astring argument: a bare atom when safe, a quoted string when ASCII, else a
    literal (returned as a 1-tuple for the connection to send as ``{n}``)."""
    if _ATOM_SAFE.match(value) and value.upper() != "NIL":
        return value.encode("ascii")
    if all(0x20 <= ord(c) <= 0x7E for c in value):
        return b'"' + value.replace("\\", "\\\\").replace('"', '\\"').encode("ascii") + b'"'
    return (value.encode("utf-8"),)
