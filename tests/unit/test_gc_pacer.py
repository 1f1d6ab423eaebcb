"""GcPacer (mailtui/ui/gc_pacer.py): when full collections run, on a fake clock and fake
collector counters. No timing is asserted."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from mailtui.ui.gc_pacer import CEILING, DUE, IDLE_AFTER, YOUNG, GcPacer


class Fake:
    def __init__(self) -> None:
        self.now = 100.0
        self.old = 0  # middle-generation collections since the last full one
        self.collected = 0

    def clock(self) -> float:
        return self.now

    def count(self) -> tuple[int, int, int]:
        return (0, 0, self.old)

    def collect(self) -> int:
        self.collected += 1
        self.old = 0
        return 0


@pytest.fixture
def fake() -> Iterator[tuple[Fake, GcPacer]]:
    """A pacer past its first pause (frozen): full collections when due."""
    f = Fake()
    pacer = GcPacer(f.clock, count=f.count, collect=f.collect)
    pacer.start()
    assert pacer.tick()  # no input yet: the first pause, collected and frozen
    f.collected = 0
    pacer.collections = 0
    try:
        yield f, pacer
    finally:
        pacer.stop()


def test_start_raises_the_full_threshold_the_first_pause_freezes_stop_restores() -> None:
    before = gc.get_threshold()
    f = Fake()
    pacer = GcPacer(f.clock, count=f.count, collect=f.collect)
    pacer.start()
    try:
        assert pacer.active
        # No collection at the start: it would land on the keys right after the first
        # rows (a new account's first sync).
        assert gc.get_freeze_count() == 0 and f.collected == 0 and not pacer.frozen
        assert gc.get_threshold() == (YOUNG, before[1], CEILING)
        pacer.start()  # twice is once
        assert gc.get_threshold() == (YOUNG, before[1], CEILING)
        pacer.input()
        assert not pacer.tick()  # keys are coming
        f.now += IDLE_AFTER + 0.1
        assert pacer.tick()  # the first pause: one collection (not due yet), then freeze
        assert f.collected == 1 and pacer.frozen and gc.get_freeze_count() > 0
        assert not pacer.tick()  # after it, only when due
    finally:
        pacer.stop()
    assert not pacer.active
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    pacer.stop()  # twice is harmless
    assert gc.get_threshold() == before


@pytest.mark.parametrize(
    ("since_input", "old", "runs"),
    [
        (IDLE_AFTER + 0.1, DUE, True),  # idle and due: collect
        (IDLE_AFTER + 0.1, DUE + 5, True),
        (IDLE_AFTER + 0.1, DUE - 1, False),  # idle but not due (CPython would not either)
        (IDLE_AFTER / 2, DUE, False),  # keys are coming: wait
        (IDLE_AFTER / 2, CEILING - 1, False),  # ...up to the ceiling, which CPython enforces
    ],
)
def test_tick_collects_only_when_idle_and_due(
    fake: tuple[Fake, GcPacer], since_input: float, old: int, runs: bool
) -> None:
    f, pacer = fake
    pacer.input()
    f.now += since_input
    f.old = old
    assert pacer.tick() is runs
    assert f.collected == int(runs)
    assert pacer.collections == int(runs)


def test_the_first_pause_waits_for_its_time_the_threshold_does_not() -> None:
    """``start(first_pause_after=…)``: the full collections are paced at once, but the
    first pause's collection (and freeze) not before that many seconds."""
    before = gc.get_threshold()
    f = Fake()
    pacer = GcPacer(f.clock, count=f.count, collect=f.collect)
    pacer.start(first_pause_after=2.0)
    try:
        assert gc.get_threshold() == (YOUNG, before[1], CEILING)
        f.now += 1.9  # no input yet, idle: still too early
        assert not pacer.tick() and f.collected == 0 and not pacer.frozen
        f.now += 0.2
        assert pacer.tick() and f.collected == 1 and pacer.frozen
    finally:
        pacer.stop()
    assert gc.get_threshold() == before


def test_no_input_yet_counts_as_idle(fake: tuple[Fake, GcPacer]) -> None:
    f, pacer = fake
    f.old = DUE
    assert pacer.tick()


def test_an_inactive_pacer_never_collects() -> None:
    f = Fake()
    pacer = GcPacer(f.clock, count=f.count, collect=f.collect)
    f.old = CEILING
    assert not pacer.tick()
    assert f.collected == 0
