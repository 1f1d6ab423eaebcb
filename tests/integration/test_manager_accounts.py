"""Accounts added and removed while the sync manager runs (the setup wizard's save and
the remove command), against the real Dovecot: the new account's worker starts at once
and its mail arrives in the store; a removed account's worker stops, and the store
forgets it when asked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from mailtui.accounts import specs_for
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.manager import SyncManager
from tests.integration.smtp_support import account_config
from tests.servers import MailUser


def _message(subject: str) -> bytes:
    return (
        f"From: Bo <bo@example.org>\r\nTo: ann@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@example.org>\r\n\r\nHello.\r\n"
    ).encode()


async def _subjects(store: Store) -> list[str]:
    out = []
    for folder in await store.folders():
        out += [r.subject for r in await store.window(folder.id, 0, 50)]
    return sorted(out)


async def test_an_account_added_while_running_syncs_and_a_removed_one_stops(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser]
) -> None:
    first = mail_user_factory("first")
    second = mail_user_factory("second")
    first.deliver(_message("for the first"))
    second.deliver(_message("for the second"))
    store = await Store.open(tmp_path / "mail.sqlite")
    stack = contextlib.AsyncExitStack()
    try:
        (spec,) = await specs_for(store, [account_config(first)])
        manager = SyncManager(store, [spec])
        stack.push_async_callback(manager.stop)  # before the store closes
        await manager.start()
        for _ in range(1000):
            if await _subjects(store) == ["for the first"]:
                break
            await asyncio.sleep(0.02)
        assert await _subjects(store) == ["for the first"]

        (added,) = await specs_for(store, [account_config(second)])
        await manager.add_account(added)
        for _ in range(1000):
            if len(await _subjects(store)) == 2:
                break
            await asyncio.sleep(0.02)
        assert await _subjects(store) == ["for the first", "for the second"]
        for _ in range(1000):  # in step once the folder list is done too
            if manager.status()[second.name][0] is AccountStatus.ONLINE:
                break
            await asyncio.sleep(0.02)
        assert manager.status()[second.name][0] is AccountStatus.ONLINE
        with pytest.raises(ValueError, match="syncing already"):
            await manager.add_account(added)

        await manager.remove_account(added.account.id)
        assert second.name not in manager.status()
        assert added.account.id not in manager.workers
        assert await store.unsent_count(added.account.id) == 0
        await store.remove_account(added.account.id)
        assert await _subjects(store) == ["for the first"]
        assert [a.name for a in await store.accounts()] == [first.name]
        assert manager.status()[first.name][0] is AccountStatus.ONLINE  # the other goes on
    finally:
        await stack.aclose()
        await store.close()
