"""Plain data shared by every layer: the store, the sync workers, the backends and the UI.

Nothing here does I/O or imports anything outside the standard library.

``mail``: accounts, folders, messages, pending ops, the outbox. ``batches``: what a
backend hands the sync worker (remote folders, change batches, op results).
"""

from mailtui.models.batches import FolderBatch, OpResult, RemoteFolder
from mailtui.models.mail import (
    Account,
    AccountKind,
    Address,
    Envelope,
    Flag,
    Folder,
    FolderRole,
    MessageDetail,
    MessageRow,
    NewMessage,
    OpKind,
    OpState,
    OutboxItem,
    OutboxState,
    PendingOp,
    RawMessage,
    Security,
)

__all__ = [
    "FolderBatch",
    "OpResult",
    "RemoteFolder",
    "Account",
    "AccountKind",
    "Address",
    "Envelope",
    "Flag",
    "Folder",
    "FolderRole",
    "MessageDetail",
    "MessageRow",
    "NewMessage",
    "OpKind",
    "OpState",
    "OutboxItem",
    "OutboxState",
    "PendingOp",
    "RawMessage",
    "Security",
]
