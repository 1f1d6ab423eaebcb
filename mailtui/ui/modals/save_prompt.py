"""Asks for the folder to save an attachment into."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from mailtui.mime import clean_line
from mailtui.ui import bidi


class SaveScreen(ModalScreen[Path | None]):
    """Asks for the folder to save into (Enter saves, Esc cancels)."""

    DEFAULT_CSS = """
    SaveScreen {
        align: center middle;
        & > #save-box {
            width: 90%;
            max-width: 90;
            height: auto;
            border: round $accent;
            background: $panel;
            padding: 0 1;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def __init__(self, filename: str, directory: Path) -> None:
        super().__init__()
        self.filename = filename
        self.directory = directory

    def compose(self) -> ComposeResult:
        box = Vertical(id="save-box")
        box.border_title = "Save attachment"
        box.border_subtitle = "Enter: save · Esc: cancel"
        with box:
            name = bidi.isolate(clean_line(self.filename))
            yield Static(Text(bidi.visual(f"Save {name} into the folder:")))
            yield Input(str(self.directory), id="save-directory")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
