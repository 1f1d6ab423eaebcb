"""The header block of a message to send, as bytes: the addresses its To, Cc and Bcc
fields name, and the message with some fields removed or added, every other byte kept
as it was (``mailtui send -t`` drops Bcc; ActiveSync's SendMail takes its recipients
from these fields).

Pure functions; the header block ends at the first empty line (CRLF or LF), and a
message without one is all header."""

from __future__ import annotations

import re
from email.utils import getaddresses

#: The fields that name a message's recipients.
RECIPIENT_FIELDS = ("to", "cc", "bcc")

_END = re.compile(rb"\r?\n\r?\n")


def _split(raw: bytes) -> tuple[bytes, bytes]:
    """(header block with its last line break, the rest from the empty line on)."""
    end = _END.search(raw)
    if end is None:
        return raw, b""
    cut = end.start() + (2 if raw[end.start() : end.start() + 2] == b"\r\n" else 1)
    return raw[:cut], raw[cut:]


def _fields(head: bytes) -> list[bytes]:
    """The header block's fields, each with its folded lines and line breaks."""
    fields: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _name(field: bytes) -> str:
    name, colon, _ = field.partition(b":")
    return name.strip().decode("ascii", "replace").lower() if colon else ""


def field_values(raw: bytes, names: tuple[str, ...]) -> list[str]:
    """The values of the fields named (lower case), unfolded, in order."""
    head, _ = _split(raw)
    values = []
    for field in _fields(head):
        if _name(field) in names:
            value = field.partition(b":")[2].decode("utf-8", "replace")
            values.append(re.sub(r"\r?\n[ \t]", " ", value).strip())
    return values


def addresses(raw: bytes, names: tuple[str, ...] = RECIPIENT_FIELDS) -> list[str]:
    """The addresses the fields named hold (``a@b``, without names), in order, once each
    (compared without case)."""
    out: list[str] = []
    seen: set[str] = set()
    for value in field_values(raw, names):
        # Encoded words are only in names, which are left out: no need to decode them.
        for _, addr in getaddresses([value]):
            addr = addr.strip()
            if "@" in addr and addr.casefold() not in seen:
                seen.add(addr.casefold())
                out.append(addr)
    return out


def without_fields(raw: bytes, names: tuple[str, ...]) -> bytes:
    """The message without the fields named (lower case), every other byte as it was."""
    head, rest = _split(raw)
    kept = b"".join(f for f in _fields(head) if _name(f) not in names)
    return kept + rest


def with_field(raw: bytes, name: str, value: str) -> bytes:
    """The message with one more field first in its header block (``value`` ASCII or
    already encoded), with the message's own line break."""
    newline = b"\r\n" if b"\r\n" in raw[:4096] or not raw else b"\n"
    return f"{name}: {value}".encode() + newline + raw


def field_names(raw: bytes) -> list[str]:
    """The names of the header block's fields, in order (as written)."""
    head, _ = _split(raw)
    names = []
    for field in _fields(head):
        name, colon, _ = field.partition(b":")
        if colon:
            names.append(name.strip().decode("ascii", "replace"))
    return names
