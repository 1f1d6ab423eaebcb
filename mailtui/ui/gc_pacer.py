"""Python's full garbage collections kept off the key path.

CPython collects its oldest generation after every ten collections of the middle one.
With a sync writing a thousand envelopes a second that is every second or so, and a full
collection walks every container object of the process: 25-40 ms on the 2-core dev
machine (≈ 80,000 objects), 15-20 ms more than a frame, for whatever key it lands on.

``GcPacer`` does two things from the app's start (``start``: at its mount), and a third
(below):

- while keys are coming, the automatic full collection waits up to ten times longer
  (``CEILING`` middle-generation collections instead of ``DUE``); once no key came for
  ``IDLE_AFTER`` seconds, ``tick`` (called by a timer) runs it if it is due, as CPython
  would have;
- ``gc.freeze()`` after one collection, at the first such pause: what start-up built
  (modules, classes, the stylesheet, the widgets) moves to the permanent generation,
  which collections skip (a full collection then takes ≈ 10-15 ms instead of 25-40 ms).
  Not right at the start (``first_pause_after``): that collection took 55 ms of CPU
  (150 ms of wall time) during a new account's first sync, on a key pressed right
  after the first rows (docs/decisions.md, "Keys during a first sync").

The threshold is raised at once, though: until 2026-12-05 the pacer started two seconds
after the mount, and in those seconds of a new account's first sync CPython ran its
own full collections every ≈ 0.35 s, 25-37 ms each, five in a 3 s pass
(``bench/first_sync_ui.py``).

It also raises the young threshold to ``YOUNG`` (CPython's is 700). A first sync makes
millions of short-lived objects in its threads, and every 700 net allocations a young
collection walked the envelopes in flight, then a middle one every ten: in the UI pass of
``bench/first_sync_ui.py 100000`` (2026-12-05) 1,120 young and 102 middle collections,
0.15 s of the GIL, against 0.02 s with ``YOUNG`` (a young collection's longest was
3.1 ms before and 3.8 ms after: what is walked is what is alive, not what was made).
Garbage in cycles waits for at most ``YOUNG`` net allocations instead of 700; the pass's
peak RSS did not move (84 / 83 MB).

Garbage is never kept longer than ``CEILING`` middle-generation collections, so memory
stays bounded; only *when* the pause happens moves. ``stop`` puts CPython's settings back
(and unfreezes), so tests that run many apps in one process leak nothing.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

IDLE_AFTER = 1.0  # seconds without a key: the user is reading, a pause goes unnoticed
DUE = 10  # middle-generation collections before a full one: CPython's default
CEILING = 100  # the most a full collection waits while keys keep coming
YOUNG = 50_000  # net allocations between two young collections (CPython's: 700)


class GcPacer:
    """Defers full collections while keys arrive; runs them when the user pauses."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        count: Callable[[], tuple[int, int, int]] = gc.get_count,
        collect: Callable[[], object] = gc.collect,
    ) -> None:
        self._clock = clock
        self._count = count  # CPython's counters (tests give their own)
        self._collect = collect
        self._last_input = float("-inf")
        self._first_pause = float("-inf")  # the first pause's collection not before
        self._saved: tuple[int, int, int] | None = None
        self.frozen = False  # start-up's objects are in the permanent generation
        self.collections = 0  # full collections run by ``tick``

    @property
    def active(self) -> bool:
        return self._saved is not None

    @property
    def last_input(self) -> float:
        """When the last key or click came (the clock's time)."""
        return self._last_input

    def start(self, first_pause_after: float = 0.0) -> None:
        """Raise the young and full-collection thresholds; the first pause at least
        ``first_pause_after`` seconds from now collects and freezes."""
        if self._saved is not None:
            return
        self._first_pause = self._clock() + first_pause_after
        _young, middle, _old = self._saved = gc.get_threshold()
        gc.set_threshold(YOUNG, middle, CEILING)

    def stop(self) -> None:
        """CPython's thresholds again; the frozen objects go back to the oldest generation."""
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        self._saved = None
        if self.frozen:
            self.frozen = False
            gc.unfreeze()

    def input(self) -> None:
        """A key (or click) came: no full collection for ``IDLE_AFTER`` seconds."""
        self._last_input = self._clock()

    def tick(self) -> bool:
        """Run a due full collection if the user is idle (the first time: one, and
        freeze what is left); True if it ran."""
        if self._saved is None or self._clock() - self._last_input < IDLE_AFTER:
            return False
        if not self.frozen:
            if self._clock() < self._first_pause:
                return False
            # What start-up froze (``memory.resume_collections``) is collected with the
            # rest: its garbage is freed here.
            gc.unfreeze()
            self._collect()
            gc.freeze()
            self.frozen = True
            self.collections += 1
            return True
        if self._count()[2] < DUE:
            return False
        self._collect()
        self.collections += 1
        return True
