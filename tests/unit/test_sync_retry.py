"""When a worker tries again: a refused login waits for "reconnect now" or a settings
change (new ops do not retry it), a backoff is cut short by "reconnect now", and the
status says when the next attempt comes. The backend is a stand-in that only fails: the
retry logic is what is under test (the real server's side is in
tests/integration/test_imap_reconnect.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mailtui.errors import AuthError, TransientError
from mailtui.models import Account, AccountKind
from mailtui.sync.contract import AccountStatus, Capabilities, SyncEvent
from mailtui.sync.worker import Worker, WorkerOptions

ACCOUNT = Account(id=1, name="bench", kind=AccountKind.IMAP, email="a@b.c")


class Refusing:
    """A backend factory whose backends fail to connect with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.built = 0

    def __call__(self) -> Refusing:
        self.built += 1
        return self

    capabilities = Capabilities()

    async def connect(self) -> None:
        raise self.error

    async def close(self) -> None:
        pass


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):  # a guard for a broken build, not a measurement
        while not check():
            await asyncio.sleep(0.01)


def worker(factory: Refusing, events: list[SyncEvent], changed: bool = False) -> Worker:
    return Worker(
        ACCOUNT,
        factory,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  (never reached: the connect fails first)
        events.append,
        WorkerOptions(backoff_initial=3600.0, backoff_max=3600.0),
        changed=lambda: changed,
    )


async def test_a_refused_login_waits_for_reconnect_not_for_new_ops() -> None:
    factory = Refusing(AuthError("wrong password"))
    events: list[SyncEvent] = []
    w = worker(factory, events)
    task = asyncio.create_task(w.run(wait_when_refused=True))
    try:
        await until(lambda: w.status is AccountStatus.AUTH_FAILED)
        for _ in range(3):
            w.kick()  # the user triages meanwhile
            await asyncio.sleep(0.05)
        assert factory.built == 1 and not task.done()
        w.reconnect()
        await until(lambda: factory.built == 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_without_waiting_a_refused_login_ends_the_run() -> None:
    w = worker(Refusing(AuthError("wrong password")), [])
    assert await w.run() is AccountStatus.AUTH_FAILED


async def test_reconnect_cuts_a_backoff_short_and_the_status_says_when() -> None:
    factory = Refusing(TransientError("connection refused"))
    events: list[SyncEvent] = []
    w = worker(factory, events)
    task = asyncio.create_task(w.run(wait_when_refused=True))
    try:
        await until(lambda: w.status is AccountStatus.OFFLINE)
        assert w.retry_at is not None
        assert events[-1].retry_at == w.retry_at
        assert factory.built == 1
        w.reconnect()
        await until(lambda: factory.built == 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_reconnect_asked_during_a_failing_attempt_skips_the_backoff() -> None:
    """The request lands before the backoff starts (while the attempt fails): the
    backoff must not clear it away and wait its full length."""
    w = worker(Refusing(TransientError("connection refused")), [])
    w.reconnect()
    async with asyncio.timeout(30):  # a guard: without the fix this waits an hour
        await w._sleep_or_wake(3600)
