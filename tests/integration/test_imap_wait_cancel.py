"""A local wake-up cancels the worker's wait for the server (``SyncWorker._wait``) at any
moment, on the real Dovecot: also while the SELECT of INBOX that comes before IDLE is
being answered. The connection must stay usable, or the request that woke the worker (a
folder to subscribe, a body to fetch) fails with "the connection failed" (seen under a
loaded machine in test_folder_subscriptions.py)."""

from __future__ import annotations

import asyncio

from mailtui.protocols.imap import ImapBackend
from tests.integration.test_imap_sync import account
from tests.servers import MailUser


async def test_a_wait_cancelled_during_its_select_leaves_the_connection_usable(
    mail_user: MailUser,
) -> None:
    backend = ImapBackend(account(mail_user, "tls"))
    await backend.connect()
    try:
        conn = backend.conn
        waiting = asyncio.create_task(backend.wait_for_changes(30))
        for _ in range(10_000):  # until the SELECT is sent and its answer not yet read
            await asyncio.sleep(0)
            if conn._pending:  # noqa: SLF001
                break
        assert conn._pending, "wait_for_changes sent no SELECT"  # noqa: SLF001
        waiting.cancel()
        await asyncio.wait({waiting})
        assert waiting.cancelled()
        assert not conn.broken
        assert backend.conn is conn
        names = {f.name for f in await backend.list_folders()}
        assert "INBOX" in names
    finally:
        await backend.close()
