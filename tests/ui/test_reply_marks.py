"""A reply (r) or forward (f) remembers its original, and the list marks the original
replied ("r") or forwarded ("f") once the message went out, not when it was queued."""

from __future__ import annotations

import pytest

from mailtui.models import Flag, Origin
from mailtui.sync import outbox
from mailtui.sync.contract import EventKind, Submission, SyncEvent
from mailtui.ui.screens.compose import ComposeScreen

from .conftest import FakeManager, MailFixture, make_app, screen_lines, screen_text
from .test_send_notices import _Accepting, settle


async def _accepting() -> Submission:
    return _Accepting()


def _row(app: object, subject: str) -> str:
    return next((line for line in screen_lines(app) if subject in line), "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "flag", "mark"), [("r", Flag.ANSWERED, "r"), ("f", Flag.FORWARDED, "f")]
)
async def test_answer_marks_the_original_once_sent(
    mail: MailFixture, monkeypatch: pytest.MonkeyPatch, key: str, flag: Flag, mark: str
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    [first] = await mail.store.window(mail.inbox, 0, 1)
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "Message 000000" in screen_text(app))
        await pilot.press("enter")  # read it: the list's marker column is free of "N"
        await pilot.press("escape")
        await settle(pilot, lambda: _row(app, "Message 000000").startswith(" "))
        await pilot.press(key)
        await settle(pilot, lambda: isinstance(app.screen, ComposeScreen))
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        if key == "f":
            await pilot.click("#to")
            await pilot.press(*"bob@example.org")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: not isinstance(app.screen, ComposeScreen))
        [item] = await mail.store.outbox(mail.account_id)
        assert item.origin == Origin(first.id, "<m0@example.test>", flag)
        assert not _row(app, "Message 000000").startswith(mark)  # queued is not sent
        [account] = await mail.store.accounts()
        sender = outbox.OutboxSender(
            mail.store,
            account,
            _accepting,
            emit=manager.emit,
            options=outbox.SenderOptions(lock_timeout=5),
        )
        await sender.flush()
        manager.emit(SyncEvent("home", EventKind.MESSAGES, folder_id=mail.inbox))
        await settle(pilot, lambda: _row(app, "Message 000000").startswith(mark))
    detail = await mail.store.message(first.id)
    assert detail is not None and detail.row.flags & flag
