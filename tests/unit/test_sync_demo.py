"""The sync worker and manager, end to end on the demo backend and a real store.

The demo backend is a real backend (a local server file), so these tests run the same
worker code path as an IMAP account: batches into the store, ops pushed and confirmed,
bodies on demand, push arrivals, reconnects.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from mailtui.accounts import demo_spec
from mailtui.errors import AuthError, TransientError
from mailtui.models import Flag, FolderBatch, FolderRole, OpResult, PendingOp, RemoteFolder
from mailtui.protocols.demo.backend import DemoBackend
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus, Backend, EventKind, SyncEvent
from mailtui.sync.manager import SyncManager, WorkerSpec
from mailtui.sync.worker import WorkerOptions

COUNT = 300


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


def server_rows(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(tmp_path / "server.sqlite") as db:
        return dict(db.execute("SELECT folder, COUNT(*) FROM messages GROUP BY folder"))


async def folder_by_role(store: Store, role: FolderRole) -> int:
    for f in await store.folders():
        if f.role is role:
            return f.id
    raise AssertionError(role)


async def test_sync_once_mirrors_every_folder(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=COUNT)
    events: list[SyncEvent] = []
    manager = SyncManager(store, [spec])
    manager.add_listener(events.append)
    result = await manager.run_once()
    assert result == {"demo": AccountStatus.ONLINE}
    expected = server_rows(tmp_path)
    got = {f.name: f.total for f in await store.folders()}
    assert {k: v for k, v in got.items() if v} == expected
    assert sum(expected.values()) == COUNT + 1  # + the hostile message
    kinds = {e.kind for e in events}
    assert {EventKind.STATUS, EventKind.FOLDERS, EventKind.MESSAGES} <= kinds
    # A second run finds nothing new and duplicates nothing.
    await SyncManager(store, [spec]).run_once()
    assert {f.name: f.total for f in await store.folders() if f.total} == expected


async def test_flag_and_move_intents_reach_the_server(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=COUNT)
    await SyncManager(store, [spec]).run_once()
    inbox = await folder_by_role(store, FolderRole.INBOX)
    archive = await folder_by_role(store, FolderRole.ARCHIVE)
    rows = await store.window(inbox, 0, 3)
    first, second = rows[0], rows[1]
    await store.set_flags([first.id], add=Flag.FLAGGED | Flag.SEEN, remove=Flag.NONE)
    await store.move([second.id], archive)
    assert len(await store.pending_ops(spec.account.id, 10)) == 2
    await SyncManager(store, [spec]).run_once()
    assert await store.pending_ops(spec.account.id, 10) == []
    with sqlite3.connect(tmp_path / "server.sqlite") as db:
        ref = await store.remote_ref(first.id)
        assert ref is not None
        (flags,) = db.execute("SELECT flags FROM messages WHERE uid = ?", (int(ref[1]),)).fetchone()
        assert Flag(flags) & Flag.FLAGGED and Flag(flags) & Flag.SEEN
        moved = await store.remote_ref(second.id)
        assert moved is not None and moved[0] == "Archive"
        (folder,) = db.execute(
            "SELECT folder FROM messages WHERE uid = ?", (int(moved[1]),)
        ).fetchone()
        assert folder == "Archive"
    # The move was not duplicated by the following pull of Archive.
    assert server_rows(tmp_path)["Archive"] == (await store.count(archive))[0]


async def test_body_on_demand_for_old_messages(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=COUNT)
    manager = SyncManager(store, [spec])
    await manager.run_once()
    inbox = await folder_by_role(store, FolderRole.INBOX)
    total, _ = await store.count(inbox)
    oldest = (await store.window(inbox, total - 1, 1))[0]
    detail = await store.message(oldest.id)
    assert detail is not None and detail.raw is None  # outside the 30-day body window
    await manager.start()
    try:
        raw = await manager.fetch_body(oldest.id)
    finally:
        await manager.stop()
    assert raw is not None and b"Message-ID" in raw
    cached = await store.message(oldest.id)
    assert cached is not None and cached.raw == raw


async def test_push_arrival_lands_in_store(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=50, arrival_interval=0.3)
    manager = SyncManager(store, [spec])
    added = asyncio.Event()

    def listen(e: SyncEvent) -> None:
        if e.kind is EventKind.MESSAGES and e.added == 1:
            added.set()

    await manager.run_once()
    inbox = await folder_by_role(store, FolderRole.INBOX)
    before = (await store.count(inbox))[0]
    manager.add_listener(listen)
    await manager.start()
    try:
        await asyncio.wait_for(added.wait(), 10)
    finally:
        await manager.stop()
    assert (await store.count(inbox))[0] >= before + 1


class Flaky:
    """Wraps a real backend and drops the connection on chosen calls (fault injection)."""

    def __init__(self, inner: Backend, fail_pulls: int = 0, fail_apply: int = 0) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self.fail_pulls = fail_pulls
        self.fail_apply = fail_apply

    async def connect(self) -> None:
        await self.inner.connect()

    async def close(self) -> None:
        await self.inner.close()

    async def list_folders(self) -> list[RemoteFolder]:
        return await self.inner.list_folders()

    async def _pull(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        n = 0
        async for batch in self.inner.pull(folder, state):
            n += 1
            if self.fail_pulls and n == 2:
                self.fail_pulls -= 1
                raise TransientError("connection reset by peer")
            yield batch

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._pull(folder, state)

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        return await self.inner.fetch_body(folder, remote_id)

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        if self.fail_apply:
            self.fail_apply -= 1
            raise TransientError("connection reset by peer")
        return await self.inner.apply(op, target_folder)

    async def wait_for_changes(self, timeout: float) -> set[str]:
        return await self.inner.wait_for_changes(timeout)


async def test_reconnects_after_drops_and_loses_nothing(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=1200)
    inner_factory = spec.factory
    state = {"pull_failures": 2, "apply_failures": 1}

    def factory() -> Backend:
        inner = inner_factory()
        b = Flaky(inner, fail_pulls=min(1, state["pull_failures"]), fail_apply=0)
        state["pull_failures"] -= b.fail_pulls
        return b

    statuses: list[AccountStatus] = []
    fast = WorkerOptions(backoff_initial=0.01, backoff_max=0.05)
    manager = SyncManager(store, [WorkerSpec(spec.account, factory, fast)])
    manager.add_listener(lambda e: e.status and statuses.append(e.status))
    await manager.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if manager.status()["demo"][0] is AccountStatus.ONLINE:
                break
    finally:
        await manager.stop()
    assert AccountStatus.OFFLINE in statuses
    assert statuses.count(AccountStatus.ONLINE) >= 1
    got = {f.name: f.total for f in await store.folders() if f.total}
    assert got == server_rows(tmp_path)


async def test_op_survives_a_drop_and_is_applied_once(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=COUNT)
    await SyncManager(store, [spec]).run_once()
    inbox = await folder_by_role(store, FolderRole.INBOX)
    row = (await store.window(inbox, 0, 1))[0]
    await store.set_flags([row.id], add=Flag.FLAGGED, remove=Flag.NONE)
    flaky = WorkerSpec(spec.account, lambda: Flaky(spec.factory(), fail_apply=1), spec.options)
    result = await SyncManager(store, [flaky]).run_once()
    assert result["demo"] is AccountStatus.OFFLINE
    assert len(await store.pending_ops(spec.account.id, 10)) == 1  # kept for the next round
    assert (await store.window(inbox, 0, 1))[0].flags & Flag.FLAGGED  # still shown flagged
    result = await SyncManager(store, [spec]).run_once()
    assert result["demo"] is AccountStatus.ONLINE
    assert await store.pending_ops(spec.account.id, 10) == []


async def test_wrong_password_stops_retrying(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=10)
    calls = 0

    class Refusing(DemoBackend):
        async def connect(self) -> None:
            nonlocal calls
            calls += 1
            raise AuthError("authentication failed")

    bad = WorkerSpec(
        spec.account,
        lambda: Refusing(lambda: None),  # type: ignore[arg-type,return-value]
        WorkerOptions(backoff_initial=0.01, backoff_max=0.01),
    )
    manager = SyncManager(store, [bad])
    result = await asyncio.wait_for(manager.run_forever(), 5)
    assert result == {"demo": AccountStatus.AUTH_FAILED}
    assert calls == 1
    assert "login refused" in manager.status()["demo"][1]


async def test_a_cache_write_failure_is_reported_and_retried(
    store: Store, tmp_path: Path
) -> None:
    """A full disk (here: the first batch write fails) stops nothing for good: the status
    says what happened in plain words, and the next attempt syncs everything."""
    from mailtui.store import StoreError

    spec = await demo_spec(store, tmp_path, count=30)
    real = store.apply_batch
    failures = [StoreError("database or disk is full")]

    async def apply_batch(
        folder_id: int, batch: FolderBatch, *, durable: bool = False
    ) -> list[int]:
        if failures:
            raise failures.pop()
        return await real(folder_id, batch, durable=durable)

    store.apply_batch = apply_batch  # type: ignore[method-assign]
    texts: list[str] = []
    fast = WorkerOptions(backoff_initial=0.01, backoff_max=0.02)
    manager = SyncManager(store, [WorkerSpec(spec.account, spec.factory, fast)])
    manager.add_listener(lambda e: e.kind is EventKind.STATUS and texts.append(e.text))
    await manager.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if manager.status()["demo"][0] is AccountStatus.ONLINE:
                break
    finally:
        await manager.stop()
    assert "the local cache failed: database or disk is full" in texts
    assert {f.name: f.total for f in await store.folders() if f.total} == server_rows(tmp_path)


async def test_a_bug_in_a_backend_is_logged_not_shown_raw(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = await demo_spec(store, tmp_path, count=5)

    class Broken(DemoBackend):
        async def list_folders(self) -> list[RemoteFolder]:
            raise ValueError("unexpected thing")

    inner = spec.factory()
    assert isinstance(inner, DemoBackend)
    broken = WorkerSpec(
        spec.account,
        lambda: Broken(inner._get_server),
        WorkerOptions(backoff_initial=0.01, backoff_max=0.01),
    )
    result = await SyncManager(store, [broken]).run_once()
    assert result == {"demo": AccountStatus.ERROR}
    assert any("sync worker of demo failed" in r.message for r in caplog.records)
    assert any(r.exc_info for r in caplog.records)  # the traceback is in the log
