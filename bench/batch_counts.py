"""SQLite alone: a first pass's batch insert with the per-row count and thread triggers
(as the store does it) against the same rows with those triggers dropped and the counts
and thread rows written per batch instead (aggregated in Python, one upsert of the
batch's threads, one UPDATE of the folder's counts).

Usage: python bench/batch_counts.py N [ROUNDS]  (N messages in batches of 2,000, in a
fresh store each time; both ways take turns ROUNDS times). Prints the median writer
thread CPU of a batch each way and a verdict: whether building per-batch counts (a schema
version whose triggers skip the batch's rows) would pay (docs/decisions.md, "The commit
chain of a first pass").
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mailtui.models import (
    AccountKind,
    Address,
    Envelope,
    Flag,
    FolderRole,
    NewMessage,
    RemoteFolder,
)
from mailtui.models.envelope_values import prepare
from mailtui.store import Store, message_rows

BATCH = 2000
_THREADS = """
    INSERT INTO threads (folder_id, thread_id, latest_date, latest_id, total, unread)
    SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4
    FROM json_each(?2) WHERE true
    ON CONFLICT (folder_id, thread_id) DO UPDATE SET
        total = total + excluded.total, unread = unread + excluded.unread,
        latest_id = CASE WHEN (excluded.latest_date, excluded.latest_id)
                    > (latest_date, latest_id) THEN excluded.latest_id ELSE latest_id END,
        latest_date = max(latest_date, excluded.latest_date)
"""


def batch(start: int) -> list[tuple[NewMessage, int]]:
    """A batch of messages like a mailing list's, four to a thread, with its threads."""
    out = []
    for i in range(start, start + BATCH):
        m = NewMessage(
            f"7:{i}",
            Envelope(
                subject=f"Re: planning meeting number {i // 4} and more words",
                from_=(Address("Ann Example", f"ann{i % 50}@example.org"),),
                to=(Address("", "me@example.org"), Address("Bob", "bob@example.com")),
                date=1_700_000_000 - i * 60,
                message_id=f"<{i}.abc@example.org>",
                in_reply_to=f"<{i - 1}.abc@example.org>" if i % 4 else "",
                references=tuple(f"<{j}.abc@example.org>" for j in range(i - i % 4, i)),
                size=12_345,
            ),
            Flag.SEEN if i % 3 else Flag.NONE,
        )
        m.prepared = prepare(m)
        out.append((m, 1 + i - i % 4))
    return out


def run(path: Path, folder: int, account: int, n: int, per_batch: bool) -> list[float]:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA cache_size = -8192")
    if per_batch:
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND name IN ('messages_count_insert', 'messages_threads_insert')"
        ).fetchall():
            con.execute(f"DROP TRIGGER {name}")
    cpu = []
    for start in range(0, n, BATCH):
        items = batch(start)
        c0 = time.thread_time()
        con.execute("BEGIN IMMEDIATE")
        rows = [(start + k + 1, t, m.prepared.row) for k, (m, t) in enumerate(items)]
        message_rows.insert_rows(con, account, folder, rows)
        if per_batch:
            threads: dict[int, list[int]] = {}
            unread = 0
            for (i, t, _), (m, _) in zip(rows, items, strict=True):
                u = 0 if m.flags & Flag.SEEN else 1
                unread += u
                a = threads.get(t)
                if a is None:
                    threads[t] = [t, m.envelope.date, i, 1, u]
                else:
                    a[3] += 1
                    a[4] += u
                    if (m.envelope.date, i) > (a[1], a[2]):
                        a[1], a[2] = m.envelope.date, i
            con.execute(
                "UPDATE folders SET total = total + ?, unread = unread + ? WHERE id = ?",
                (len(rows), unread, folder),
            )
            con.execute(_THREADS, (folder, json.dumps(list(threads.values()))))
        con.execute(
            "INSERT INTO messages_fts (rowid, subject, addresses, body) "
            "SELECT id, subject, addresses, '' FROM messages WHERE id BETWEEN ? AND ?",
            (start + 1, start + len(rows)),
        )
        con.execute("COMMIT")
        cpu.append(time.thread_time() - c0)
    counts = con.execute("SELECT total, unread, threads FROM folders WHERE id = ?", (folder,))
    total, _, n_threads = counts.fetchone()
    assert total == n and n_threads == n // 4, (total, n_threads)
    con.close()
    return cpu


async def template(path: Path) -> tuple[int, int]:
    store = await Store.open(path)
    try:
        account = await store.ensure_account("a", AccountKind.IMAP, "me@example.org")
        folders = await store.sync_folders(
            account.id, [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)]
        )
        return folders["INBOX"], account.id
    finally:
        await store.close()


def main() -> None:
    n = max(1, int(sys.argv[1]) // BATCH) * BATCH  # at least one batch
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        folder, account = asyncio.run(template(base / "template.sqlite"))
        medians: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for per_batch in (False, True):
                path = base / f"run-{per_batch}.sqlite"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                shutil.copy(base / "template.sqlite", path)
                cpu = run(path, folder, account, n, per_batch)
                medians[per_batch].append(statistics.median(cpu) * 1000)
    triggers = statistics.median(medians[False])
    batches = statistics.median(medians[True])
    print(f"batch_cpu_triggers: {triggers:.1f} ms")
    print(f"batch_cpu_per_batch_counts: {batches:.1f} ms")
    print(f"ratio: {batches / triggers:.2f}")
    gain = triggers - batches
    # PASS: the store's design (per-row triggers) holds; FAIL: a schema version would pay.
    if gain > 0.15 * triggers:
        print(f"verdict: FAIL, per-batch counts save {gain:.1f} ms a batch: worth a schema version")
        sys.exit(1)
    print(f"verdict: PASS, per-batch counts save {gain:.1f} ms a batch: the triggers stay")


if __name__ == "__main__":
    main()
