"""The outbox: what has not gone out yet, why, and what the user can do about it.

    queued     waits for the account's sender (offline, or about to go)
    sending    on the wire right now
    failed     refused; the server's reason is shown. r retries, e edits, x discards
    uncertain  the connection broke after the message was handed over: it may have been
               delivered. r sends it again, m marks it sent (files it), x discards
    sent       accepted; waiting to be filed in Sent

Every action is a compare-and-set in the store (``mailtui.sync.outbox``), so nothing here
can race the sender into sending a message twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from mailtui.compose import read_original
from mailtui.mime import clean_line
from mailtui.models import OutboxItem, OutboxState
from mailtui.sync import outbox
from mailtui.ui import keymap
from mailtui.ui.modals.confirm import ConfirmScreen
from mailtui.ui.services import MailStore

STATE_STYLE = {
    OutboxState.QUEUED: ("queued", "bold"),
    OutboxState.SENDING: ("sending", "bold $accent"),
    OutboxState.FAILED: ("failed", "bold red"),
    OutboxState.UNCERTAIN: ("uncertain", "bold yellow"),
    OutboxState.SENT: ("sent", "green"),
}


def item_label(item: OutboxItem) -> Text:
    state, style = STATE_STYLE.get(item.state, (item.state.value, ""))
    subject = read_original(item.raw).subject or "(no subject)"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{state:<10}", style=style.replace("$accent", "cyan"))
    text.append(clean_line(subject), style="bold")
    text.append("  to " + clean_line(", ".join(item.recipients)), style="dim")
    if item.last_error:
        text.append("\n          " + clean_line(item.last_error), style="italic")
    return text


class OutboxScreen(ModalScreen[None]):
    """Lists an account's outbox items (all accounts' when ``account_ids`` has several)."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("outbox"))
    DEFAULT_CSS = """
    OutboxScreen { align: center middle; }
    OutboxScreen > Vertical { width: 95%; max-width: 110; height: auto; max-height: 85%;
                              border: round $accent; background: $surface; }
    OutboxScreen OptionList { height: auto; max-height: 24; border: none; }
    """

    def __init__(
        self,
        store: MailStore,
        account_ids: list[int],
        *,
        kick: Callable[[int], None],
        edit: Callable[[OutboxItem], None],
    ) -> None:
        super().__init__()
        self.store = store
        self.account_ids = account_ids
        self.kick = kick
        self.edit = edit
        self.items: list[OutboxItem] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(" Outbox: r retry · e edit · x discard · m mark as sent · Esc close")
            yield OptionList(id="outbox")

    async def on_mount(self) -> None:
        await self.reload()
        self.query_one(OptionList).focus()

    async def reload(self) -> None:
        items: list[OutboxItem] = []
        for account_id in self.account_ids:
            items += await self.store.outbox(account_id)
        self.items = items
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        if not items:
            options.add_option(Option(Text("The outbox is empty.", style="dim"), disabled=True))
            return
        options.add_options(Option(item_label(i)) for i in items)
        options.highlighted = min(highlighted or 0, len(items) - 1)

    def _current(self) -> OutboxItem | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not self.items or index >= len(self.items):
            return None
        return self.items[index]

    async def _act(self, action: str) -> None:
        item = self._current()
        if item is None:
            return
        try:
            if action == "retry":
                await outbox.retry(self.store, item.id)
                self.kick(item.account_id)
                self.app.notify("It will be sent again")
            elif action == "discard":
                await outbox.discard(self.store, item.id)
                self.app.notify("Discarded")
            elif action == "mark_sent":
                await outbox.mark_sent(self.store, item.id)
                self.kick(item.account_id)
                self.app.notify("Marked as sent")
            elif action == "edit":
                taken = await outbox.take_for_edit(self.store, item.id)
                self.dismiss(None)
                self.edit(taken)
                return
        except outbox.OutboxError as exc:
            self.app.notify(str(exc), severity="warning")
        await self.reload()

    async def action_retry(self) -> None:
        await self._act("retry")

    async def action_edit(self) -> None:
        await self._act("edit")

    async def action_mark_sent(self) -> None:
        await self._act("mark_sent")

    def action_discard(self) -> None:
        item = self._current()
        if item is None:
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._act("discard")

        subject = read_original(item.raw).subject or "(no subject)"
        self.app.push_screen(
            ConfirmScreen(f"Discard “{clean_line(subject)}”? It will not be sent."), answered
        )

    def action_close(self) -> None:
        self.dismiss(None)
