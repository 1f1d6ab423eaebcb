"""A batch's new messages into ``messages``, in the writer thread.

``add_messages`` is the whole insert of a batch's ``added`` (what ``MailWrites`` did on
the event loop before, statement by statement): what is cached already or taken away by
a move/delete not yet sent is skipped, a row moved here locally whose remote id the
server now tells is adopted, threads are assigned (by Message-ID, In-Reply-To and
References, then by subject for replies without usable headers), and the rows and their
search rows (subject, addresses) are written, and the batch is counted in its folder and
its threads (``_COUNT`` and ``_THREADS``: one statement each for the batch, where two
triggers per row did it before schema version 9). It is synchronous and runs on the
``sqlite3`` connection in aiosqlite's thread (``writer_thread.in_writer``), inside the transaction
its caller holds: a first pass commits a batch of 2,000 in one round trip to that thread
(``MailWrites.apply_batch``), where the same statements from the event loop cost a wait
for the loop and the GIL each (docs/decisions.md, "The commit chain of a first pass").

Every look-up is one statement for any batch size (``db.select_in``: the ids as one JSON
array). What depends only on the message (``models.Prepared``: thread candidates, the
subject key, the row's values) is taken from the message when the backend's parse thread
made it (``envelope_values.prepare_new``), else made here; the rows then go to SQLite
in few statements (``message_rows.insert_rows``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Final

from mailtui.errors import NotFound
from mailtui.models import NewMessage
from mailtui.models.envelope_values import ROW_COLUMNS, prepared, subject_key
from mailtui.models.mail import Prepared
from mailtui.store.codec import fts_query
from mailtui.store.db import LIVE, RELOCATING, Row, chunked, placeholders, select_in
from mailtui.store.message_rows import insert_rows
from mailtui.store.sync_state import sync_target
from mailtui.store.writer_thread import JSON_IN, json_array

#: A reply without usable headers joins the latest thread of the same subject from at
#: most this long (seconds) before it.
SUBJECT_THREAD_WINDOW: Final = 30 * 86400
#: At most this many distinct subjects are looked up per batch (each is one FTS query).
_SUBJECT_LOOKUPS: Final = 50

_CACHED: Final = "SELECT remote_id FROM messages WHERE folder_id = ? AND remote_id IN {}"
_TAKEN: Final = (
    f"SELECT remote_id FROM pending_ops WHERE folder_id = ? AND state IN {LIVE} "
    f"AND kind IN {RELOCATING} AND remote_id IN {{}}"
)
_KNOWN: Final = (
    "SELECT message_id, thread_id, folder_id, remote_id IS NULL, id FROM messages "
    "WHERE account_id = ? AND message_id IN {} ORDER BY id"
)
_WAITING: Final = (
    f"SELECT message_id FROM pending_ops WHERE folder_id = ? AND remote_id IS NULL "
    f"AND state IN {LIVE} AND message_id IN {{}}"
)
_NEXT_ID: Final = (
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), "
    "coalesce((SELECT max(id) FROM messages), 0)) + 1"
)
_AT_ONCE: Final = (
    "SELECT f.account_id, (SELECT json_group_array(remote_id) FROM messages "
    "WHERE folder_id = ?1 AND remote_id IN (SELECT value FROM json_each(?2))), "
    f"(SELECT json_group_array(remote_id) FROM pending_ops WHERE folder_id = ?1 "
    f"AND state IN {LIVE} AND kind IN {RELOCATING} "
    "AND remote_id IN (SELECT value FROM json_each(?2))), "
    "(SELECT json_group_array(json_array(message_id, thread_id, folder_id, "
    "remote_id IS NULL, id)) FROM messages WHERE account_id = f.account_id "
    "AND message_id IN (SELECT value FROM json_each(?3))), "
    f"({_NEXT_ID[7:]}) FROM folders f WHERE f.id = ?1"
)
_COUNT: Final = "UPDATE folders SET total = total + ?, unread = unread + ? WHERE id = ?"
#: The new rows ``?1``..``?2`` (all in one folder) into ``threads``, a row per thread, as
#: the row trigger of version 2 (``schema._THREAD_ADD``) left them: the newest message
#: is the greatest (date, id). A thread of one new row is that row; of more, the
#: greatest id at the greatest date among the thread's rows in the folder, found in
#: ``messages_thread`` (``max(date)`` alone names one of the rows at that date).
_THREADS: Final = """
    INSERT INTO threads (folder_id, thread_id, latest_date, latest_id, total, unread)
    SELECT f, t, d, CASE WHEN n = 1 THEN i ELSE (
            SELECT id FROM messages INDEXED BY messages_thread
            WHERE folder_id = f AND thread_id = t AND date = d ORDER BY id DESC LIMIT 1
        ) END, n, u
    FROM (
        SELECT folder_id AS f, thread_id AS t, max(date) AS d, id AS i, count(*) AS n,
               sum(1 - (flags & 1)) AS u
        FROM messages WHERE id BETWEEN ?1 AND ?2 GROUP BY folder_id, thread_id
    ) WHERE true
    ON CONFLICT (folder_id, thread_id) DO UPDATE SET
        total = total + excluded.total,
        unread = unread + excluded.unread,
        latest_id = CASE WHEN (excluded.latest_date, excluded.latest_id) > (latest_date, latest_id)
                    THEN excluded.latest_id ELSE latest_id END,
        latest_date = max(latest_date, excluded.latest_date)
"""
_FLAGS: Final = ROW_COLUMNS.index("flags")
_BY_SUBJECT: Final = (
    "SELECT m.subject, m.date, m.thread_id FROM messages_fts "
    "JOIN messages m ON m.id = messages_fts.rowid "
    "WHERE messages_fts MATCH ? AND m.account_id = ? AND m.date BETWEEN ? AND ? "
    "ORDER BY m.date DESC LIMIT 200"
)


def add_messages(
    conn: sqlite3.Connection, folder_id: int, added: Sequence[NewMessage]
) -> tuple[int, list[tuple[int, NewMessage]]]:
    """Insert ``added`` into ``folder_id`` (ignoring remote ids already cached, repeated
    in the batch, or taken away by a not-yet-sent move/delete; adopting rows moved here;
    threads assigned), in the transaction in progress.

    Returns:
        The folder's account, and (local id, message) of the inserted rows, in batch
        order; their bodies are the caller's (they need the pack files, ``Bodies``).

    Raises:
        NotFound: there is no folder ``folder_id``.
    """
    if not added:
        return sync_target(conn, folder_id), []
    fresh: list[NewMessage] = []
    seen: dict[str, None] = {}
    for m in added:
        if m.remote_id not in seen:
            seen[m.remote_id] = None
            fresh.append(m)
    # Skip what is cached already, and what a move/delete not yet sent to the server took
    # away locally (the server still lists it; re-adding it would resurrect it). One
    # look-up for every message-id the batch mentions: threads, and rows moved here
    # locally whose remote id the server now tells us ("adoption"). The message-ids are
    # those of the whole batch, skipped or not: what a skipped message's headers find is
    # never asked for below.
    values = [prepared(m) for m in fresh]
    wanted = list({mid for v in values for mid in v.candidates})
    account_id, skip, found, first = _look_up(conn, folder_id, list(seen), wanted)
    if skip:
        kept = [(m, v) for m, v in zip(fresh, values, strict=True) if m.remote_id not in skip]
        fresh, values = [m for m, _ in kept], [v for _, v in kept]
    if not fresh:
        return account_id, []
    known: dict[str, int] = {}  # message-id header -> thread id
    orphans: dict[str, int] = {}  # message-id header -> local id, remote id unknown
    # The same for rows elsewhere: deleted for good (folder NULL) or moved back by an
    # undo, with an op that waits for their server id in this folder.
    hidden: dict[str, int] = {}
    for mid, thread_id, fid, unknown_remote, lid in found:
        known.setdefault(mid, thread_id)
        if unknown_remote and fid == folder_id:
            orphans.setdefault(mid, lid)
        elif unknown_remote:
            hidden.setdefault(mid, lid)
    if hidden:
        # Moved here, then deleted for good or moved away again before the move was
        # confirmed: the server lists it here still, and it must not come back as a new
        # message; the op waiting for its id here gets it.
        waiting = {r[0] for r in select_in(conn, _WAITING, (folder_id,), list(hidden.values()))}
        for mid, lid in hidden.items():
            if lid in waiting:
                orphans.setdefault(mid, lid)

    todo: list[tuple[NewMessage, Prepared]] = []
    for m, v in zip(fresh, values, strict=True):
        lid = orphans.pop(m.envelope.message_id, None) if m.envelope.message_id else None
        if lid is None:
            todo.append((m, v))
        else:
            adopt(conn, lid, folder_id, m.remote_id)
    if not todo:
        return account_id, []

    # Ids are chosen in the look-up (the write lock is held; an adoption above deletes at
    # most, and AUTOINCREMENT never reuses an id) so that threads can refer to messages
    # of the same batch.
    new_ids = list(range(first, first + len(todo)))
    threads = _threads(conn, account_id, todo, known, new_ids)
    insert_rows(
        conn,
        account_id,
        folder_id,
        [(i, t, v.row) for i, t, (_, v) in zip(new_ids, threads, todo, strict=True)],
    )
    read = sum(v.row[_FLAGS] & 1 for _, v in todo)
    count_new_rows(conn, folder_id, new_ids[0], new_ids[-1], len(todo) - read)
    conn.execute(
        "INSERT INTO messages_fts (rowid, subject, addresses, body) "
        "SELECT id, subject, addresses, '' FROM messages WHERE id BETWEEN ? AND ?",
        (new_ids[0], new_ids[-1]),
    )
    return account_id, [(i, m) for i, (m, _) in zip(new_ids, todo, strict=True)]


def count_new_rows(
    conn: sqlite3.Connection, folder_id: int, low: int, high: int, unread: int
) -> None:
    """Count the rows ``low``..``high``, just inserted into ``folder_id`` (``unread`` of
    them unread), in the folder's counters and its threads: what the insert triggers of
    schema versions 1-8 did row by row."""
    conn.execute(_COUNT, (high - low + 1, unread, folder_id))
    conn.execute(_THREADS, (low, high))


def _look_up(
    conn: sqlite3.Connection, folder_id: int, remote_ids: list[str], message_ids: list[str]
) -> tuple[int, set[str], list[Row], int]:
    """The folder's account, the remote ids to skip, the rows (message-id, thread id,
    folder, remote id unknown, local id) of the account's messages with one of
    ``message_ids`` by id, and the next message id.

    One statement that answers one row (its lists as JSON), so the writer thread takes
    the GIL back twice (the row, the end), not for every statement and row: with the parse
    thread and the event loop busy, each can wait up to a switch interval. Values JSON
    would not carry go through ``select_in``, a statement each."""
    remote_json, mid_json = json_array(remote_ids), json_array(message_ids)
    if JSON_IN and remote_json is not None and mid_json is not None:
        row = conn.execute(_AT_ONCE, (folder_id, remote_json, mid_json)).fetchone()
        if row is None:
            raise NotFound(f"no folder with id {folder_id}")
        account_id, cached, taken, rows, first = row
        found = sorted(json.loads(rows), key=lambda r: r[4])
        return account_id, set(json.loads(cached)) | set(json.loads(taken)), found, first
    account_id = sync_target(conn, folder_id)
    skip = {r[0] for r in select_in(conn, _CACHED, (folder_id,), remote_ids)}
    skip.update(r[0] for r in select_in(conn, _TAKEN, (folder_id,), remote_ids))
    found = select_in(conn, _KNOWN, (account_id,), message_ids)
    return account_id, skip, found, int(conn.execute(_NEXT_ID).fetchone()[0])


def _threads(
    conn: sqlite3.Connection,
    account_id: int,
    todo: list[tuple[NewMessage, Prepared]],
    known: dict[str, int],
    new_ids: list[int],
) -> list[int]:
    """The thread id of each of ``todo`` (a new thread is its message's own id)."""
    threads = new_ids[:]
    in_batch: dict[str, int] = {}
    # Subjects matter only for messages no header ties to a message already known or in
    # this batch. A message's own id comes first among its candidates (and only there):
    # it ties it only when known; the others tie it when known or in the batch.
    batch_ids = {m.envelope.message_id for m, _ in todo}
    linked = batch_ids.union(known)
    keys: list[tuple[str, bool]] = []
    for m, v in todo:
        own = m.envelope.message_id
        candidates = v.candidates
        if own and candidates and candidates[0] == own:
            tied = own in known or not linked.isdisjoint(candidates[1:])
        else:
            tied = any(mid in known or (mid in batch_ids and mid != own) for mid in candidates)
        keys.append(("", False) if tied else v.subject_key)
    by_subject = _subject_threads(conn, account_id, todo, keys)
    # Oldest first, so a parent in the same batch is known before its replies.
    dates = [m.envelope.date for m, _ in todo]
    for i in sorted(range(len(todo)), key=dates.__getitem__):
        m, v = todo[i]
        for mid in v.candidates:
            thread_id = in_batch.get(mid) or known.get(mid)
            if thread_id:
                threads[i] = thread_id
                break
        else:
            # No header names a known message: a reply joins the latest thread of its
            # subject from the window before it (mailers that drop References).
            key, is_reply = keys[i]
            date = m.envelope.date
            if is_reply and key:
                earlier = [
                    (d, t)
                    for d, t in by_subject.get(key, ())
                    if date - SUBJECT_THREAD_WINDOW <= d <= date
                ]
                if earlier:
                    threads[i] = max(earlier)[1]
        own = m.envelope.message_id
        if own and own not in in_batch:
            in_batch[own] = threads[i]
        if keys[i][0]:
            by_subject.setdefault(keys[i][0], []).append((m.envelope.date, threads[i]))
    return threads


def _subject_threads(
    conn: sqlite3.Connection,
    account_id: int,
    todo: list[tuple[NewMessage, Prepared]],
    keys: list[tuple[str, bool]],
) -> dict[str, list[tuple[int, int]]]:
    """(date, thread id) of the account's messages with the subject of a reply of the
    batch that no header threads, from the window before it.

    Such replies are rare (mailers that drop In-Reply-To and References), so this costs
    nothing for most batches; when needed, the full-text index finds the candidates by
    the subject's words, and the normalised subjects are compared here.
    """
    found: dict[str, list[tuple[int, int]]] = {}
    window: dict[str, tuple[int, int]] = {}
    for (m, _), (key, is_reply) in zip(todo, keys, strict=True):
        if is_reply and key:
            low, high = window.get(key, (m.envelope.date, m.envelope.date))
            window[key] = (min(low, m.envelope.date), max(high, m.envelope.date))
    for key, (low, high) in list(window.items())[:_SUBJECT_LOOKUPS]:
        match = fts_query(key)
        if match is None:
            continue
        for subject, date, thread_id in conn.execute(
            _BY_SUBJECT,
            (f"subject : ({match})", account_id, low - SUBJECT_THREAD_WINDOW, high),
        ):
            if subject_key(subject)[0] == key:
                found.setdefault(key, []).append((date, thread_id))
    return found


def adopt(conn: sqlite3.Connection, message_id: int, folder_id: int, remote_id: str) -> None:
    """Record that a locally moved message is ``remote_id`` in ``folder_id``.

    The row gets the id if it is still there (or was deleted for good from there
    meanwhile, i.e. hidden); ops made on it in that folder get it either way.
    """
    row = conn.execute(
        "SELECT folder_id, remote_id FROM messages WHERE id = ?", (message_id,)
    ).fetchone()
    if row is not None and row[1] is None and row[0] in (folder_id, None):
        if row[0] == folder_id:
            other = conn.execute(
                "SELECT id FROM messages WHERE folder_id = ? AND remote_id = ?",
                (folder_id, remote_id),
            ).fetchone()
            if other is not None:
                # A sync listed the message before the op was confirmed: keep the row the
                # user has been looking at (its flags, its body), drop the newcomer.
                forget(conn, [other[0]])
        conn.execute("UPDATE messages SET remote_id = ? WHERE id = ?", (remote_id, message_id))
    # Later ops on this message were made while its remote id was unknown.
    conn.execute(
        f"UPDATE pending_ops SET remote_id = ? WHERE message_id = ? AND folder_id = ? "
        f"AND remote_id IS NULL AND state IN {LIVE}",
        (remote_id, message_id, folder_id),
    )


def forget(conn: sqlite3.Connection, message_ids: Sequence[int]) -> None:
    """Delete messages and their live ops (the server no longer has them)."""
    for chunk in chunked(message_ids):
        marks = placeholders(len(chunk))
        conn.execute(
            f"DELETE FROM pending_ops WHERE state IN {LIVE} AND message_id IN ({marks})",
            chunk,
        )
        conn.execute(f"DELETE FROM messages WHERE id IN ({marks})", chunk)
