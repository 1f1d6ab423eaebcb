"""The event loop's longest steps by their own CPU time, for benches that run the app.

A step is one callback the loop runs (a task's step between two awaits, a timer, a
reader): while it runs, no key is handled and no frame drawn. ``LoopSteps`` times each
step with ``time.thread_time`` (the loop thread's CPU only), so a step's figure does not
grow when the machine's other processes take the core or another thread holds the GIL:
on a shared machine it is the steadier measure of what the app itself does to the loop,
next to the keys' wall-clock latency.

    steps = LoopSteps()
    with steps.timing():          # patches asyncio's Handle._run while inside
        ... steps.armed = True ...   # only steps after this count
    steps.longest_ms(), steps.over(8.0)
"""

from __future__ import annotations

import asyncio.events
import contextlib
import time
from collections.abc import Iterator
from typing import Any

#: Steps shorter than this are not kept (most are a few microseconds).
KEEP_MS = 1.0


class LoopSteps:
    def __init__(self) -> None:
        self.armed = False
        self.steps: list[float] = []  # milliseconds of CPU, steps of at least KEEP_MS

    @contextlib.contextmanager
    def timing(self) -> Iterator[LoopSteps]:
        handle: Any = asyncio.events.Handle
        original = handle._run
        steps = self

        def run(h: Any) -> None:
            if not steps.armed:
                return original(h)  # type: ignore[no-any-return]
            started = time.thread_time()
            try:
                return original(h)  # type: ignore[no-any-return]
            finally:
                ms = (time.thread_time() - started) * 1000
                if ms >= KEEP_MS:
                    steps.steps.append(ms)

        handle._run = run
        try:
            yield self
        finally:
            handle._run = original

    def longest_ms(self) -> float:
        return max(self.steps, default=0.0)

    def over(self, ms: float) -> int:
        return sum(1 for s in self.steps if s > ms)
