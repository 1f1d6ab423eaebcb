"""Push: waiting for changes with IDLE (INBOX here, the open folder through the
second connection: ``mailtui.protocols.imap.watch``)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from mailtui.protocols.imap.client import ImapClient
from mailtui.protocols.imap.watch import finish

T = TypeVar("T")


async def _answered_before_cancel(command: Coroutine[Any, Any, T]) -> T:
    """Run ``command`` to its end even when the caller is cancelled meanwhile, then let
    the cancel through: a command cancelled in the middle of its answer leaves the rest
    on the wire and the connection broken. The sync worker cancels a wait whenever the
    user asks for something (a folder to subscribe, a body), often during this SELECT."""
    task = asyncio.ensure_future(command)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved; a broken connection shows up next
        raise


class ImapPush(ImapClient):
    """``wait_for_changes`` of the backend contract."""

    async def wait_for_changes(self, timeout: float) -> set[str]:
        """IDLE on INBOX, and on the open folder through the second connection (if
        any); the other folders are polled when this returns ``set()`` after
        ``timeout``. IDLE is issued again every ``idle_renew`` seconds meanwhile."""
        conn = self.conn
        if "IDLE" not in conn.capabilities:
            await asyncio.sleep(timeout)
            return set()
        seen = self.watcher.take()  # changes in the open folder while we were busy
        if seen:
            return seen
        inbox = self._inbox
        sel = await _answered_before_cancel(self._select(inbox))
        known = self._known.get(inbox)
        if known is not None and (
            known[0] != sel.uidvalidity
            or known[1] < sel.uidnext
            or (self.condstore and known[2] != sel.highestmodseq)
        ):
            return {inbox}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            idle = asyncio.create_task(conn.idle(min(left, self.idle_renew)))
            watched = asyncio.create_task(self.watcher.event.wait())
            try:
                await asyncio.wait({idle, watched}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                await finish(idle, watched)  # DONE if the open folder changed first
            if not idle.cancelled():
                idle.result()  # the connection's error, if any
            changed = self.watcher.take()
            if conn.changed:
                changed.add(inbox)
            if changed:
                return changed
        return set()
