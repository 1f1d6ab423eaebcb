"""The keys at 80x24 with the real worker and Dovecot: `u` after the server applied a flag
and a delete to Trash puts the server back; a delete for good that the user declines
expunges nothing on the server."""

from __future__ import annotations

import imaplib
from collections.abc import Callable

from mailtui.accounts import specs_for
from mailtui.app import MailApp
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from mailtui.ui.modals import FolderPicker
from mailtui.ui.modals.choice import ChoiceScreen
from tests.integration.test_imap_sync import account, msg, server_subjects
from tests.servers import MailUser
from tests.ui.conftest import screen_text, typing_goes_to


def on_server(user: MailUser, folder: str) -> dict[str, str]:
    """Subject -> FETCH line (with FLAGS) in ``folder``, by a second IMAP client."""
    client = imaplib.IMAP4_SSL(user.host, user.imaps_port, ssl_context=user.ssl_context())
    try:
        client.login(user.name, user.password)
        return server_subjects(client, folder)
    finally:
        client.logout()


async def test_undo_and_declined_delete_through_the_keys(
    mail_user: MailUser, store: Store
) -> None:
    mail_user.deliver(msg(1, "keep me"))
    mail_user.deliver(msg(2, "old rubbish"), folder="Trash")
    specs = await specs_for(store, [account(mail_user, "tls")])
    manager = SyncManager(store, specs)
    app = MailApp(store, manager)
    app.animation_level = "none"

    async with app.run_test(size=(80, 24)) as pilot:

        async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
            waited = 0.0
            while not condition():
                notes = [n.message for n in app._notifications]
                assert waited < timeout, f"{notes}\n{screen_text(app)}"
                await pilot.pause(0.05)
                waited += 0.05

        def status() -> str:
            return screen_text(app).splitlines()[-2]

        await until(lambda: "in step" in screen_text(app) and "keep me" in screen_text(app))

        # F, the server applies it, u: the flag goes on the server too.
        await pilot.press("F")
        await until(lambda: "\\Flagged" in on_server(mail_user, "INBOX").get("keep me", ""))
        await pilot.press("u")
        await until(lambda: "Undone: Flagged 1 message" in status())
        await until(lambda: "\\Flagged" not in on_server(mail_user, "INBOX")["keep me"])

        # d to Trash, applied, u: back in INBOX on the server.
        await pilot.press("d")
        await until(lambda: "keep me" in on_server(mail_user, "Trash"))
        await pilot.press("u")
        await until(lambda: "Undone: Moved 1 message to Trash" in status())
        # Dovecot's MOVE adds to INBOX before it expunges from Trash: another client can
        # see both for a moment. Wait for the whole move.
        await until(
            lambda: "keep me" in on_server(mail_user, "INBOX")
            and "keep me" not in on_server(mail_user, "Trash")
        )

        # In Trash, d asks; n keeps the message on the server.
        await pilot.press("c")
        await until(lambda: typing_goes_to(app, FolderPicker))
        await pilot.press(*"Trash", "enter")
        await until(lambda: "old rubbish" in screen_text(app))
        await pilot.press("d")
        await until(lambda: isinstance(app.screen, ChoiceScreen))
        await until(lambda: "already in Trash" in screen_text(app))  # the question painted
        await pilot.press("n")
        await until(lambda: "Nothing deleted" in status())
        account_id = (await store.accounts())[0].id
        assert await store.pending_ops(account_id, 10) == []
        manager.kick(account_id)  # a round of the worker: nothing to send
        await until(lambda: "in step" in screen_text(app))
        assert "old rubbish" in on_server(mail_user, "Trash")
        assert "old rubbish" in screen_text(app)
    await manager.stop()
