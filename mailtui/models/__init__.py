"""Plain data shared by every layer: the store, the sync workers, the backends and the UI.

Nothing here does I/O or imports anything outside the standard library.

``mail``: accounts, folders, messages, pending ops, the outbox. ``batches``: what a
backend hands the sync worker (remote folders, change batches, op results).
``contacts`` and ``calendar``: address-book entries and calendar items, with their
change batches.
"""

from mailtui.models.batches import (
    Downloaded,
    FolderBatch,
    LedgerChange,
    OpResult,
    RemoteFolder,
)
from mailtui.models.calendar import CalendarBatch, CalendarItem
from mailtui.models.contacts import Contact, ContactBatch
from mailtui.models.counts import counted
from mailtui.models.mail import (
    Account,
    AccountKind,
    Address,
    Envelope,
    Flag,
    Folder,
    FolderKind,
    FolderRole,
    MessageDetail,
    MessageRow,
    NewMessage,
    OpKind,
    OpState,
    Origin,
    OutboxItem,
    OutboxState,
    PendingOp,
    RawMessage,
    Security,
)

__all__ = [
    "CalendarBatch",
    "CalendarItem",
    "Contact",
    "ContactBatch",
    "Downloaded",
    "FolderBatch",
    "LedgerChange",
    "OpResult",
    "RemoteFolder",
    "Account",
    "AccountKind",
    "Address",
    "Envelope",
    "Flag",
    "Folder",
    "FolderKind",
    "FolderRole",
    "MessageDetail",
    "MessageRow",
    "NewMessage",
    "OpKind",
    "OpState",
    "Origin",
    "OutboxItem",
    "OutboxState",
    "PendingOp",
    "RawMessage",
    "Security",
    "counted",
]
