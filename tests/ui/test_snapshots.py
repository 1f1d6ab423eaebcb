"""Snapshots of the main screen (pytest-textual-snapshot), on deterministic mail and a
fixed clock. Update after an intended change with ``pytest tests/ui --snapshot-update``
and look at the SVGs before committing them.

``snap_compare`` runs the app in its own event loop, so these tests are synchronous: the
store is filled in one ``asyncio.run`` and the app reads it in the next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from mailtui.ui.widgets import MessageList

from .conftest import MailFixture, make_app, open_mail, screen_text

SnapCompare = Callable[..., bool]


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[MailFixture]:
    mail = asyncio.run(open_mail(tmp_path / "cache.sqlite", 60))
    yield mail
    asyncio.run(mail.store.close())


async def settle(pilot: Pilot[Any], condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20.0  # wall-clock: the suite runs on two busy cores
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()
    assert condition(), screen_text(pilot.app)


def after(*keys: str, showing: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A ``run_before`` that waits for the list's rows, presses ``keys``, then waits until
    the screen shows ``showing``."""

    async def run(pilot: Pilot[Any]) -> None:

        def rows_cached() -> bool:
            found = pilot.app.query(MessageList)
            return bool(found) and found.first().cached_rows > 0

        await settle(pilot, rows_cached)
        await settle(pilot, lambda: "…" not in screen_text(pilot.app))
        await pilot.press(*keys)
        await settle(pilot, lambda: showing in screen_text(pilot.app))

    return run


class TestMainScreen:
    def test_list_at_80x24(self, snap_compare: SnapCompare, filled: MailFixture) -> None:
        app = make_app(filled.store)
        assert snap_compare(app, terminal_size=(80, 24), run_before=after(showing="Message 000021"))

    def test_folders_at_80x24(self, snap_compare: SnapCompare, filled: MailFixture) -> None:
        app = make_app(filled.store)
        run = after("tab", "j", showing="python")
        assert snap_compare(app, terminal_size=(80, 24), run_before=run)

    def test_reader_at_80x24(self, snap_compare: SnapCompare, filled: MailFixture) -> None:
        app = make_app(filled.store)
        run = after("enter", showing="body of message 0")
        assert snap_compare(app, terminal_size=(80, 24), run_before=run)

    def test_help_at_80x24(self, snap_compare: SnapCompare, filled: MailFixture) -> None:
        app = make_app(filled.store)
        run = after("question_mark", showing="Page up")
        assert snap_compare(app, terminal_size=(80, 24), run_before=run)

    def test_reader_at_120x40(self, snap_compare: SnapCompare, filled: MailFixture) -> None:
        app = make_app(filled.store)
        run = after("j", "enter", showing="body of message 1")
        assert snap_compare(app, terminal_size=(120, 40), run_before=run)
