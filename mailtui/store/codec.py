"""Pure conversions between the shared dataclasses and the store's column values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from mailtui.models import Address, Flag, MessageRow

# The store's encodings of a new message's values live with the plain data, so that
# they can be made where the envelope is parsed; offered here as before.
from mailtui.models.envelope_values import MAX_REFERENCES as MAX_REFERENCES
from mailtui.models.envelope_values import encode_addresses as encode_addresses
from mailtui.models.envelope_values import encode_references as encode_references
from mailtui.models.envelope_values import sender_of as sender_of
from mailtui.models.envelope_values import subject_key as subject_key
from mailtui.models.envelope_values import thread_candidates as thread_candidates

#: The columns window(), search() and friends select, in ``row_from_db`` order.
ROW_COLUMNS: Final = "id, folder_id, date, sender, subject, flags, has_attachments, size, thread_id"


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
