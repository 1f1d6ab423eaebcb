"""Searches on the server for the part of a folder not cached yet (``ServerSearcher``).

During a first pass the worker asks, between two batches (``sync/server_search.py``):

- ``newest_before``: ``UID SEARCH BEFORE <day>`` (with ESEARCH, ``RETURN (MAX)``: one
  number instead of every UID). ``BEFORE`` is the arrival date (INTERNALDATE), which a
  server keeps in its index; ``SENTBEFORE`` would match the Date header the list sorts
  by, but makes the server read every message (as ``SENTSINCE`` does for the body
  window: docs/decisions.md).
- ``search_headers``: ``UID SEARCH [CHARSET UTF-8] UID <set> <per word: OR OR SUBJECT w
  FROM w OR TO w CC w>``, the set being the messages not cached yet: the fields the
  store's search matches without a body (subject and addresses).

Both wait for the pass's FETCH commands on the wire to be answered first
(``ImapCommands.settle``), as ``fetch_window`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import overload

from mailtui.errors import OpRejected
from mailtui.protocols.imap.client import ImapClient
from mailtui.protocols.imap.connection import CommandFailed
from mailtui.protocols.imap.messages import imap_date, remote_id, split_remote_id
from mailtui.protocols.imap.search_answer import uid_search
from mailtui.protocols.imap.wire import Arg, quote, uid_set


class UidListing(Sequence[str]):
    """A folder's messages as remote ids, in the order of ``uids`` (newest first), each
    made when asked for: the first batch's ``FolderBatch.listing`` without 100,000
    strings (``sync/window.py`` keeps the numbers)."""

    def __init__(self, validity: int, uids: Sequence[int]) -> None:
        self._validity = validity
        self._uids = uids

    def __len__(self) -> int:
        return len(self._uids)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [remote_id(self._validity, u) for u in self._uids[index]]
        return remote_id(self._validity, self._uids[index])

    def numbered(self) -> tuple[str, Sequence[int]]:
        """Every id is the prefix and its UID in decimal (``remote_id``): the UIDs as
        they are, which ``sync/window.py`` keeps without making 100,000 strings and
        parsing them back on the first screen's path (65-95 ms at 100,000)."""
        return remote_id(self._validity, 0).removesuffix("0"), self._uids


def imap_day(day: date) -> bytes:
    """``day`` as a SEARCH date (``5-Dec-2026``)."""
    return imap_date(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())


def header_criteria(words: Sequence[str]) -> list[Arg]:
    """Every word in the subject, From, To or Cc (SEARCH keys are ANDed)."""
    out: list[Arg] = []
    for word in words:
        w = quote(word)
        out += [b"OR", b"OR", b"SUBJECT", w, b"FROM", w, b"OR", b"TO", w, b"CC", w]
    return out


class ImapSearch(ImapClient):
    """``newest_before`` and ``search_headers`` of ``ServerSearcher``."""

    async def newest_before(self, folder: str, day: date) -> str | None:
        sel = await self._select_for(folder, None)
        criteria: list[Arg] = [b"BEFORE", imap_day(day)]
        if "ESEARCH" in self.conn.capabilities:
            criteria = [b"RETURN", b"(MAX)", *criteria]
        found = await self._uids_found(criteria)
        return remote_id(sel.uidvalidity, max(found)) if found else None

    async def search_headers(
        self, folder: str, words: Sequence[str], among: Sequence[str]
    ) -> list[str]:
        sel = await self._select_for(folder, None)
        uids: list[int] = []
        for rid in among:
            try:
                validity, uid = split_remote_id(rid)
            except ValueError:
                continue
            if validity in (None, sel.uidvalidity):
                uids.append(uid)
        if not uids or not words:
            return []
        charset: list[Arg] = []
        if not all(word.isascii() for word in words):
            charset = [b"CHARSET", b"UTF-8"]
        scope: list[Arg] = [b"UID", uid_set(uids).encode()]
        found = await self._uids_found([*charset, *scope, *header_criteria(words)])
        return [remote_id(sel.uidvalidity, u) for u in sorted(found, reverse=True)]

    async def _uids_found(self, criteria: list[Arg]) -> list[int]:
        """The UIDs a ``UID SEARCH`` answers (SEARCH, or ESEARCH's MAX); a refusal is
        ``OpRejected`` with the server's words."""
        # The pass's FETCH commands still on the wire are answered first (``fetch_window``).
        await self.conn.settle()
        try:
            return await uid_search(self.conn, *criteria)
        except CommandFailed as exc:
            raise OpRejected(f"the server could not search: {exc.response.text}") from None
