"""The headless sync's garbage-collector settings (mailtui/gc_policy.py)."""

from __future__ import annotations

import gc

import pytest

from mailtui.gc_policy import YOUNG, batch_collections


def test_inside_the_block_young_collections_are_rarer_and_start_up_is_frozen() -> None:
    before = gc.get_threshold()
    kept = [[i] for i in range(100)]  # containers alive when the block starts
    with batch_collections():
        assert gc.get_threshold() == (YOUNG, before[1], before[2])
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_settings_come_back_when_the_block_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), batch_collections(young=5_000):
        assert gc.get_threshold()[0] == 5_000
        raise RuntimeError("sync failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_the_block_are_still_collected() -> None:
    with batch_collections(young=50):
        gc.collect()
        for _ in range(200):  # well past the threshold: young collections must run
            a: list[object] = []
            a.append(a)
        garbage = gc.get_count()[0]
    assert garbage < 200  # the cycles did not pile up uncollected
