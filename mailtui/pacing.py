"""Long stretches of CPU work on the event loop, cut into slices the UI can breathe between.

The sync worker runs as tasks on the loop the UI draws from. An ``await`` gives the loop
back only when it actually waits: reading a FETCH answer of 2,000 messages that is
already in the reader's buffer, or preparing a batch's 2,000 rows before the writer
thread gets them, never waits, so a key pressed meanwhile waited 50-300 ms for its
frame (bench/first_sync_ui.py; docs/decisions.md, "First contact with a big mailbox",
"Keys during a first sync").

A ``Pacer`` is asked at every step of such a loop (``await pacer.pace()``, or
``pacer.due()`` where an ``await`` is not wanted on the fast path): once ``SLICE``
seconds went by since its last yield, it yields to the loop (``asyncio.sleep(0)``:
one turn, in which keys, timers and a frame run). A step costs a clock read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

#: Seconds of work between two yields: under a 60 Hz frame, so a key waits for at most
#: this much of the sync's work (plus the loop turn's own) before it is handled. Not
#: less: every yield is a turn of the loop, and a turn hands the GIL to the envelope
#: parser's thread for up to ``sys.getswitchinterval()`` (5 ms); with 4 ms slices the
#: keys' median at 100,000 messages doubled (docs/benchmarks.md).
SLICE: Final = 0.012


class Pacer:
    """Yields to the event loop once ``slice_s`` seconds went by since the last yield."""

    __slots__ = ("_clock", "_since", "_slice", "yields")

    def __init__(
        self, slice_s: float = SLICE, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._slice = slice_s
        self._clock = clock
        self._since = clock()
        self.yields = 0  # how many times it gave the loop a turn (tests, benchmarks)

    def due(self) -> bool:
        """Whether the slice is used up (the next ``pace`` would yield)."""
        return self._clock() - self._since >= self._slice

    async def pace(self) -> None:
        """One turn of the loop if the slice is used up; else nothing (no suspension)."""
        if self._clock() - self._since >= self._slice:
            await self.yield_now()

    async def yield_now(self) -> None:
        """One turn of the loop now, and a new slice."""
        self.yields += 1
        await asyncio.sleep(0)
        self._since = self._clock()
