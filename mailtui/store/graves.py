"""``dead_bodies``: whether it may hold ids, so that a transaction looks at it only then."""

from __future__ import annotations

import sqlite3
from typing import Final

#: Body files buried per transaction at most.
BURY_BATCH: Final = 5000


class Graves:
    """Whether ``dead_bodies`` may hold ids, so that a transaction looks at it only then.

    A row goes there only when a schema-3 body file loses its row (the triggers of
    schema.py), which a cache made since never has: every transaction looking anyway was
    one statement more, and during a first pass each statement is a wait for the GIL in
    the writer thread (docs/decisions.md, "The writer thread of a first pass"). A TEMP
    trigger on the writer connection calls ``seen`` for every id put there; the flag is
    set at open (a crash may have left ids) and cleared only when a look found the table
    empty or ``Database._bury`` emptied it, so a rolled-back transaction or a failed
    burial costs a look too many, never a file left behind."""

    #: The SQL function the TEMP trigger calls (no database stores its name).
    FUNCTION: Final = "mailtui_dead_body"
    TRIGGER: Final = (
        "CREATE TEMP TRIGGER dead_bodies_seen AFTER INSERT ON main.dead_bodies "
        f"BEGIN SELECT {FUNCTION}(); END"
    )

    def __init__(self) -> None:
        self.maybe = True

    def seen(self) -> None:
        self.maybe = True

    def look(self, conn: sqlite3.Connection) -> list[int]:
        """The ids to bury (at most ``BURY_BATCH``), in the transaction in progress."""
        if not self.maybe:
            return []
        dead = [
            r[0] for r in conn.execute(f"SELECT message_id FROM dead_bodies LIMIT {BURY_BATCH}")
        ]
        self.maybe = bool(dead)
        return dead
