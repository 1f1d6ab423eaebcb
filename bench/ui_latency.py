"""UI latency on a big store: first paint, keypress → repaint, memory, during a sync.

Usage: ``python bench/ui_latency.py [N]`` (N defaults to 1,000,000; the build takes a
minute or so at that size). A child process builds a store of N messages (one Inbox,
lazily generated batches as in ``bench/store_scale.py``), so that this process's peak RSS
is the app's own. Then the real ``MailApp`` runs headless (``run_test`` at 120×40) on it:

- ``first_paint_s``: from creating the app to the first paint that shows list rows;
- ``key_p50_ms`` / ``key_p95_ms``: from a key (j, PgDn, G, k, g, Enter to open a message,
  Esc) entering the app's queue, as a terminal driver posts it, to the first compositor
  update that contains its result (the cursor's line drawn with its row, not a
  placeholder; the reader's body for that message), measured in the app (``KeyClock``);
  keys come 20-80 ms after the previous result, like a fast typist;
- all while a simulated sync inserts 1,000 envelopes a second through the real store and
  tells the UI as the sync manager would;
- ``peak_rss_mb``: this process's peak resident memory.

The Enter of those figures opens the newest message, which the simulated sync has just
added without a body: the reader shows that it is not downloaded (``fetch_body`` answers
None at once). Opening a message whose body is cached (mail older than a few seconds,
once the body phase ran) parses MIME and lays out the text as well; after the figures
above, ``enter_cached_body_p50_ms`` / ``_max_ms`` time that (12 messages of
``bench/mailgen.py``, their bodies stored just before Enter, same sync load). They are
for information: not part of ``key_p50_ms``/``key_p95_ms`` nor of the verdict.

Headless Textual composes each frame but writes no bytes, so terminal output time is not
included. Prints one ``name: value unit`` figure per line, then a verdict line against the
targets (first paint < 0.5 s, p95 < 16 ms, RSS < 100 MB); exits 1 on FAIL.
"""

from __future__ import annotations

import asyncio
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from mailtui.models import (  # noqa: E402
    AccountKind,
    Address,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    RemoteFolder,
)
from mailtui.store import Store  # noqa: E402
from mailtui.sync.contract import (  # noqa: E402
    AccountStatus,
    Capabilities,
    EventKind,
    SyncEvent,
)
from mailtui.sync.manager import WorkerSpec  # noqa: E402
from mailtui.sync.server_search import ServerFilter  # noqa: E402
from mailtui.sync.window import FolderGaps  # noqa: E402

TARGET_FIRST_PAINT_S = 0.5
TARGET_P95_MS = 16.0
TARGET_RSS_MB = 100.0
SYNC_RATE = 1000  # envelopes per second
SYNC_TICK = 0.1  # seconds between simulated batches
ROUNDS = 12
BODY_ROUNDS = 12  # Enter on a message with a cached body (informational figure)


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

    def capabilities(self, account_id: int) -> Capabilities | None:
        return None

    def gaps(self, folder_id: int) -> FolderGaps | None:
        return None  # the simulated sync adds whole envelopes: no first-pass gaps

    def want_window(self, folder_id: int, remote_ids: list[str]) -> None:
        pass

    # The rest of the UI's SyncControl: there is no server behind the simulated sync, so
    # reconnecting, polling and account changes have nothing to act on in this benchmark.
    def reconnect(self) -> None:
        pass

    def check_now(self) -> None:
        pass

    async def change_folder(
        self, account_id: int, kind: str, name: str, new_path: str | None = None
    ) -> str:
        raise NotImplementedError("the benchmark changes no folders")

    def set_open_folder(self, account_id: int | None, folder_id: int | None) -> None:
        pass

    def rows_drawn(self, folder_id: int) -> None:
        pass

    async def add_account(self, spec: WorkerSpec) -> None:
        raise NotImplementedError("the benchmark adds no accounts")

    async def remove_account(self, account_id: int) -> None:
        raise NotImplementedError("the benchmark removes no accounts")

    async def date_position(self, folder_id: int, day: date) -> int | None:
        return None  # no first pass: the store answers

    def search_server(self, folder_id: int, query: str) -> ServerFilter | None:
        return None  # no first pass: the store's search is whole

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


class KeyClock:
    """Times keys in the app: from the key entering the app's queue (as a terminal
    driver posts it) to the first compositor update (``App._display``) that contains its
    result.

    "Contains its result" is checked on what the compositor renders, not guessed from
    state: a list key counts once the list rendered the cursor's line with its row (not a
    placeholder) after the key's action ran; opening a message once the reader's body was
    rendered for that message; closing the reader once the list rendered the cursor line
    again. Pilot's ``press`` is not used for timing: it waits for the process to go idle
    (>= 20 ms, longer while the sync keeps it busy) and would be counted as latency.
    """

    def __init__(self, app: Any, placeholders: bool = False) -> None:
        self.app = app
        # A list key's result may be a placeholder row ("…", a message of a first pass
        # not fetched yet): the cursor moved and was drawn; the message comes later.
        self.placeholders = placeholders
        self.paints = 0
        self.first_paint: float | None = None
        self._start = 0.0
        self._armed = False  # a key is being timed
        self._handled = False  # its action ran
        self._shown = False  # the compositor rendered its result since then
        self._done: asyncio.Event = asyncio.Event()
        self._end = 0.0

    def install(self, listing: Any, reader: Any, screen: Any) -> None:
        app = self.app
        real_display = app._display

        def display(screen: Any, renderable: Any) -> None:
            now = time.perf_counter()
            self.paints += 1
            if self._armed and self._shown:
                self._armed = False
                self._end = now
                self._done.set()
            real_display(screen, renderable)

        app._display = display

        def after(owner: Any, name: str) -> None:
            real = getattr(owner, name)

            def wrapped(*args: Any, **kwargs: Any) -> Any:
                result = real(*args, **kwargs)
                if self._armed:
                    self._handled = True
                return result

            setattr(owner, name, wrapped)

        for name in ("action_cursor_down", "action_cursor_up", "action_page_down",
                     "action_first", "action_last"):
            after(listing, name)
        after(screen, "close_reader")

        real_render_line = listing.render_line

        def render_line(y: int) -> Any:
            strip = real_render_line(y)
            drawn = listing.cursor_line is not None or (
                self.placeholders and listing._window.get(listing.cursor) is not None
            )
            if listing._top + y == listing.cursor and drawn:
                if self.first_paint is None:
                    self.first_paint = time.perf_counter()
                if self._armed and self._handled and self._expect == "list":
                    self._shown = True
            return strip

        listing.render_line = render_line
        body = reader.query_one("#reader-body")
        real_body_lines = body.render_lines

        def body_lines(crop: Any) -> Any:
            lines = real_body_lines(crop)
            if (
                self._armed
                and self._expect == "reader"
                and reader.message_id is not None
                and reader.message_id == self._opening
                and reader.body_plain
                and reader.body_plain != "Loading…"
            ):
                self._shown = True
            return lines

        body.render_lines = body_lines
        self._expect = "list"
        self._opening: int | None = None

    async def press(self, key: str, expect: str, opening: int | None = None) -> float:
        """Send ``key`` as a terminal would; milliseconds until its result was painted."""
        from textual import events

        self._expect = expect
        self._opening = opening
        self._handled = expect == "reader"  # Enter: the reader's body is the result
        self._shown = False
        self._done.clear()
        event = events.Key(key, key if len(key) == 1 else None)
        self._armed = True
        self._start = time.perf_counter()
        self.app._driver.send_message(event)
        try:
            await asyncio.wait_for(self._done.wait(), 5.0)
        except TimeoutError:
            self._armed = False
            return 5000.0
        return (self._end - self._start) * 1000


async def measure(path: Path) -> dict[str, float]:
    from mailgen import message  # realistic MIME: text, HTML, attachments, 8 scripts

    from mailtui.app import MailApp
    from mailtui.ui.screens.main import MainScreen
    from mailtui.ui.widgets import MessageList, MessageView

    pool = random.Random(3)
    bodies = [message(i, 10_000, pool, time.time(), 86_400.0) for i in range(2, 2 + BODY_ROUNDS)]
    store = await Store.open(path)
    sync = SimulatedSync(store)
    created = time.perf_counter()
    app = MailApp(store, sync)
    clock = KeyClock(app)
    real_display = app._display

    def early_display(screen: Any, renderable: Any) -> None:  # until the widgets exist
        real_display(screen, renderable)
        if clock.first_paint is None and app.query(MessageList):
            listing = app.query_one(MessageList)
            if listing.cursor_line is not None:
                clock.first_paint = time.perf_counter()

    app._display = early_display  # type: ignore[method-assign]
    figures: dict[str, float] = {}
    rng = random.Random(1)
    try:
        async with app.run_test(size=(120, 40)):
            while clock.first_paint is None:
                await asyncio.sleep(0.001)
            figures["first_paint_s"] = clock.first_paint - created
            listing = app.query_one(MessageList)
            reader = app.query_one(MessageView)
            screen = app.screen
            assert isinstance(screen, MainScreen)
            app._display = real_display  # type: ignore[method-assign]
            clock.install(listing, reader, screen)
            await asyncio.sleep(0.5)  # the sync is running: keys land among its batches
            latencies: dict[str, list[float]] = {}
            for _ in range(ROUNDS):
                for key in ("j", "j", "pagedown", "G", "k", "g"):
                    latencies.setdefault(key, []).append(await clock.press(key, "list"))
                    await asyncio.sleep(rng.uniform(0.02, 0.08))  # a fast typist's gap
                row = listing.cursor_row
                assert row is not None
                latencies.setdefault("enter", []).append(
                    await clock.press("enter", "reader", opening=row.id)
                )
                await asyncio.sleep(rng.uniform(0.02, 0.08))
                latencies.setdefault("escape", []).append(await clock.press("escape", "list"))
                await asyncio.sleep(rng.uniform(0.02, 0.08))
            # Informational: Enter on a message whose body is cached (see the docstring).
            cached: list[float] = []
            for raw in bodies:
                row = listing.cursor_row
                assert row is not None
                await store.store_body(row.id, raw, "")
                cached.append(await clock.press("enter", "reader", opening=row.id))
                await asyncio.sleep(rng.uniform(0.02, 0.08))
                await clock.press("escape", "list")
                await asyncio.sleep(rng.uniform(0.02, 0.08))
                await clock.press("j", "list")  # the next message, for the next round
                await asyncio.sleep(rng.uniform(0.02, 0.08))
            cached.sort()
            figures["enter_cached_body_p50_ms"] = statistics.median(cached)
            figures["enter_cached_body_max_ms"] = cached[-1]
            every = sorted(v for values in latencies.values() for v in values)
            figures["key_p50_ms"] = statistics.median(every)
            figures["key_p95_ms"] = every[int(0.95 * (len(every) - 1))]
            figures["keys_measured"] = float(len(every))
            for key, values in latencies.items():
                values.sort()
                figures[f"by_key_{key}_p50_ms"] = statistics.median(values)
                figures[f"by_key_{key}_max_ms"] = values[-1]
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
    for name, value in figures.items():
        if name.startswith("by_key_"):
            print(f"{name}: {value:.1f} ms")
    print(f"enter_cached_body_p50_ms: {figures['enter_cached_body_p50_ms']:.1f} ms")
    print(f"enter_cached_body_max_ms: {figures['enter_cached_body_max_ms']:.1f} ms")
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
