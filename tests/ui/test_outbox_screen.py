"""The outbox in the UI: failed and uncertain messages are shown with the reason, and can
be retried, edited, discarded or marked as sent; quitting with unsent mail asks first."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from mailtui.compose import Draft, Identity, build_message, parse_addresses
from mailtui.models import OutboxState
from mailtui.ui.modals.confirm import ConfirmScreen
from mailtui.ui.screens.compose import ComposeScreen
from mailtui.ui.screens.outbox import OutboxScreen

from .conftest import FakeManager, MailFixture, make_app, screen_text


def composing(app: App[None]) -> bool:
    """The compose screen is up and mounted (its widgets can be queried)."""
    return isinstance(app.screen, ComposeScreen) and bool(app.screen.query("#body"))


async def settle(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout  # wall-clock: the suite runs on two busy cores
    while not condition():
        assert time.monotonic() < deadline, "the screen did not settle:\n" + screen_text(
            pilot.app
        )
        await pilot.pause(0.05)
    await pilot.pause()  # and the screen is laid out for what came (a modal's widgets)


async def queue(mail: MailFixture, subject: str, state: OutboxState, error: str = "") -> int:
    draft = Draft(
        from_=Identity("me@example.test"),
        to=parse_addresses("Bob <bob@example.org>"),
        bcc=parse_addresses("hidden@example.org"),
        subject=subject,
        body="text\n",
    )
    m = build_message(draft)
    item_id = await mail.store.outbox_add(mail.account_id, m.raw, m.mail_from, m.recipients)
    if state is not OutboxState.QUEUED:
        await mail.store.outbox_transition(item_id, [OutboxState.QUEUED], state, error)
    return item_id


async def states(mail: MailFixture) -> dict[int, OutboxState]:
    return {i.id: i.state for i in await mail.store.outbox(mail.account_id)}


async def stored(
    pilot: Pilot[None], mail: MailFixture, check: Callable[[dict[int, OutboxState]], bool]
) -> None:
    """Wait until the outbox in the store passes ``check``: a key's action writes it in a
    worker, through the store's writer thread (20 s: the suite runs on two busy cores)."""
    deadline = time.monotonic() + 20.0
    while not check(found := await states(mail)):
        assert time.monotonic() < deadline, found
        await pilot.pause(0.05)


async def test_retry_discard_and_mark_sent(mail: MailFixture) -> None:
    failed = await queue(mail, "Refused one", OutboxState.FAILED, "550 5.1.1 no such user")
    uncertain = await queue(mail, "Maybe delivered", OutboxState.UNCERTAIN, "connection lost")
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("O")
        await settle(pilot, lambda: isinstance(app.screen, OutboxScreen))
        await settle(pilot, lambda: "Refused one" in screen_text(app))
        text = screen_text(app)
        assert "failed" in text and "550 5.1.1 no such user" in text
        assert "uncertain" in text and "Maybe delivered" in text
        await pilot.press("r")  # the first row: the refused one
        await settle(pilot, lambda: "queued" in screen_text(app))
        assert manager.kicked == [mail.account_id]
        await pilot.press("down", "m")  # the uncertain one did go out: file it
        await stored(pilot, mail, lambda found: found[uncertain] is OutboxState.SENT)
        await pilot.press("up", "x")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, OutboxScreen))  # answered
        assert failed in await states(mail)
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await stored(pilot, mail, lambda found: failed not in found)


async def test_edit_replaces_the_item_and_keeps_bcc(
    mail: MailFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    old = await queue(mail, "Typo in subjcet", OutboxState.FAILED, "550 bad recipient")
    app = make_app(mail.store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("O")
        await settle(pilot, lambda: "Typo in subjcet" in screen_text(app))
        await pilot.press("e")
        await settle(pilot, lambda: composing(app))
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        assert screen.query_one("#bcc", Input).value == "hidden@example.org"
        screen.query_one("#subject", Input).value = "Typo in subject"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
    items = await mail.store.outbox(mail.account_id)
    assert [i.id for i in items] != [old] and len(items) == 1
    (item,) = items
    assert item.state is OutboxState.QUEUED
    assert b"Subject: Typo in subject" in item.raw
    assert set(item.recipients) == {"bob@example.org", "hidden@example.org"}


async def test_quit_with_unsent_mail_asks_first(mail: MailFixture) -> None:
    await queue(mail, "Not yet", OutboxState.QUEUED)
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot, lambda: "1 message has not been sent yet" in screen_text(app))
        await pilot.press("n")
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.is_running
        await pilot.press("q")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: not app.is_running)
    assert len(await mail.store.outbox(mail.account_id)) == 1  # kept for next time


async def test_quit_without_unsent_mail_does_not_ask(mail: MailFixture) -> None:
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await settle(pilot, lambda: not app.is_running)
