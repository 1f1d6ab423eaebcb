"""SQLite alone: a first pass's batch insert counted in its folder and threads by the
store's batch statements (``new_messages.count_new_rows``, schema 9) against the per-row
insert triggers of schema versions 1-8, recreated for the comparison.

Usage: python bench/batch_counts.py N [ROUNDS]  (N messages in batches of 2,000, four to
a thread, in a fresh store each time; both ways take turns ROUNDS times). Prints the
median writer-thread CPU of a batch each way, their ratio, and a verdict: PASS when the
batch statements cost less than the triggers did (docs/decisions.md, "Counting a batch
once").
"""

from __future__ import annotations

import asyncio
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
from mailtui.store import Store, message_rows, schema
from mailtui.store.new_messages import count_new_rows

BATCH = 2000
#: The insert triggers schema 9 dropped, as versions 1 and 2 made them.
ROW_TRIGGERS = [
    statement
    for migration in schema.MIGRATIONS[:2]
    for statement in migration
    if "CREATE TRIGGER messages_count_insert" in statement
    or "CREATE TRIGGER messages_threads_insert" in statement
]


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


def run(path: Path, folder: int, account: int, n: int, triggers: bool) -> list[float]:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA cache_size = -8192")
    if triggers:
        for statement in ROW_TRIGGERS:
            con.execute(statement)
    cpu = []
    for start in range(0, n, BATCH):
        items = batch(start)
        c0 = time.thread_time()
        con.execute("BEGIN IMMEDIATE")
        rows = [(start + k + 1, t, m.prepared.row) for k, (m, t) in enumerate(items)]
        message_rows.insert_rows(con, account, folder, rows)
        if not triggers:
            unread = sum(1 for m, _ in items if not m.flags & Flag.SEEN)
            count_new_rows(con, folder, start + 1, start + len(rows), unread)
        con.execute(
            "INSERT INTO messages_fts (rowid, subject, addresses, body) "
            "SELECT id, subject, addresses, '' FROM messages WHERE id BETWEEN ? AND ?",
            (start + 1, start + len(rows)),
        )
        con.execute("COMMIT")
        cpu.append(time.thread_time() - c0)
    counts = con.execute("SELECT total, unread, threads FROM folders WHERE id = ?", (folder,))
    total, unread, n_threads = counts.fetchone()
    expected_unread = sum(1 for i in range(n) if i % 3 == 0)
    assert (total, unread, n_threads) == (n, expected_unread, n // 4), (total, unread, n_threads)
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
            for triggers in (True, False):
                path = base / f"run-{triggers}.sqlite"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                shutil.copy(base / "template.sqlite", path)
                cpu = run(path, folder, account, n, triggers)
                medians[triggers].append(statistics.median(cpu) * 1000)
    by_rows = statistics.median(medians[True])
    by_batch = statistics.median(medians[False])
    print(f"batch_cpu_row_triggers: {by_rows:.1f} ms")
    print(f"batch_cpu_batch_statements: {by_batch:.1f} ms")
    print(f"ratio: {by_batch / by_rows:.2f}")
    if by_batch >= by_rows:
        print(f"verdict: FAIL, the batch statements cost {by_batch - by_rows:.1f} ms more a batch")
        sys.exit(1)
    print(f"verdict: PASS, the batch statements save {by_rows - by_batch:.1f} ms a batch")


if __name__ == "__main__":
    main()
