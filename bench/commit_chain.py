"""The commit chain of a first pass, the store alone: N new messages committed with
``Store.apply_batch`` in batches of 2,000, as a first IMAP pass commits them, while
``--busy K`` threads run Python the whole time (a first pass's envelope parse threads
and IMAP reader, which hold the GIL the writer thread needs back after every statement).

Usage: python bench/commit_chain.py N [--busy K] [--prepared]
  --prepared: the batch's values made ahead, as the IMAP parse thread makes them
  (``envelope_values.prepare_new``; only where the tree has it).
Prints the median wall time of a 2,000-message commit, its writer-thread round trips,
the median CPU time of the writer thread in a commit made in one call
(``db._whole_tx``; the SQLite work and the Python of ``add_messages``), the total, and
a verdict against the target (a commit well under 50 ms). Run it with
``PYTHONPATH=<another tree>`` to time another commit's store on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiosqlite.core

from mailtui.models import (
    AccountKind,
    Address,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    RemoteFolder,
)
from mailtui.store import Store
from mailtui.store import db as store_db

BATCH = 2000
TARGET_MS = 50.0


def messages(start: int, prepared: bool) -> list[NewMessage]:
    """A batch like a mailing list's, newest first: replies name their parent, which
    is often in a later batch (older), as in a first pass."""
    out = []
    for i in range(start, start + BATCH):
        out.append(
            NewMessage(
                f"7:{10**7 - i}",
                Envelope(
                    subject=f"Re: planning meeting number {i // 4} and some more words",
                    from_=(Address("Ann Example", f"ann{i % 50}@example.org"),),
                    to=(Address("", "me@example.org"), Address("Bob", "bob@example.com")),
                    date=1_700_000_000 - i * 60,
                    message_id=f"<{i}.abc@example.org>",
                    in_reply_to=f"<{i + 1}.abc@example.org>" if i % 4 else "",
                    references=tuple(f"<{j}.abc@example.org>" for j in range(i + 1, i + 4)),
                    size=12_345,
                ),
                Flag.SEEN if i % 3 else Flag.NONE,
            )
        )
    if prepared:
        from mailtui.models.envelope_values import prepare_new  # noqa: PLC0415

        prepare_new(out)
    return out


def busy(stop: threading.Event) -> None:
    """Python the whole time, like a parse thread: holds the GIL between switches."""
    x = 0
    while not stop.is_set():
        for i in range(2_000):
            x += i * i % 7


WRITER_CPU: list[float] = []


def _timed_tx(real: Any) -> Any:
    def timed(*args: Any) -> Any:
        start = time.thread_time()
        try:
            return real(*args)
        finally:
            WRITER_CPU.append(time.thread_time() - start)

    return timed


async def run(n: int, busy_threads: int, prepared: bool) -> tuple[list[float], list[int], float]:
    hops = [0]
    if hasattr(store_db, "_whole_tx"):
        store_db._whole_tx = _timed_tx(store_db._whole_tx)  # type: ignore[attr-defined]
    real = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops[0] += 1
        return await real(self, fn, *args, **kwargs)

    aiosqlite.core.Connection._execute = counted  # type: ignore[method-assign]
    walls: list[float] = []
    per_batch: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "mail.sqlite")
        account = await store.ensure_account("a", AccountKind.IMAP, "me@example.org")
        folders = await store.sync_folders(
            account.id, [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)]
        )
        batches = [messages(s, prepared) for s in range(0, n, BATCH)]
        stop = threading.Event()
        threads = [threading.Thread(target=busy, args=(stop,)) for _ in range(busy_threads)]
        for t in threads:
            t.start()
        start = time.perf_counter()
        try:
            for k, added in enumerate(batches):
                hops[0] = 0
                t0 = time.perf_counter()
                await store.apply_batch(
                    folders["INBOX"], FolderBatch("INBOX", added=added, state={"k": k})
                )
                walls.append(time.perf_counter() - t0)
                per_batch.append(hops[0])
        finally:
            total = time.perf_counter() - start
            stop.set()
            for t in threads:
                t.join()
            await store.close()
    return walls, per_batch, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--busy", type=int, default=2)
    parser.add_argument("--prepared", action="store_true")
    args = parser.parse_args()
    walls, hops, total = asyncio.run(run(max(1, args.n // BATCH) * BATCH, args.busy, args.prepared))
    median = statistics.median(walls) * 1000
    print(f"commit_2000_ms: {median:.1f} ms")
    print(f"round_trips_per_commit: {statistics.median(hops):.0f}")
    if WRITER_CPU:
        print(f"writer_cpu_2000_ms: {statistics.median(WRITER_CPU) * 1000:.1f} ms")
    print(f"all_commits_s: {total:.2f} s")
    verdict = "PASS" if median < TARGET_MS else "FAIL"
    print(f"verdict: {verdict}, a 2,000-message commit {median:.1f} ms (target < {TARGET_MS:.0f})")
    if verdict == "FAIL":
        sys.exit(1)


if __name__ == "__main__":
    main()
