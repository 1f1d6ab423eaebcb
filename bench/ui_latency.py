"""UI latency on a big store: first paint, keypress → repaint, memory, during a sync.

Usage: ``python bench/ui_latency.py [N]`` (N defaults to 1,000,000; the build takes a
minute or so at that size). A child process builds a store of N messages (one Inbox,
lazily generated batches as in ``bench/store_scale.py``), so that this process's peak RSS
is the app's own. Then the real ``MailApp`` runs headless (``run_test`` at 120×40) on it:

- ``first_paint_s``: from creating the app to the first paint that shows list rows;
- ``key_p50_ms`` / ``key_p95_ms``: from a key (j, PgDn, G, g, Enter to open a message,
  Esc) to the first paint that shows its result (the cursor's row read from the store,
  or the reader's body), measured on the app's own paint calls;
- all while a simulated sync inserts 1,000 envelopes a second through the real store and
  tells the UI as the sync manager would;
- ``peak_rss_mb``: this process's peak resident memory.

Headless Textual composes each frame but writes no bytes, so terminal output time is not
included. Prints one ``name: value unit`` figure per line, then a verdict line against the
targets (first paint < 0.5 s, p95 < 16 ms, RSS < 100 MB); exits 1 on FAIL.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from mailtui.models import AccountKind, Address, Envelope, Flag, FolderRole, NewMessage  # noqa: E402
from mailtui.store import Store  # noqa: E402
from mailtui.sync.base import (  # noqa: E402
    AccountStatus,
    EventKind,
    FolderBatch,
    RemoteFolder,
    SyncEvent,
)

TARGET_FIRST_PAINT_S = 0.5
TARGET_P95_MS = 16.0
TARGET_RSS_MB = 100.0
SYNC_RATE = 1000  # envelopes per second
SYNC_TICK = 0.1  # seconds between simulated batches
ROUNDS = 12


async def build(path: Path, n: int) -> None:
    from store_scale import batches  # the same generator as the store benchmark

    store = await Store.open(path)
    try:
        account = await store.ensure_account("bench", AccountKind.IMAP, "me@bench.example")
        ids = await store.sync_folders(
            account.id, [RemoteFolder("INBOX", "INBOX", FolderRole.INBOX)]
        )
        for batch in batches("INBOX", n, seed=7):
            await store.apply_batch(ids["INBOX"], batch)
    finally:
        await store.close()


class SimulatedSync:
    """Stands in for the sync manager: inserts envelopes through the real store at
    ``SYNC_RATE`` and emits the events a worker would."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.listeners: list[Callable[[SyncEvent], None]] = []
        self.inserted = 0
        self._task: asyncio.Task[None] | None = None

    def add_listener(self, cb: Callable[[SyncEvent], None]) -> None:
        self.listeners.append(cb)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def status(self) -> dict[str, tuple[AccountStatus, str]]:
        return {"bench": (AccountStatus.ONLINE, "")}

    async def fetch_body(self, message_id: int) -> bytes | None:
        return None

    def kick(self, account_id: int) -> None:
        pass

    def capabilities(self, account_id: int) -> Any:
        return None

    async def _run(self) -> None:
        folder = next(f for f in await self.store.folders() if f.role == FolderRole.INBOX)
        per_tick = int(SYNC_RATE * SYNC_TICK)
        start = time.monotonic()
        tick = 0
        while True:
            added = []
            for _ in range(per_tick):
                self.inserted += 1
                envelope = Envelope(
                    subject=f"Live message {self.inserted}",
                    from_=(Address("Live Sender", "live@bench.example"),),
                    date=int(time.time()),
                    message_id=f"<live.{self.inserted}@bench.example>",
                    size=3000,
                )
                added.append(NewMessage(f"live{self.inserted}", envelope, Flag.NONE))
            await self.store.apply_batch(folder.id, FolderBatch("INBOX", added=added))
            event = SyncEvent("bench", EventKind.MESSAGES, folder_id=folder.id, added=per_tick)
            for listener in self.listeners:
                listener(event)
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * SYNC_TICK - time.monotonic()))


async def measure(path: Path) -> dict[str, float]:
    from mailtui.app import MailApp
    from mailtui.ui.widgets import MessageList, MessageView

    store = await Store.open(path)
    sync = SimulatedSync(store)
    created = time.perf_counter()
    app = MailApp(store, sync)  # type: ignore[arg-type]
    paints: list[float] = []
    real_display = app._display

    def display(screen: Any, renderable: Any) -> None:
        paints.append(time.perf_counter())
        real_display(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    figures: dict[str, float] = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            listing = app.query_one(MessageList)
            first_paint = None
            while first_paint is None:
                if listing.cursor_row is not None and paints:
                    first_paint = paints[-1]
                await asyncio.sleep(0.001)
            figures["first_paint_s"] = first_paint - created
            reader = app.query_one(MessageView)
            latencies: list[float] = []

            async def timed(key: str, ready: Callable[[], bool]) -> None:
                """Key → the first paint made once its result is there."""
                start = time.perf_counter()
                before = len(paints)
                await pilot.press(key)
                deadline = start + 5.0
                while not ready() and time.perf_counter() < deadline:
                    await asyncio.sleep(0.0005)
                shown = max(before, len(paints) - 1 if paints[before:] else before)
                while len(paints) <= shown and time.perf_counter() < deadline:
                    await asyncio.sleep(0.0005)
                end = paints[shown] if len(paints) > shown else time.perf_counter()
                latencies.append((end - start) * 1000)

            def row_ready() -> bool:
                return listing.cursor_row is not None

            for _ in range(ROUNDS):
                for key in ("j", "j", "pagedown", "G", "k", "g"):
                    await timed(key, row_ready)
                await timed("enter", lambda: bool(reader.message_id and reader.body_plain))
                await timed("escape", row_ready)
            latencies.sort()
            figures["key_p50_ms"] = statistics.median(latencies)
            figures["key_p95_ms"] = latencies[int(0.95 * (len(latencies) - 1))]
            figures["keys_measured"] = float(len(latencies))
            figures["sync_inserted"] = float(sync.inserted)
            await sync.stop()
    finally:
        await store.close()
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--build":
        asyncio.run(build(Path(sys.argv[2]), int(sys.argv[3])))
        return 0
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{n}.sqlite"
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build", str(path), str(n)], check=True)
        build_s = time.perf_counter() - started
        figures = asyncio.run(measure(path))
    print(f"messages: {n:,}")
    print(f"build_s: {build_s:.1f} s")
    print(f"first_paint_s: {figures['first_paint_s']:.3f} s")
    print(f"key_p50_ms: {figures['key_p50_ms']:.1f} ms")
    print(f"key_p95_ms: {figures['key_p95_ms']:.1f} ms")
    print(f"keys_measured: {int(figures['keys_measured'])} keys")
    print(f"sync_inserted: {int(figures['sync_inserted']):,} envelopes")
    print(f"peak_rss_mb: {figures['peak_rss_mb']:.0f} MB")
    ok = (
        figures["first_paint_s"] < TARGET_FIRST_PAINT_S
        and figures["key_p95_ms"] < TARGET_P95_MS
        and figures["peak_rss_mb"] < TARGET_RSS_MB
    )
    print(
        f"verdict: {'PASS' if ok else 'FAIL'} (targets: first paint < {TARGET_FIRST_PAINT_S} s, "
        f"key p95 < {TARGET_P95_MS:.0f} ms, peak RSS < {TARGET_RSS_MB:.0f} MB)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
