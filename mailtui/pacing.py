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

A key being handled holds that work back (``KEYS``, a ``KeyHold``): the app says when a
key comes (``pressed``), when its action ran (``handled``) and when a frame was painted
(``painted``); from the key until the first frame after its action, no longer than
``KEY_HOLD`` seconds, a ``Pacer`` waits instead of taking its next slice, and the
envelope parser's thread waits between two pieces of a batch (``between_keys``). One
turn of the loop gives the loop back, but not the GIL: the parser's thread takes it for
up to ``sys.getswitchinterval()`` (5 ms) at each of the key's hops through the loop
(docs/decisions.md, "Keys during a first sync").
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Seconds of work between two yields: under a 60 Hz frame, so a key waits for at most
#: this much of the sync's work (plus the loop turn's own) before it is handled. Not
#: less: every yield is a turn of the loop, and a turn hands the GIL to the envelope
#: parser's thread for up to ``sys.getswitchinterval()`` (5 ms); with 4 ms slices the
#: keys' median at 100,000 messages doubled (docs/benchmarks.md).
SLICE: Final = 0.012

#: The longest a key holds the sync's paced work back: a key whose action paints nothing
#: (or that never reaches the app's bindings) releases it after this. A frame and a half.
KEY_HOLD: Final = 0.025

#: How often a held ``Pacer`` looks whether the key was released (seconds).
HOLD_POLL: Final = 0.002

#: Items a thread handles between two looks at ``KEYS`` (``between_keys``): about 2 ms of
#: envelope parsing.
PIECE: Final = 100


class KeyHold:
    """Whether a key is being handled, for the sync's work to wait meanwhile.

    Set and released on the event loop's thread; ``wait_in_thread`` is for other threads.
    """

    __slots__ = (
        "_acting",
        "_clock",
        "_free",
        "_handled",
        "_longest",
        "_until",
        "held_s",
        "holds",
        "thread_held_s",
    )

    def __init__(
        self, longest: float = KEY_HOLD, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._longest = longest
        self._clock = clock
        self._until = float("-inf")  # the clock when the hold ends at the latest
        self._handled = False  # the key's action ran: the next frame releases the hold
        self._free = threading.Event()  # set while no key holds (the loop's paced work)
        self._free.set()
        # Set while no key's action is running: threads wait on this one only. The frame
        # after the action needs the loop more than the GIL; held until it, the parse
        # thread lost the bench's UI pass 1.1-1.3 s to keys (docs/decisions.md, "The
        # parse held only while a key's action runs").
        self._acting = threading.Event()
        self._acting.set()
        self.holds = 0  # keys that held the work (tests, benchmarks)
        self.held_s = 0.0  # seconds paced work on the loop waited for keys (benchmarks)
        self.thread_held_s = 0.0  # the same in threads (``between_keys``)

    def pressed(self) -> None:
        """A key came: hold until its frame, or ``longest`` seconds at most (from the
        last call: the driver's thread and then the app report the same key)."""
        self._until = self._clock() + self._longest
        self._handled = False
        self._acting.clear()
        if self._free.is_set():
            self.holds += 1
            self._free.clear()

    def handled(self) -> None:
        """The key's action ran: the next painted frame shows its result (threads go on)."""
        self._handled = True
        self._acting.set()

    def painted(self) -> None:
        """A frame was painted: it releases a key whose action ran before it."""
        if self._handled:
            self.release()

    def release(self) -> None:
        self._until = float("-inf")
        self._handled = False
        self._acting.set()
        self._free.set()

    @property
    def holding(self) -> bool:
        """Whether a key holds (or held until its time ran out: ``remaining`` says)."""
        return not self._free.is_set()

    def remaining(self) -> float:
        """Seconds the hold may still last (0: no key holds)."""
        if self._free.is_set():
            return 0.0
        left = self._until - self._clock()
        if left <= 0:
            self.release()
            return 0.0
        return left

    async def wait(self) -> None:
        """On the loop: until no key holds (a held key releases within ``longest``)."""
        left = self.remaining()
        if left <= 0:
            return
        started = self._clock()
        while left > 0:
            await asyncio.sleep(min(left, HOLD_POLL))
            left = self.remaining()
        self.held_s += self._clock() - started

    def wait_in_thread(self) -> None:
        """In another thread: until no key's action runs (without the GIL meanwhile), at
        most until the hold's time runs out."""
        if not self._acting.is_set():
            started = self._clock()
            self._acting.wait(max(0.0, self._until - started))
            self.thread_held_s += self._clock() - started


#: The app's keys (``MailApp`` reports them); the sync's paced work waits for them.
KEYS: Final = KeyHold()


def hand_over_gil() -> None:
    """Let a thread waiting for the GIL take it now (``time.sleep(0)`` releases it), not
    when the switch interval (5 ms) forces it out of this thread."""
    time.sleep(0)


def between_keys(
    work: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    piece: int = PIECE,
    keys: KeyHold | None = None,
    hand_over: Callable[[], None] = hand_over_gil,
) -> list[R]:
    """``work(items)`` in pieces of ``piece`` items, waiting for a key being handled
    (``keys``, the app's by default) between two pieces: for CPU work in a thread, whose
    GIL goes to the key's loop meanwhile. Before each piece the GIL is handed over
    (``hand_over``): the writer thread of a first pass, back from a statement, and the
    event loop then wait for it at most a piece (about 1 ms), not a switch interval
    (docs/decisions.md, "The GIL handed over between two pieces of the parse")."""
    keys = KEYS if keys is None else keys
    if len(items) <= piece:
        hand_over()
        keys.wait_in_thread()
        return work(items)
    done: list[R] = []
    for start in range(0, len(items), piece):
        hand_over()
        keys.wait_in_thread()
        done.extend(work(items[start : start + piece]))
    return done


class Pacer:
    """Yields to the event loop once ``slice_s`` seconds went by since the last yield,
    and waits while a key is being handled (``keys``)."""

    __slots__ = ("_clock", "_keys", "_since", "_slice", "yields")

    def __init__(
        self,
        slice_s: float = SLICE,
        clock: Callable[[], float] = time.perf_counter,
        keys: KeyHold | None = None,
    ) -> None:
        self._slice = slice_s
        self._clock = clock
        self._keys = KEYS if keys is None else keys
        self._since = clock()
        self.yields = 0  # how many times it gave the loop a turn (tests, benchmarks)

    def due(self) -> bool:
        """Whether the slice is used up or a key holds (the next ``pace`` would yield)."""
        return self._clock() - self._since >= self._slice or self._keys.holding

    async def pace(self) -> None:
        """One turn of the loop if the slice is used up, a wait while a key is being
        handled; else nothing (no suspension)."""
        if self._clock() - self._since >= self._slice or self._keys.holding:
            await self.yield_now()

    async def yield_now(self) -> None:
        """One turn of the loop now (more while a key holds), and a new slice."""
        self.yields += 1
        await asyncio.sleep(0)
        await self._keys.wait()
        self._since = self._clock()
