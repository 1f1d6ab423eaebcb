"""A delete that cannot be undone asks first (at 80x24), and undo works after the server
applied the action: in the list, in the reader, and in the unified inbox."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.models import FolderBatch, FolderRole, OpKind, OpResult, RemoteFolder
from mailtui.ui.modals import FolderPicker
from mailtui.ui.modals.choice import ChoiceScreen
from mailtui.ui.screens.main import MainScreen

from .conftest import (
    FakeManager,
    MailFixture,
    make_app,
    new_message,
    open_mail,
    screen_text,
    typing_goes_to,
)
from .test_main_screen import rows_loaded, wait_until
from .test_reader import open_top
from .test_triage import flags_of, folder_of, ids_by_index, ops, status
from .test_unified_inbox import ACCOUNT_FOLDERS, TwoAccounts, open_two, unified_loaded

NO_TRASH = [
    RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
    RemoteFolder("Lists", "Lists"),
]


@pytest.fixture
async def bare(tmp_path: Path) -> AsyncIterator[MailFixture]:
    """An account whose server has no Trash folder."""
    fixture = await open_mail(tmp_path / "bare.sqlite", 0)
    await fixture.store.sync_folders(fixture.account_id, NO_TRASH)
    fixture.folders = {f.name: f.id for f in await fixture.store.folders(fixture.account_id)}
    await fixture.add("INBOX", [new_message(i) for i in range(10)])
    yield fixture
    await fixture.store.close()


class CreatingManager(FakeManager):
    """Creates folders the way the worker does: the server's list comes back with it."""

    def __init__(self, mail: MailFixture) -> None:
        super().__init__()
        self.mail = mail
        self.created: list[str] = []

    async def change_folder(
        self, account_id: int, kind: str, name: str, new_path: str | None = None
    ) -> str:
        assert kind == "create"
        self.created.append(name)
        role = FolderRole.TRASH if name == "Trash" else FolderRole.NONE
        await self.mail.store.sync_folders(account_id, [*NO_TRASH, RemoteFolder(name, name, role)])
        return name


async def test_no_trash_delete_asks_and_expunges_nothing_unless_told(bare: MailFixture) -> None:
    ids = await ids_by_index(bare)
    app = make_app(bare.store, FakeManager())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await wait_until(pilot, lambda: "n: keep it" in screen_text(app))  # painted
        shown = screen_text(app)
        assert "Delete 1 message for good?" in shown
        assert "no Trash folder" in shown and "cannot be restored" in shown
        assert "t: create a Trash folder and move it there" in shown
        assert "y: delete for good" in shown and "n: keep it" in shown
        await pilot.press("n")
        await wait_until(pilot, lambda: "Nothing deleted" in status(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("q", "escape")  # a stray key does not answer; Escape keeps it
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert await ops(bare) == []
        assert await folder_of(bare, ids[0]) == bare.folders["INBOX"]
        assert "Message 000000" in screen_text(app)

        # A selection: one question for all of it, and a yes expunges (no undo offered).
        await pilot.press("x", "x")
        await wait_until(pilot, lambda: "2 selected" in status(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: "Delete 2 messages for good?" in screen_text(app))
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: "for good" in status(app))
        assert "Deleted 2 messages for good · no undo" in status(app)
        assert [o.kind for o in await ops(bare)] == [OpKind.DELETE, OpKind.DELETE]
        await pilot.press("u")
        await wait_until(pilot, lambda: "Nothing to undo" in status(app))


async def test_no_trash_delete_can_create_trash_and_move_there(bare: MailFixture) -> None:
    ids = await ids_by_index(bare)
    manager = CreatingManager(bare)
    app = make_app(bare.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("t")
        await wait_until(pilot, lambda: "Moved 1 message to Trash" in status(app))
        assert manager.created == ["Trash"]
        trash = {f.name: f.id for f in await bare.store.folders(bare.account_id)}["Trash"]
        assert await folder_of(bare, ids[0]) == trash
        assert [o.kind for o in await ops(bare)] == [OpKind.MOVE]
        await pilot.press("u")
        await wait_until(pilot, lambda: "Undone: Moved 1 message to Trash" in status(app))
        assert await folder_of(bare, ids[0]) == bare.folders["INBOX"]


async def test_u_in_the_reader_after_the_server_applied_the_flag(mail: MailFixture) -> None:
    ids = await ids_by_index(mail)
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_top(pilot)
        before = await flags_of(mail, ids[0])
        await pilot.press("F")
        await wait_until(pilot, lambda: "lagged 1 message" in status(app))
        *_, op = await ops(mail)  # after the "read" of opening it
        await mail.store.claim_ops([o.id for o in await ops(mail)])
        await mail.store.op_done(op.id, OpResult())  # the server has it
        assert await flags_of(mail, ids[0]) != before
        await pilot.press("u")
        await wait_until(pilot, lambda: "Undone: " in status(app))
        assert await flags_of(mail, ids[0]) == before
        (inverse,) = await ops(mail)  # the read op, on the wire, is not listed
        assert inverse.payload == {"add": op.payload["remove"], "remove": op.payload["add"]}


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[TwoAccounts]:
    mail = await open_two(tmp_path / "two.sqlite", per_account=10)
    yield mail
    await mail.store.close()


async def test_u_in_the_unified_inbox_after_the_server_applied_the_delete(
    two: TwoAccounts,
) -> None:
    manager = FakeManager()
    app = make_app(two.store, manager)
    work0 = await two.id_of("Work 000000")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: unified_loaded(app))
        await pilot.press("j", "d")  # the work row
        await wait_until(pilot, lambda: "Work 000000" not in screen_text(app))
        (op,) = await two.ops(two.work)
        await two.store.claim_ops([op.id])
        await two.store.op_done(op.id, OpResult(new_remote_id="42"))
        manager.kicked.clear()
        await pilot.press("u")
        await wait_until(pilot, lambda: "Work 000000" in screen_text(app))
        assert "Undone: Moved 1 message to Trash" in status(app)  # type: ignore[arg-type]
        (back,) = await two.ops(two.work)
        assert (back.kind, back.message_id, back.remote_id) == (OpKind.MOVE, work0, "42")
        assert back.payload == {"to_folder": two.folder(two.work, "INBOX")}
        assert manager.kicked == [two.work]


async def test_delete_in_trash_asks_before_deleting_for_good(mail: MailFixture) -> None:
    ids = await ids_by_index(mail)
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("d")  # to Trash: undoable, nothing asked
        await wait_until(pilot, lambda: "Moved 1 message to Trash" in status(app))
        assert isinstance(app.screen, MainScreen)
        await pilot.press("c")
        await wait_until(pilot, lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"Trash", "enter")
        await wait_until(pilot, lambda: status(app).startswith(" Trash"))
        await wait_until(pilot, lambda: "Message 000000" in screen_text(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await wait_until(pilot, lambda: "Delete 1 message for good?" in screen_text(app))
        shown = screen_text(app)
        assert "Delete 1 message for good? It is already in Trash" in shown
        assert "create a Trash folder" not in shown
        await pilot.press("n")
        await wait_until(pilot, lambda: "Nothing deleted" in status(app))
        assert [o.kind for o in await ops(mail)] == [OpKind.MOVE]
        assert await folder_of(mail, ids[0]) == mail.folders["Trash"]
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: "for good · no undo" in status(app))
        assert [o.kind for o in await ops(mail)] == [OpKind.MOVE, OpKind.DELETE]


async def test_unified_inbox_asks_once_for_the_account_without_trash(tmp_path: Path) -> None:
    two = await open_two(tmp_path / "mixed.sqlite", per_account=5)
    try:
        work_folders = [f for f in ACCOUNT_FOLDERS if f.role is not FolderRole.TRASH]
        await two.store.sync_folders(two.work, work_folders)
        home0, work0 = await two.id_of("Home 000000"), await two.id_of("Work 000000")
        app = make_app(two.store, FakeManager())
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: unified_loaded(app))
            await pilot.press("x", "x", "d")
            await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
            await wait_until(pilot, lambda: "for good?" in screen_text(app))  # painted
            shown = screen_text(app)
            assert "Delete 1 of 2 for good? The account work has no Trash folder" in shown
            await pilot.press("escape")
            await wait_until(pilot, lambda: "Nothing deleted" in status(app))
            assert await two.ops(two.home) == [] and await two.ops(two.work) == []
            assert "2 selected" in status(app)  # kept for another try
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
            await pilot.press("y")
            await wait_until(pilot, lambda: "Deleted 2 messages (1 for good)" in status(app))
            assert [(o.kind, o.message_id) for o in await two.ops(two.home)] == [
                (OpKind.MOVE, home0)
            ]
            assert [(o.kind, o.message_id) for o in await two.ops(two.work)] == [
                (OpKind.DELETE, work0)
            ]
    finally:
        await two.store.close()


async def test_a_refusal_says_why_and_costs_no_other_level(mail: MailFixture) -> None:
    ids = await ids_by_index(mail)
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("N")  # level 1: message 0
        await wait_until(pilot, lambda: "1 message" in status(app))
        await pilot.press("j", "N")  # level 2: message 1
        await wait_until(pilot, lambda: len(app.screen.triage.undo_stack) == 2)  # type: ignore[attr-defined]
        sent = await ops(mail)
        await mail.store.claim_ops([o.id for o in sent])
        for op in sent:
            await mail.store.op_done(op.id, OpResult())
        # Another client deletes message 1 on the server: level 2 can never come back.
        remote = (await mail.store.remote_ref(ids[1]) or ("", ""))[1]
        await mail.store.apply_batch(mail.inbox, FolderBatch("INBOX", removed=[remote]))
        before0 = await flags_of(mail, ids[0])
        await pilot.press("u")
        await wait_until(pilot, lambda: "Can't undo" in status(app))
        assert "no longer on the server" in status(app) or any(
            "no longer on the server" in str(n.message) for n in app._notifications
        )
        await pilot.press("u")  # the level below is still there, and works
        await wait_until(pilot, lambda: "Undone: " in status(app))
        assert await flags_of(mail, ids[0]) != before0
        await pilot.press("u")
        await wait_until(pilot, lambda: "Nothing to undo" in status(app))


async def test_a_refusal_for_now_keeps_the_level(tmp_path: Path) -> None:
    two = await open_two(tmp_path / "mixed.sqlite", per_account=5)
    try:
        work_folders = [f for f in ACCOUNT_FOLDERS if f.role is not FolderRole.TRASH]
        await two.store.sync_folders(two.work, work_folders)
        work0 = await two.id_of("Work 000000")
        app = make_app(two.store, FakeManager())
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: unified_loaded(app))
            await pilot.press("x", "x", "d")
            await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
            await pilot.press("y")
            await wait_until(pilot, lambda: "(1 for good)" in status(app))
            # A later change to the expunged message, not yet sent (as a sync conflict
            # could leave): the expunge cannot be taken back before it is gone.
            con = sqlite3.connect(two.store.path)
            with con:
                con.execute(
                    "INSERT INTO pending_ops (account_id, kind, message_id, folder_id, "
                    "folder_name, remote_id, payload, undo, state, created, updated) "
                    "VALUES (?, 'set_flags', ?, NULL, 'INBOX', 'w', '{}', '{}', 'pending', 0, 0)",
                    (two.work, work0),
                )
            await pilot.press("u")
            await wait_until(pilot, lambda: "Can't undo yet" in status(app))
            assert "Home 000000" not in screen_text(app)
            with con:
                con.execute("DELETE FROM pending_ops WHERE kind = 'set_flags'")
            con.close()
            await pilot.press("u")  # the same level, again: now it works
            await wait_until(pilot, lambda: "Undone: Deleted 2 messages" in status(app))
            await wait_until(pilot, lambda: "Work 000000" in screen_text(app))
            assert "Home 000000" in screen_text(app)
    finally:
        await two.store.close()
