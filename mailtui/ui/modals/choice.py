"""A question with a few answers, each on its own key (a delete that cannot be undone:
create Trash, delete for good, or keep the mail)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from mailtui.ui.keymap import key_label


@dataclass(frozen=True, slots=True)
class Answer:
    key: str  # a single key, e.g. "t"
    label: str  # "create a Trash folder and move them there"
    value: str  # what the screen is dismissed with


class ChoiceScreen(ModalScreen[str | None]):
    """Asks ``question``; each answer's key dismisses with its value, Escape with None
    (the safe answer: nothing happens). Any other key is ignored, so a key pressed by
    habit never answers for the user."""

    DEFAULT_CSS = """
    ChoiceScreen {
        align: center middle;
        & > #choice-box {
            width: 72;
            max-width: 100%;
            height: auto;
            border: round $warning;
            background: $panel;
            padding: 1 2;
        }
        & #choice-answers { margin-top: 1; }
    }
    """

    def __init__(self, question: str, answers: list[Answer]) -> None:
        super().__init__()
        self.question = question
        self.answers = answers

    def compose(self) -> ComposeResult:
        box = Vertical(id="choice-box")
        box.border_subtitle = "Esc: cancel"
        with box:
            yield Static(Text(self.question), id="choice-question")
            lines = [f"{key_label(a.key)}: {a.label}" for a in self.answers]
            yield Static(Text("\n".join(lines)), id="choice-answers")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if event.key == "escape":
            self.dismiss(None)
            return
        for answer in self.answers:
            if event.key == answer.key:
                self.dismiss(answer.value)
                return
