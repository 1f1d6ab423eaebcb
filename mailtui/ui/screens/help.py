"""The ``?`` screen: every key in use, grouped by where it works.

Built from ``mailtui.ui.keymap.KEYS`` with the user's keymap applied, so it lists what is
actually bound, not what the defaults were; each row ends with the binding id to use in
``[ui.keys]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailtui.ui import keymap


def help_table(overrides: Mapping[str, str]) -> Group:
    """Key | what it does | binding id, under a heading per context.

    One grid per context, all with the key column as wide as the widest keys: a long
    heading then never pushes the descriptions to the right.
    """
    sections: list[tuple[str, list[tuple[str, str, str]]]] = []
    for context, title in keymap.CONTEXT_TITLES.items():
        rows = [
            (
                ", ".join(
                    keymap.key_label(key) for key in keymap.effective_keys(spec.id, overrides)
                ),
                spec.description,
                spec.id,
            )
            for spec in keymap.KEYS
            if spec.context == context
        ]
        if rows:
            sections.append((title, rows))
    width = max((len(keys) for _, rows in sections for keys, _, _ in rows), default=1)
    id_width = max(len(spec.id) for spec in keymap.KEYS)
    parts: list[Text | Table] = []
    for title, rows in sections:
        if parts:
            parts.append(Text(""))
        parts.append(Text(title, style="bold underline"))
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(no_wrap=True, width=width)
        table.add_column(ratio=1)
        table.add_column(no_wrap=True, width=id_width)
        for keys, description, binding_id in rows:
            table.add_row(
                Text(keys, style="bold"), Text(description), Text(binding_id, style="dim")
            )
        parts.append(table)
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys over the main screen."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("help"))

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > #help-box {
            width: 84;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: round $accent;
            border-title-align: center;
            background: $panel;
            padding: 0 1;
            scrollbar-size-vertical: 1;
        }
    }
    """

    def __init__(self, overrides: Mapping[str, str]) -> None:
        super().__init__()
        self._overrides = dict(overrides)

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="help-box")
        box.border_title = "Keys"
        close = ", ".join(
            keymap.key_label(key) for key in keymap.effective_keys("help.close", self._overrides)
        )
        box.border_subtitle = f"{close}: close"
        with box:
            yield Static(help_table(self._overrides), id="help-table")

    def on_mount(self) -> None:
        self.query_one("#help-box", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll_lines(self, lines: int) -> None:
        box = self.query_one("#help-box", VerticalScroll)
        box.scroll_relative(y=lines, animate=False)

    def action_scroll_pages(self, pages: int) -> None:
        box = self.query_one("#help-box", VerticalScroll)
        box.scroll_relative(y=pages * max(1, box.scrollable_content_region.height), animate=False)
