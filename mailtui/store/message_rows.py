"""The new rows of a batch into ``messages``: few statements for the whole batch.

``executemany`` steps SQLite once per row from Python, and between two rows the
``sqlite3`` module takes the GIL back. During a first pass the event loop and the
envelope parser (a thread) hold the GIL most of the time, so the writer waited for it
up to a switch interval (5 ms) per row: the commits of a big first sync, its critical
path, took twice as long as the same commits alone (docs/decisions.md, "First contact
with a big mailbox", item 2). Here the rows are bound to ``INSERT … VALUES (…), (…), …``
statements of many rows each (as many as SQLite's host-parameter limit allows, at most
``ROWS_PER_STATEMENT``), and SQLite makes them without taking the GIL back in between.

A row's values are its message's ``Prepared.row`` (made in a backend's parse thread, or
by the store for a message that comes without it), with its id, thread, account and
folder. They are bound as they are: no text form in between (a JSON text per row was
made in the parse thread and read back here until 2026-12-05: docs/decisions.md, "Rows
as values, not JSON").
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from mailtui.models.envelope_values import ROW_COLUMNS

_WIDTH: Final = 2 + len(ROW_COLUMNS) + 2
_INSERT: Final = (
    f"INSERT INTO messages (id, thread_id, {', '.join(ROW_COLUMNS)}, account_id, folder_id) "
    "VALUES "
)
_ROW: Final = "(" + ",".join("?" * _WIDTH) + ")"
#: Rows per ``VALUES`` statement at most: the values of a statement are held as one list
#: and bound at once, so fewer rows hold less memory at the peak; more rows are fewer
#: statements, each a wait for the GIL in a first pass's writer thread. 500 until
#: 2026-12-05; at 1,000, 14 alternating pairs of ``sync --once`` at 100,000 messages
#: were faster in 10, the medians by 0.05 and 0.1 s (docs/decisions.md, "One parse
#: thread, and 1,000 rows a statement").
ROWS_PER_STATEMENT: Final = 1000


def insert_rows(
    conn: sqlite3.Connection,
    account_id: int,
    folder_id: int,
    items: Sequence[tuple[int, int, tuple[Any, ...]]],
) -> None:
    """Insert rows of ``account_id`` and ``folder_id`` made of (id, thread id,
    ``Prepared.row``), in order, in few statements; in the writer thread
    (``writer_thread.in_writer``), inside the caller's transaction."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _WIDTH
    start = 0
    for rows in statement_sizes(len(items), max(1, min(ROWS_PER_STATEMENT, limit))):
        values: list[Any] = []
        for i, t, row in items[start : start + rows]:
            values += (i, t, *row, account_id, folder_id)
        start += rows
        conn.execute(_sql(rows), values)


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
def _sql(rows: int) -> str:
    """The insert of ``rows`` rows of ``_WIDTH`` values (the same text object for a size:
    ``sqlite3``'s statement cache then finds it at once)."""
    return _INSERT + ",".join([_ROW] * rows)
