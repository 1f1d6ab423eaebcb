"""Errors raised by the store. ``str()`` of each is one line meant for the user."""

from __future__ import annotations


class StoreError(Exception):
    """The cache database cannot be used (not a database, damaged, disk trouble)."""


class StoreVersionError(StoreError):
    """The database was written by a newer mailtui whose schema this one doesn't know."""


class NotFound(StoreError, KeyError):
    """An id (folder, message, outbox item) that is not (or no longer) in the store.

    Also a ``KeyError`` so callers can treat the store like a mapping.
    """

    def __str__(self) -> str:
        # KeyError quotes its argument; this message is for people.
        return str(self.args[0]) if self.args else "not found"
