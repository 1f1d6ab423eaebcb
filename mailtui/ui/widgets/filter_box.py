"""The search-as-you-type box over the message list (``/``).

It only reports: ``FilterBox.Changed`` as the user types (the screen debounces and asks
the store), ``FilterBox.Done`` on Enter (keep the filter, back to the list) and
``FilterBox.Cleared`` on Escape.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Input

from mailtui.ui import keymap


class FilterBox(Input):
    """One line: what the list is filtered by."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("filter"))

    DEFAULT_CSS = """
    FilterBox {
        height: 1;
        border: none;
        padding: 0 1;
        background: $panel;
        &:focus { border: none; }
    }
    """

    class Done(Message):
        """Enter: keep the filter and go back to the list."""

    class Cleared(Message):
        """Escape: drop the filter."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: words in subject, people, body", id=id)

    def action_done(self) -> None:
        self.post_message(self.Done())

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Cleared())
