"""Textual messages that cross from the app into screens.

``SyncUpdate`` carries one ``SyncEvent`` from the sync manager's listener (called on the
event loop) to the main screen, which decides what to reload.
"""

from __future__ import annotations

from textual.message import Message

from mailtui.sync.contract import SyncEvent


class SyncUpdate(Message):
    """Something changed in the background: status, folders, messages, a body, an op."""

    def __init__(self, event: SyncEvent) -> None:
        self.event = event
        super().__init__()
