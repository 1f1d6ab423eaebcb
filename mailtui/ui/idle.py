"""When the user last pressed a key or clicked, for work that can wait until they pause.

``MailApp`` stamps ``last_input`` (``time.monotonic()``) on every key and click before
anything handles it. Background work that would compete with a key for the event loop
(drawing rows ahead, sync-driven reloads) asks ``wait_for_quiet`` how long to hold off.
"""

from __future__ import annotations

import time


def last_input(app: object) -> float:
    """``app.last_input``, or minus infinity for an app that does not keep it."""
    value = getattr(app, "last_input", None)
    return value if isinstance(value, float) else float("-inf")


def wait_for_quiet(app: object, quiet: float) -> float:
    """Seconds until ``quiet`` seconds will have passed since the last key (0: now)."""
    return max(0.0, last_input(app) + quiet - time.monotonic())


def hold(now: float, last_input: float, since: float, quiet: float, longest: float) -> float:
    """Seconds that work asked for at ``since`` should still wait at ``now``: until
    ``quiet`` seconds without a key, but no later than ``longest`` after ``since``."""
    return max(0.0, min(last_input + quiet - now, since + longest - now))
