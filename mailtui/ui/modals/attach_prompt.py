"""Asks for the path of a file to attach, completing it like a shell.

``→`` takes the suggestion shown in grey; ``Tab`` completes as a shell does (as far as
every match agrees, else the first match), and a completed folder goes on to the file
names inside it. The matches are listed under the field, so the user sees the files, not
only the first one. Enter on a folder does not close the prompt: a folder cannot be
attached.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from mailtui.mime import clean_line

MAX_LISTED = 6


def completions(value: str) -> list[str]:
    """Every completion of ``value`` as a path, sorted (folders end in ``/``; hidden
    entries only when the typed name starts with a dot)."""
    if not value:
        return []
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
        return []
    return [value + name[len(stem) :] for name in names]


class PathSuggester(Suggester):
    """Suggests the first completion of what was typed (``completions``)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        found = completions(value)
        if not found or found[0] == value:
            return None
        return found[0]


def complete(value: str) -> str:
    """What ``Tab`` makes of ``value``: as far as every completion agrees, else the first."""
    found = [f for f in completions(value) if f != value]
    if not found:
        return value
    shared = os.path.commonprefix(found)
    return shared if len(shared) > len(value) else found[0]


def listing(value: str) -> str:
    """The names that complete ``value``, for the line under the field."""
    found = completions(value)
    if len(found) < 2 and not (value.endswith("/") and found):
        return ""
    cut = len(value) - len(os.path.expanduser(value).rpartition("/")[2])
    names = [clean_line(f[cut:]) for f in found[:MAX_LISTED]]
    more = f"  … {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
    return "  ".join(names) + more


class AttachPrompt(ModalScreen[str | None]):
    """Asks for the path of a file to attach."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "cancel", "Cancel"),
        # Tab completes here, as in a shell, instead of moving the focus off the field.
        Binding("tab", "complete", "Complete", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    AttachPrompt { align: center middle; }
    AttachPrompt > Vertical { width: 70; height: auto; border: round $accent;
                              background: $surface; padding: 0 1; }
    AttachPrompt #matches { color: $text-muted; height: auto; max-height: 3; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Attach which file? (Tab or → completes, Enter attaches, Esc cancels)")
            yield Input(placeholder="~/path/to/file", id="path", suggester=PathSuggester())
            yield Static("", id="matches")

    def action_complete(self) -> None:
        field = self.query_one(Input)
        completed = complete(field.value)
        if completed != field.value:
            field.value = completed
            field.cursor_position = len(completed)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#matches", Static).update(Text(listing(event.value)))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value and Path(value).expanduser().is_dir():
            self.query_one("#matches", Static).update(
                Text("That is a folder; Tab completes the names of the files in it.")
            )
            return
        self.dismiss(value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
