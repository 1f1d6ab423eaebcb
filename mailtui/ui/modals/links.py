"""The links of a message (``l`` in the reader): pick one and copy it.

Copying goes through Textual's ``App.copy_to_clipboard`` (OSC 52, which reaches the local
clipboard over SSH) and happens only on the user's key, never by itself. The target is
shown in full so the user sees where a link really goes, whatever its text says; a link
whose text shows another host than its target's is flagged (``mime.links.misleading``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mailtui.mime import Link, clean_line
from mailtui.mime.links import misleading
from mailtui.ui import bidi, keymap


def link_prompt(number: int, link: Link) -> Text:
    """``[3] Read more`` over the target, one option of the list."""
    prompt = Text(no_wrap=True, end="")
    prompt.append(f"[{number}] ", style="bold")
    label = clean_line(link.text).strip()
    if label and label != link.href:
        prompt.append(bidi.fit(label, 200))
        prompt.append("\n    ")
    prompt.append(clean_line(link.href), style="underline")
    deceit = misleading(link)
    if deceit is not None:
        prompt.append(f"\n    ⚠ {deceit}", style="bold red")
    return prompt


class LinksScreen(ModalScreen[None]):
    """Every link of the message, numbered as in the body."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("links"))

    DEFAULT_CSS = """
    LinksScreen {
        align: center middle;
        & > #links-box {
            width: 90%;
            max-width: 110;
            height: auto;
            max-height: 90%;
            border: round $accent;
            background: $panel;
            & > OptionList { height: auto; max-height: 100%; border: none; }
            & > #links-empty { padding: 1 2; }
        }
    }
    """

    def __init__(self, links: Sequence[Link]) -> None:
        super().__init__()
        self.links = list(links)

    def compose(self) -> ComposeResult:
        box = Vertical(id="links-box")
        box.border_title = f"Links ({len(self.links)})"
        box.border_subtitle = "y: copy · Esc: close"
        with box:
            if self.links:
                yield OptionList(
                    *(Option(link_prompt(n, link)) for n, link in enumerate(self.links, 1)),
                    id="links-list",
                )
            else:
                yield Static("This message has no links.", id="links-empty")

    def on_mount(self) -> None:
        if self.links:
            self.query_one(OptionList).focus()

    @property
    def highlighted(self) -> Link | None:
        if not self.links:
            return None
        index = self.query_one(OptionList).highlighted
        return self.links[index] if index is not None else None

    def action_copy(self) -> None:
        link = self.highlighted
        if link is None:
            return
        self.app.copy_to_clipboard(clean_line(link.href))
        self.notify(f"Copied {clean_line(link.href)}", title="Link", timeout=3)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_copy()

    def action_cursor_down(self) -> None:
        if self.links:
            self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.links:
            self.query_one(OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
