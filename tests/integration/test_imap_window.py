"""The window on demand during a first pass (issue 17), end to end at 80x24: the real app
and manager on the real Dovecot, a folder of a few thousand messages in small batches.

The pass is held between two batches (a gate around the backend's pull: the messages,
the server and the worker are the real ones), so what the list shows while the folder
is partly cached is checked without racing the pass: the end key and PgDn show
placeholders or the right messages, never a message at another's position (the
oldest cached so far presented as the oldest); the window the list shows is fetched
with the pass's next batch, ahead of the rest."""

from __future__ import annotations

import pytest

from mailtui.accounts import specs_for
from mailtui.protocols.imap import pull
from mailtui.protocols.imap.pull import ImapPull
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from mailtui.ui.widgets.message_list import MessageList
from tests.integration.pass_gate import Gate, placeholders, until_right_rows, wrong_rows
from tests.integration.test_imap_sync import account, msg
from tests.servers import MailUser

N = 2400  # message i has UID i and subject "subject {i:04d}"; the higher, the newer


def subject(position: int) -> str:
    """The subject the list must show at ``position`` (0: the newest)."""
    return f"subject {N - position:04d}"


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Gate:
    monkeypatch.setattr(pull, "SCREEN", 20)
    monkeypatch.setattr(pull, "FIRST_BATCH", 30)
    monkeypatch.setattr(pull, "BATCH", 60)
    # The end key must be served by the window on demand, not by the oldest screen
    # that a pass otherwise fetches second.
    monkeypatch.setattr(pull, "OLDEST_EARLY", False)
    gate = Gate()
    gate.install(monkeypatch, ImapPull)
    return gate


async def test_end_key_and_pgdn_during_a_first_pass_show_the_right_rows(
    mail_user: MailUser,
    store: Store,  # noqa: F811
    small_batches: Gate,
) -> None:
    from mailtui.app import MailApp
    from tests.ui.conftest import screen_text

    gate = small_batches
    mail_user.deliver_many(
        [msg(i, f"subject {i:04d}", days_ago=(N - i) / 48) for i in range(1, N + 1)]
    )
    specs = await specs_for(store, [account(mail_user, "tls", body_days=0, poll_interval=300)])
    manager = SyncManager(store, specs)
    app = MailApp(store, manager)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.screen.query_one(MessageList)

        until = until_right_rows(app, pilot, messages, subject)

        # The first screen: the newest rows, and the folder's whole length.
        await until(lambda: subject(0) in screen_text(app) and messages.total == N)
        assert gate.handed == 1  # the pass is held after its first batch
        await until(lambda: gate.holding)  # the worker past serving windows: it waits

        # The end key while the oldest is not fetched: placeholders, never a wrong row.
        # (The list asks for its last screen as soon as it knows the folder's length, to
        # keep both ends for Home and End: that window may have come with the worker's
        # first turn after the first batch, before the key. Then the oldest is there.)
        await pilot.press("end")
        await until(lambda: messages._window.get(N - 1) is not None)
        assert messages._cursor == N - 1
        last = messages._window.get(N - 1)
        assert last is not None and not wrong_rows(messages, subject)
        if last.pending:
            assert subject(N - 1) not in screen_text(app)
            # Nothing to open, select or act on there yet.
            assert messages.cursor_line is None and await messages.targets() == []
            await pilot.press("enter", "space")
            await pilot.pause()
            assert app.is_running and await messages.targets() == []

        # One more batch of the pass (the next newest ones): the window the list asked
        # for comes with it, ahead of the rest (if it did not come before).
        gate.allow(1)
        await until(lambda: subject(N - 1) in screen_text(app))
        assert gate.handed == 2  # still held: the oldest came on demand
        assert manager.gaps(messages.folder_id or 0) is not None  # the pass is not over
        await until(lambda: gate.holding)

        # PgDn from the top, held: placeholders or the right rows, then the rows.
        await pilot.press("home")
        await until(lambda: messages._cursor == 0)
        for _ in range(12):
            await pilot.press("pagedown")
        await until(lambda: messages._window.get(messages._cursor) is not None)
        cursor = messages._cursor
        assert cursor > 20 + 30 + 60  # beyond what the pass has fetched
        line = messages._window.get(cursor)
        assert line is not None and line.pending
        gate.allow(1)
        await until(lambda: subject(cursor) in screen_text(app))
        assert gate.handed == 3 and not wrong_rows(messages, subject)

        # A filter meanwhile searches what is cached, and says so.
        await pilot.press("slash", *"subject", "enter")
        bar = app.main_screen.status_bar
        # (the location, whole: at 80 columns the bar cuts it)
        await until(lambda: "so far" in bar._location)
        await pilot.press("slash", "escape")
        await until(lambda: "filter" not in bar._location)

        # The rest of the pass: no placeholder is left, the oldest is the last row.
        gate.allow(10**9)
        await until(lambda: "in step" in screen_text(app), 120.0)
        await pilot.press("end")
        # The list reads its rows again after the pass's last batch (coalesced, held while
        # keys come): until then rows it had as placeholders stay in memory. Wait for it.
        await until(lambda: subject(N - 1) in screen_text(app) and placeholders(messages) == 0)
        assert messages.total == N
        await pilot.press("q")
        await until(lambda: not app.is_running)
    await manager.stop()
