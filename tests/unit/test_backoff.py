"""Reconnect backoff: exponential, capped, jittered, reset after success."""

from __future__ import annotations

import random

from mailtui.sync.retry import Backoff


def test_backoff_grows_exponentially_with_jitter_and_caps() -> None:
    b = Backoff(1.0, 60.0, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(10)]
    ceilings = [min(60.0, 2.0**i) for i in range(10)]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 60.0
    assert delays[-1] >= 30.0


def test_backoff_reset_starts_over() -> None:
    b = Backoff(2.0, 100.0, rng=random.Random(2))
    for _ in range(5):
        b.next_delay()
    b.reset()
    assert 1.0 <= b.next_delay() <= 2.0


def test_jitter_spreads_clients() -> None:
    delays = {round(Backoff(1.0, 300.0, rng=random.Random(s)).next_delay(), 6) for s in range(20)}
    assert len(delays) > 10
