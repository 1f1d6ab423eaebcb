"""Asks for the path of a file to attach, completing it like a shell."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label


class PathSuggester(Suggester):
    """Completes a file path like a shell does: the first entry that starts with what was
    typed (directories get a trailing ``/``; hidden entries only when asked for)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, _, stem = expanded.rpartition("/")
        base = Path(folder or ".") if folder or not expanded.startswith("/") else Path("/")
        try:
            names = sorted(
                entry.name + ("/" if entry.is_dir() else "")
                for entry in os.scandir(base)
                if entry.name.startswith(stem) and (stem.startswith(".") or entry.name[0] != ".")
            )
        except OSError:
            return None
        if not names or names[0] == stem:
            return None
        return value + names[0][len(stem) :]


class AttachPrompt(ModalScreen[str | None]):
    """Asks for the path of a file to attach."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    AttachPrompt { align: center middle; }
    AttachPrompt > Vertical { width: 70; height: auto; border: round $accent;
                              background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Attach which file? (→ completes, Enter attaches, Esc cancels)")
            yield Input(placeholder="~/path/to/file", id="path", suggester=PathSuggester())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
