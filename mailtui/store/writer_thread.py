"""Work run whole in the writer connection's thread: one round trip for many statements.

``in_writer`` runs a plain function on the ``sqlite3`` connection under an aiosqlite
connection, in aiosqlite's own thread; ``json_array`` makes the one JSON text an ``IN``
list of any length is bound as (``db.select_in``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import aiosqlite

T = TypeVar("T")

#: ``IN`` over one bound JSON array: a look-up of any length is one statement and one
#: host parameter (``select_in``). ``json_each`` with ``->>`` is 3.38's JSON built-in.
IN_JSON: Final = "(SELECT value FROM json_each(?))"
JSON_IN: Final = sqlite3.sqlite_version_info >= (3, 38, 0)
_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_array(values: Sequence[Any]) -> str | None:
    """``values`` (ints and strs) as one JSON array SQLite reads back unchanged, or None
    (a NUL, a lone surrogate, a type JSON does not carry as SQLite binds it)."""
    try:
        text = _JSON.encode(values)
        text.encode("utf-8")
    except (TypeError, ValueError):  # bytes, NaN; a lone surrogate (UnicodeEncodeError)
        return None
    return None if "\\u0000" in text else text


async def in_writer(db: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn`` on the ``sqlite3`` connection under ``db``, in its own thread, as one
    round trip (``fn`` may run many statements and Python in between).

    The one place that uses aiosqlite's private ``Connection._execute`` (the queue of
    calls its thread runs, in order) and ``_conn`` (the ``sqlite3`` connection): aiosqlite
    0.22 has no public way to run a function in its thread, and a batch's statements one
    by one cost a wait for the event loop and the GIL each (docs/decisions.md, "The
    commit chain of a first pass"). tests/unit/test_store_writer_thread.py fails if
    aiosqlite changes either.
    """

    def call() -> T:
        return fn(db._conn)

    result: T = await db._execute(call)  # type: ignore[no-untyped-call]
    return result
