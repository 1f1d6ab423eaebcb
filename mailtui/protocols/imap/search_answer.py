"""The UIDs a ``UID SEARCH`` found, from its answer in any of the forms servers send:
``* SEARCH 1 2 3`` (RFC 3501), or ESEARCH's ``ALL 1:100000`` sequence sets and ``MIN`` /
``MAX`` numbers (RFC 4731, when the command asked ``RETURN (…)``). Every search of the
IMAP backend reads its answer here; a first pass's listing of a whole folder comes as
an array (``search_uids``: 4 bytes a UID, where a list of ints takes 36)."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, MutableSequence
from itertools import islice
from operator import lt

from mailtui.errors import TransientError
from mailtui.protocols.imap.commands import ImapCommands, Pending
from mailtui.protocols.imap.wire import Arg, uid_ranges

#: IMAP UIDs are 32-bit numbers (RFC 3501, nz-number): 4 bytes each in an array.
UID_TYPECODE = "I"


async def search_answer(conn: ImapCommands, pending: Pending) -> list[int]:
    """The UIDs a ``UID SEARCH`` sent earlier (``conn.send``) found, in answer order. A
    tagged NO/BAD raises ``CommandFailed``."""
    found: list[int] = []
    await _gather(conn, pending, found)
    return found


async def search_uids(conn: ImapCommands, pending: Pending) -> array[int]:
    """``search_answer`` as an array of UIDs, without a Python int per UID at any time
    (a listing of 100,000 messages: 0.4 MB, where the list took 3.6 MB)."""
    found = uid_array()
    try:
        await _gather(conn, pending, found)
    except OverflowError:
        raise TransientError("the server sent a UID beyond 32 bits") from None
    return found


async def _gather(conn: ImapCommands, pending: Pending, found: MutableSequence[int]) -> None:
    async for resp in conn.responses(pending):
        if resp.kind == "SEARCH":
            found.extend(int(i) for i in resp.items if isinstance(i, str) and i.isdigit())
        elif resp.kind == "ESEARCH":
            items = resp.items
            for key, value in zip(items, items[1:], strict=False):
                if not (isinstance(key, str) and isinstance(value, str)):
                    continue
                word = key.upper()
                if word == "ALL":
                    for span in uid_ranges(value):
                        found.extend(span)  # an array takes a range one number at a time
                elif word in ("MIN", "MAX") and value.isdigit():
                    found.append(int(value))


async def uid_search(conn: ImapCommands, *criteria: Arg) -> list[int]:
    """Run ``UID SEARCH criteria`` and return the UIDs it found."""
    return await search_answer(conn, await conn.send(b"UID", b"SEARCH", *criteria))


def uid_array(values: Iterable[int] = ()) -> array[int]:
    """``values`` as an array of UIDs (OverflowError for one beyond 32 bits)."""
    return array(UID_TYPECODE, values)


def highest_first(uids: array[int]) -> array[int]:
    """``uids`` sorted highest first, as ``sorted(uids, reverse=True)`` would: in place
    when they came ascending (ESEARCH's sets, Dovecot's SEARCH), without a list of ints."""
    if all(map(lt, uids, islice(uids, 1, None))):
        uids.reverse()
        return uids
    return uid_array(sorted(uids, reverse=True))
