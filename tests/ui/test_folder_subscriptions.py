"""Folders on the server that the account does not subscribe, at 80x24: listed greyed
under a line that counts them, a note instead of an empty list when one is opened, and
``U`` subscribes it (through the manager, as create and rename do)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.style import Style
from textual.pilot import Pilot

from mailtui.models import Account, AccountKind, Folder, FolderRole, RemoteFolder
from mailtui.sync.contract import Capabilities, EventKind, SyncEvent
from mailtui.ui.folder_tree import folder_entries
from mailtui.ui.widgets import FolderList

from .conftest import FOLDERS, FakeManager, MailFixture, make_app, screen_lines, screen_text

OLD = RemoteFolder("Old projects", "Old projects", subscribed=False)


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20.0  # wall-clock: the suite runs on two busy cores
    while not condition():
        assert time.monotonic() < deadline, "the screen did not settle:\n" + screen_text(
            pilot.app
        )
        await pilot.pause(0.02)
    await pilot.pause()


def pane_lines(pilot: Pilot[None]) -> list[str]:
    return [" ".join(line[:24].strip(" ▕").split()) for line in screen_lines(pilot.app)[:12]]


def pane_style(pilot: Pilot[None], label: str) -> Style:
    """The style the folder pane draws ``label``'s line with."""
    pane = pilot.app.query_one(FolderList)
    y = next(i for i, line in enumerate(pane_lines(pilot)) if line.startswith(label))
    segment = next(s for s in pane.render_line(y) if s.text.strip())
    return segment.style or Style()


def told(pilot: Pilot[None], words: str) -> bool:
    return any(words in n.message for n in pilot.app._notifications)


async def test_unsubscribed_folder_is_greyed_noted_and_subscribed_with_u(
    mail: MailFixture,
) -> None:
    await mail.store.sync_folders(mail.account_id, [*FOLDERS, OLD])
    manager = FakeManager()
    manager.caps[mail.account_id] = Capabilities(subscriptions=True)

    async def server(kind: str, name: str) -> None:  # the worker re-reads the folder list
        now = RemoteFolder(OLD.name, OLD.display_name, subscribed=kind == "subscribe")
        await mail.store.sync_folders(mail.account_id, [*FOLDERS, now])
        manager.emit(SyncEvent("home", EventKind.FOLDERS))

    manager.folder_server = server
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "Message 000000" in screen_text(app))
        await pilot.press("tab")  # the folder pane comes in
        await wait_until(pilot, lambda: "home" in screen_lines(app)[0])
        lines = pane_lines(pilot)
        assert lines[:9] == [
            "home 21",
            "Inbox 20",
            "Drafts",
            "Sent",
            "Trash",
            "Lists",
            "python 1",
            "1 not subscribed",  # says what the account does not show
            "Old projects",
        ]
        assert pane_style(pilot, "Old projects").color != pane_style(pilot, "Lists").color
        assert pane_style(pilot, "1 not subscribed").color == pane_style(pilot, "Old").color

        await pilot.press("G", "enter")  # the last folder: the greyed one
        note = "Not subscribed, so not synced: U to subscribe"
        await wait_until(pilot, lambda: note in screen_text(app))
        assert "No messages in this folder" not in screen_text(app)

        await pilot.press("U")
        await wait_until(pilot, lambda: told(pilot, "Subscribed to Old projects: syncing it"))
        assert manager.folder_changes == [(mail.account_id, "subscribe", "Old projects", None)]
        await wait_until(pilot, lambda: "No messages in this folder" in screen_text(app))
        assert note not in screen_text(app)
        await pilot.press("tab")
        await wait_until(pilot, lambda: "home" in screen_lines(app)[0])
        assert "1 not subscribed" not in pane_lines(pilot)

        # Unsubscribing from the pane: the folder under its cursor.
        await pilot.press("G", "U")
        await wait_until(pilot, lambda: told(pilot, "Unsubscribed from Old projects"))
        assert manager.folder_changes[-1] == (mail.account_id, "unsubscribe", "Old projects", None)
        await wait_until(pilot, lambda: "1 not subscribed" in pane_lines(pilot))


async def test_special_folders_stay_and_accounts_without_subscriptions_hide_u(
    mail: MailFixture,
) -> None:
    await mail.store.sync_folders(mail.account_id, [*FOLDERS, OLD])
    manager = FakeManager()
    manager.caps[mail.account_id] = Capabilities(subscriptions=True)
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "Message 000000" in screen_text(app))
        await pilot.press("U")  # on the Inbox
        await wait_until(pilot, lambda: told(pilot, "Inbox is a special folder"))
        assert manager.folder_changes == []

        manager.caps[mail.account_id] = Capabilities(subscriptions=False)  # e.g. the demo
        app.screen.refresh_bindings()
        await pilot.press("tab", "G", "U")
        await pilot.pause(0.1)
        assert manager.folder_changes == []


def test_pane_order_puts_unsubscribed_folders_last_and_counts_them() -> None:
    account = Account(1, "home", AccountKind.IMAP, "me@example.test")

    def folder(i: int, name: str, subscribed: bool, role: FolderRole = FolderRole.NONE) -> Folder:
        return Folder(i, 1, name, name, role, 0, 3, subscribed=subscribed)

    folders = [
        folder(1, "INBOX", True, FolderRole.INBOX),
        folder(2, "Zed", True),
        folder(3, "Alpha", False),
        folder(4, "Beta", False),
    ]
    entries = folder_entries([account], folders)
    assert [(e.folder.name if e.folder else e.note) for e in entries] == [
        "",  # the heading
        "INBOX",
        "Zed",
        "2 not subscribed",
        "Alpha",
        "Beta",
    ]
    assert entries[0].unread == 6  # unsubscribed folders' mail is not counted
