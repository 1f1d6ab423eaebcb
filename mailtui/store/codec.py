"""Pure conversions between the shared dataclasses and the store's column values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

from mailtui.mime.threading import normalize_subject
from mailtui.models import Address, Envelope, Flag, MessageRow

#: Only the last this-many References are used to find a thread: the nearest ancestors
#: are at the end, and a hostile header may carry thousands.
MAX_REFERENCES: Final = 50

# One encoder for all calls: json.dumps() with options builds a new one every time.
_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

#: The columns window(), search() and friends select, in ``row_from_db`` order.
ROW_COLUMNS: Final = "id, folder_id, date, sender, subject, flags, has_attachments, size, thread_id"


def encode_addresses(addresses: Sequence[Address]) -> str:
    """Addresses as compact JSON, ``[["name","addr"],…]``.

    ``ensure_ascii=False`` matters: the same text feeds the full-text index, and
    ``\\u00e9`` escapes would split names into meaningless tokens.
    """
    if not addresses:
        return "[]"
    return _JSON.encode([[a.name, a.addr] for a in addresses])


def decode_addresses(text: str) -> tuple[Address, ...]:
    """Inverse of :func:`encode_addresses`; tolerant of damaged values (returns ())."""
    try:
        items = json.loads(text)
    except ValueError:
        return ()
    out: list[Address] = []
    if isinstance(items, list):
        for item in items:
            if isinstance(item, list) and len(item) == 2:
                out.append(Address(str(item[0]), str(item[1])))
    return tuple(out)


def encode_references(refs: Iterable[str]) -> str:
    """References as one space-separated string (message ids never contain spaces)."""
    return " ".join(r for r in refs if r)


def sender_of(envelope: Envelope) -> str:
    """The one string the list shows in its "from" column."""
    return envelope.from_[0].display() if envelope.from_ else ""


def thread_candidates(envelope: Envelope) -> list[str]:
    """Message-ids whose thread this message joins, best first.

    Its own id first (a copy of a message already known elsewhere in the account shares
    its thread), then the direct parent, then References from the nearest ancestor back.
    """
    out: list[str] = []
    for mid in (
        envelope.message_id,
        envelope.in_reply_to,
        *reversed(envelope.references[-MAX_REFERENCES:]),
    ):
        if mid and mid not in out:
            out.append(mid)
    return out


def subject_key(subject: str) -> tuple[str, bool]:
    """(the subject as threads compare it, whether it reads as a reply or forward).

    ``"Re: [dev] Plan"`` -> ``("plan", True)``; ``"Plan"`` -> ``("plan", False)``. Only a
    reply is ever threaded by its subject: two unrelated mails called "Hello" stay apart.
    """
    key = normalize_subject(subject)
    return key.casefold(), bool(key) and key != " ".join(subject.split())


def row_from_db(r: Sequence[Any]) -> MessageRow:
    """A ``MessageRow`` from a row selected with :data:`ROW_COLUMNS`."""
    return MessageRow(
        id=r[0],
        folder_id=r[1],
        date=r[2],
        sender=r[3],
        subject=r[4],
        flags=Flag(r[5]),
        has_attachments=bool(r[6]),
        size=r[7],
        thread_id=r[8],
    )


def fts_query(text: str) -> str | None:
    """Turn what the user typed into a safe FTS5 query, or None when nothing is left.

    Every whitespace-separated word becomes a quoted phrase, so FTS5 syntax (quotes,
    ``AND``/``OR``/``NOT``, ``NEAR``, column filters, parentheses) is matched as text
    instead of being parsed and raising. All words must match (implicit AND). A trailing
    ``*`` keeps its meaning as a prefix search, since that is what people type it for.
    Words without a letter or digit are dropped: the tokenizer would drop them anyway.
    """
    terms: list[str] = []
    for word in text.split():
        core = word.rstrip("*")
        if not any(ch.isalnum() for ch in core):
            continue
        term = '"' + core.replace('"', '""') + '"'
        if core != word:
            term += "*"
        terms.append(term)
    return " ".join(terms) if terms else None
