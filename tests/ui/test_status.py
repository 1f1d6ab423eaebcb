"""The status bar: each account's state, a progress bar while a long sync runs, the new
mail count (not the first download), errors in plain words, and bell/notice on new mail."""

from __future__ import annotations

import time

import pytest

from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.ui.widgets.status_bar import (
    ESTIMATE_AFTER,
    PROGRESS_PAINT,
    progress_bar,
    time_left,
)

from .conftest import FakeManager, MailFixture, make_app, screen_text
from .test_main_screen import rows_loaded, wait_until


def test_progress_bar() -> None:
    assert progress_bar(0, 100) == "▕░░░░░░░░▏"
    assert progress_bar(50, 100) == "▕████░░░░▏"
    assert progress_bar(100, 100) == "▕████████▏"
    assert progress_bar(5, 0) == "▕░░░░░░░░▏"


def test_time_left_at_the_rate_seen_since_the_count_began_to_move() -> None:
    # 2,000 of 100,000 headers in the first 4 s after 500: 98,000 more at 375/s.
    assert time_left(2000, 100_000, (10.0, 500), 14.0) == "about 4m 22s left"
    assert time_left(50_000, 100_000, (0.0, 0), 10.0) == "about 10s left"
    assert time_left(1000, 1_000_000, (0.0, 0), 10.0) == "about 2h 46m left"
    # Not before ESTIMATE_AFTER seconds, not without progress, not when done.
    assert time_left(2000, 100_000, (10.0, 500), 10.0 + ESTIMATE_AFTER / 2) == ""
    assert time_left(500, 100_000, (10.0, 500), 60.0) == ""
    assert time_left(100_000, 100_000, (10.0, 500), 60.0) == ""


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_progress_errors_and_new_mail(mail: MailFixture, size: tuple[int, int]) -> None:
    manager = FakeManager()
    manager.statuses["work"] = (AccountStatus.STARTING, "")
    app = make_app(mail.store, manager, bell=True, notify_new_mail=True)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        manager.emit(SyncEvent("home", EventKind.STATUS, status=AccountStatus.SYNCING))
        manager.emit(
            SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, progress=(1500, 3000),
                      added=500)
        )
        await wait_until(pilot, lambda: "headers ▕████░░░░▏ 1,500/3,000" in screen_text(app))
        assert "new" not in app.main_screen.status_bar.text  # the first download is not new
        # Every header in: then the bodies, counted the same way.
        manager.emit(
            SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, progress=(3000, 3000))
        )
        manager.emit(SyncEvent("home", EventKind.BODY, progress=(100, 400)))
        await wait_until(pilot, lambda: "bodies ▕██░░░░░░▏ 100/400" in screen_text(app))
        assert "headers" not in screen_text(app)
        manager.emit(SyncEvent("work", EventKind.STATUS, status=AccountStatus.AUTH_FAILED,
                               text="login refused: wrong password"))
        # At 80 columns the state in short, with the key that tries again; wider, in full.
        await wait_until(pilot, lambda: "work: login refused" in screen_text(app))
        if size[0] > 100:
            assert "work: login refused: wrong password" in screen_text(app)
        manager.emit(SyncEvent("home", EventKind.STATUS, status=AccountStatus.ONLINE,
                               text="in step"))
        await wait_until(pilot, lambda: "home: in step" in screen_text(app))
        assert "▕" not in app.main_screen.status_bar.text
        assert bells == []
        manager.emit(SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, added=2))
        await wait_until(pilot, lambda: "2 new" in app.main_screen.status_bar.text)
        await wait_until(pilot, lambda: "2 new messages for home" in screen_text(app))
        assert bells == [1]


async def test_a_moving_count_redraws_the_bar_a_few_times_a_second(mail: MailFixture) -> None:
    """A first sync reports a batch every few tens of milliseconds: the count on screen
    follows at most every ``PROGRESS_PAINT`` seconds, and shows the last one reported."""
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=(120, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        bar = app.main_screen.status_bar
        manager.emit(SyncEvent("home", EventKind.STATUS, status=AccountStatus.SYNCING))
        manager.emit(
            SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, progress=(100, 9000))
        )
        await wait_until(pilot, lambda: "100/9,000" in screen_text(app))  # the first at once
        drawn: list[str] = []
        real = bar._paint_progress

        def counting() -> None:
            drawn.append(bar.text)
            real()

        bar._paint_progress = counting  # type: ignore[method-assign]
        started = time.monotonic()
        for done in range(200, 9000, 100):  # 88 batches at once
            manager.emit(
                SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, progress=(done, 9000))
            )
        await wait_until(pilot, lambda: "8,900/9,000" in screen_text(app))
        took = time.monotonic() - started
        # One at once, then one each PROGRESS_PAINT at most (not one per batch).
        assert 1 <= len(drawn) <= 2 + took / PROGRESS_PAINT < 88
        assert "8,900/9,000" in drawn[-1]


async def test_bell_and_notice_can_be_turned_off(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager, bell=False, notify_new_mail=False)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        manager.emit(SyncEvent("home", EventKind.STATUS, status=AccountStatus.ONLINE))
        manager.emit(SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, added=1))
        await wait_until(pilot, lambda: "1 new" in app.main_screen.status_bar.text)
        await pilot.pause(0.1)
        assert bells == [] and "New mail" not in screen_text(app)
