"""The envelope of a header block of the common shape, in a few C-speed passes.

A first IMAP pass reads 100,000 ``BODY[HEADER.FIELDS (…)]`` blocks, nearly all alike:
``Name: value`` lines ending in CRLF, perhaps folded, one blank line at the end. For
such a block ``lean_envelope`` checks the shape with one match, splits it into fields
with one ``findall`` and reads each field the quick way when its value is plain
(printable ASCII subject, ``<id>`` lists, the common Date, addresses memoized); a field
that is not plain goes to the general function of that field (``mime.headers``), and a
block of any other shape to the general reader (None). The result is exactly what
``headers._envelope(read_header_block(block))`` gives: the reasons are with each step,
and ``tests/unit/test_envelope_lean.py`` compares both ways on test, generated and
hostile headers (docs/decisions.md, "The envelope rate, second step").
"""

from __future__ import annotations

import re

from mailtui.mime import headers
from mailtui.models import Envelope

# Ids as ``headers._ids`` finds them, when nothing else is in the value: printable ASCII
# without blanks or angle brackets inside, at most ``MAX_ID`` characters with the
# brackets (so ``_one_line`` would not cut them), separated by blanks.
_ONE_ID = re.compile(r"[ \t]*(<[!-;=?-~]{1,996}>)[ \t]*")
_ID_LIST = re.compile(r"(?:[ \t]*<[!-;=?-~]{1,996}>)*[ \t]*")
_ID = re.compile(r"<[^<>]*>")
# A field name as ``_decode._FIELD`` reads it (``:`` is never in a partitioned name).
_NAME = re.compile(r"[\x21-\x7e]+")

_WANTED = frozenset(
    ("subject", "from", "to", "cc", "date", "message-id", "in-reply-to", "references")
)
#: Field names seen, as written, to their lower-case key: a mailbox uses few spellings,
#: so a name is checked once. Bounded, like the address memo.
_KEYS: dict[str, str] = {}


def lean_envelope(block: str) -> Envelope | None:
    """The envelope of a header ``block`` (decoded as ``read_header_block`` decodes it:
    ASCII with surrogate escapes), or None when the block is not of the common shape."""
    wanted = _wanted_fields(block)
    if wanted is None:
        return None
    get = wanted.get
    memo = headers._ADDRESS_MEMO
    return Envelope(
        _subject(get("subject")),
        memo.get(get("from") or "") or headers._addresses(get("from")),
        memo.get(get("to") or "") or headers._addresses(get("to")),
        memo.get(get("cc") or "") or headers._addresses(get("cc")),
        headers._date(get("date")),
        _first_id(get("message-id"), ""),
        _first_id(get("in-reply-to"), "@"),
        _references(get("references")),
    )


def _wanted_fields(block: str) -> dict[str, str] | None:
    """The first value of each field ``headers._envelope`` reads, unfolded, as
    ``read_header_block`` gives them; None unless every line ends in CRLF, is a
    ``Name: value`` line or a continuation of one, and the one blank line ends the
    block. For such a block the reader splits at CRLF (``_HEADER_END`` finds that blank
    line first), takes the blanks after the colon off and removes the CRLF of
    continuations, which is what this does."""
    if not block.endswith("\r\n\r\n"):
        return None
    body = block[:-4]
    breaks = body.count("\r\n")
    if body.count("\r") != breaks or body.count("\n") != breaks:
        return None  # a bare CR or LF
    wanted: dict[str, str] = {}
    keys = _KEYS
    taking: str | None = None  # the key a continuation line extends ("": none)
    for line in body.split("\r\n"):
        name, colon, value = line.partition(":")
        key = keys.get(name) if colon else None
        if key is None:  # a name not seen yet, a continuation, or not a field at all
            if line[:1] in (" ", "\t") and line:
                if taking is None:
                    return None  # a continuation first: the general reader
                if taking:
                    wanted[taking] += line
                continue
            if not colon or _NAME.fullmatch(name) is None:
                return None  # an empty line, a line without a field name
            key = _key(name)
        if key and key not in wanted:  # the first occurrence, as _envelope takes
            wanted[key] = value.lstrip(" \t")
            taking = key
        else:
            taking = ""
    return wanted


def _key(name: str) -> str:
    """The key of a valid field name: its lower case if ``_envelope`` reads it, else
    "" (remembered in ``_KEYS``)."""
    key = name.lower()
    if key not in _WANTED:
        key = ""
    if len(_KEYS) >= 1024:
        _KEYS.clear()
    _KEYS[name] = key
    return key


def _subject(raw: str | None) -> str:
    if raw is None:
        return ""
    # Printable ASCII without "=?" or two blanks: unfolding, RFC 2047 and the sanitizer
    # leave it as it is; short enough that neither cut applies.
    if raw.isascii():
        text = raw
    else:
        # 8-bit bytes (surrogate escapes) that are UTF-8: what ``fix_surrogates`` makes
        # of them, and printable text is what ``clean_line`` and the blank collapsing
        # of ``_one_line`` leave as it is (every blank but the space is unprintable).
        try:
            text = raw.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeError:
            return headers._subject(raw)
    if (
        text.isprintable()
        and len(raw) <= headers.MAX_SUBJECT
        and "=?" not in text
        and "  " not in text
    ):
        return text.strip()
    return headers._subject(raw)


def _first_id(raw: str | None, bare: str) -> str:
    if not raw:
        return ""
    m = _ONE_ID.fullmatch(raw)
    return m.group(1) if m is not None else headers._first_id(raw, bare)


def _references(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    if _ID_LIST.fullmatch(raw) is not None:
        ids = _ID.findall(raw)
        if ids:
            if len(ids) > headers.MAX_REFERENCES:
                ids = ids[:1] + ids[-(headers.MAX_REFERENCES - 1) :]
            return tuple(ids)
    return headers._references(raw)
