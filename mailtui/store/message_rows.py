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
"""

from __future__ import annotations

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
_FRAGMENT_WIDTH: Final = 2 + len(FRAGMENT_COLUMNS)
_FRAGMENTS: Final = (
    f"INSERT INTO messages (id, thread_id, {', '.join(FRAGMENT_COLUMNS)}, account_id, folder_id) "
    "SELECT "
    + ", ".join(f"value ->> {i}" for i in range(_FRAGMENT_WIDTH))
    + ", ?, ? FROM json_each(?)"
)
#: ``->>`` came with SQLite 3.38.
AT_ONCE: Final = sqlite3.sqlite_version_info >= (3, 38, 0)
_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

Row = Sequence[Any]


def insert_messages(conn: sqlite3.Connection, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (values in ``COLUMNS`` order) into ``messages``, in order; in the
    writer thread (``db.in_writer``)."""
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
    ``Prepared.fragment``), in order, in one statement; False (nothing done) if one has no
    fragment, if there is one row only, or without ``->>``: the caller's rows then."""
    if not AT_ONCE or len(items) < 2 or any(f is None for _, _, f in items):
        return False
    text = "[" + ",".join([f"[{i},{t},{f}]" for i, t, f in items]) + "]"
    conn.execute(_FRAGMENTS, (account_id, folder_id, text))
    return True


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
