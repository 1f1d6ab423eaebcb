"""The new rows of a batch into ``messages``: one statement for the whole batch.

``executemany`` steps SQLite once per row from Python, and between two rows the
``sqlite3`` module takes the GIL back. During a first pass the event loop and the
envelope parser (a thread) hold the GIL most of the time, so the writer waited for it
up to a switch interval (5 ms) per row: the commits of a big first sync, its critical
path, took twice as long as the same commits alone (docs/decisions.md, "First contact
with a big mailbox", item 2). Here the batch goes to SQLite as one JSON text, and one
``INSERT … SELECT … FROM json_each(?)`` makes every row inside SQLite, without the GIL.

The rows are those ``executemany`` would bind (ints and strs; JSON keeps both types).
The plain ``executemany`` remains for one row, for SQLite before 3.38 (no ``->>``),
and for text JSON would carry differently (a NUL, a lone surrogate).

A first pass's rows come as ``Prepared.fragment`` JSON made in the parse thread
(``insert_fragments``): those are read back with ``json.loads`` and bound to one
``INSERT … VALUES (…), (…), …`` (as many rows as SQLite's host-parameter limit allows),
which costs SQLite a fraction of extracting every column with ``->>``.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from mailtui.models.envelope_values import FRAGMENT_COLUMNS

COLUMNS: Final = (
    "id, account_id, folder_id, remote_id, date, sender, subject, from_addrs, to_addrs, "
    "cc_addrs, message_id, in_reply_to, refs, size, flags, thread_id, has_attachments, preview"
)
_WIDTH: Final = COLUMNS.count(",") + 1
_BY_ROW: Final = f"INSERT INTO messages ({COLUMNS}) VALUES ({', '.join('?' * _WIDTH)})"
_AT_ONCE: Final = (
    f"INSERT INTO messages ({COLUMNS}) SELECT "
    + ", ".join(f"value ->> {i}" for i in range(_WIDTH))
    + " FROM json_each(?)"
)
_FRAGMENT_WIDTH: Final = 2 + len(FRAGMENT_COLUMNS) + 2
_FRAGMENT_INSERT: Final = (
    f"INSERT INTO messages (id, thread_id, {', '.join(FRAGMENT_COLUMNS)}, account_id, folder_id) "
    "VALUES "
)
_FRAGMENT_ROW: Final = "(" + ",".join("?" * _FRAGMENT_WIDTH) + ")"
#: Rows per ``VALUES`` statement at most: the values of a statement are held as Python
#: objects and bound copies at once, so fewer rows hold less memory at the peak.
ROWS_PER_STATEMENT: Final = 500
#: ``->>`` came with SQLite 3.38.
AT_ONCE: Final = sqlite3.sqlite_version_info >= (3, 38, 0)
_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

Row = Sequence[Any]


def insert_messages(conn: sqlite3.Connection, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (values in ``COLUMNS`` order) into ``messages``, in order; in the
    writer thread (``writer_thread.in_writer``)."""
    text = _as_json(rows) if AT_ONCE and len(rows) > 1 else None
    if text is None:
        conn.executemany(_BY_ROW, rows)
    else:
        conn.execute(_AT_ONCE, (text,))


def insert_fragments(
    conn: sqlite3.Connection,
    account_id: int,
    folder_id: int,
    items: Sequence[tuple[int, int, str | None]],
) -> bool:
    """Insert rows of ``account_id`` and ``folder_id`` made of (id, thread id,
    ``Prepared.fragment``), in order, in few statements; False (nothing done) if one has no
    fragment, if there is one row only, or without ``->>``: the caller's rows then."""
    if not AT_ONCE or len(items) < 2 or any(f is None for _, _, f in items):
        return False
    # The fragments are JSON this module's encoder made (no NUL, no lone surrogate), so
    # ``json.loads`` gives back the values as they were: bound, they are the values
    # ``executemany`` binds. One statement of many ``VALUES`` rows; ``->>`` from a JSON
    # row cost SQLite 3.40 six times more (docs/decisions.md, "The writer thread of a
    # first pass").
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _FRAGMENT_WIDTH
    start = 0
    for rows in statement_sizes(len(items), max(1, min(ROWS_PER_STATEMENT, limit))):
        chunk = items[start : start + rows]
        start += rows
        values = json.loads(
            "[" + ",".join([f"{i},{t},{f},{account_id},{folder_id}" for i, t, f in chunk]) + "]"
        )
        conn.execute(_fragment_sql(rows), values)
    return True


def statement_sizes(n: int, per: int) -> list[int]:
    """The rows of each statement for ``n`` rows: ``per`` as often as it fits, the rest
    in powers of two. ``sqlite3`` keeps every statement text it ran lately prepared, with
    its last bound values: so few sizes (at most two dozen, whatever the batches) keep
    that memory bounded, where a statement for every remainder would not."""
    sizes = [per] * (n // per)
    rest = n % per
    bit = 1 << rest.bit_length()
    while rest:
        bit >>= 1
        if rest & bit:
            sizes.append(bit)
            rest -= bit
    return sizes


@functools.lru_cache(maxsize=32)
def _fragment_sql(rows: int) -> str:
    """The insert of ``rows`` rows of ``_FRAGMENT_WIDTH`` values (the same text object
    for a size: ``sqlite3``'s statement cache then finds it at once)."""
    return _FRAGMENT_INSERT + ",".join([_FRAGMENT_ROW] * rows)


def _as_json(rows: Sequence[Row]) -> str | None:
    """The rows as one JSON array, or None if JSON would not carry them unchanged
    (ints, strs, None and floats it carries as SQLite binds them)."""
    try:
        text = _JSON.encode(rows)
        text.encode("utf-8")
    except (TypeError, ValueError):  # bytes, NaN; a lone surrogate (UnicodeEncodeError)
        return None
    if "\\u0000" in text:
        return None  # NUL inside a string: SQLite's JSON would cut the text there
    return text
