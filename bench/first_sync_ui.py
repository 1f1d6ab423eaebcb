"""A new account's first sync with the UI running: the envelope rate against the
headless one, and the keys' latency meanwhile (issue 17).

    python bench/first_sync_ui.py N [--cache DIR | --config FILE] [--runs R] [--ui-only]

The harness Dovecot with N generated messages in INBOX (``first_contact.big_inbox``;
``--cache DIR`` keeps the mailbox between runs), plain IMAP on loopback, a new account
with ``body_days = 0``; or, with ``--config FILE``, the one account of that mailtui
config (a Dovecot already serving N messages: nothing is started). ``--ui-only`` skips
the headless runs (no ratio then). R times (default 1), taking turns:

    headless_envelopes_s   ``mailtui sync --once`` in a process of its own: from its first
                           line (the worker connecting) until it reported N envelopes
    ui_envelopes_s         the real ``MailApp`` (headless Textual, 120×40) with the real
                           sync manager in this process: from the worker's first event
                           until N envelopes were committed, while keys are pressed
    ui_rate_ratio          ui_envelopes_s / headless_envelopes_s
    key_p50_ms, key_p95_ms j, j, PgDn, G, k, g pressed through the whole first sync, 20–80 ms
                           apart, each from entering the app's queue to the first frame
                           that draws the cursor's line after its action ran
                           (``ui_latency.KeyClock``); a placeholder row counts as drawn
                           (the message it stands for comes with the window on demand:
                           ``first_contact.py``'s oldest_row_s times that)
    first_key_ms           the first of those keys, right after the first rows (median)
    loop_longest_step_ms   the longest step of the event loop while keys were pressed
                           (a task's stretch between two awaits, a timer), by the loop
                           thread's own CPU time (``loop_steps.LoopSteps``): what the
                           app does to the loop, without the machine's load in it;
                           loop_steps_over_8ms / _16ms count the steps that long
    sync_held_by_keys_s    how long the sync's paced work on the loop waited for keys
                           (``pacing.KEYS``), parse_held_by_keys_s the parse thread
    ui_peak_rss_mb         this process's peak RSS (the app and its sync, and the
                           bench's own modules: about 4 MB)

Both rates start at the worker's first event, so the interpreter's start is in neither.
Figures are medians over the runs (RSS: the largest). Targets: the UI's rate within 20 %
of the headless one (ratio ≤ 1.2), key p95 < 16 ms (the UI latency target of
``bench/ui_latency.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import mailgen  # noqa: E402
from first_contact import big_inbox, mailtui_config  # noqa: E402
from loop_steps import LoopSteps  # noqa: E402
from sync_run import compile_mailtui, reap, start_sync_once  # noqa: E402
from ui_latency import TARGET_P95_MS, KeyClock  # noqa: E402

from mailtui import accounts, memory  # noqa: E402
from mailtui.store import Store  # noqa: E402
from mailtui.sync.contract import EventKind, SyncEvent  # noqa: E402
from mailtui.sync.manager import SyncManager  # noqa: E402

TARGET_RATIO = 1.2
TIMEOUT = 900.0
KEYS = ("j", "j", "pagedown", "G", "k", "g")


def headless(env: dict[str, str], n: int) -> float:
    """Seconds from ``sync --once``'s first line until it reported ``n`` envelopes."""
    proc, _peak, watcher = start_sync_once(env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    first = everything = float("nan")
    count = 0
    for line in proc.stdout:
        now = time.perf_counter()
        if first != first:
            first = now
        if "messages (" in line and ": +" in line:
            count += int(line.split(": +", 1)[1].split()[0].replace(",", ""))
            if count >= n and everything != everything:
                everything = now - first
    if reap(proc, watcher) != 0:
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(f"mailtui sync failed: {err[-2000:]}")
    return everything


async def with_ui(
    config_path: Path, db: Path, n: int, steps: LoopSteps | None = None
) -> tuple[float, list[tuple[str, float]]]:
    """(seconds from the worker's first event to ``n`` envelopes committed, key
    latencies in ms) of the real app and sync manager on a new account; ``steps``
    times the event loop's steps while the keys are pressed."""
    from mailtui.app import MailApp
    from mailtui.ui.screens.main import MainScreen
    from mailtui.ui.widgets import MessageList, MessageView

    config = accounts.load_config(config_path)
    store = await Store.open(db)
    try:
        manager = SyncManager(store, await accounts.specs(store, config))
        started: list[float] = []
        added = [0]
        done = asyncio.Event()

        def count(event: SyncEvent) -> None:
            if not started:
                started.append(time.perf_counter())
            if event.kind is EventKind.MESSAGES:
                added[0] += event.added
                if added[0] >= n:
                    done.set()

        manager.add_listener(count)
        app = MailApp(store, manager)
        clock = KeyClock(app, placeholders=True)
        rng = random.Random(1)
        latencies: list[tuple[str, float]] = []
        async with app.run_test(size=(120, 40)):
            deadline = time.perf_counter() + TIMEOUT
            while not app.query(MessageList) or app.query_one(MessageList).total == 0:
                if time.perf_counter() > deadline:
                    raise SystemExit("the app never showed the first rows")
                await asyncio.sleep(0.01)
            screen = app.screen
            assert isinstance(screen, MainScreen)
            clock.install(app.query_one(MessageList), app.query_one(MessageView), screen)
            if steps is not None:
                steps.armed = True
            while not done.is_set():
                for key in KEYS:
                    if done.is_set():
                        break
                    latencies.append((key, await clock.press(key, "list")))
                    await asyncio.sleep(rng.uniform(0.02, 0.08))
                if time.perf_counter() > deadline:
                    raise SystemExit(f"only {added[0]:,} of {n:,} envelopes came")
            ended = time.perf_counter()
            if steps is not None:
                steps.armed = False
            await manager.stop()
        return ended - started[0], latencies
    finally:
        await store.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--cache", type=Path, help="keep the generated mailbox here")
    parser.add_argument("--config", type=Path, help="a mailtui config of a running server")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--ui-only", action="store_true", help="no headless runs")
    args = parser.parse_args()
    n: int = args.n
    memory.keep_big_blocks_mapped()  # as `mailtui` does first thing (cli.main): the TUI's RSS
    compile_mailtui()
    fig: dict[str, list[float]] = {}
    pressed: list[tuple[str, float]] = []
    steps = LoopSteps()
    with mailgen.searchable_tempdir() as tmp:
        base = Path(tmp)
        with contextlib.ExitStack() as stack:
            if args.config is not None:
                config = args.config
            else:
                d = stack.enter_context(big_inbox(n, args.cache, base))
                config = base / "config.toml"
                config.write_text(mailtui_config(d))

            def data(name: str) -> dict[str, str]:
                return {
                    "MAILTUI_CONFIG": str(config),
                    "MAILTUI_DATA_DIR": str(base / name / "data"),
                    "MAILTUI_STATE_DIR": str(base / name / "state"),
                }

            if args.config is None and not args.ui_only:
                headless(data("warm"), n)  # Dovecot's cache warm for both
            for r in range(args.runs):
                if not args.ui_only:
                    fig.setdefault("headless_envelopes_s", []).append(headless(data(f"h{r}"), n))
                os.environ.update(data(f"u{r}"))  # the app's state (log, UI state) there
                (base / f"u{r}").mkdir()
                with steps.timing():
                    ui_s, latencies = asyncio.run(
                        with_ui(config, base / f"u{r}" / "mail.sqlite", n, steps)
                    )
                fig.setdefault("ui_envelopes_s", []).append(ui_s)
                if latencies:
                    fig.setdefault("first_key_ms", []).append(latencies[0][1])
                    if os.environ.get("FIRST_SYNC_KEYS"):  # every key, in order
                        print(" ".join(f"{k}:{ms:.0f}" for k, ms in latencies), file=sys.stderr)
                pressed.extend(latencies)
    figures = {k: statistics.median(v) for k, v in fig.items()}
    headless_s = figures.get("headless_envelopes_s", float("nan"))
    figures["ui_rate_ratio"] = figures["ui_envelopes_s"] / headless_s
    keys = sorted(ms for _, ms in pressed)
    print(f"messages: {n} count\nruns: {args.runs} count")
    print(f"headless_envelopes_s: {headless_s:.3f} s")
    print(f"ui_envelopes_s: {figures['ui_envelopes_s']:.3f} s")
    print(f"headless_envelopes_per_s: {n / headless_s:.0f} 1/s")
    print(f"ui_envelopes_per_s: {n / figures['ui_envelopes_s']:.0f} 1/s")
    print(f"ui_rate_ratio: {figures['ui_rate_ratio']:.3f} x")
    p95 = keys[int(0.95 * (len(keys) - 1))] if keys else float("nan")
    print(f"keys_measured: {len(keys)} keys")
    if keys:  # none when the sync was over before the first rows were drawn (small N)
        print(f"key_p50_ms: {statistics.median(keys):.1f} ms")
        print(f"key_p95_ms: {p95:.1f} ms")
        print(f"key_max_ms: {keys[-1]:.1f} ms")
        print(f"first_key_ms: {figures['first_key_ms']:.1f} ms")
    for key in dict.fromkeys(KEYS):
        mine = sorted(ms for k, ms in pressed if k == key)
        if mine:
            print(f"by_key_{key}_p50_ms: {statistics.median(mine):.1f} ms")
            print(f"by_key_{key}_max_ms: {mine[-1]:.1f} ms")
    print(f"loop_longest_step_ms: {steps.longest_ms():.1f} ms")
    print(f"loop_steps_over_8ms: {steps.over(8.0)} count")
    print(f"loop_steps_over_16ms: {steps.over(16.0)} count")
    try:
        from mailtui.pacing import KEYS as HOLD  # not in trees before the key hold

        print(f"sync_held_by_keys_s: {HOLD.held_s:.2f} s")
        print(f"keys_holding_sync: {HOLD.holds} keys")
        print(f"parse_held_by_keys_s: {HOLD.thread_held_s:.2f} s")
    except ImportError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ui_peak_rss_mb: {rss:.0f} MB")
    failed = []
    if not figures["ui_rate_ratio"] <= TARGET_RATIO:  # NaN (no headless run) fails too
        failed.append(f"UI rate within {TARGET_RATIO:.1f}x of headless")
    if not keys or p95 >= TARGET_P95_MS:
        failed.append(f"key p95 < {TARGET_P95_MS:.0f} ms")
    print(
        f"verdict: {'FAIL' if failed else 'PASS'} at N={n}"
        + (f" (missed: {', '.join(failed)})" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
