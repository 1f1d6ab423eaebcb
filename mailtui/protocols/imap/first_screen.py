"""The first screen of a folder's first pass, asked for before its UID listing.

Right after SELECT the folder's length is known (EXISTS), so its newest messages are its
last sequence numbers: ``send_newest`` asks for their envelopes at once and the pass
sends ``UID SEARCH ALL`` right behind (``send_listing``), so the server answers both in
one round. The pass reads the envelopes first and parses them in a thread while it reads
the listing (``search_answer``, 600 KB at 100,000 messages without ESEARCH); both go to
the worker as the first batch. By sequence number only here, between the SELECT
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
    return await conn.send(b"FETCH", b"%d:%d" % (first, exists), items, raw_fetch=True)


async def send_listing(conn: ImapCommands) -> Pending:
    """Ask for every UID of the selected folder (``UID SEARCH ALL``) without waiting;
    with ESEARCH as sequence sets (``1:100000``), not 100,000 numbers parsed one by one
    (the parsed line took about 7 MB at 100,000 messages)."""
    criteria = [b"RETURN", b"(ALL)", b"ALL"] if "ESEARCH" in conn.capabilities else [b"ALL"]
    return await conn.send(b"UID", b"SEARCH", *criteria)
