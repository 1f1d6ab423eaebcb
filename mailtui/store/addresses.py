"""Address completion for the compose form: people the user has written to or heard from.

A mixin of ``Store``. It needs no table of its own to keep in step (the address book the
servers sync is ``contacts.py``): the full-text index already covers every address of
every message (column ``addresses``), so a prefix query finds the newest messages that
mention a matching address, and the addresses in them are ranked by how often they
appear (people one writes to often come first), then by how recently. Cost: one index
lookup plus ``SCAN_MESSAGES`` rows, whatever the cache size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mailtui.models import Address
from mailtui.store.codec import decode_addresses

SCAN_MESSAGES = 300
_WORD = re.compile(r"\w+")


class AddressQueries:
    """Completion reads; mixed into ``Store`` (which provides ``_read``)."""

    if TYPE_CHECKING:

        async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]: ...

    async def address_suggestions(self, prefix: str, limit: int = 8) -> list[Address]:
        """Addresses whose name or address starts with ``prefix`` (case-insensitive),
        the most used first. ``prefix`` may be any text; nothing in it is FTS syntax."""
        # What the tokenizer would make of it: "bob@exa" is the tokens bob, exa.
        words = _WORD.findall(prefix)
        if not words or limit <= 0:
            return []
        # Each word a quoted prefix phrase within the addresses column.
        match = " ".join(f'addresses : "{w}"*' for w in words)
        rows = await self._read(
            "SELECT m.from_addrs, m.to_addrs, m.cc_addrs FROM messages_fts "
            "JOIN messages m ON m.id = messages_fts.rowid "
            "WHERE messages_fts MATCH ? ORDER BY m.date DESC LIMIT ?",
            (match, SCAN_MESSAGES),
        )
        needle = [w.lower() for w in words]
        score: dict[str, tuple[int, int, Address]] = {}
        for recency, row in enumerate(rows):
            for column in row:
                for a in decode_addresses(str(column)):
                    if not a.addr or not _matches(a, needle):
                        continue
                    key = a.addr.lower()
                    count, first, best = score.get(key, (0, recency, a))
                    # Keep a version with a display name when one turns up.
                    score[key] = (count + 1, first, best if best.name else a)
        ranked = sorted(score.values(), key=lambda t: (-t[0], t[1]))
        return [a for _, _, a in ranked[:limit]]


def _matches(a: Address, words: list[str]) -> bool:
    tokens = _WORD.findall(f"{a.name} {a.addr}".lower())
    return all(any(t.startswith(w) for t in tokens) for w in words)
