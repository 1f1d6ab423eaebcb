"""The main screen driven with Pilot, asserting on what the screen shows."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from mailtui import app as app_module
from mailtui import memory
from mailtui.mime import parse_envelope
from mailtui.models import AccountKind, Flag, FolderBatch, MessageRow, NewMessage
from mailtui.store import Store, StoreError
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.ui.gc_pacer import CEILING
from mailtui.ui.screens.help import HelpScreen
from mailtui.ui.screens.main import NOT_DOWNLOADED
from mailtui.ui.widgets import FolderList, MessageList, MessageView

from .big_inbox import open_big_inbox
from .conftest import (
    FOLDERS,
    FakeManager,
    MailFixture,
    make_app,
    new_message,
    raw_message,
    screen_lines,
    screen_text,
)

CONTROL_CHARACTERS = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} - {"\n"}
LIST_ROWS_80x24 = 22  # 24 lines minus the status line and the footer


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20.0
) -> None:
    """Poll ``condition`` until it holds; fail with the screen after ``timeout`` seconds
    of wall-clock time (generous: a store write goes through its writer thread, and the
    suite runs beside others on two cores)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the screen did not settle:\n" + screen_text(
            pilot.app
        )
        await pilot.pause(0.02)
    await pilot.pause()


def rows_loaded(pilot: Pilot[None]) -> bool:
    return "…" not in "\n".join(screen_lines(pilot.app)[:3]) and "Message" in screen_text(pilot.app)


def cursor_screen_line(pilot: Pilot[None]) -> int:
    """The screen line painted with the list's cursor style (-1 if none)."""
    message_list = pilot.app.query_one(MessageList)
    cursor = message_list.get_component_rich_style("message-list--cursor")
    strips = pilot.app.screen._compositor.render_strips()
    region = message_list.content_region
    for y in range(region.y, region.bottom):
        styles = {segment.style.bgcolor for segment in strips[y] if segment.style}
        if cursor.bgcolor in styles:
            return y - region.y
    return -1


async def test_first_screen_shows_the_newest_messages(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        lines = screen_lines(app)
        assert len(lines) == 24
        assert lines[0].startswith("N!@      15:30 Alice Archer")
        assert lines[0].rstrip().endswith("Message 000000")
        assert "06:30" in lines[1] and "Message 000001" in lines[1]  # today
        assert "Wed 11" in lines[2] and "Message 000002" in lines[2]  # this week
        assert "2026-03-05" in lines[18] and "Message 000018" in lines[18]  # older
        assert "Message 000021" in lines[21]
        assert "Message 000022" not in screen_text(app)
        assert lines[22].strip() == "Inbox · 20 unread of 60"
        assert "q Quit" in lines[23] and "? Help" in lines[23]
        assert cursor_screen_line(pilot) == 0


async def test_keys_move_the_cursor_and_the_rows(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("j", "j", "down")
        assert cursor_screen_line(pilot) == 3
        await pilot.press("k", "up")
        assert cursor_screen_line(pilot) == 1

        await pilot.press("G")
        await wait_until(pilot, lambda: "Message 000059" in screen_text(app))
        lines = screen_lines(app)
        assert "Message 000059" in lines[LIST_ROWS_80x24 - 1]
        assert "Message 000038" in lines[0]
        assert cursor_screen_line(pilot) == LIST_ROWS_80x24 - 1

        await pilot.press("g")
        await wait_until(pilot, lambda: "Message 000000" in screen_lines(app)[0])
        assert cursor_screen_line(pilot) == 0

        await pilot.press("pagedown")
        await wait_until(pilot, lambda: "Message 000022" in screen_lines(app)[0])
        assert cursor_screen_line(pilot) == 0
        assert "Message 000043" in screen_lines(app)[21]

        await pilot.press("space")  # the second page-down key
        await wait_until(pilot, lambda: "Message 000038" in screen_lines(app)[0])
        assert "Message 000059" in screen_lines(app)[21]  # the last page stops at the end

        await pilot.press("pageup")
        await wait_until(pilot, lambda: "Message 000016" in screen_lines(app)[0])
        await pilot.press("end", "home")
        await wait_until(pilot, lambda: "Message 000000" in screen_lines(app)[0])
        assert cursor_screen_line(pilot) == 0


async def test_a_200000_message_folder_reads_only_the_screens_it_shows(
    tmp_path: Path, shared_dir: Path
) -> None:
    mail = await open_big_inbox(tmp_path / "big.sqlite", shared_dir)
    mail.spy_window()
    try:
        app = make_app(mail.store)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: rows_loaded(pilot))
            assert "Message 000000" in screen_lines(app)[0]
            assert "200,000" in screen_lines(app)[22]
            await pilot.press("G")
            await wait_until(pilot, lambda: "Message 199999" in screen_text(app))
            lines = screen_lines(app)
            assert "Message 199999" in lines[LIST_ROWS_80x24 - 1]
            assert "Message 199978" in lines[0]
            assert cursor_screen_line(pilot) == LIST_ROWS_80x24 - 1
            await pilot.press("k", "pageup")
            await wait_until(pilot, lambda: "Message 199956" in screen_lines(app)[0])
            message_list = app.query_one(MessageList)
            # The band (a screen either side of the viewport) and one screen at each end
            # of the list (for g and G): bounded, whatever the folder's size.
            assert message_list.cached_rows <= 5 * LIST_ROWS_80x24
        screen = LIST_ROWS_80x24
        assert mail.window_calls, "the list never asked the store for rows"
        assert all(limit <= 3 * screen for _, _, limit in mail.window_calls)
        assert sum(limit for _, _, limit in mail.window_calls) <= 6 * screen
    finally:
        await mail.store.close()


async def test_enter_opens_the_reader_and_escape_goes_back(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("enter")
        await wait_until(pilot, lambda: "body of message 0" in screen_text(app))
        # Marking it read comes after the message is on screen (a store write, then the
        # counts read again): wait for the counts too.
        await wait_until(pilot, lambda: "Inbox · 19 unread of 60" in screen_text(app))
        text = screen_text(app)
        assert "From: Alice Archer <alice@example.test>" in text
        assert "To: Me <me@example.test>" in text
        assert "Date: Thu 2026-03-12 15:30" in text
        assert "Subject: Message 000000" in text
        assert "Attachment: report-0.pdf (" in text and "application/pdf)" in text
        assert "> an older quoted line" in text
        assert "Message 000001" not in text  # at 80 columns the reader takes the screen
        assert "Inbox · 19 unread of 60" in text  # opening marked it read
        assert (await mail.store.count(mail.inbox)) == (60, 19)

        await pilot.press("escape")
        await wait_until(pilot, lambda: "Message 000001" in screen_text(app))
        assert screen_lines(app)[0].startswith(" !@")  # no longer marked unread
        assert cursor_screen_line(pilot) == 0

        await pilot.press("j", "enter")
        await wait_until(pilot, lambda: "body of message 1" in screen_text(app))
        await pilot.press("q")  # in the reader q closes the reader, like mutt
        await wait_until(pilot, lambda: "Message 000001" in screen_text(app))
        assert app.is_running
        await pilot.press("q")  # in the list it quits
        await pilot.pause()
    assert app.return_code == 0


async def test_the_reader_scrolls_a_long_body(mail: MailFixture) -> None:
    long = new_message(-1, subject="A long letter")
    long.raw = raw_message(-1, "A long letter", "Alice Archer").replace(
        b"Hello,", b"\n".join(b"line %d of the letter" % n for n in range(200))
    )
    await mail.add("INBOX", [long])
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "A long letter" in screen_lines(app)[0])
        await pilot.press("enter")
        await wait_until(pilot, lambda: "line 0 of the letter" in screen_text(app))
        assert "line 40 of the letter" not in screen_text(app)
        await pilot.press("space", "space")  # two pages of 22 lines; the header took 5
        await wait_until(pilot, lambda: "line 39 of the letter" in screen_lines(app)[0])
        await pilot.press("b")
        await wait_until(pilot, lambda: "line 17 of the letter" in screen_lines(app)[0])
        await pilot.press("g")
        await wait_until(pilot, lambda: "Subject: A long letter" in screen_text(app))
        await pilot.press("j", "j", "j", "j")  # From, To, Date, Subject scroll away
        assert "Subject: A long letter" not in screen_text(app)
        await pilot.press("k", "up")
        assert "Date: " in screen_lines(app)[0]
        assert "Subject: A long letter" in screen_text(app)


async def test_question_mark_shows_the_keys(mail: MailFixture) -> None:
    app = make_app(mail.store, keymap={"list.down": "o"})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await wait_until(pilot, lambda: "Page up" in screen_text(app))  # its table is up
        text = screen_text(app)
        assert "Keys" in text
        assert "Message list" in text
        assert "o             Next message" in text  # the user's keymap, not the default
        assert "PgUp, b       Page up" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert "Next message" not in screen_text(app)
        await pilot.press("o")  # the override works in the list too
        assert cursor_screen_line(pilot) == 1


async def test_escape_sequences_in_mail_never_reach_the_terminal(mail: MailFixture) -> None:
    evil = new_message(
        -1,
        with_raw=True,
        subject="\x1b]0;owned\x07Evil \x1b[31mred\x1b[0m [b]not markup[/b]\x9b2J",
    )
    evil.envelope.from_ = (type(evil.envelope.from_[0])("Mallory \x1b[2J", "m@example.test"),)
    evil.raw = (evil.raw or b"").replace(b"Hello,", b"Body \x1b]52;c;cGF5bG9hZA==\x07 text")
    await mail.add("INBOX", [evil])
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "Evil" in screen_lines(app)[0])
        line = screen_lines(app)[0]
        assert "Mallory" in line and "Evil red [b]not markup[/b]" in line
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Body" in screen_text(app))
        for shown in (screen_text(app), app.export_screenshot()):
            assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown
        assert "owned" not in screen_text(app)


async def test_layout_at_80x24_hides_the_folder_pane_until_asked(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        assert not app.query_one(FolderList).display or not app.query_one(FolderList).region
        assert screen_lines(app)[0].startswith("N!@")  # the list has the full width

        await pilot.press("tab")  # Tab brings the folder pane in
        await wait_until(pilot, lambda: "home" in screen_lines(app)[0])
        names = [" ".join(line[:24].strip(" ▕").split()) for line in screen_lines(app)[:8]]
        # The account heading carries its unread (Trash and Junk aside).
        expected = ["home 21", "Inbox 20", "Drafts", "Sent", "Trash", "Lists", "python 1", ""]
        assert names[:8] == expected
        assert "Message 000000" in screen_lines(app)[0]  # the list is still beside it

        await pilot.press("G", "enter")  # python, the last folder
        await wait_until(pilot, lambda: "python-list post 0" in screen_text(app))
        assert screen_lines(app)[0].lstrip().startswith("N!@")  # folder pane gone again
        assert "python · 1 unread of 2" in screen_text(app)

        await pilot.press("B", "k", "k", "k", "k", "enter")  # B toggles it too; Drafts
        await wait_until(pilot, lambda: "No messages in this folder" in screen_text(app))


async def test_layout_at_120x40_shows_three_panes(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "Message 000000" in screen_text(app))
        lines = screen_lines(app)
        assert lines[0].startswith("home")
        assert lines[1].startswith(" Inbox") and lines[1][:26].rstrip(" ▕").endswith("20")
        assert "Message 000000" in lines[0] and "Message 000037" in lines[37]
        assert lines[38].strip() == "Inbox · 20 unread of 60"

        await pilot.press("enter")
        await wait_until(pilot, lambda: "body of message 0" in screen_text(app))
        text = screen_text(app)
        assert "Message 000005" in text  # the list stays above the reader
        assert "home" in screen_lines(app)[0]  # and the folder pane beside it
        # A rule between them (the reader's top border), then the header block.
        rule = next(i for i, line in enumerate(screen_lines(app)) if "──────────" in line)
        assert "Message 0000" in screen_lines(app)[rule - 1]
        assert "From: Alice Archer" in screen_lines(app)[rule + 1]
        assert app.focused is app.query_one(MessageView)
        await pilot.press("tab")
        assert app.focused is app.query_one(FolderList)
        await pilot.press("shift+tab", "escape")
        await wait_until(pilot, lambda: "body of message 0" not in screen_text(app))
        assert app.focused is app.query_one(MessageList)
        await pilot.press("B")
        await wait_until(pilot, lambda: not screen_lines(app)[0].startswith("home"))


async def test_sync_events_update_the_screen_and_keep_the_cursor(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        assert "home: starting" in screen_lines(app)[22]
        manager.emit(SyncEvent("home", EventKind.STATUS, status=AccountStatus.ONLINE))
        await wait_until(pilot, lambda: "home: online" in screen_lines(app)[22])

        await pilot.press("j", "j")
        assert "Message 000002" in screen_lines(app)[2]
        await mail.add("INBOX", [new_message(-1, subject="Fresh from the server")])
        manager.emit(SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, added=1))
        await wait_until(pilot, lambda: "Fresh from the server" in screen_lines(app)[0])
        assert "Message 000002" in screen_lines(app)[3]
        assert cursor_screen_line(pilot) == 3  # still on the same message
        assert "Inbox · 20 unread of 61" in screen_lines(app)[22]  # the new one was read

        manager.emit(SyncEvent("home", EventKind.OP_FAILED, text="Server said no"))
        manager.emit(
            SyncEvent(
                "home", EventKind.STATUS, status=AccountStatus.OFFLINE, text="offline, retrying"
            )
        )
        await wait_until(pilot, lambda: "offline, retrying" in screen_text(app))
        await pilot.press("q")
    assert manager.stopped


async def test_the_app_paints_before_sync_starts(mail: MailFixture) -> None:
    seen_at_start: list[str] = []
    manager = FakeManager()
    app = make_app(mail.store, manager)

    async def start() -> None:
        seen_at_start.append(screen_text(app))
        manager.started = True

    manager.start = start  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: manager.started)
    assert "home: starting" in seen_at_start[0]  # the status line was on screen already


async def test_a_body_not_yet_cached_is_fetched_through_the_manager(mail: MailFixture) -> None:
    target = 12  # no raw in the store (only the newest 10 have one)
    rows = await mail.store.window(mail.inbox, target, 1)
    message_id = rows[0].id
    manager = FakeManager(bodies={message_id: raw_message(target, "Message 000012", "Carol C")})
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        for _ in range(target):
            await pilot.press("j")
        manager.gate.clear()  # hold the body back, as a slow server would
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Loading…" in screen_text(app))
        assert "Subject: Message 000012" in screen_text(app)  # the header shows at once
        manager.gate.set()
        await wait_until(pilot, lambda: "body of message 12" in screen_text(app))
        # Marking it read is a worker of its own (a store write, then the kick): it may
        # end after the body is on screen.
        await wait_until(pilot, lambda: bool(manager.kicked))
        assert manager.fetched == [message_id]
        assert manager.kicked == [mail.account_id]  # message 12 was unread: a flag op to push
        detail = await mail.store.message(message_id)
        assert detail is not None and detail.row.flags & Flag.SEEN


async def test_offline_without_a_body_says_so(mail: MailFixture) -> None:
    app = make_app(mail.store)  # no manager at all
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("end", "enter")
        await wait_until(pilot, lambda: NOT_DOWNLOADED.splitlines()[0] in screen_text(app))
        assert "Subject: Message 000059" in screen_text(app)


async def test_every_sample_message_opens_without_harm(mail: MailFixture) -> None:
    """Each message of tests/data (valid and malformed) opens in the reader: the app
    stays up and no control character reaches the screen."""
    data = Path(__file__).parent.parent / "data"
    samples = sorted(data.glob("*/*.eml"))
    assert samples
    messages = []
    for path in samples:
        raw = path.read_bytes()
        messages.append(NewMessage(path.name, parse_envelope(raw), Flag.SEEN, raw=raw))
    await mail.add("Trash", messages)
    trash = mail.folders["Trash"]
    rows = await mail.store.window(trash, 0, len(samples))
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        await pilot.press("tab", "G", "k", "k", "enter")  # Trash: above Lists and python
        await wait_until(pilot, lambda: app.query_one(MessageList).folder_id == trash)
        await pilot.press("enter")
        reader = app.query_one(MessageView)
        for row in rows:
            # What Enter on each row posts; pressing through 40 rows would only be slower.
            app.query_one(MessageList).post_message(MessageList.Opened(row.id))
            await wait_until(pilot, lambda row=row: reader.message_id == row.id)
            text = screen_text(app)
            assert "Subject: " in text, row
            assert not set(text) & CONTROL_CHARACTERS, row
        await pilot.press("escape")
        assert app.is_running


async def test_rows_not_yet_read_show_as_placeholders(mail: MailFixture) -> None:
    gate = asyncio.Event()
    real = mail.store.window

    async def slow_window(folder_id: int, offset: int, limit: int) -> list[MessageRow]:
        await gate.wait()
        return await real(folder_id, offset, limit)

    mail.store.window = slow_window  # type: ignore[method-assign]
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "Inbox · 20 unread of 60" in screen_text(app))
        lines = screen_lines(app)
        assert [line[:79].strip() for line in lines[:22]] == ["…"] * 22  # the count is known
        gate.set()
        await wait_until(pilot, lambda: "Message 000000" in screen_lines(app)[0])
        assert "…" not in screen_text(app)


async def test_a_store_error_is_a_notice_not_a_crash(mail: MailFixture) -> None:
    calls: list[int] = []

    async def broken_window(folder_id: int, offset: int, limit: int) -> list[MessageRow]:
        calls.append(offset)
        raise StoreError("cache database error: disk I/O error")

    mail.store.window = broken_window  # type: ignore[method-assign]
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: "disk I/O error" in screen_text(app))
        assert "Could not read the message list" in screen_text(app)
        await pilot.pause(0.3)
        assert len(calls) == 1  # no retry loop behind the notice
        await pilot.press("j")  # moving is a user action: it may try again
        assert app.is_running


async def test_sync_progress_and_theme(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager, theme="textual-light")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        assert app.theme == "textual-light"
        manager.emit(SyncEvent("home", EventKind.STATUS, status=AccountStatus.SYNCING))
        manager.emit(
            SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, progress=(1200, 3000))
        )
        shown = "home: syncing headers ▕███░░░░░▏ 1,200/3,000"
        await wait_until(pilot, lambda: shown in screen_text(app))
        manager.emit(
            SyncEvent("home", EventKind.STATUS, status=AccountStatus.ONLINE, text="in step")
        )
        await wait_until(pilot, lambda: "home: in step" in screen_text(app))
        assert "3,000" not in screen_text(app)


async def test_an_unknown_theme_keeps_the_default(mail: MailFixture) -> None:
    app = make_app(mail.store, theme="no-such-theme")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: "no-such-theme" in screen_text(app))
        assert app.theme == "textual-dark"


async def test_first_run_fills_in_as_the_first_sync_lands(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "empty.sqlite")
    try:
        manager = FakeManager()
        app = make_app(store, manager)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: "waiting for the first sync" in screen_text(app))
            await pilot.press("j", "G", "enter", "tab", "enter", "escape", "B", "question_mark")
            await pilot.press("escape")
            assert app.is_running

            account = await store.ensure_account("home", AccountKind.IMAP, "me@example.test")
            folders = await store.sync_folders(account.id, FOLDERS)
            manager.emit(SyncEvent("home", EventKind.FOLDERS))
            await wait_until(pilot, lambda: "Inbox · 0 messages" in screen_text(app))
            batch = FolderBatch(folder="INBOX", added=[new_message(i) for i in range(3)])
            await store.apply_batch(folders["INBOX"], batch)
            manager.emit(SyncEvent("home", EventKind.MESSAGES, folder_id=folders["INBOX"]))
            await wait_until(pilot, lambda: "Message 000002" in screen_lines(app)[2])
            assert "Inbox · 1 unread of 3" in screen_text(app)
    finally:
        await store.close()


async def test_full_collections_wait_while_keys_come(
    mail: MailFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From its mount the app paces Python's full garbage collections, and its first
    pause freezes what start-up built (mailtui/ui/gc_pacer.py; that pause not before
    ``GC_PACER_AFTER``, 0 here); quitting puts CPython's settings back."""
    monkeypatch.setattr(app_module, "GC_PACER_AFTER", 0.0)
    before = gc.get_threshold()
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and app.gc_pacer.active)
        app.gc_pacer.tick()  # no key yet: the first pause collects and freezes
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[2] == CEILING
        seen = app.gc_pacer.last_input
        await pilot.press("j")
        assert app.gc_pacer.last_input > seen  # keys hold full collections back
        await pilot.press("q")
        await pilot.pause()
    assert not app.gc_pacer.active
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_collections_paused_for_start_up_resume_after_the_first_paint(
    mail: MailFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mailtui`` starts with collections paused (``memory.pause_collections``): the app
    resumes them once it has painted, with start-up frozen, and the pacer's collection
    takes that frozen start-up back in at the first pause (its garbage is freed then)."""
    monkeypatch.setattr(app_module, "GC_PACER_AFTER", 0.0)
    memory.pause_collections()
    try:
        app = make_app(mail.store)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: rows_loaded(pilot))
            assert gc.isenabled()
            frozen = gc.get_freeze_count()
            assert frozen > 0
            app.gc_pacer.start()
            assert app.gc_pacer.tick()  # no key yet: the first pause is now
            assert gc.get_freeze_count() < frozen  # collected, and the live part frozen
            await pilot.press("q")
            await pilot.pause()
    finally:
        gc.enable()
        gc.unfreeze()
