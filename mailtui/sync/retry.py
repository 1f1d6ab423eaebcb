"""When a worker tries its server again: after a backoff (exponential, with jitter), at
once when the user asks ("reconnect now"), or when the account's settings changed; and the
check that a stop swallowed on the way still stops the next wait.

A refused login or a bad setting does not heal by itself, and trying a wrong password
again and again can get an account locked; so after one of those the worker waits for the
user (``Retry.request``, the reconnect key) or for a change of the account in config.toml
(``changed``, looked at every ``CHANGE_POLL`` seconds: one ``stat`` of the file). A
network failure waits out its backoff, which a request (or new ops) cuts short.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable

#: Seconds between two looks at the config file while a refused account waits.
CHANGE_POLL = 2.0


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


class Retry:
    """The worker's side of "reconnect now"; shares the worker's wake-up event."""

    def __init__(self, wake: asyncio.Event, changed: Callable[[], bool] | None = None) -> None:
        self._wake = wake
        self._changed = changed
        self.requested = False

    def request(self) -> None:
        """Try the server now: ends a backoff or the wait after a refusal."""
        self.requested = True
        self._wake.set()

    def changed(self) -> bool:
        """Whether the account's settings changed since its backend was last built
        (a failing check counts as no change: the next attempt reports the problem)."""
        if self._changed is None:
            return False
        try:
            return self._changed()
        except Exception:
            return False

    def take(self) -> bool:
        """Whether the user asked to reconnect since the last look (and forget it)."""
        asked, self.requested = self.requested, False
        return asked

    async def sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds, less when woken (a request, new ops)."""
        stop_if_cancelled()
        if self.requested:  # asked while the last attempt was failing: no wait at all
            return
        self._wake.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
        # that arrives together with the wake-up, and SyncManager.stop() would wait forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    async def until_asked(self) -> None:
        """Wait for a request or a change of the account's settings; other wake-ups
        (new ops while the login is refused) do not try the server again."""
        while not self.take() and not self.changed():
            await self.sleep(CHANGE_POLL)
