"""A one-line question with an answer field: Enter answers, Esc cancels (None);
``password=True`` masks what is typed."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class TextPrompt(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > Vertical { width: 70; max-width: 100%; height: auto;
                            border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(
        self, question: str, value: str = "", placeholder: str = "", *, password: bool = False
    ) -> None:
        super().__init__()
        self.password = password
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(
                self.value, placeholder=self.placeholder, id="answer", password=self.password
            )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # A password is taken as typed (spaces may be part of it).
        answer = event.value if self.password else event.value.strip()
        self.dismiss(answer or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
