"""What a new message's row takes from its envelope alone, made once per message."""

from __future__ import annotations

from typing import NamedTuple

from mailtui.models import NewMessage
from mailtui.store.codec import (
    encode_addresses,
    encode_references,
    sender_of,
    subject_key,
    thread_candidates,
)


class Prepared(NamedTuple):
    """The values of a new message's row that depend on its envelope only."""

    candidates: list[str]  # codec.thread_candidates
    subject_key: tuple[str, bool]  # codec.subject_key
    sender: str
    from_addrs: str
    to_addrs: str
    cc_addrs: str
    refs: str


def prepared(m: NewMessage) -> Prepared:
    """``m``'s prepared values."""
    env = m.envelope
    return Prepared(
        thread_candidates(env),
        subject_key(env.subject),
        sender_of(env),
        encode_addresses(env.from_),
        encode_addresses(env.to),
        encode_addresses(env.cc),
        encode_references(env.references),
    )
