"""A new message's column values that come from its envelope alone (the store's
encodings of addresses and References, the sender shown, thread candidates, the subject
key): pure functions of plain data, usable wherever an envelope is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Final

from mailtui.models.mail import Address, Envelope, NewMessage, Prepared
from mailtui.models.subjects import normalize_subject

#: Only the last this-many References are used to find a thread: the nearest ancestors
#: are at the end, and a hostile header may carry thousands.
MAX_REFERENCES: Final = 50

# One encoder for all calls: json.dumps() with options builds a new one every time.
_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

#: A subject without these cannot hold a reply marker, a list tag or "(fwd)"
#: (``subjects.normalize_subject``): its key is its words, and it is no reply.
_MARKED: Final = re.compile(r"[:：\[(]")
#: Address lists encoded lately, by identity (the envelope parse hands out the same tuple
#: for a header value it saw before: the user's own address, frequent senders).
_ENCODED: dict[int, tuple[tuple[Address, ...], str]] = {}
_ENCODED_MAX: Final = 1024

#: The ``messages`` columns of ``Prepared.row``, in its order.
ROW_COLUMNS: Final = (
    "remote_id",
    "date",
    "sender",
    "subject",
    "from_addrs",
    "to_addrs",
    "cc_addrs",
    "message_id",
    "in_reply_to",
    "refs",
    "size",
    "flags",
    "has_attachments",
    "preview",
)


def encode_addresses(addresses: Sequence[Address]) -> str:
    """Addresses as compact JSON, ``[["name","addr"],…]``.

    ``ensure_ascii=False`` matters: the same text feeds the full-text index, and
    ``\\u00e9`` escapes would split names into meaningless tokens.
    """
    if not addresses:
        return "[]"
    if type(addresses) is not tuple:
        return _JSON.encode([[a.name, a.addr] for a in addresses])
    hit = _ENCODED.get(id(addresses))
    if hit is not None and hit[0] is addresses:  # the entry keeps it alive: id is its own
        return hit[1]
    text = _JSON.encode([[a.name, a.addr] for a in addresses])
    if len(_ENCODED) >= _ENCODED_MAX:
        _ENCODED.clear()
    _ENCODED[id(addresses)] = (addresses, text)
    return text


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
    if _MARKED.search(subject) is None:
        return " ".join(subject.split()).casefold(), False
    key = normalize_subject(subject)
    return key.casefold(), bool(key) and key != " ".join(subject.split())


def prepare(m: NewMessage) -> Prepared:
    """``m``'s row values that come from the message alone."""
    env = m.envelope
    flags = int(m.flags)
    row = (
        m.remote_id,
        env.date,
        sender_of(env),
        env.subject,
        encode_addresses(env.from_),
        encode_addresses(env.to),
        encode_addresses(env.cc),
        env.message_id,
        env.in_reply_to,
        encode_references(env.references),
        env.size,
        flags,
        int(env.has_attachments),
        env.preview,
    )
    return Prepared(
        m.remote_id, flags, env, tuple(thread_candidates(env)), subject_key(env.subject), row
    )


def prepared(m: NewMessage) -> Prepared:
    """``m.prepared`` if it was made from ``m`` as it is, else made now."""
    p = m.prepared
    fresh = p is not None and p.envelope is m.envelope and p.remote_id == m.remote_id
    return p if fresh and p is not None and p.flags == int(m.flags) else prepare(m)


def prepare_new(messages: list[NewMessage]) -> list[NewMessage]:
    """Set ``prepared`` of every message (for a backend's parse thread: the work is then
    off the store's commit, which runs after the parse); returns ``messages``."""
    for m in messages:
        m.prepared = prepare(m)
    return messages
