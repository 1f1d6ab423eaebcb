"""The fuzzy folder picker: type a few letters of a folder, Enter takes the best match.

Used by "move to folder" (the open folder's account, the open folder left out) and "go
to folder" (every account). Folder names come from servers: they are cleaned and shown as
plain ``Text``, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from mailtui.mime.sanitize import clean_line
from mailtui.models import Folder
from mailtui.ui import keymap


@dataclass(frozen=True, slots=True)
class FolderChoice:
    """One folder as the picker lists it."""

    label: str  # e.g. "work/Archive/2024"
    folder: Folder


class FolderPicker(ModalScreen[Folder | None]):
    """Pick a folder by typing part of its name; dismisses with the folder or None."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("picker"))

    DEFAULT_CSS = """
    FolderPicker {
        align: center middle;
        & > #picker-box {
            width: 60;
            max-width: 100%;
            height: auto;
            max-height: 90%;
            border: round $accent;
            border-title-align: center;
            background: $panel;
            padding: 0 1;
        }
        & #picker-query { border: none; height: 1; padding: 0; }
        & #picker-options { height: auto; max-height: 16; border: none; padding: 0; }
    }
    """

    def __init__(self, title: str, choices: list[FolderChoice]) -> None:
        super().__init__()
        self._title = title
        self._choices = [FolderChoice(clean_line(c.label), c.folder) for c in choices]
        self._shown: list[FolderChoice] = list(self._choices)

    def compose(self) -> ComposeResult:
        box = Vertical(id="picker-box")
        box.border_title = self._title
        box.border_subtitle = "Enter: choose · Esc: cancel"
        with box:
            yield Input(placeholder="type to find a folder", id="picker-query")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self._show(self._choices)
        self.query_one(Input).focus()

    @property
    def shown(self) -> list[str]:
        """The labels listed now, best match first."""
        return [c.label for c in self._shown]

    def _show(self, choices: list[FolderChoice]) -> None:
        self._shown = choices
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(Text(c.label)) for c in choices])
        if choices:
            options.highlighted = 0

    @on(Input.Changed, "#picker-query")
    def _filter(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if not query:
            self._show(self._choices)
            return
        matcher = Matcher(query)
        scored = [(matcher.match(c.label), i, c) for i, c in enumerate(self._choices)]
        self._show([c for score, _, c in sorted(scored, key=lambda s: (-s[0], s[1])) if score > 0])

    @on(Input.Submitted, "#picker-query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose()

    @on(OptionList.OptionSelected, "#picker-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose()

    def action_choose(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self._shown):
            return
        self.dismiss(self._shown[index].folder)

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
