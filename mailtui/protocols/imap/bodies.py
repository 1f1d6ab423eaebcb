"""Bodies: whole messages fetched on demand (the reader) or in the background."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from mailtui.errors import OpRejected
from mailtui.models import RawMessage
from mailtui.protocols.imap.client import ImapClient
from mailtui.protocols.imap.messages import remote_id, split_remote_id
from mailtui.protocols.imap.wire import as_int, fetch_dict, uid_set

BODY_CHUNK = 200  # UIDs per UID FETCH BODY.PEEK[] command
BODY_ITEMS = b"(UID BODY.PEEK[])"


class ImapBodies(ImapClient):
    """``fetch_body`` and ``fetch_bodies`` of the backend contract."""

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        # The whole answer is read (not `return` at the first item): leaving FETCH's
        # tagged OK on the wire would mark the connection broken and cost a reconnect.
        found: RawMessage | None = None
        async for _, raw in self.fetch_bodies(folder, [remote_id]):
            found = raw
        if found is None:
            raise OpRejected("the message is no longer on the server")
        return bytes(found)  # for the reader: one message, bytes like the cache's

    async def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, RawMessage]]:
        """Raw messages as they stream in (several per round trip); ids no longer on
        the server are left out."""
        by_validity: dict[int | None, list[int]] = {}
        for rid in remote_ids:
            try:
                validity, uid = split_remote_id(rid)
            except ValueError:
                continue
            by_validity.setdefault(validity, []).append(uid)
        for validity, uids in by_validity.items():
            try:
                sel = await self._select_for(folder, validity)
            except OpRejected:
                continue
            for start in range(0, len(uids), BODY_CHUNK):
                chunk = uids[start : start + BODY_CHUNK]
                async for resp in self.conn.stream(
                    b"UID", b"FETCH", uid_set(chunk).encode(), BODY_ITEMS
                ):
                    if resp.kind != "FETCH":
                        continue
                    data = fetch_dict(resp.items)
                    raw = data.get("BODY[]")
                    if isinstance(raw, bytes | bytearray) and "UID" in data:
                        yield remote_id(sel.uidvalidity, as_int(data["UID"])), raw
