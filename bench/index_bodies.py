"""The search index's text after the download: ``Worker._index_bodies`` on N bodies.

    python bench/index_bodies.py N [--runs R]

Builds a cache of N bench/mailgen.py messages (10,000 ≈ 500 MB) whose bodies are stored
without their text, which is what ``mailtui sync --once`` leaves when it reports the
account "in step", then indexes it, each run in a child process on a fresh copy of that
cache (median of R runs, default 3; the copy is written back to disk before the clock
starts):

    index_once_s        ``_index_bodies(once=True)``: what ``sync --once`` does between
                        "in step" and its exit (with a helper process for the text
                        from 2,000 bodies on, where it can run)
    index_once_cpu_s    CPU of that, the helper's included
    once_by_helper_pct  the share of the bodies whose text the helper made
    index_app_s         ``_index_bodies(once=False)``, as the app's worker runs it (the
                        text in a thread), with a timer on the same event loop:
    app_loop_late_p95_ms  how late that 5 ms timer fires and runs 0.5 ms of Python
                        while the app indexes (the UI's keys wait like it);
                        app_loop_idle_p95_ms is the same with nothing to index

Each run checks its result: every body's indexed text is ``mime.body_text(raw)`` and
FTS5's integrity-check passes. Target: index_once_s at most 0.95 s per 10,000 bodies,
half the 1.9 s the loop took before (docs/decisions.md, "Search text after the
download, faster"), and at least 0.1 s for small N (opening, the first batch).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from mailtui.models import AccountKind, FolderBatch, FolderRole, NewMessage, RemoteFolder  # noqa: E402  # noqa: E402
from mailtui.store import Store  # noqa: E402

TARGET_S_PER_10K = 0.95
TARGET_MIN_S = 0.1
ACCOUNT = "bench"


async def build(n: int, path: Path) -> None:
    """The cache: N messages in INBOX, every body stored, no text indexed."""
    import mailgen

    from mailtui.mime import parse_envelope

    store = await Store.open(path)
    try:
        account = await store.ensure_account(ACCOUNT, AccountKind.IMAP, "bench@mailtui.test")
        inbox = RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)
        folder = (await store.sync_folders(account.id, [inbox]))["INBOX"]
        raws = mailgen.messages(n)
        for start in range(0, n, 500):
            chunk = raws[start : start + 500]
            added = [
                NewMessage(remote_id=str(start + i), envelope=parse_envelope(raw))
                for i, raw in enumerate(chunk)
            ]
            ids = await store.apply_batch(folder, FolderBatch(folder="INBOX", added=added))
            await store.store_bodies([(i, raw, None) for i, raw in zip(ids, chunk, strict=True)])
    finally:
        await store.close()


def _cpu() -> float:
    """CPU of this process and of its children that ended (the helper)."""
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


async def _late_timer(stop: asyncio.Event, late: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        sum(range(6000))  # about 0.5 ms of Python, as a key's handler
        late.append((time.perf_counter() - start - 0.005) * 1000)


async def one_run(mode: str, path: Path) -> dict[str, float]:
    """Child process: index the copy at ``path`` once (``mode`` "once" or "app")."""
    from mailtui.sync.indexer import index_bodies
    from mailtui.sync.worker import Worker

    store = await Store.open(path)
    try:
        account = await store.ensure_account(ACCOUNT, AccountKind.IMAP, "bench@mailtui.test")
        worker = Worker(account, lambda: None, store, lambda e: None)  # type: ignore[arg-type,return-value]
        stop, late = asyncio.Event(), list[float]()
        timer = asyncio.create_task(_late_timer(stop, late)) if mode == "app" else None
        await asyncio.sleep(0.3 if timer else 0)
        idle, late[:] = list(late), []
        figures: dict[str, float] = {}
        cpu, start = _cpu(), time.perf_counter()
        if mode == "once":  # what Worker._index_bodies(once=True) does, with its figures
            done = await index_bodies(store, account.id, helper=True)
            figures["by_helper_pct"] = 100 * done.by_helper / max(1, done.bodies)
        else:
            await worker._index_bodies(once=False)
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
        stop.set()
        if timer is not None:
            await timer
        left = await store.bodies_to_index(account.id, 1)
    finally:
        await store.close()
    figures.update(wall=wall, cpu=cpu, left=float(len(left)))
    if mode == "app":
        figures["late_p95"] = statistics.quantiles(late, n=20)[-1] if len(late) > 1 else 0.0
        figures["idle_p95"] = statistics.quantiles(idle, n=20)[-1] if len(idle) > 1 else 0.0
    return figures


async def check(path: Path) -> str:
    """'' if every indexed text is body_text(raw) and the FTS index is sound, else why."""
    from mailtui.mime import body_text

    db = sqlite3.connect(path)
    try:
        db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        rows = db.execute("SELECT message_id, text, indexed FROM bodies").fetchall()
    finally:
        db.close()
    store = await Store.open(path)
    try:
        for message_id, text, indexed in rows:
            detail = await store.message(message_id)
            if detail is None or detail.raw is None:
                return f"message {message_id}: its body is gone"
            if not indexed or text != body_text(detail.raw):
                return f"message {message_id}: indexed text differs from mime.body_text"
    finally:
        await store.close()
    return ""


def timed(mode: str, template: Path, work: Path, verify: bool) -> dict[str, float]:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(template, work)
    os.sync()  # the copy's writeback must not land in the timed run (fsyncs wait for it)
    out = subprocess.run(
        [sys.executable, __file__, "--one", mode, str(work / "mail.sqlite")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out)
    if figures["left"]:
        raise SystemExit(f"error: {mode} left bodies unindexed")
    if verify and (problem := asyncio.run(check(work / "mail.sqlite"))):
        raise SystemExit(f"error: {mode}: {problem}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("MODE", "DB"), help=argparse.SUPPRESS)
    parser.usage = "python bench/index_bodies.py N [--runs R]"
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(asyncio.run(one_run(sys.argv[2], Path(sys.argv[3])))))
        return 0
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailtui-index-bench-") as tmp:
        template = Path(tmp) / "template"
        template.mkdir()
        asyncio.run(build(args.n, template / "mail.sqlite"))
        runs: dict[str, list[dict[str, float]]] = {"once": [], "app": []}
        for i in range(args.runs):
            for mode in runs:  # alternated, so that a busy moment hits both
                runs[mode].append(timed(mode, template, Path(tmp) / "run", verify=i == 0))

    def median(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[mode])

    once = median("once", "wall")
    figures = [
        ("bodies", args.n, ""),
        ("index_once_s", once, "s"),
        ("index_once_cpu_s", median("once", "cpu"), "s"),
        ("once_by_helper_pct", median("once", "by_helper_pct"), "%"),
        ("index_app_s", median("app", "wall"), "s"),
        ("app_loop_late_p95_ms", median("app", "late_p95"), "ms"),
        ("app_loop_idle_p95_ms", median("app", "idle_p95"), "ms"),
    ]
    for name, value, unit in figures:
        print(f"{name}: {value:.3f} {unit}".rstrip() if unit else f"{name}: {value}")
    target = max(TARGET_MIN_S, TARGET_S_PER_10K * args.n / 10_000)
    ok = once <= target
    print(
        f"verdict: {'PASS' if ok else 'FAIL'} (index_once_s {once:.3f} "
        f"{'<=' if ok else '>'} {target:.3f}, {TARGET_S_PER_10K} s per 10,000 bodies; "
        f"median of {args.runs}, texts checked)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
