"""How a send went shows in the status bar at once (80×24): sent and where the copy
is, not sent and why (retrying will not help: ``O`` has the outbox), or a retry to
come; and an account without a Sent folder asks once whether to create one."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from textual.app import App
from textual.pilot import Pilot

from mailtui.compose import Draft, Identity, build_message, parse_addresses
from mailtui.models import FolderRole, OutboxState, RemoteFolder
from mailtui.protocols.smtp import SmtpAuthError, SmtpTransientError
from mailtui.sync import outbox
from mailtui.sync.contract import EventKind, Submission, SyncEvent
from mailtui.ui.modals.confirm import ConfirmScreen

from .conftest import FOLDERS, FakeManager, MailFixture, make_app, screen_lines, screen_text

SIZE = (80, 24)


def status(app: App[None]) -> str:
    return screen_lines(app)[-2]


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


async def _queue(mail: MailFixture) -> int:
    draft = Draft(
        from_=Identity("me@example.test"), to=parse_addresses("bob@example.org"), subject="Hi"
    )
    m = build_message(draft)
    return await outbox.queue(mail.store, mail.account_id, m)


def _failing(error: Exception) -> Callable[[], object]:
    async def open_submission() -> Submission:
        raise error

    return open_submission


class _Accepting:
    """A submission that takes every message: the UI is under test here, the SMTP
    path has its own tests against the real server."""

    async def submit(
        self, mail_from: str, recipients: Sequence[str], raw: bytes, **kw: object
    ) -> str:
        before = kw.get("before_data")
        if callable(before):
            await before()
        return "250 2.0.0 queued"

    async def close(self) -> None:
        return None


async def _sender(
    mail: MailFixture, manager: FakeManager, submission: object
) -> outbox.OutboxSender:
    [account] = await mail.store.accounts()
    return outbox.OutboxSender(
        mail.store,
        account,
        submission,  # type: ignore[arg-type]
        emit=manager.emit,
        options=outbox.SenderOptions(lock_timeout=5),
    )


async def test_a_permanent_failure_shows_in_the_status_bar_at_once(mail: MailFixture) -> None:
    item = await _queue(mail)
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot, lambda: "Alice Archer" in screen_text(app))
        refused = SmtpAuthError("smtp.example.org refused the login for 'me': 535 bad password")
        sender = await _sender(mail, manager, _failing(refused))
        await sender.flush()
        await settle(pilot, lambda: "Not sent: smtp.example.org" in status(app))
        # Not inside the outbox screen only: the whole reason shows in a notice too.
        await settle(pilot, lambda: "535 bad password" in screen_text(app))
    [it] = await mail.store.outbox(mail.account_id)
    assert (it.id, it.state) == (item, OutboxState.QUEUED)


async def test_a_transient_failure_says_it_will_retry(mail: MailFixture) -> None:
    await _queue(mail)
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: "Alice Archer" in screen_text(app))
        down = SmtpTransientError("smtp.example.org:587 refused the connection")
        await (await _sender(mail, manager, _failing(down))).flush()
        await settle(pilot, lambda: "Not sent yet, will retry" in status(app))
        assert "Not sent:" not in status(app)


async def test_sent_says_where_the_copy_went(mail: MailFixture) -> None:
    await _queue(mail)
    manager = FakeManager()
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: "Alice Archer" in screen_text(app))

        async def accepting() -> Submission:
            return _Accepting()

        await (await _sender(mail, manager, accepting)).flush()
        await settle(pilot, lambda: "Sent · copy in Sent" in status(app))


class _CreatingManager(FakeManager):
    """Creates folders as the worker would: the server's answer, then the new list."""

    def __init__(self, mail: MailFixture) -> None:
        super().__init__()
        self.mail = mail
        self.created: list[str] = []

    async def change_folder(
        self, account_id: int, kind: str, name: str, new_path: str | None = None
    ) -> str:
        assert kind == "create"
        self.created.append(name)
        await self.mail.store.sync_folders(account_id, [*_NO_SENT, RemoteFolder(name, name)])
        return name


_NO_SENT = [f for f in FOLDERS if f.role is not FolderRole.SENT]


async def test_no_sent_folder_asks_once_and_creates_it(mail: MailFixture) -> None:
    await mail.store.sync_folders(mail.account_id, _NO_SENT)
    manager = _CreatingManager(mail)
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: "Alice Archer" in screen_text(app))
        manager.emit(SyncEvent("home", EventKind.NO_SENT_FOLDER))
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot, lambda: "home has no Sent folder" in screen_text(app))
        await pilot.press("y")
        await settle(pilot, lambda: "copies go to Sent" in status(app))
        assert manager.created == ["Sent"]
        assert manager.kicked == [mail.account_id]  # the waiting copy is filed now
        assert await mail.store.sent_copies(mail.account_id) == "create"
        assert await outbox.sent_folder(mail.store, mail.account_id) is not None


async def test_no_sent_folder_declined_is_told_and_not_asked_again(mail: MailFixture) -> None:
    await mail.store.sync_folders(mail.account_id, _NO_SENT)
    manager = _CreatingManager(mail)
    app = make_app(mail.store, manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: "Alice Archer" in screen_text(app))
        manager.emit(SyncEvent("home", EventKind.NO_SENT_FOLDER))
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await settle(pilot, lambda: "no copy kept (no Sent folder)" in status(app))
        assert manager.created == []
        assert await mail.store.sent_copies(mail.account_id) == "none"
        manager.emit(SyncEvent("home", EventKind.NO_SENT_FOLDER))
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)  # asked once
