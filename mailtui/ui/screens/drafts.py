"""The list of drafts kept on this machine: Enter resumes one, d deletes it."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from mailtui.compose import format_address
from mailtui.compose.drafts import SavedDraft
from mailtui.mime import clean_line
from mailtui.ui import keymap


def draft_label(saved: SavedDraft) -> Text:
    d = saved.draft
    to = ", ".join(format_address(a) for a in d.to) or "(no recipient)"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(saved.saved))
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(when + "  ", style="dim")
    label.append(clean_line(d.subject) or "(no subject)", style="bold")
    label.append("  to " + clean_line(to), style="dim")
    return label


class DraftsScreen(ModalScreen[SavedDraft | None]):
    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("drafts"))
    DEFAULT_CSS = """
    DraftsScreen { align: center middle; }
    DraftsScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 80%;
                              border: round $accent; background: $surface; }
    DraftsScreen OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, drafts: list[SavedDraft]) -> None:
        super().__init__()
        self.drafts = list(drafts)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(" Drafts on this machine (Enter resumes, d deletes, Esc closes)")
            yield OptionList(*(Option(draft_label(d)) for d in self.drafts), id="drafts")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.drafts[event.option_index])

    def action_delete(self) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is None or not self.drafts:
            return
        saved = self.drafts.pop(index)
        try:
            saved.path.unlink(missing_ok=True)
        except OSError as exc:
            self.app.notify(f"Could not delete the draft: {exc.strerror}", severity="error")
            self.drafts.insert(index, saved)
            return
        options.remove_option_at_index(index)
        self.app.notify("Draft deleted")
        if not self.drafts:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
