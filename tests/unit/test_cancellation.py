"""Stopping must stop: on Python 3.11 ``asyncio.wait_for`` swallows a cancellation that
arrives in the same loop iteration as the awaited result (fixed in 3.12), so a worker or
sender woken and cancelled at once would go on, and ``SyncManager.stop()`` (quitting the
app) would wait for it forever. mailtui uses ``asyncio.timeout`` instead."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from mailtui.models import Account, AccountKind
from mailtui.sync.worker import Worker

ROOT = Path(__file__).resolve().parents[2] / "mailtui"


def test_no_wait_for_in_mailtui() -> None:
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{n}"
        for path in ROOT.rglob("*.py")
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if "asyncio.wait_for(" in line or "from asyncio import wait_for" in line
    ]
    assert offenders == []


async def test_a_worker_woken_and_cancelled_at_once_stops() -> None:
    account = Account(id=1, name="a", kind=AccountKind.IMAP, email="a@b.c")
    worker = Worker(account, lambda: None, None, lambda e: None)  # type: ignore[arg-type,return-value]
    task = asyncio.create_task(worker._sleep_or_wake(30))
    await asyncio.sleep(0.01)
    worker.kick()  # the wake-up …
    task.cancel()  # … and the stop, in the same loop iteration
    with pytest.raises(asyncio.CancelledError):
        await task


class SlowToStopIdle:
    """A backend whose wait (IDLE) takes a moment to end when cancelled, like DONE and
    its tagged OK on the wire."""

    async def wait_for_changes(self, timeout: float) -> set[str]:
        try:
            await asyncio.sleep(timeout)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)
            raise
        return set()


async def test_a_stop_while_idle_is_being_ended_is_not_swallowed() -> None:
    account = Account(id=1, name="a", kind=AccountKind.IMAP, email="a@b.c")
    worker = Worker(account, lambda: None, None, lambda e: None)  # type: ignore[arg-type,return-value]
    task = asyncio.create_task(worker._wait(SlowToStopIdle()))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    worker.kick()  # the user wants something: the IDLE is ended (0.2 s) …
    await asyncio.sleep(0.05)
    task.cancel()  # … and the app quits meanwhile
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("wait", ["_wait", "_sleep_or_wake"])
async def test_a_stop_swallowed_on_the_way_still_stops_the_next_wait(wait: str) -> None:
    """A ``suppress(CancelledError)`` around a child task's await also swallows a stop
    of the worker that lands there; the next wait must not run (up to the poll
    interval, 300 s, holding up ``SyncManager.stop()``)."""
    account = Account(id=1, name="a", kind=AccountKind.IMAP, email="a@b.c")
    worker = Worker(account, lambda: None, None, lambda e: None)  # type: ignore[arg-type,return-value]
    waits: dict[str, Callable[[], Awaitable[object]]] = {
        "_wait": lambda: worker._wait(SlowToStopIdle()),  # type: ignore[arg-type]
        "_sleep_or_wake": lambda: worker._sleep_or_wake(300),
    }

    async def round_with_a_swallowed_stop() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)  # the stop lands here and is lost
        await waits[wait]()

    task = asyncio.create_task(round_with_a_swallowed_stop())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):  # a guard: without the fix the wait is 300 s
            await task
