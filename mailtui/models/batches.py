"""What a backend hands the worker: the folders it has, batches of changes, op results.

The store, the worker and every backend use these; none of them does I/O. Sync state per
folder (UIDVALIDITY, HIGHESTMODSEQ, EAS SyncKey, …) is a JSON-able dict that the backend
defines and the store keeps: the backend returns the new state with each batch and the
worker commits it in the same transaction as the batch's messages. Sync state per
account (EAS FolderSync key, PolicyKey, DeviceId) travels the same way, as a batch's
``account_state``. Batches of contacts and calendar items are in ``contacts.py`` and
``calendar.py``; a folder's ``kind`` says which batches it yields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mailtui.models.mail import Flag, FolderKind, FolderRole, NewMessage, RawMessage


@dataclass(frozen=True, slots=True)
class RemoteFolder:
    name: str  # the server's full name; the store's key for the folder
    display_name: str
    role: FolderRole = FolderRole.NONE
    depth: int = 0
    selectable: bool = True
    kind: FolderKind = FolderKind.MAIL  # what it holds: which batches its pull yields
    #: The account shows and syncs it: subscribed on the server (IMAP), a special-use
    #: folder, the parent of one that is, or every folder with ``folders = "all"``.
    #: False: it exists on the server, and is listed greyed and not synced.
    subscribed: bool = True


@dataclass(slots=True)
class FolderBatch:
    """One batch of changes in one folder, committed by the worker in one transaction.

    ``progress`` is (done, total) for the UI; ``complete`` says the folder is in step
    after this batch.
    """

    folder: str
    added: list[NewMessage] = field(default_factory=list)
    flags: list[tuple[str, Flag]] = field(default_factory=list)  # remote_id -> new flags
    removed: list[str] = field(default_factory=list)  # remote_ids gone from the server
    reset: bool = False  # drop every cached message of this folder first (UIDVALIDITY)
    state: dict[str, Any] | None = None  # new folder sync state, None = unchanged
    progress: tuple[int, int] = (0, 0)
    complete: bool = False
    #: Bodies of messages the folder already lists, by remote id (the first screen of
    #: a first pass comes header only, its bodies a moment later); not indexed yet.
    bodies: list[tuple[str, RawMessage]] = field(default_factory=list)
    #: New sync state of the whole account, committed with this batch; None = unchanged.
    account_state: dict[str, Any] | None = None
    #: Changes to the account's download ledger (POP3: which server ids were ever
    #: downloaded), committed with the messages they describe.
    ledger: list[LedgerChange] = field(default_factory=list)
    #: Every message of the folder on the server, by remote id, newest first: sent
    #: with the first batch of a first pass, so that the list can show the folder's
    #: whole length, with the positions not cached yet as placeholders
    #: (``sync/window.py``); None: not told.
    listing: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """One change to an account's download ledger: the record of every message a
    server that keeps no state for us (POP3) ever handed over, by its server id (UIDL).

    The ledger outlives the message rows: a message deleted here is never downloaded
    again. ``whole``: its whole body is stored here (a message above the size limit is
    stored as its header only, and never deleted from the server). ``key``: what
    recognises it under another server id (Message-ID and size). ``gone``: the server
    no longer lists it. ``was``: the server id it had before (a server that lost its
    UIDLs); the ledger row and the message take the new one."""

    server_id: str
    downloaded_at: int = 0  # Unix seconds; 0: keep what the ledger has
    whole: bool = False
    key: str = ""
    gone: bool = False
    was: str | None = None


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A ledger row as it is committed (``LedgerChange``); ``deleted_here``: the user
    removed the message for good here (emptied from Trash, deleted for good);
    ``dele_sent``: a DELE of it was sent (final only if that session reached QUIT)."""

    server_id: str
    downloaded_at: int
    whole: bool
    key: str
    deleted_here: bool
    gone: bool
    dele_sent: bool = False


@dataclass(frozen=True, slots=True)
class OpResult:
    """What the server said about one pending op.

    ``new_remote_id`` is the message's identity after a move/copy/append when the server
    told it (IMAP COPYUID/APPENDUID, EAS MoveItems DstMsgId); None when unknown, in which
    case the next sync of the target folder finds the message.
    """

    new_remote_id: str | None = None
