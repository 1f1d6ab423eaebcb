"""Every use of private Textual API, in one place, checked against the Textual release it
was written for.

On that release (``WRITTEN_FOR``, the minor range pyproject pins) the overrides below are
installed; on any other they are not, Textual's own behaviour stays, and the log says so
once: a new Textual release makes the app a little slower or its crash report plainer,
never broken. ``tests/ui/test_compat.py`` checks that every name in ``PRIVATE_NAMES`` still
exists on the installed Textual, so an upgrade fails the suite loudly instead.

=======================  ==================================================================
override                 private names it uses
=======================  ==================================================================
``urgent_frames``        ``Screen._update_timer`` (replaced), ``Screen._on_timer_update``,
(``FrameTimer``)         ``Screen._timers``, ``textual.screen.UPDATE_PERIOD``,
                         ``Timer._run`` (overridden), ``Timer._start``, ``Timer._tick``,
                         ``Timer._active``, ``Timer._interval``, ``Timer._repeat``,
                         ``textual._time.get_time``
``quiet_fatal_errors``   ``App._fatal_error`` (replaced), ``App._exit_renderables``,
                         ``App._close_messages_no_wait``
``hold_sync_for_keys``   ``App._driver`` (its public ``send_message`` wrapped)
=======================  ==================================================================

The frame timer
---------------

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

Keys hold the sync from the terminal's thread
---------------------------------------------

The terminal driver's input thread hands each key to the loop (``Driver.send_message``).
``hold_sync_for_keys`` wraps that method of the app's driver, so a key holds the sync's
paced work (``mailtui.pacing.KEYS``) as soon as it is read, not only once the loop got
to it: the envelope parser's thread stops at its next piece and the worker at its next
step, where a key waited up to a whole slice of the worker's work and the parser's turns
with the GIL before (docs/decisions.md, "Keys during a first sync"). Without it (another
Textual), the app notes the key when its queue delivers it (``MailApp.on_event``).

The crash report
----------------

An unhandled exception ends the app (Textual's rule). Textual prints a traceback *with
local variables* to the terminal, which can hold mail text or a password; with
``quiet_fatal_errors`` the traceback goes to the log file instead, and the terminal gets
one plain line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import weakref
from asyncio import Event
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text
from textual import events
from textual import screen as textual_screen
from textual.app import App
from textual.message import Message
from textual.screen import Screen
from textual.timer import EventTargetGone, Timer

try:
    from textual._time import get_time
except ImportError:  # another Textual: nothing here is installed then, the clock is alike
    from time import monotonic as get_time

from mailtui import pacing
from mailtui.mime import clean_line

log = logging.getLogger(__name__)

#: The Textual release (major.minor) the overrides were written and measured against.
WRITTEN_FOR = "8.2"


def _textual_version() -> str:
    """The installed Textual's version, from the name of its ``dist-info`` directory
    (what ``importlib.metadata`` reads, without the 1 MB of modules that imports at
    start: zipfile, csv, email; docs/decisions.md, "The TUI's memory during a first
    sync"); ``importlib.metadata`` when that is not one directory beside it."""
    import textual

    found = list(Path(textual.__file__).parent.parent.glob("textual-*.dist-info"))
    if len(found) == 1:
        return found[0].name.removeprefix("textual-").removesuffix(".dist-info")
    from importlib.metadata import version

    return version("textual")


#: The installed one.
TEXTUAL_VERSION = _textual_version()

#: Every private Textual name used here: (module, class or "", name, on instances only).
PRIVATE_NAMES: tuple[tuple[str, str, str, bool], ...] = (
    ("textual._time", "", "get_time", False),
    ("textual.screen", "", "UPDATE_PERIOD", False),
    ("textual.screen", "Screen", "_update_timer", False),
    ("textual.screen", "Screen", "_on_timer_update", False),
    ("textual.screen", "Screen", "_timers", True),
    ("textual.timer", "Timer", "_run", False),
    ("textual.timer", "Timer", "_start", False),
    ("textual.timer", "Timer", "_tick", False),
    ("textual.timer", "Timer", "_active", True),
    ("textual.timer", "Timer", "_interval", True),
    ("textual.timer", "Timer", "_repeat", True),
    ("textual.app", "App", "_fatal_error", False),
    ("textual.app", "App", "_exit_renderables", True),
    ("textual.app", "App", "_close_messages_no_wait", False),
    ("textual.app", "App", "_driver", True),
)

_fell_back = False  # the log said it once
_frame_timers: weakref.WeakKeyDictionary[Screen[Any], FrameTimer] = weakref.WeakKeyDictionary()

ScreenType = TypeVar("ScreenType", bound=type[Screen[Any]])
AppType = TypeVar("AppType", bound=type[App[Any]])


def supported() -> bool:
    """Whether the installed Textual is the release the overrides were written for."""
    return TEXTUAL_VERSION.split(".")[:2] == WRITTEN_FOR.split(".")


def _can_override() -> bool:
    """Whether to install an override; on another Textual, no, and the log says so once."""
    global _fell_back
    if supported():
        return True
    if not _fell_back:
        _fell_back = True
        log.warning(
            "Textual %s is not the %s.x mailtui was written for: Textual's own frame timer "
            "and crash report are used (mailtui/ui/compat.py)",
            TEXTUAL_VERSION,
            WRITTEN_FOR,
        )
    return False


# -- the frame timer ---------------------------------------------------------------------


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
            pacing.KEYS.painted()  # a key's frame: the sync's paced work may go on


def _update_timer(screen: Screen[Any]) -> Timer:
    """``Screen._update_timer``, as a ``FrameTimer``: a key after a sync-driven paint gets
    its frame within one interval, not two."""
    timer = _frame_timers.get(screen)
    if timer is None:
        timer = FrameTimer(
            screen,
            textual_screen.UPDATE_PERIOD,
            name="screen_update",
            callback=screen._on_timer_update,
            pause=True,
        )
        timer._start()
        screen._timers.add(timer)
        _frame_timers[screen] = timer
    return timer


def urgent_frames(screen_class: ScreenType) -> ScreenType:
    """Class decorator: the screen paints from a ``FrameTimer`` (call ``urgent`` for each
    key), on the Textual release it was written for."""
    if _can_override():
        screen_class._update_timer = property(_update_timer)  # type: ignore[assignment]
    return screen_class


def urgent(screen: Screen[Any]) -> None:
    """A key is being handled on ``screen``: its frames are not held back (nothing without
    ``urgent_frames``, or before the first paint)."""
    timer = _frame_timers.get(screen)
    if timer is not None:
        timer.urgent()


# -- keys hold the sync -------------------------------------------------------------------


def hold_sync_for_keys(app: App[Any]) -> None:
    """Keys and clicks hold the sync's paced work from the moment the driver's thread
    reads them (call once the app runs: its driver exists then)."""
    driver = getattr(app, "_driver", None)
    if driver is None or not _can_override():
        return
    send = driver.send_message

    def send_message(message: Message) -> None:
        if isinstance(message, (events.Key, events.MouseDown)):
            pacing.KEYS.pressed()
        send(message)

    driver.send_message = send_message


# -- the crash report --------------------------------------------------------------------


def _quiet_fatal_error(app: App[Any]) -> None:
    """``App._fatal_error``: the traceback to the log, one plain line to the terminal."""
    error = sys.exc_info()[1]
    log.error("mailtui stopped after an internal error", exc_info=True)
    what = f"{error.__class__.__name__}: {error}" if error is not None else "unknown"
    app._exit_renderables.append(
        Text(
            f"mailtui stopped after an internal error ({clean_line(what)[:200]}); "
            "the details are in the log file (~/.local/state/mailtui/mailtui.log)."
        )
    )
    app._close_messages_no_wait()


def quiet_fatal_errors(app_class: AppType) -> AppType:
    """Class decorator: an unhandled exception's traceback goes to the log, not to the
    terminal, on the Textual release it was written for."""
    if _can_override():
        app_class._fatal_error = _quiet_fatal_error  # type: ignore[assignment]
    return app_class
