"""The local cache (SQLite, WAL): the single source of truth for the UI.

``Store`` (store.py) is composed of one part per concern, each owning its tables; see
store.py for the parts, ``docs/architecture.md`` for the API contract and ``schema.py``
for the tables.
"""

from mailtui.errors import NotFound, StoreError, StoreVersionError
from mailtui.store.store import Store
from mailtui.store.undo import UndoResult, UndoStatus

__all__ = ["NotFound", "Store", "StoreError", "StoreVersionError", "UndoResult", "UndoStatus"]
