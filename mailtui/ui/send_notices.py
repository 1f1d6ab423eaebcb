"""What the outbox sender says, shown at once: in the status bar (sent, where the copy
went; not sent and why), and, for an account without a Sent folder, the question
whether to create one.

The sender emits ``SENT`` / ``SEND_FAILED`` / ``SEND_DEFERRED`` / ``NO_SENT_FOLDER``
events (``mailtui.sync.outbox``); the main screen hands them here. A failure that
retrying will not fix also pops a notice with the whole reason, since the status bar
may have to cut it at 80 columns; the outbox (``O``) has every detail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen

from mailtui.errors import ConfigError, SyncError
from mailtui.mime import clean_line
from mailtui.sync.contract import EventKind, SyncEvent
from mailtui.ui import keymap
from mailtui.ui.modals.confirm import ConfirmScreen
from mailtui.ui.services import MailStore, SyncControl
from mailtui.ui.widgets.status_bar import StatusBar

#: The name a created Sent folder gets (what most servers and clients call it).
SENT_NAME = "Sent"

_KINDS = frozenset(
    {EventKind.SENT, EventKind.SEND_FAILED, EventKind.SEND_DEFERRED, EventKind.NO_SENT_FOLDER}
)


class SendNotices:
    def __init__(
        self,
        screen: Screen[Any],
        bar: Callable[[], StatusBar],
        store: MailStore,
        manager: SyncControl | None,
    ) -> None:
        self._screen = screen
        self._status_bar = bar
        self._store = store
        self._manager = manager
        self._asking: set[str] = set()  # accounts whose question is on screen

    @property
    def _bar(self) -> StatusBar:
        return self._status_bar()

    def _outbox_key(self) -> str:
        overrides: dict[str, str] = getattr(self._screen.app, "keymap_overrides", {})
        keys = keymap.effective_keys("write.outbox", overrides)
        return keymap.key_label(keys[0]) if keys else "O"

    def handle(self, event: SyncEvent) -> bool:
        """Shows ``event`` if it is about sending; returns whether it was."""
        if event.kind not in _KINDS:
            return False
        said = clean_line(event.text)  # the sender's words; they may quote a server
        if event.kind == EventKind.SENT:
            self._bar.set_notice(said or "Sent")
        elif event.kind == EventKind.SEND_FAILED:
            notice = f"{said} · {self._outbox_key()}: outbox"
            self._bar.set_notice(notice)
            self._screen.notify(notice, severity="error", timeout=15)
        elif event.kind == EventKind.SEND_DEFERRED:
            self._bar.set_notice(said)
        else:
            self._screen.run_worker(self._ask(event.account), group="sent-folder")
        return True

    async def _account_id(self, name: str) -> int | None:
        for account in await self._store.accounts():
            if account.name == name:
                return account.id
        return None

    async def _ask(self, account: str) -> None:
        """Asks once whether to create a Sent folder; the answer is kept in the store."""
        account_id = await self._account_id(account)
        if account_id is None or account in self._asking:
            return
        if await self._store.sent_copies(account_id) != "":
            return  # answered already (by another instance, or just now)
        self._asking.add(account)
        question = (
            f"{account} has no Sent folder, so no copy of what you send is kept.\n\n"
            f'Create a folder "{SENT_NAME}" on the server and keep copies there? '
            "(No: send without keeping copies; mailtui does not ask again.)"
        )

        async def answered(yes: bool | None) -> None:
            self._asking.discard(account)
            if yes:
                await self._create(account_id)
            else:
                await self._store.set_sent_copies(account_id, "none")
                self._bar.set_notice("Sent · no copy kept (no Sent folder)")
                if self._manager is not None:
                    self._manager.kick(account_id)  # the waiting copies are let go

        self._screen.app.push_screen(ConfirmScreen(question), answered)

    async def _create(self, account_id: int) -> None:
        manager = self._manager
        if manager is None:
            return
        try:
            name = await manager.change_folder(account_id, "create", SENT_NAME)
        except (SyncError, ConfigError) as exc:
            self._screen.notify(
                f"Could not create the Sent folder: {exc}; the copy waits in the outbox "
                f"({self._outbox_key()}) and mailtui asks again after the next send",
                severity="error",
                timeout=15,
            )
            return
        await self._store.set_sent_copies(account_id, "create")
        self._bar.set_notice(f"Sent folder created · copies go to {clean_line(name)}")
        manager.kick(account_id)  # the copies that waited are filed now
