"""A frame timer for the main screen that paints a key's result as soon as it is there.

Textual's screen repaints from a paused interval timer (``Screen._update_timer``): when
something is dirty the screen resumes it, its tick paints and pauses it again. In Textual
8.2.8 ``Timer._run`` sleeps *after* each tick until a frame boundary it computes with
``count = int(elapsed / interval + 1)`` and then ``start + (count + 1) * interval``: one to
two intervals (17-33 ms at 60 fps) after the paint, and only then waits to be resumed. A
key that arrives a few milliseconds after a sync-driven paint therefore waited up to 33 ms
for its frame although nothing was painted for 16 ms.

``FrameTimer`` keeps Textual's pacing for everything else (startup, sync updates: their
frames coalesce as before), but for ``URGENT_FOR`` seconds after ``urgent()`` (the screen
calls it for each key) a frame is painted as soon as something is dirty. It used to wait
one interval after the previous paint, so a key that came a few milliseconds after a
sync-driven paint still waited up to 16.7 ms with nothing to do (docs/decisions.md, "UI
latency", has the figures). Frames are still painted only when a widget is dirty, so
this does not spin: a key costs the frames its own changes need.

Private Textual API: this overrides ``Timer._run`` and uses ``Timer._active``,
``_interval``, ``_repeat`` and ``_tick``, and the screen replaces ``Screen._update_timer``
(mailtui/ui/screens/main.py). Written against Textual 8.2.8; re-check both on upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
from asyncio import Event

from textual._time import get_time
from textual.timer import EventTargetGone, Timer


class FrameTimer(Timer):
    """Textual's frame timer, plus ``urgent()``: frames without delay for a moment."""

    URGENT_FOR = 0.15  # seconds after a key during which frames are not held back

    _urgent_event: Event | None = None  # wakes the timer when a key comes
    _urgent_until = float("-inf")

    @property
    def _urgent(self) -> Event:
        if self._urgent_event is None:
            self._urgent_event = Event()
        return self._urgent_event

    def urgent(self) -> None:
        """A key is being handled: paint its result (and what follows it shortly, such as
        a message read by a worker) as soon as it is there."""
        self._urgent_until = get_time() + self.URGENT_FOR
        self._urgent.set()

    async def _run(self) -> None:
        interval = self._interval
        active: Event = self._active  # the Event that pause() clears and resume() sets
        urgent = self._urgent
        await active.wait()
        start = get_time()
        count = 0
        while self._repeat is None or count <= self._repeat:
            # Textual's next frame boundary (see the module's docstring)...
            now = get_time()
            boundary = start + (int((now - start) / interval + 1) + 1) * interval
            # ...unless a key came: then now.
            while get_time() < boundary and get_time() >= self._urgent_until:
                urgent.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(boundary - get_time()):  # wait_for can
                        await urgent.wait()  # swallow a cancel (Python 3.11)
            await active.wait()
            last = get_time()
            count += 1
            try:
                await self._tick(next_timer=last, count=count)
            except EventTargetGone:
                break
