"""Triage driven by keys at 80x24 and 200x60: every action changes the screen at once,
is recorded in the store as an intent with its pending op, wakes the worker, and can be
undone (several levels, bulk included): locally until the worker has claimed it, by an
inverse op after that."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.app import App

from mailtui.models import Flag, FolderRole, OpKind, PendingOp, RemoteFolder
from mailtui.sync.contract import Capabilities
from mailtui.ui.modals import FolderPicker
from mailtui.ui.screens.main import MainScreen
from mailtui.ui.widgets import MessageList

from .conftest import (
    FOLDERS,
    FakeManager,
    MailFixture,
    make_app,
    open_mail,
    palette_searched,
    screen_text,
    typing_goes_to,
)
from .test_main_screen import rows_loaded, wait_until

SIZES = [(80, 24), (200, 60)]
TRIAGE_FOLDERS = [
    *FOLDERS,
    RemoteFolder("Archive", "Archive", FolderRole.ARCHIVE),
    RemoteFolder("Junk", "Junk", FolderRole.JUNK),
]


@pytest.fixture
async def mail(tmp_path: Path) -> AsyncIterator[MailFixture]:
    fixture = await open_mail(tmp_path / "cache.sqlite", 60)
    fixture.folders = await fixture.store.sync_folders(fixture.account_id, TRIAGE_FOLDERS)
    yield fixture
    await fixture.store.close()


async def ids_by_index(mail: MailFixture) -> dict[int, int]:
    """Message index (0 = newest) -> local id, for the Inbox as the fixture filled it."""
    rows = await mail.store.window(mail.inbox, 0, 60)
    return {int(r.subject.split()[-1]): r.id for r in rows}


async def folder_of(mail: MailFixture, message_id: int) -> int | None:
    detail = await mail.store.message(message_id)
    return detail.row.folder_id if detail is not None else None


async def flags_of(mail: MailFixture, message_id: int) -> Flag:
    detail = await mail.store.message(message_id)
    assert detail is not None
    return detail.row.flags


async def ops(mail: MailFixture) -> list[PendingOp]:
    return await mail.store.pending_ops(mail.account_id, 10_000)


def line_of(app: App[None], subject: str) -> str:
    """The list's row showing ``subject``, from the list's left edge ("" if not shown)."""
    region = app.query_one(MessageList).content_region
    for line in screen_text(app).splitlines()[region.y : region.bottom]:
        row = line[region.x : region.right]
        if subject in row:
            return row
    return ""


def status(app: object) -> str:
    return screen_text(app).splitlines()[-2]  # type: ignore[arg-type]


@pytest.mark.parametrize("size", SIZES)
async def test_every_triage_key_then_undo_level_by_level(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    ids = await ids_by_index(mail)
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))

        # Flag (F) message 1: the marker shows, the store has it, one op is queued.
        await pilot.press("j", "F")
        await wait_until(pilot, lambda: line_of(app, "Message 000001").startswith(" !"))
        assert await flags_of(mail, ids[1]) & Flag.FLAGGED
        [op] = await ops(mail)
        assert (op.kind, op.message_id, op.payload) == (
            OpKind.SET_FLAGS,
            ids[1],
            {"add": int(Flag.FLAGGED), "remove": 0},
        )
        assert manager.kicked == [mail.account_id]
        assert "Flagged 1 message" in status(app)

        # N: read -> unread.
        await pilot.press("N")
        await wait_until(pilot, lambda: line_of(app, "Message 000001").startswith("N!"))
        assert not await flags_of(mail, ids[1]) & Flag.SEEN
        assert "21 unread of 60" in status(app)

        # d: to Trash; the list closes up and the cursor is on the next message.
        await pilot.press("d")
        await wait_until(pilot, lambda: "Message 000001" not in screen_text(app))
        assert await folder_of(mail, ids[1]) == mail.folders["Trash"]
        assert (await ops(mail))[-1].kind == OpKind.MOVE
        assert "Moved 1 message to Trash" in status(app)
        assert app.query_one(MessageList).cursor_row.id == ids[2]  # type: ignore[union-attr]

        # a: Archive.
        await pilot.press("a")
        await wait_until(pilot, lambda: "Message 000002" not in screen_text(app))
        assert await folder_of(mail, ids[2]) == mail.folders["Archive"]

        # S: spam = Junk folder + the JUNK flag.
        await pilot.press("S")
        await wait_until(pilot, lambda: "Message 000003" not in screen_text(app))
        assert await folder_of(mail, ids[3]) == mail.folders["Junk"]
        assert await flags_of(mail, ids[3]) & Flag.JUNK

        # s: move, through the fuzzy picker.
        await pilot.press("s")
        await wait_until(pilot, lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"pyth")
        picker = app.screen
        assert isinstance(picker, FolderPicker)
        await wait_until(pilot, lambda: picker.shown[:1] == ["Lists/python"])
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Message 000004" not in screen_text(app))
        assert await folder_of(mail, ids[4]) == mail.folders["Lists/python"]
        assert "Moved 1 message to python" in status(app)
        assert len(await ops(mail)) == 7  # flag, unread, trash, archive, junk (2), move

        # u, u, u: the move, the spam, the archive come back, newest first.
        await pilot.press("u")
        await wait_until(pilot, lambda: "Message 000004" in screen_text(app))
        assert await folder_of(mail, ids[4]) == mail.inbox
        assert "Undone: Moved 1 message to python" in status(app)
        await pilot.press("u")
        await wait_until(pilot, lambda: "Message 000003" in screen_text(app))
        assert await folder_of(mail, ids[3]) == mail.inbox
        assert not await flags_of(mail, ids[3]) & Flag.JUNK
        await pilot.press("u")
        await wait_until(pilot, lambda: "Message 000002" in screen_text(app))
        assert len(await ops(mail)) == 3

        # The worker takes the rest: undo sends the inverse, queued after them.
        claimed = [op.id for op in await ops(mail)]
        await mail.store.claim_ops(claimed)
        await pilot.press("u")
        await wait_until(pilot, lambda: "Message 000001" in screen_text(app))
        assert "Undone: Moved 1 message to Trash" in status(app)
        assert await folder_of(mail, ids[1]) == mail.inbox
        (back,) = await ops(mail)
        assert back.kind is OpKind.MOVE and back.id > max(claimed)
        assert back.payload == {"to_folder": mail.inbox}


@pytest.mark.parametrize("size", SIZES)
async def test_selection_acts_in_bulk_and_undoes_in_one_step(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    ids = await ids_by_index(mail)
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        listing = app.query_one(MessageList)
        await pilot.press("x")  # select message 0, the cursor moves on
        await wait_until(pilot, lambda: line_of(app, "Message 000000")[3] == "*")
        await pilot.press("j", "j", "V")  # the range from the mark to message 3
        await wait_until(pilot, lambda: len(listing.selected) == 4)
        for i in range(4):
            assert line_of(app, f"Message {i:06d}")[3] == "*"
        assert line_of(app, "Message 000004")[3] == " "
        await wait_until(pilot, lambda: "4 selected" in status(app))
        await pilot.press("shift+down")  # extend: 3 stays, 4 joins
        await wait_until(pilot, lambda: len(listing.selected) == 5)

        await pilot.press("d")
        await wait_until(pilot, lambda: "Message 000000" not in screen_text(app))
        assert {await folder_of(mail, ids[i]) for i in range(5)} == {mail.folders["Trash"]}
        assert len(await ops(mail)) == 5
        assert "Moved 5 messages to Trash" in status(app)
        assert listing.selected == frozenset()

        await pilot.press("u")  # one key takes back all five
        await wait_until(pilot, lambda: "Message 000000" in screen_text(app))
        assert {await folder_of(mail, ids[i]) for i in range(5)} == {mail.inbox}
        assert await ops(mail) == []

        await pilot.press("ctrl+a")  # everything, even what is off screen
        await wait_until(pilot, lambda: len(listing.selected) == 60)
        await pilot.press("N")  # the cursor's message 0 is unread: all become read
        await wait_until(pilot, lambda: "60 messages" in status(app))
        assert (await mail.store.count(mail.inbox)) == (60, 0)
        assert len(await ops(mail)) == 20  # only the 20 that were unread changed
        await pilot.press("u")
        await wait_until(pilot, lambda: "20 unread of 60" in status(app))

        await pilot.press("x", "escape")  # Escape clears a selection first
        await wait_until(pilot, lambda: not listing.selected)
        await pilot.press("x", "X")
        await wait_until(pilot, lambda: not listing.selected)


async def test_undo_of_a_bulk_action_partly_sent_takes_it_all_back(
    mail: MailFixture,
) -> None:
    ids = await ids_by_index(mail)
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("x", "x", "x", "F")
        await wait_until(pilot, lambda: "Flagged 3 messages" in status(app))
        pending = await ops(mail)
        assert len(pending) == 2  # message 0 was flagged already: no op for it
        await mail.store.claim_ops([pending[0].id])  # the worker took one of them
        await pilot.press("u")
        await wait_until(pilot, lambda: "Undone: Flagged 3 messages" in status(app))
        # One level: the unsent op is dropped, the one on the wire gets its inverse.
        assert not any([await flags_of(mail, ids[i]) & Flag.FLAGGED for i in (1, 2)])
        (inverse,) = await ops(mail)
        assert inverse.payload == {"add": 0, "remove": int(Flag.FLAGGED)}
        assert app.screen.triage.undo_stack == []  # type: ignore[attr-defined]


async def test_next_unread_filter_and_go_to_folder(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        listing = app.query_one(MessageList)
        await pilot.press("n")  # message 0 is unread, the next unread is message 3
        await wait_until(pilot, lambda: listing.cursor == 3)
        await pilot.press("n", "n")
        await wait_until(pilot, lambda: listing.cursor == 9)

        await pilot.press("slash")
        await pilot.press(*"00004")
        await wait_until(pilot, lambda: "10 matches" in status(app))
        text = screen_text(app)
        assert "Message 000040" in text and "Message 000049" in text
        assert "Message 000039" not in text and "Message 000001" not in text
        await pilot.press("enter")  # back to the (filtered) list
        await wait_until(pilot, lambda: app.focused is listing)
        await pilot.press("n")  # 42 and 45 and 48 are the unread ones
        await wait_until(
            pilot,
            lambda: (
                listing.cursor_row is not None and listing.cursor_row.subject == "Message 000042"
            ),
        )
        await pilot.press("escape")  # the filter goes, the folder comes back
        await wait_until(pilot, lambda: "20 unread of 60" in status(app))

        await pilot.press("c")
        await wait_until(pilot, lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"pytho", "enter")
        await wait_until(pilot, lambda: "python-list post 0" in screen_text(app))
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.open_folder is not None and screen.open_folder.name == "Lists/python"


async def test_palette_runs_every_action_and_capabilities_hide_what_cannot_be(
    mail: MailFixture,
) -> None:
    ids = await ids_by_index(mail)
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("colon")
        # The field comes first, the list of every action when the palette's search of
        # them has ended.
        await wait_until(pilot, lambda: "Search for commands" in screen_text(app))
        await wait_until(pilot, lambda: palette_searched(app, ""))
        assert "Quit  (q · app.quit)" in screen_text(app)  # every action: keys, id
        await pilot.press(*"flag/unf")
        await wait_until(pilot, lambda: "Flag/unflag  (F · triage.flag)" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Unflagged 1 message" in status(app))
        assert not await flags_of(mail, ids[0]) & Flag.FLAGGED

        # A POP3-like account: no folders on the server, no moves.
        manager.caps[mail.account_id] = Capabilities(folders=False, server_move=False)
        app.screen.refresh_bindings()
        await pilot.press("a", "s")
        await pilot.pause(0.2)
        assert await folder_of(mail, ids[0]) == mail.inbox
        assert not isinstance(app.screen, FolderPicker)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: "Search for commands" in screen_text(app))
        await pilot.press(*"to folder")
        await wait_until(pilot, lambda: palette_searched(app, "to folder"))
        assert "Go to folder" not in screen_text(app)
        assert "Move to folder" not in screen_text(app)
        await pilot.press("escape")


@pytest.mark.parametrize("size", SIZES)
async def test_triage_keys_work_in_the_reader_on_the_open_message(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    ids = await ids_by_index(mail)
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("j", "j", "enter")
        await wait_until(pilot, lambda: "body of message 2" in screen_text(app))
        await pilot.press("F")
        await wait_until(pilot, lambda: "Flagged 1 message" in status(app))
        assert await flags_of(mail, ids[2]) & Flag.FLAGGED
        await pilot.press("N")  # opening marked it read; N marks it unread again
        await wait_until(pilot, lambda: "Marked 1 message unread" in status(app))
        await pilot.press("d")  # the reader closes, the message is in Trash
        await wait_until(pilot, lambda: "Moved 1 message to Trash" in status(app))
        await wait_until(pilot, lambda: "body of message 2" not in screen_text(app))
        assert await folder_of(mail, ids[2]) == mail.folders["Trash"]
        await pilot.press("u")
        await wait_until(pilot, lambda: "Message 000002" in screen_text(app))
        assert await folder_of(mail, ids[2]) == mail.inbox


async def test_the_palette_offers_every_main_screen_action(mail: MailFixture) -> None:
    from mailtui.ui import keymap
    from mailtui.ui.commands import MailCommands

    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        provider = MailCommands(app.screen)
        offered = {description for description, *_ in provider._commands()}
        for spec in keymap.KEYS:
            if spec.context in ("global", "appearance", "panes", "triage", "list", "writing"):
                assert spec.description in offered, spec.id
        shown = {f"{d}  ({k})" for d, k, *_ in provider._commands()}
        assert "Delete  (d, Del · triage.delete)" in shown
