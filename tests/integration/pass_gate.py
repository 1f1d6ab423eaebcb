"""A first pass held between two batches, for the tests of what the list shows while a
folder is partly cached (test_imap_window.py, test_imap_window_jump.py,
test_pop3_window.py): the messages, the server and the worker are the real ones; only
the hand-over of the INBOX's batches waits for the test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from mailtui.models import FolderBatch, RemoteFolder
from mailtui.ui.list_sources import FolderSource
from mailtui.ui.widgets.message_list import MessageList


class Gate:
    """Lets the INBOX pull hand over ``allowed`` batches, then holds it."""

    def __init__(self) -> None:
        self.allowed = 1
        self.handed = 0
        self.moved = asyncio.Event()
        #: The pull holds its next batch: the worker waits for it, past the point where
        #: it serves the list's windows after a batch, so a window asked for now comes
        #: with the next batch (a test presses its keys once this is so).
        self.holding = False

    def allow(self, n: int) -> None:
        self.allowed += n
        self.moved.set()

    def install(self, monkeypatch: pytest.MonkeyPatch, backend: type) -> None:
        """Hold ``backend.pull`` (a backend class) of the INBOX."""
        original = backend.pull
        gate = self

        def gated(
            self: Any, folder: RemoteFolder, state: Mapping[str, Any]
        ) -> AsyncIterator[FolderBatch]:
            async def run() -> AsyncIterator[FolderBatch]:
                async for batch in original(self, folder, state):
                    while folder.name == "INBOX" and gate.handed >= gate.allowed:
                        gate.moved.clear()
                        gate.holding = True
                        await gate.moved.wait()
                    gate.holding = False
                    gate.handed += folder.name == "INBOX"
                    yield batch

            return run()

        monkeypatch.setattr(backend, "pull", gated)


def wrong_rows(messages: MessageList, subject: Callable[[int], str]) -> list[tuple[int, str]]:
    """Rows in memory whose message is not the one of their position (``subject``: the
    subject at a position of the folder's own list; a filter lists its matches)."""
    if not isinstance(messages.source, FolderSource):
        return []
    return [
        (index, line.row.subject)
        for index, line in messages._window.items()
        if not line.pending and line.row.subject != subject(index)
    ]


def placeholders(messages: MessageList) -> int:
    return sum(1 for _, line in messages._window.items() if line.pending)


def until_right_rows(
    app: Any, pilot: Any, messages: MessageList, subject: Callable[[int], str]
) -> Callable[..., Awaitable[None]]:
    """``await until(condition, timeout=30.0)``: waits for ``condition`` while checking,
    at every step, that no row in memory shows another position's message."""
    from tests.ui.conftest import screen_text

    async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
        started = time.monotonic()
        while not condition():
            assert time.monotonic() - started < timeout, screen_text(app)
            assert not wrong_rows(messages, subject), wrong_rows(messages, subject)
            await pilot.pause(0.02)

    return until
