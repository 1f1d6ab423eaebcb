"""The first screen of a folder's first pass, asked for before its UID listing.

Right after SELECT the folder's length is known (EXISTS), so its newest messages are its
last sequence numbers: ``send_newest`` asks for their envelopes at once and the pass
sends ``UID SEARCH ALL`` right behind, so the server answers both in one round. The pass
reads the envelopes first and hands them to the worker as a batch of their own (the
list's first rows), then reads the listing (``search_answer``), which at 100,000
messages is 600 KB to read and parse. By sequence number only here, between the SELECT
and the pass's own commands: nothing else runs on the connection in between, so the
numbers cannot have moved (docs/decisions.md, "First contact: the screen first").
"""

from __future__ import annotations

from mailtui.protocols.imap.commands import ImapCommands, Pending


async def send_newest(
    conn: ImapCommands, exists: int, count: int, items: bytes
) -> Pending | None:
    """Ask for ``items`` (the envelope pass's) of the newest ``count`` of ``exists``
    messages of the selected folder, without waiting for them; None for an empty one."""
    if exists <= 0 or count <= 0:
        return None
    first = max(1, exists - count + 1)
    return await conn.send(b"FETCH", b"%d:%d" % (first, exists), items)


async def search_answer(conn: ImapCommands, pending: Pending) -> list[int]:
    """The UIDs a ``UID SEARCH`` sent earlier found."""
    found: list[int] = []
    async for resp in conn.responses(pending):
        if resp.kind == "SEARCH":
            found += [int(i) for i in resp.items if isinstance(i, str) and i.isdigit()]
    return found
