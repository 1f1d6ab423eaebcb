"""A yes/no question (discard a message, replace a file, delete a folder, quit)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from mailtui.ui import keymap


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; ``y`` answers yes, ``n`` or Esc no."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("confirm"))

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        & > #confirm-box {
            width: 72;
            max-width: 100%;
            height: auto;
            border: round $warning;
            background: $panel;
            padding: 1 2;
        }
    }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        box = Vertical(id="confirm-box")
        box.border_subtitle = "y: yes · n: no"
        with box:
            yield Static(Text(self.question), id="confirm-question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
