"""The status bar at 80x24: the countdown to an account's next attempt and the key that
tries at once, notice and account states in regions of their own, notices that go away,
and toasts that stay off the bar."""

from __future__ import annotations

import re
import time

from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent

from .conftest import FakeManager, MailFixture, make_app, screen_lines, screen_text
from .test_main_screen import rows_loaded, wait_until

SIZE = (80, 24)
BAR_ROW = -2  # the status bar is the line above the key hints


def bar_line(app: object) -> str:
    return screen_lines(app)[BAR_ROW]  # type: ignore[arg-type]


async def test_an_offline_account_counts_down_and_the_key_tries_now(mail: MailFixture) -> None:
    manager = FakeManager()
    manager.statuses = {"bench": (AccountStatus.ONLINE, "in step")}
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        manager.emit(
            SyncEvent(
                "bench",
                EventKind.STATUS,
                status=AccountStatus.OFFLINE,
                text="offline since 10:02: connection refused",
                retry_at=time.time() + 12,
            )
        )
        await wait_until(pilot, lambda: "retry in" in bar_line(app))
        found = re.search(r"bench: offline(.*) · retry in (\d+)s · F5: now", bar_line(app))
        assert found is not None, bar_line(app)
        assert 0 <= int(found.group(2)) <= 12
        assert manager.reconnects == 0
        await pilot.press("f5")
        await wait_until(pilot, lambda: manager.reconnects == 1)
        await wait_until(pilot, lambda: "Reconnecting…" in bar_line(app))
        # The attempt starts: the countdown goes.
        manager.emit(
            SyncEvent("bench", EventKind.STATUS, status=AccountStatus.CONNECTING, text="connecting")
        )
        await wait_until(pilot, lambda: "bench: connecting" in bar_line(app))
        assert "retry in" not in bar_line(app)


async def test_a_refused_login_shows_the_key_that_tries_again(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        manager.emit(
            SyncEvent(
                "home",
                EventKind.STATUS,
                status=AccountStatus.AUTH_FAILED,
                text="login refused: wrong user name or password",
            )
        )
        await wait_until(pilot, lambda: "F5: retry" in bar_line(app))
        assert "home: login refused" in bar_line(app)


async def test_reconnect_is_in_the_command_palette(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        await pilot.press("ctrl+p")
        await pilot.press(*"reconnect")
        await wait_until(pilot, lambda: "Reconnect now" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: manager.reconnects == 1)


async def test_a_long_notice_never_runs_into_the_account_states(mail: MailFixture) -> None:
    manager = FakeManager()
    manager.statuses = {"bench": (AccountStatus.ONLINE, "in step")}
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        bar = app.main_screen.status_bar
        bar.set_location("Inbox · 3 unread of 1,204")
        bar.set_notice("Flagged 6 messages in three folders of two accounts · u: undo")
        await wait_until(pilot, lambda: "Flagged" in bar_line(app))
        line = bar_line(app)
        assert line.rstrip().endswith("bench: in step"), line
        # The notice is cut inside its own region, then a blank, then the accounts.
        assert "… bench: in step" in line, line
        assert "Inbox · 3 unread of 1,204  Flagged" in line
        # A short notice is shown whole.
        bar.set_notice("Flagged 6 messages · u: undo")
        await wait_until(pilot, lambda: "Flagged 6 messages · u: undo" in bar_line(app))
        assert "bench: in step" in bar_line(app)


async def test_notices_go_away(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager, notify_new_mail=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        manager.emit(SyncEvent("home", EventKind.STATUS, status=AccountStatus.ONLINE))
        manager.emit(SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox, added=1))
        await wait_until(pilot, lambda: "1 new" in bar_line(app))
        await pilot.press("enter")  # the newest message, unread: read now
        await wait_until(pilot, lambda: "1 new" not in bar_line(app))
        bar = app.main_screen.status_bar
        bar.set_notice("Archived 1 message · u: undo", expire=0.05)
        await wait_until(pilot, lambda: bar.notice == "")
        assert "Archived" not in bar_line(app)


async def test_toasts_stay_off_the_status_bar(mail: MailFixture) -> None:
    manager = FakeManager()
    manager.statuses = {"bench": (AccountStatus.ONLINE, "in step")}
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        await wait_until(pilot, lambda: "bench: in step" in bar_line(app))
        app.notify("2 new messages for bench", title="New mail", timeout=30)
        await wait_until(pilot, lambda: "2 new messages for bench" in screen_text(app))
        assert bar_line(app).rstrip().endswith("bench: in step"), bar_line(app)
        assert bar_line(app).rstrip() == app.main_screen.status_bar.text.rstrip()


async def test_the_sign_in_key_without_an_oauth_account_says_so(mail: MailFixture) -> None:
    """A refused password login keeps the retry key; F7 explains there is nothing to sign
    in to (the sign-in itself: tests/integration/test_signin_ui.py)."""
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        manager.emit(
            SyncEvent(
                "bench", EventKind.STATUS, status=AccountStatus.AUTH_FAILED,
                text="login refused: wrong password",
            )
        )
        await wait_until(pilot, lambda: "F5: retry" in bar_line(app))
        assert "sign in" not in bar_line(app)
        await pilot.press("f7")
        await wait_until(
            pilot,
            lambda: any("No account here signs in with OAuth2" in str(n.message)
                        for n in app._notifications),
        )


async def test_the_sign_in_key_is_in_the_command_palette(mail: MailFixture) -> None:
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        await pilot.press("ctrl+p")
        await pilot.press(*"sign in")
        await wait_until(pilot, lambda: "Sign in again (or type a password)" in screen_text(app))
        assert "app.sign_in" in screen_text(app)
