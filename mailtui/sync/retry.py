"""When a worker tries its server again: exponential backoff with jitter, and the check
that a stop swallowed on the way still stops the next wait."""

from __future__ import annotations

import asyncio
import random


class Backoff:
    """Exponential backoff with full jitter: 1, 2, 4 … s, capped, randomised."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (2**self.attempt))
        self.attempt += 1
        # Full jitter spreads reconnects of many clients after a server restart.
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


def stop_if_cancelled() -> None:
    """Raise the stop that an await on the way swallowed, before waiting again.

    ``suppress(CancelledError)`` around the await of a child task (a write being ended,
    a helper being stopped) also catches a cancel of this task that lands there; the
    worker then went on to wait up to ``poll_interval`` and ``SyncManager.stop()`` with
    it. On Python 3.11 the task still counts the cancel (``cancelling()``)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
