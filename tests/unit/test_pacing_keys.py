"""KeyHold and the Pacer waiting for keys (mailtui/pacing.py), on a fake clock: the
sync's paced work waits from a key until the first frame painted after its action, or
for the hold's longest time, and a thread's work waits between two pieces. No timing is
asserted: the clock is driven by the test."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mailtui.pacing import KeyHold, Pacer, between_keys


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def test_a_key_holds_until_a_frame_painted_after_its_action() -> None:
    clock = Clock()
    keys = KeyHold(0.025, clock)
    assert not keys.holding and keys.remaining() == 0.0
    keys.pressed()
    assert keys.holding and keys.remaining() == pytest.approx(0.025)
    keys.painted()  # a frame before the action ran (a sync's repaint): not the key's
    assert keys.holding
    keys.handled()
    keys.painted()
    assert not keys.holding and keys.remaining() == 0.0
    assert keys.holds == 1


def test_a_key_that_paints_nothing_holds_no_longer_than_the_longest() -> None:
    clock = Clock()
    keys = KeyHold(0.025, clock)
    keys.pressed()
    clock.now += 0.010
    assert keys.remaining() == pytest.approx(0.015)
    clock.now += 0.020
    assert keys.remaining() == 0.0 and not keys.holding


def test_the_driver_and_the_app_reporting_one_key_count_it_once() -> None:
    clock = Clock()
    keys = KeyHold(0.025, clock)
    keys.pressed()  # the terminal's thread
    clock.now += 0.020
    keys.pressed()  # the app's queue delivers it: the longest counts from here
    assert keys.holds == 1 and keys.remaining() == pytest.approx(0.025)


async def test_a_pacer_waits_while_a_key_holds_and_goes_on_after_its_frame() -> None:
    clock = Clock()
    keys = KeyHold(0.025, clock)
    pacer = Pacer(1.0, clock, keys)  # a slice that never runs out on its own
    steps: list[int] = []

    async def work() -> None:
        for i in range(3):
            await pacer.pace()
            steps.append(i)

    keys.pressed()
    task = asyncio.create_task(work())
    for _ in range(5):
        await asyncio.sleep(0)
    assert steps == [] and pacer.due()  # held at its first step
    keys.handled()
    keys.painted()
    await task
    assert steps == [0, 1, 2] and pacer.yields == 1
    assert not pacer.due()


async def test_a_held_pacer_goes_on_when_the_longest_hold_is_over() -> None:
    clock = Clock()
    keys = KeyHold(0.025, clock)
    pacer = Pacer(1.0, clock, keys)
    keys.pressed()
    task = asyncio.create_task(pacer.pace())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()
    clock.now += 0.030  # no frame came: the hold ends on its own
    await task
    assert pacer.yields == 1 and keys.held_s == pytest.approx(0.030)


async def test_a_pacer_without_a_key_keeps_its_slices() -> None:
    clock = Clock()
    keys = KeyHold(0.025, clock)
    pacer = Pacer(0.012, clock, keys)
    await pacer.pace()
    assert pacer.yields == 0
    clock.now += 0.012
    await pacer.pace()
    assert pacer.yields == 1 and keys.held_s == 0.0


def test_work_in_a_thread_waits_between_pieces_while_a_key_holds() -> None:
    clock = Clock()
    keys = KeyHold(60.0, clock)  # released by the test, never by the clock
    done: list[list[int]] = []
    first = threading.Event()

    def work(items: object) -> list[int]:
        part = list(items)  # type: ignore[call-overload]
        done.append(part)
        if len(done) == 1:
            keys.pressed()  # a key comes while the first piece is parsed
            first.set()
        return [n * 2 for n in part]

    result: list[list[int]] = []
    thread = threading.Thread(
        target=lambda: result.append(between_keys(work, list(range(10)), 4, keys))
    )
    thread.start()
    assert first.wait(10)
    thread.join(0.05)  # it waits for the key: the second piece is not started
    assert thread.is_alive() and done == [[0, 1, 2, 3]]
    keys.handled()
    keys.painted()
    thread.join(10)
    assert not thread.is_alive()
    assert done == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert result == [[n * 2 for n in range(10)]]


def test_small_work_is_one_piece() -> None:
    calls: list[list[int]] = []
    assert between_keys(lambda xs: calls.append(list(xs)) or list(xs), [1, 2, 3]) == [1, 2, 3]
    assert calls == [[1, 2, 3]]


def test_the_gil_is_handed_over_before_every_piece() -> None:
    log: list[str] = []

    def work(items: object) -> list[int]:
        part = list(items)  # type: ignore[call-overload]
        log.append(f"piece {part[0]}")
        return part

    def hand_over() -> None:
        log.append("hand over")

    assert between_keys(work, list(range(7)), 3, KeyHold(), hand_over) == list(range(7))
    assert log == ["hand over", "piece 0", "hand over", "piece 3", "hand over", "piece 6"]
    log.clear()
    between_keys(work, [5], 3, KeyHold(), hand_over)
    assert log == ["hand over", "piece 5"]


def test_a_thread_goes_on_once_the_keys_action_ran_before_its_frame() -> None:
    clock = Clock()
    keys = KeyHold(60.0, clock)  # released by the test, never by the clock
    keys.pressed()
    done = threading.Event()
    thread = threading.Thread(target=lambda: (keys.wait_in_thread(), done.set()))
    thread.start()
    assert not done.wait(0.05)  # the key's action has not run: the thread waits
    keys.handled()  # the action ran; its frame is not painted yet
    assert done.wait(10)
    thread.join(10)
    assert keys.holding  # the loop's paced work still waits for the frame
    keys.painted()
    assert not keys.holding
