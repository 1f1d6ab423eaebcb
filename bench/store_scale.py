"""Store at scale: build a cache of N messages and time what the UI does with it.

Usage: ``python bench/store_scale.py [N]`` (N defaults to 100000; 1000000 takes a couple
of minutes). Builds the store in a temporary directory with ``apply_batch`` in batches of
1000, the way a first sync does (newest first), in one big folder plus three small ones,
then prints one figure per line (``name: value unit``) and a verdict; exits 1 on FAIL.

Data is generated lazily, one batch at a time, so peak RSS measures the store, not the
benchmark.
"""

from __future__ import annotations

import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

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

BATCH = 1000
SCREEN = 50
RUNS = 21
LIMITS = {"first_screen_ms": 20.0, "scroll_end_ms": 20.0, "count_ms": 20.0}
MAX_RSS_MB = 200.0
MIN_INSERT_RATE = 20_000.0

WORDS = [
    "invoice",
    "meeting",
    "report",
    "lunch",
    "project",
    "update",
    "status",
    "review",
    "urgent",
    "hello",
    "quarterly",
    "budget",
    "release",
    "notes",
    "minutes",
    "agenda",
    "travel",
    "booking",
    "confirmation",
    "order",
    "shipped",
    "your",
    "account",
    "security",
    "alert",
    "weekly",
    "digest",
    "newsletter",
    "team",
    "offsite",
    "planning",
    "draft",
    "contract",
    "feedback",
    "question",
    "about",
    "the",
    "tomorrow",
    "friday",
    "call",
    "schedule",
    "reminder",
]
NOW = 1_750_000_000
ME = Address("Me Myself", "me@example.org")


def contacts(rng: random.Random, n: int = 2000) -> list[Address]:
    first = [
        "Ada",
        "Alan",
        "Grace",
        "Linus",
        "Margaret",
        "Ken",
        "Barbara",
        "Edsger",
        "Donald",
        "Frances",
    ]
    last = [
        "Lovelace",
        "Turing",
        "Hopper",
        "Torvalds",
        "Hamilton",
        "Thompson",
        "Liskov",
        "Dijkstra",
        "Knuth",
        "Allen",
    ]
    out = []
    for i in range(n):
        f, la = rng.choice(first), rng.choice(last)
        out.append(Address(f"{f} {la}", f"{f.lower()}.{la.lower()}{i}@example.com"))
    return out


def batches(folder: str, count: int, seed: int) -> Iterator[FolderBatch]:
    """``count`` messages of one folder in batches, newest first, built lazily."""
    rng = random.Random(seed)
    people = contacts(rng)
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        added = []
        for k in range(done, done + n):
            uid = count - k  # newest first, like a first sync
            refs: tuple[str, ...] = ()
            reply_to = ""
            if rng.random() < 0.3 and uid > 10:
                parent = uid - rng.randint(1, 10)
                reply_to = f"<{folder}.{parent}@bench.example>"
                refs = (f"<{folder}.{max(1, parent - 5)}@bench.example>", reply_to)
            subject = " ".join(rng.choices(WORDS, k=rng.randint(3, 8)))
            env = Envelope(
                subject=("Re: " if reply_to else "") + subject,
                from_=(rng.choice(people),),
                to=(ME,),
                cc=(rng.choice(people),) if rng.random() < 0.2 else (),
                date=NOW - k * 37,
                message_id=f"<{folder}.{uid}@bench.example>",
                in_reply_to=reply_to,
                references=refs,
                size=rng.randint(2_000, 200_000),
                has_attachments=rng.random() < 0.1,
                preview=" ".join(rng.choices(WORDS, k=14)),
            )
            flags = Flag.SEEN if rng.random() < 0.8 else Flag.NONE
            added.append(NewMessage(remote_id=str(uid), envelope=env, flags=flags))
        done += n
        yield FolderBatch(
            folder=folder,
            added=added,
            state={"uidnext": count + 1},
            progress=(done, count),
            complete=done == count,
        )


async def median_ms(fn: Callable[[], Awaitable[Any]], runs: int = RUNS) -> float:
    await fn()  # warm the page cache once; the UI asks the same pages again and again
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


async def run(n: int) -> int:
    small = max(1, min(1000, n // 100))
    plan = [("INBOX", FolderRole.INBOX, n - 3 * small)] + [
        (name, role, small)
        for name, role in (
            ("Sent", FolderRole.SENT),
            ("Archive", FolderRole.ARCHIVE),
            ("Trash", FolderRole.TRASH),
        )
    ]
    with tempfile.TemporaryDirectory(prefix="mailtui-bench-") as tmp:
        store = await Store.open(Path(tmp) / "cache" / "mail.sqlite")
        try:
            account = await store.ensure_account("bench", AccountKind.IMAP, ME.addr)
            ids = await store.sync_folders(
                account.id, [RemoteFolder(name, name, role) for name, role, _ in plan]
            )
            inserted = 0
            spent = 0.0
            for seed, (name, _, count) in enumerate(plan):
                for batch in batches(name, count, seed):
                    t = time.perf_counter()
                    inserted += len(await store.apply_batch(ids[name], batch))
                    spent += time.perf_counter() - t
            if inserted != n:
                print(f"error: inserted {inserted} of {n} messages", file=sys.stderr)
                return 1
            big = ids["INBOX"]
            total, _ = await store.count(big)
            figures = {
                "insert_rate_msgs_per_s": (inserted / spent, "msgs/s"),
                "first_screen_ms": (await median_ms(lambda: store.window(big, 0, SCREEN)), "ms"),
                "scroll_middle_ms": (
                    await median_ms(lambda: store.window(big, total // 2, SCREEN), runs=5),
                    "ms",
                ),
                "scroll_end_ms": (
                    await median_ms(lambda: store.window(big, total - SCREEN, SCREEN)),
                    "ms",
                ),
                "count_ms": (await median_ms(lambda: store.count(big)), "ms"),
            }
            # Sanity: the screens are what they claim to be.
            first = await store.window(big, 0, SCREEN)
            last = await store.window(big, total - SCREEN, SCREEN)
            assert len(first) == len(last) == min(SCREEN, total)
            assert first[0].date >= first[-1].date >= last[0].date >= last[-1].date
        finally:
            await store.close()
    figures["peak_rss_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB")

    for name, (value, unit) in figures.items():
        print(f"{name}: {value:.0f} {unit}" if value >= 100 else f"{name}: {value:.2f} {unit}")
    missed = [
        f"{name} {figures[name][0]:.2f} >= {limit:g}"
        for name, limit in LIMITS.items()
        if figures[name][0] >= limit
    ]
    if figures["peak_rss_mb"][0] >= MAX_RSS_MB:
        missed.append(f"peak_rss_mb {figures['peak_rss_mb'][0]:.0f} >= {MAX_RSS_MB:g}")
    if figures["insert_rate_msgs_per_s"][0] <= MIN_INSERT_RATE:
        missed.append(f"insert_rate_msgs_per_s {figures['insert_rate_msgs_per_s'][0]:.0f} <= 20000")
    criteria = (
        "first_screen_ms < 20, scroll_end_ms < 20, count_ms < 20, peak_rss_mb < 200, "
        "insert_rate_msgs_per_s > 20000"
    )
    if missed:
        print(f"verdict: FAIL ({'; '.join(missed)})")
        return 1
    print(f"verdict: PASS ({criteria})")
    return 0


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    if n < 4:
        print("N must be at least 4", file=sys.stderr)
        return 2
    return asyncio.run(run(n))


if __name__ == "__main__":
    sys.exit(main())
