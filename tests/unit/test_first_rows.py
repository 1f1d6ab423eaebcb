"""``sync/first_rows.py``: a first pass's one wait for its first rows on screen."""

from __future__ import annotations

import asyncio

from mailtui.sync.first_rows import FirstRows


async def test_the_ui_saying_drawn_ends_the_wait() -> None:
    rows = FirstRows()
    rows.expect(7)
    rows.drawn(8)  # another folder's rows: not this wait
    waiting = asyncio.ensure_future(rows.wait(7, timeout=30))
    await asyncio.sleep(0)
    assert not waiting.done()
    rows.drawn(7)
    assert await waiting is True


async def test_drawn_before_the_wait_is_not_missed() -> None:
    """The UI may be quicker than the pass: expected before the commit, drawn meanwhile."""
    rows = FirstRows()
    rows.expect(7)
    rows.drawn(7)
    assert await rows.wait(7, timeout=30) is True


async def test_without_word_from_the_ui_the_wait_ends_at_its_timeout() -> None:
    rows = FirstRows()
    rows.expect(7)
    assert await rows.wait(7, timeout=0.01) is False
    rows.drawn(7)  # too late: nothing waits any more, nothing breaks
    assert await rows.wait(7, timeout=0.01) is True  # nothing expected: no wait


async def test_nothing_expected_nothing_waits() -> None:
    rows = FirstRows()
    rows.drawn(3)
    assert await rows.wait(3) is True
