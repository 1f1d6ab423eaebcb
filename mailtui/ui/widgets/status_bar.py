"""The status line above the footer: where you are, and what each account is doing.

    Inbox · 3 unread of 1,204   2 new   demo: syncing ▕███░░░░░▏ 400/3,000 · work: offline

The screen sets ``location`` and calls ``set_account``/``set_notice``; the bar only draws.
``note_event`` counts new mail: messages added to an account after its first sync of the
session went through (the first download of a mailbox is not "new mail"); the app rings
the bell or shows a notice from that count, as ``[ui] bell`` / ``notify`` say.
Account texts come from the sync manager in plain words and are sanitized like mail,
since they may quote a server's reply.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from mailtui.mime.sanitize import clean_line
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent

_TROUBLE = {AccountStatus.OFFLINE, AccountStatus.AUTH_FAILED, AccountStatus.ERROR}
_BUSY = {AccountStatus.STARTING, AccountStatus.CONNECTING, AccountStatus.SYNCING}
BAR_CELLS = 8


def progress_bar(done: int, total: int, cells: int = BAR_CELLS) -> str:
    """``▕███░░░░░▏``: how far ``done`` is of ``total``, in ``cells`` cells."""
    filled = 0 if total <= 0 else min(cells, done * cells // total)
    return "▕" + "█" * filled + "░" * (cells - filled) + "▏"


class StatusBar(Widget):
    """One line: the open folder on the left, account states on the right."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--trouble",
        "status-bar--busy",
        "status-bar--notice",
    }

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        & > .status-bar--trouble {
            color: $error;
            text-style: bold;
        }
        & > .status-bar--busy {
            color: $warning;
        }
        & > .status-bar--notice {
            color: $accent;
        }
    }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._location = ""
        self._notice = ""
        self._accounts: dict[str, tuple[AccountStatus, str]] = {}
        self._progress: dict[str, tuple[int, int]] = {}
        self._settled: set[str] = set()  # accounts whose first sync is done
        self.new_mail = 0

    def note_event(self, event: SyncEvent) -> int:
        """Count new mail from a sync event; returns how many messages it brought."""
        if event.kind == EventKind.STATUS and event.status == AccountStatus.ONLINE:
            self._settled.add(event.account)
        new = event.kind == EventKind.MESSAGES and event.added > 0
        if new and event.account in self._settled:
            self.new_mail += event.added
            self.refresh()
            return event.added
        return 0

    def clear_new_mail(self) -> None:
        self.new_mail = 0
        self.refresh()

    @property
    def text(self) -> str:
        """What the bar says, as plain text (for tests and screen readers)."""
        return self.render().plain

    def set_location(self, location: str) -> None:
        if location != self._location:  # a redraw is ~0.3 ms, on the key path
            self._location = location
            self.refresh()

    def set_notice(self, notice: str) -> None:
        """A short transient message ("Loading…"); empty to clear it."""
        if notice != self._notice:
            self._notice = notice
            self.refresh()

    def set_account(self, account: str, status: AccountStatus, text: str = "") -> None:
        self._accounts[account] = (status, text)
        if status != AccountStatus.SYNCING:
            self._progress.pop(account, None)
        self.refresh()

    def set_progress(self, account: str, done: int, total: int) -> None:
        """How far a folder's sync is, shown while the account is syncing."""
        if 0 <= done < total:
            self._progress[account] = (done, total)
        else:
            self._progress.pop(account, None)
        self.refresh()

    def set_accounts(self, statuses: dict[str, tuple[AccountStatus, str]]) -> None:
        self._accounts = dict(statuses)
        self.refresh()

    def _status_style(self, status: AccountStatus) -> Style:
        if status in _TROUBLE:
            return self.get_component_rich_style("status-bar--trouble", partial=True)
        if status in _BUSY:
            return self.get_component_rich_style("status-bar--busy", partial=True)
        return Style()

    def render(self) -> Text:
        width = max(1, self.size.width)
        right = Text(end="")
        # Accounts in trouble first: at 80 columns the end of the line may be cut.
        ordered = sorted(self._accounts.items(), key=lambda i: (i[1][0] not in _TROUBLE, i[0]))
        for account, (status, text) in ordered:
            if right:
                right.append(" · ")
            words = clean_line(text) or status.value.replace("_", " ")
            right.append(f"{clean_line(account)}: ")
            right.append(words, style=self._status_style(status))
            if account in self._progress:
                done, total = self._progress[account]
                right.append(" " + progress_bar(done, total))
                right.append(f" {done:,}/{total:,}")
        right.append(" ")
        left = Text(" " + self._location, end="")
        if self._notice:
            left.append("  ")
            left.append(
                self._notice,
                style=self.get_component_rich_style("status-bar--notice", partial=True),
            )
        if self.new_mail:
            new = f"{self.new_mail:,} new  "
            right = Text.assemble(
                (new, self.get_component_rich_style("status-bar--notice", partial=True)), right
            )
        if right.cell_len > width // 2 + 10:
            right.truncate(width // 2 + 10, overflow="ellipsis")
        room = max(0, width - right.cell_len)
        left.truncate(room, overflow="ellipsis", pad=True)
        return Text.assemble(left, right, no_wrap=True, end="")
