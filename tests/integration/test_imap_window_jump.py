"""A jump to a date and a filter during a first pass (issue 17), end to end at 80x24: the
real app and manager on the real Dovecot, a folder of a few thousand messages in small
batches, the pass held between two batches (``Gate``, as in test_imap_window.py).

What is not cached yet is asked of the server by the account's worker (``UID SEARCH
BEFORE``, ``UID SEARCH … SUBJECT/FROM/TO/CC``) and the envelopes it found are fetched
with the pass's next batch, ahead of the rest: the cursor lands on the message of the
date, the filter lists every match, while the pass is still held. Keys on a placeholder
say that its message is still loading; the conversation view says it shows the part
cached so far."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from mailtui.accounts import specs_for
from mailtui.app import MailApp
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from mailtui.ui.list_sources import STILL_LOADING
from mailtui.ui.modals.text_prompt import TextPrompt
from mailtui.ui.widgets.message_list import MessageList
from tests.integration.pass_gate import Gate
from tests.integration.test_imap_sync import account
from tests.integration.test_imap_window import small_batches  # noqa: F401 (a fixture)
from tests.servers import MailUser
from tests.ui.conftest import screen_text, typing_goes_to

N = 2400  # message i has UID i; the higher, the newer; 48 a day, half an hour apart
NOW = time.time()
REPORTS = range(97, N + 1, 97)  # "quarterly report" in these subjects (24)
UMLAUT = 1001  # "Überweisung" in this one's


def sent(i: int) -> float:
    """When message ``i`` was sent and arrived (its Date and its INTERNALDATE)."""
    return NOW - 3600 - (N - i) * 1800


def subject(i: int) -> str:
    words = " quarterly report" if i in REPORTS else " Überweisung" if i == UMLAUT else ""
    return f"subject {i:04d}{words}"


def raw(i: int) -> bytes:
    when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(sent(i)))
    return (
        f"From: Sender {i} <s{i}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: {subject(i)}\r\nDate: {when}\r\n"
        f"Message-ID: <m{i}@example.org>\r\n\r\nhello\r\n"
    ).encode()


def local_day(i: int) -> date:
    return datetime.fromtimestamp(sent(i)).astimezone().date()


def position(i: int) -> int:
    """Where message ``i`` is in the folder's list (0: the newest)."""
    return N - i


class Run:
    """The app on a new IMAP account whose first pass is held after its first batch."""

    def __init__(self, app: MailApp, pilot: Any, manager: SyncManager) -> None:
        self.app = app
        self.pilot = pilot
        self.manager = manager
        self.messages = app.screen.query_one(MessageList)
        self.bar = app.main_screen.status_bar
        # Every notice shown: one goes after 15 s, and on a loaded machine the rows a
        # test waits for may come later than that.
        self.notices: list[str] = []
        shown = self.bar.set_notice

        def set_notice(notice: str, **how: Any) -> None:
            if notice:
                self.notices.append(notice)
            shown(notice, **how)

        self.bar.set_notice = set_notice  # type: ignore[method-assign]

    async def until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        started = time.monotonic()
        while not condition():
            assert time.monotonic() - started < timeout, (
                screen_text(self.app),
                self.bar._location,
                self.bar._notice,
            )
            await self.pilot.pause(0.02)

    def shown(self, i: int) -> bool:
        return subject(i) in screen_text(self.app)

    def status_line(self) -> str:
        """The status line as the screen shows it (at 80 columns its parts are cut)."""
        return screen_text(self.app).splitlines()[-2]

    def cursor_subject(self) -> str | None:
        row = self.messages.cursor_row
        return row.subject if row is not None else None

    async def jump(self, text: str) -> None:
        await self.pilot.press("at")
        await self.until(lambda: typing_goes_to(self.app, TextPrompt))  # mounted, focused
        self.app.screen.query_one("Input").value = text  # type: ignore[attr-defined]
        await self.pilot.press("enter")
        await self.until(lambda: self.app.screen is self.app.main_screen)

    def in_pass(self) -> bool:
        return self.manager.gaps(self.messages.folder_id or 0) is not None


async def started(mail_user: MailUser, store: Store) -> tuple[MailApp, SyncManager]:
    for i in range(1, N + 1):
        mail_user.deliver(raw(i), internaldate=sent(i))
    specs = await specs_for(store, [account(mail_user, "tls", body_days=0, poll_interval=300)])
    manager = SyncManager(store, specs)
    app = MailApp(store, manager)
    app.animation_level = "none"
    return app, manager


async def first_screen(run: Run, gate: Gate) -> None:
    await run.until(lambda: run.shown(N) and run.messages.total == N)
    assert gate.handed == 1  # the pass is held after its first batch
    await run.until(lambda: gate.holding)  # the worker past serving windows: it waits


async def test_a_jump_to_a_date_lands_on_its_message_before_the_pass_gets_there(
    mail_user: MailUser,
    store: Store,
    small_batches: Gate,  # noqa: F811
) -> None:
    gate = small_batches
    app, manager = await started(mail_user, store)
    day = local_day(600)  # deep in the part the pass has not fetched
    target = max(i for i in range(1, N + 1) if local_day(i) <= day)
    assert local_day(target + 1) > day
    async with app.run_test(size=(80, 24)) as pilot:
        run = Run(app, pilot, manager)
        await first_screen(run, gate)

        # Bad input: a clear word, nothing moves.
        await run.jump("next tuesday maybe")
        await run.until(lambda: "Not a date" in run.status_line())
        assert run.messages.cursor == 0

        # The date: the server finds it, its window comes with the next batch, then the
        # cursor lands on the newest message of that day; the one above is the day after.
        await run.jump(day.isoformat())
        await run.until(lambda: "Asking server…" in run.status_line())
        assert run.messages.cursor == 0
        gate.allow(1)
        await run.until(lambda: run.cursor_subject() == subject(target))
        assert run.messages.cursor == position(target)
        assert run.shown(target) and run.shown(target - 1)  # at the top, the older below
        above = run.messages._window.get(position(target) - 1)
        assert above is not None and above.row.subject == subject(target + 1)
        assert run.notices[-1] == f"On or before {day.isoformat()}"
        assert gate.handed == 2 and run.in_pass()  # the pass did not get there itself
        await run.until(lambda: gate.holding)

        # A placeholder is no message: the keys say it is still loading. (The last
        # screen may be cached already: the list asks for both ends as soon as it knows
        # the folder's length. Two screens above the end are asked for only now, while
        # the pass is held.)
        await pilot.press("end")
        await run.until(lambda: run.messages.cursor == N - 1)
        await pilot.press("pageup", "pageup")  # above the last screen
        await run.until(lambda: run.messages.cursor < N - 40 and run.messages.on_placeholder)
        for key in ("enter", "x", "d"):
            run.bar.set_notice("")
            await pilot.press(key)
            await run.until(lambda: run.bar._notice == STILL_LOADING)
            assert STILL_LOADING in run.status_line()
        assert app.is_running and run.messages.selected == frozenset()

        # Older than anything: the oldest message, and a word that says so.
        await run.jump("2001-01-01")
        gate.allow(1)
        # The end key left the cursor on the oldest message already: wait for the answer
        # too, and for the list's rows after it.
        nothing = "Nothing on or before 2001-01-01 here"
        await run.until(
            lambda: any(n.startswith(nothing) for n in run.notices)
            and run.cursor_subject() == subject(1)
        )
        assert gate.handed == 3 and run.in_pass()

        # After the pass, the store alone answers (no server, no gate).
        gate.allow(10**9)
        await run.until(lambda: "in step" in screen_text(app), 120.0)
        await pilot.press("home")
        await run.jump(day.isoformat())
        await run.until(lambda: run.cursor_subject() == subject(target))
        assert run.messages.cursor == position(target)
        await pilot.press("q")
        await run.until(lambda: not app.is_running)
    await manager.stop()


async def test_a_filter_during_a_first_pass_lists_the_matches_not_cached_yet(
    mail_user: MailUser,
    store: Store,
    small_batches: Gate,  # noqa: F811
) -> None:
    gate = small_batches
    app, manager = await started(mail_user, store)
    async with app.run_test(size=(80, 24)) as pilot:
        run = Run(app, pilot, manager)
        await first_screen(run, gate)

        # None of the matches is cached: the server is asked, the screen says so.
        await pilot.press("slash", *"quarterly", "enter")
        await run.until(lambda: 'filter "quarterly"' in run.bar._location)
        await run.until(lambda: "0 so far, asking server" in run.status_line())
        assert "No match so far: the server is searching" in screen_text(app)
        gate.allow(1)
        # With the next batch: every match, the newest first, and no "so far".
        await run.until(lambda: '"quarterly": 24 matches' in run.bar._location)
        assert "so far" not in run.bar._location and "server" not in run.bar._location
        await run.until(lambda: '"quarterly": 24 match' in run.status_line())
        assert gate.handed == 2 and run.in_pass()
        assert run.messages.total == len(REPORTS) and run.shown(REPORTS[-1])
        await pilot.press("end")
        await run.until(lambda: run.shown(REPORTS[0]))
        await run.until(lambda: gate.holding)

        # A word beyond ASCII (CHARSET UTF-8, sent as a literal), any case; it replaces
        # the filter before it.
        await pilot.press("slash")
        app.main_screen.filter_box.value = "überweisung"
        await pilot.press("enter")
        await run.until(lambda: "0 so far, asking server" in run.status_line())
        assert 'filter "überweisung"' in run.bar._location
        gate.allow(1)
        await run.until(lambda: '"überweisung": 1 match' in run.bar._location)
        assert run.shown(UMLAUT) and gate.handed == 3 and run.in_pass()
        await pilot.press("escape")
        await run.until(lambda: "filter" not in run.bar._location)

        # The conversations of the part cached so far, and it says so.
        await pilot.press("T")
        await run.until(lambda: "conversations so far" in run.bar._location)
        assert "older mail still loading" in run.bar._location
        run.bar.set_notice("")  # ("Conversations", gone after a while)
        await run.until(lambda: "conversations so far" in run.status_line())

        # The rest of the pass: the whole folder, said plainly.
        gate.allow(10**9)
        await run.until(lambda: "in step" in screen_text(app), 120.0)
        await run.until(lambda: f"{N:,} conversations" in run.bar._location)
        assert "so far" not in run.bar._location
        await pilot.press("q")
        await run.until(lambda: not app.is_running)
    await manager.stop()

