"""A new account's first pass waits, once, for the list to draw its first rows
(``sync/first_rows.py``, issue 17): the real app and manager on the real Dovecot. The
pass of the folder on screen waits after its first batch until the UI says the rows are
painted; a headless sync (no folder on screen) never waits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mailtui.accounts import specs_for
from mailtui.models import FolderRole
from mailtui.protocols.imap import pull
from mailtui.store import Store
from mailtui.sync import first_rows
from mailtui.sync.first_rows import FirstRows
from mailtui.sync.manager import SyncManager
from mailtui.sync.pulls import Pulls
from mailtui.ui.widgets.message_list import MessageList
from tests.integration.test_imap_sync import account, msg
from tests.servers import MailUser

N = 300


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Every wait of a pass for its rows: (folder id, ended by the UI's word). The
    timeout is made long: only the UI's word can end a wait in time for the test."""
    monkeypatch.setattr(pull, "SCREEN", 20)
    monkeypatch.setattr(pull, "FIRST_BATCH", 30)
    monkeypatch.setattr(pull, "BATCH", 60)
    monkeypatch.setattr(first_rows, "WAIT", 60.0)
    seen: list[tuple[int, bool]] = []
    real = FirstRows.wait

    async def wait(self: FirstRows, folder_id: int, timeout: float | None = None) -> bool:
        drawn = await real(self, folder_id, timeout)
        seen.append((folder_id, drawn))
        return drawn

    monkeypatch.setattr(FirstRows, "wait", wait)
    return seen


def deliver(user: MailUser) -> None:
    user.deliver_many([msg(i, f"subject {i:04d}", days_ago=(N - i) / 48) for i in range(1, N + 1)])


async def test_the_first_pass_waits_for_the_first_rows_on_screen(
    mail_user: MailUser,
    store: Store,  # noqa: F811
    waits: list[tuple[int, bool]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mailtui.app import MailApp
    from tests.ui.conftest import screen_text

    # Only the folder on screen waits. A new account's Inbox is opened as soon as the
    # folder list is read, which races the pass's first batch: on a loaded machine the
    # batch can win, and then no pass waits (as intended). The test makes the UI win.
    real_pull = Pulls._pull_folder

    async def pull_folder(self: Pulls, backend: Any, folder: Any) -> None:
        if folder.role is FolderRole.INBOX:
            for _ in range(1200):
                if self._open_folder is not None:
                    break
                await asyncio.sleep(0.025)
        await real_pull(self, backend, folder)

    monkeypatch.setattr(Pulls, "_pull_folder", pull_folder)
    deliver(mail_user)
    specs = await specs_for(store, [account(mail_user, "tls", body_days=0, poll_interval=300)])
    manager = SyncManager(store, specs)
    app = MailApp(store, manager)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.screen.query_one(MessageList)
        for _ in range(600):
            await pilot.pause(0.05)
            if (
                f"subject {N:04d}" in screen_text(app)
                and (await store.inbox_count())[0] == N
                and messages.total == N  # the list's reload after the last commit
            ):
                break
        assert f"subject {N:04d}" in screen_text(app)
        assert messages.total == N
        assert (await store.inbox_count())[0] == N  # the pass went on after the wait
        folder = app.main_screen.open_folder
        assert folder is not None and folder.role == FolderRole.INBOX
        assert waits == [(folder.id, True)]  # once, ended by the UI's word
        await pilot.press("q")


async def test_a_headless_sync_never_waits(
    mail_user: MailUser,
    store: Store,  # noqa: F811
    waits: list[tuple[int, bool]],
) -> None:
    deliver(mail_user)
    specs = await specs_for(store, [account(mail_user, "tls", body_days=0)])
    await SyncManager(store, specs).run_once()
    assert (await store.inbox_count())[0] == N
    assert waits == []
