"""A new message's column values that come from its envelope alone (the store's
encodings of addresses and References, the sender shown, thread candidates, the subject
key): pure functions of plain data, usable wherever an envelope is."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Final

from mailtui.models.mail import Address, Envelope
from mailtui.models.subjects import normalize_subject

#: Only the last this-many References are used to find a thread: the nearest ancestors
#: are at the end, and a hostile header may carry thousands.
MAX_REFERENCES: Final = 50

# One encoder for all calls: json.dumps() with options builds a new one every time.
_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_addresses(addresses: Sequence[Address]) -> str:
    """Addresses as compact JSON, ``[["name","addr"],…]``.

    ``ensure_ascii=False`` matters: the same text feeds the full-text index, and
    ``\\u00e9`` escapes would split names into meaningless tokens.
    """
    if not addresses:
        return "[]"
    return _JSON.encode([[a.name, a.addr] for a in addresses])


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
