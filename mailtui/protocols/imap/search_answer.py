"""The UIDs a ``UID SEARCH`` found, from its answer in any of the forms servers send:
``* SEARCH 1 2 3`` (RFC 3501), or ESEARCH's ``ALL 1:100000`` sequence sets and ``MIN`` /
``MAX`` numbers (RFC 4731, when the command asked ``RETURN (…)``). Every search of the
IMAP backend reads its answer here."""

from __future__ import annotations

from mailtui.protocols.imap.commands import ImapCommands, Pending
from mailtui.protocols.imap.wire import Arg, parse_uid_set


async def search_answer(conn: ImapCommands, pending: Pending) -> list[int]:
    """The UIDs a ``UID SEARCH`` sent earlier (``conn.send``) found, in answer order. A
    tagged NO/BAD raises ``CommandFailed``."""
    found: list[int] = []
    async for resp in conn.responses(pending):
        if resp.kind == "SEARCH":
            found += [int(i) for i in resp.items if isinstance(i, str) and i.isdigit()]
        elif resp.kind == "ESEARCH":
            items = resp.items
            for key, value in zip(items, items[1:], strict=False):
                if not (isinstance(key, str) and isinstance(value, str)):
                    continue
                word = key.upper()
                if word == "ALL":
                    found += parse_uid_set(value)
                elif word in ("MIN", "MAX") and value.isdigit():
                    found.append(int(value))
    return found


async def uid_search(conn: ImapCommands, *criteria: Arg) -> list[int]:
    """Run ``UID SEARCH criteria`` and return the UIDs it found."""
    return await search_answer(conn, await conn.send(b"UID", b"SEARCH", *criteria))
