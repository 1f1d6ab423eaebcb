"""The window on demand during a first POP3 download (issue 17), against the real Dovecot
POP3 server.

At 80x24 with the real app and manager: the pass is held between two batches (a gate
around the backend's pull, as in test_imap_window.py), so what the list shows while the
INBOX is partly downloaded is checked without racing the pass: the whole INBOX's length
from the first batch (the UIDL listing), the end key and PgDn showing placeholders or
the right messages, never a message at another's position; the window comes with the
pass's next batch, header only, and its bodies with the pass, never its headers twice.

Killed (SIGKILL, through the harness's tap, as in test_pop3_kill.py) during a first
download whose oldest messages were fetched out of order: nothing lost, nothing twice,
no DELE of a message not committed whole, and the window's messages not fetched twice
(their bodies come once, their headers are not asked again)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mailtui.accounts import specs_for
from mailtui.protocols.pop3 import pull
from mailtui.protocols.pop3.backend import Pop3Backend
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from mailtui.ui.widgets.message_list import MessageList
from tests.integration.pass_gate import Gate, placeholders, until_right_rows, wrong_rows
from tests.integration.pop3_window_run import FIRST_SCREEN, OLDEST
from tests.integration.test_imap_sync import msg
from tests.integration.test_pop3_kill import (
    Pop3Account,
    account,  # noqa: F401 (a fixture)
    assert_completes,
    assert_stored_once,
    message,
)
from tests.integration.test_pop3_sync import account as pop3_account
from tests.servers import MailUser
from tests.servers.pop3_tap import KillAt

N = 1200  # message i is number i and has subject "subject {i:04d}"; the higher, the newer
SCREEN = 30
BATCH = 60


def subject(position: int) -> str:
    """The subject the list must show at ``position`` (0: the newest)."""
    return f"subject {N - position:04d}"


async def test_end_key_and_pgdn_during_a_first_download_show_the_right_rows(
    mail_user: MailUser, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailtui.app import MailApp
    from tests.ui.conftest import screen_text

    monkeypatch.setattr(pull, "FIRST_SCREEN", SCREEN)
    monkeypatch.setattr(pull, "HEADER_BATCH", BATCH)
    gate = Gate()
    gate.install(monkeypatch, Pop3Backend)
    tops: list[int] = []
    original_headers = pull.Pull._headers

    async def headers(self: pull.Pull, heads: list[Any], *args: Any) -> Any:
        tops.extend(t.number for t in heads)
        return await original_headers(self, heads, *args)

    monkeypatch.setattr(pull.Pull, "_headers", headers)
    mail_user.deliver_many(
        [msg(i, f"subject {i:04d}", days_ago=(N - i) / 48) for i in range(1, N + 1)]
    )
    acc = pop3_account(mail_user, poll_interval=300)
    specs = await specs_for(store, [acc])
    manager = SyncManager(store, specs)
    app = MailApp(store, manager)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.screen.query_one(MessageList)
        bar = app.main_screen.status_bar

        until = until_right_rows(app, pilot, messages, subject)

        # The first screen: the newest rows, and the INBOX's whole length.
        await until(lambda: subject(0) in screen_text(app) and messages.total == N)
        assert gate.handed == 1
        # The status bar counts the whole download.
        await until(lambda: bar._progress.get(acc.name, (0, 0))[1] == N)

        await until(lambda: gate.holding)  # the worker past serving windows: it waits

        # The end key while the oldest is not downloaded: placeholders, never a wrong row.
        # (The list asks for its last screen as soon as it knows the INBOX's length, to
        # keep both ends for Home and End: that window may have come with the worker's
        # first turn after the first batch, before the key. Then the oldest is there.)
        await pilot.press("end")
        await until(lambda: messages._window.get(N - 1) is not None)
        assert messages._cursor == N - 1
        last = messages._window.get(N - 1)
        assert last is not None and not wrong_rows(messages, subject)
        if last.pending:
            assert subject(N - 1) not in screen_text(app)

        # One more batch of the pass: the window the list asked for comes with it.
        gate.allow(1)
        await until(lambda: subject(N - 1) in screen_text(app))
        assert gate.handed == 2  # still held: the oldest came on demand
        assert manager.gaps(messages.folder_id or 0) is not None  # the pass is not over
        assert 1 in tops  # message 1, the oldest, by TOP out of the pass's order
        await until(lambda: gate.holding)

        # PgDn from the top, held: placeholders or the right rows, then the rows.
        await pilot.press("home")
        await until(lambda: messages._cursor == 0)
        for _ in range(12):
            await pilot.press("pagedown")
        await until(lambda: messages._window.get(messages._cursor) is not None)
        cursor = messages._cursor
        assert cursor > SCREEN + BATCH  # beyond what the pass has downloaded
        line = messages._window.get(cursor)
        assert line is not None and line.pending
        gate.allow(1)
        await until(lambda: subject(cursor) in screen_text(app))
        assert gate.handed == 3 and not wrong_rows(messages, subject)

        # The rest: no placeholder left, the oldest is the last row, every body in.
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
    # No header twice: the window's messages got their bodies by RETR, not a TOP again.
    assert len(tops) == len(set(tops))
    folder_id = next(f.id for f in await store.folders() if f.name == "INBOX")
    raws = [raw async for _, _, _, raw in store.iter_raw(folder_id)]
    assert len(raws) == N and all(raws)


# ---------------------------------------------------------------------- kills


def first_download_with_a_window(pop: Pop3Account, *, leave_on_server: bool) -> None:
    """``mailtui sync --once`` runs by ``pop3_window_run``: a first download whose
    oldest ``OLDEST`` messages are asked for right after its first batch."""
    pop.configure(leave_on_server=leave_on_server)
    pop.module = "tests.integration.pop3_window_run"


def window_ids(pop: Pop3Account) -> set[str]:
    """The UIDLs of the oldest ``OLDEST`` messages (numbers 1…OLDEST), as the last
    session listed them."""
    return {pop.tap.uidls[n] for n in range(1, OLDEST + 1)}


@pytest.mark.parametrize(
    "kill_at",
    [
        KillAt(verb="TOP", nth=FIRST_SCREEN + 3),  # in the window's TOPs
        KillAt(verb="RETR", nth=5),  # the window committed, the pass in its bodies
        KillAt(verb="RETR", nth=75),  # the window's bodies coming with the pass
        KillAt(verb="DELE", nth=3),
        KillAt(verb="QUIT", after="DELE"),
    ],
    ids=str,
)
def test_killed_during_a_first_download_with_a_window_loses_and_doubles_nothing(
    account: Pop3Account,  # noqa: F811
    kill_at: KillAt,
) -> None:
    rng = random.Random(17)
    raws = [message(i, rng) for i in range(80)]
    account.user.deliver_many(raws)
    first_download_with_a_window(account, leave_on_server=False)
    status, err = account.sync(kill_at)
    assert account.tap.killed is not None, f"{kill_at} never reached"
    assert status == -9, err
    topped = list(account.tap.topped)
    window = window_ids(account)
    # The window's TOPs come right after the first screen's: the oldest, out of order.
    asked = [int(c.split()[1]) for c in account.tap.commands if c.startswith("TOP ")]
    assert asked[:FIRST_SCREEN] == list(range(80, 80 - FIRST_SCREEN, -1))
    assert asked[FIRST_SCREEN:] and set(asked[FIRST_SCREEN:]) <= set(range(1, OLDEST + 1))
    stored, server = account.stored(), account.on_server()
    assert len(stored) == len(set(stored)), "the store holds a message twice"
    assert set(stored) | set(server) == set(raws), "lost or foreign messages"
    for uidl in account.tap.deleted:  # deleted on the server only once committed whole
        assert account.contents[uidl] in stored, f"DELE of {uidl} before its commit"
    # Killed after the window's TOPs (at a RETR, a DELE or QUIT): it was committed, with
    # its ledger rows, before the pass went on.
    window_committed = kill_at.verb != "TOP"
    if window_committed:
        assert set(topped[FIRST_SCREEN:]) == window

    assert_completes(account)
    if window_committed:  # the resumed run asks their bodies, never their headers again
        assert not set(account.tap.topped) & window, "the window's headers asked again"
    assert account.on_server() == [], "the completed run left messages on the server"
    assert_stored_once(account, raws)


def test_a_window_leaving_mail_on_the_server_downloads_nothing_twice(
    account: Pop3Account,  # noqa: F811
) -> None:
    rng = random.Random(18)
    raws = [message(i, rng) for i in range(80)]
    account.user.deliver_many(raws)
    first_download_with_a_window(account, leave_on_server=True)
    status, err = account.sync(KillAt(verb="RETR", nth=70))  # in the last batch
    assert account.tap.killed is not None and status == -9, err
    window = window_ids(account)
    assert set(account.tap.topped) >= window
    before = set(account.stored())
    assert before, "nothing committed whole before the kill: the test would check nothing"
    assert_completes(account)
    assert not set(account.tap.topped) & window, "the window's headers asked again"
    again = [r for r in account.tap.retrieved if r.message in before]
    assert not again, f"{len(again)} messages stored before the kill were downloaded again"
    assert account.tap.deleted == []
    assert_stored_once(account, raws)
    assert sorted(account.on_server()) == sorted(raws)
