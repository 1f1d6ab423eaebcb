"""Local accounts (``Capabilities.local``, POP3): their folders and ops, done in the store.

The server of a local account keeps no folders, flags or moves of its own: it lists its
INBOX, and everything else the user does lives in the store only (``store/local.py``).
So instead of sending ops to the server, the worker completes them here:

    intent ──(store: row changed + pending op)──▶ worker ──complete_local_ops──▶ done
                                                           (store/local.py, one
                                                            transaction per op)

- ``open_local_account``: when the worker first builds the account's backend (before it
  connects, so it works offline too): the standard folders (Sent, Drafts, Trash,
  Archive, Junk) are made if missing, and the ops waiting are completed.
- ``complete_local_ops``: every pending op of the account, in order, each in one
  transaction with its ``op_done``: flags and moves (the row keeps its remote id),
  deletes for good (the row goes), copies and sent mail filed in Sent (a new row with
  a ``local:`` remote id and the message's bytes), and the inverse ops of an undo.
- ``change_local_folder``: what ``SyncManager.change_folder`` asks of a local account:
  create, rename and delete folders in the store; there are no subscriptions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from mailtui.errors import NotFound, OpRejected, StoreError
from mailtui.mime import parse_envelope
from mailtui.models import Account, Flag, FolderRole, NewMessage, OpKind, OpResult, PendingOp
from mailtui.store import Store
from mailtui.store.local import LOCAL_ID_PREFIX, local_remote_id
from mailtui.sync.contract import EventKind, SyncEvent

log = logging.getLogger(__name__)

Emit = Callable[[SyncEvent], None]

OPS_PER_ROUND: Final = 200
#: The longest folder path a user may give a local folder.
MAX_PATH: Final = 200


@dataclass(slots=True)
class Completed:
    """What ``complete_local_ops`` did: ``done`` ops, of which ``deleted`` deletes for
    good of messages a server knows (a POP3 UIDL; not the store's own ``local:`` rows):
    the server's copy may now be due for deletion (``delete_when_deleted_here``)."""

    done: int = 0
    deleted: int = 0


async def open_local_account(
    store: Store, account: Account, emit: Emit, *, durable: bool = False
) -> None:
    """The account's standard folders exist (made once), and its waiting ops are done."""
    made = await store.ensure_local_folders(account.id)
    if made:
        log.info("%s: local folders made: %s", account.name, ", ".join(made))
        emit(SyncEvent(account.name, EventKind.FOLDERS))
    await complete_local_ops(store, account, emit, durable=durable)


async def complete_local_ops(
    store: Store, account: Account, emit: Emit, *, durable: bool = False
) -> Completed:
    """Complete the account's pending ops in the store, oldest first (``Completed``).

    Each op is claimed first (``claim_ops``), as the worker does before sending one, so
    that an undo racing this reverses it by an inverse op rather than under it; a store
    failure puts the ops not completed back to pending. ``durable``: fsync the bytes of
    new rows (a copy) before their commit; a sent message's always are (its outbox item
    goes in the same transaction)."""
    done = Completed()
    while True:
        ops = await store.pending_ops(account.id, OPS_PER_ROUND)
        if not ops:
            break
        claimed = set(await store.claim_ops([op.id for op in ops]))
        todo = [op for op in ops if op.id in claimed]
        folders: set[int] = set()
        try:
            while todo:
                op = todo[0]
                if op.remote_id is None and op.kind is not OpKind.APPEND:
                    # An earlier op of this round (a move, a draft's APPEND) has given the
                    # message its id since the op was listed (``_adopt``): read it again,
                    # as the worker does.
                    op = await store.pending_op(op.id) or op
                try:
                    folders |= await _complete(store, op, durable)
                except (NotFound, KeyError, ValueError, TypeError) as exc:
                    # An op that can never be done (its folder is gone, a damaged
                    # payload): rolled back and reported, as a server's refusal is.
                    reason = f"not done: {exc.args[0] if exc.args else type(exc).__name__}"
                    log.warning("%s: %s op %d %s", account.name, op.kind.value, op.id, reason)
                    await store.op_failed(op.id, reason, permanent=True)
                    emit(SyncEvent(account.name, EventKind.OP_FAILED, text=reason))
                else:
                    emit(SyncEvent(account.name, EventKind.OP_DONE, message_id=op.message_id))
                    done.done += 1
                    if op.kind is OpKind.DELETE and op.remote_id is not None:
                        done.deleted += not op.remote_id.startswith(LOCAL_ID_PREFIX)
                todo.pop(0)
        except (StoreError, OSError):
            for op in todo:
                await store.op_failed(op.id, "not completed: the local cache failed", False)
            raise
        finally:
            for folder_id in sorted(folders):
                emit(SyncEvent(account.name, EventKind.MESSAGES, folder_id=folder_id))
        if len(ops) < OPS_PER_ROUND:
            break
    if done.done:
        emit(SyncEvent(account.name, EventKind.FOLDERS))  # the counts moved
    return done


async def _complete(store: Store, op: PendingOp, durable: bool) -> set[int]:
    """One op, in one transaction; returns the folders that got new rows."""
    if op.kind is OpKind.MOVE:
        target = int(op.payload["to_folder"])
        # The message keeps its server identity (a POP3 UIDL) wherever it goes.
        moved = OpResult(op.remote_id or local_remote_id())
        await store.complete_local_op(op.id, moved, folder_id=target)
        return set()
    if op.kind is OpKind.COPY and op.message_id is not None:
        target = int(op.payload["to_folder"])
        detail = await store.message(op.message_id)
        new = None
        if detail is not None:
            # The copy is a message of its own: the body goes with it when cached.
            new = NewMessage(local_remote_id(), detail.envelope, detail.row.flags, detail.raw)
        made = await store.complete_local_op(
            op.id, OpResult(), new, target, durable=durable
        )
        return {target} if made else set()
    if op.kind is OpKind.APPEND:
        target = int(op.payload["folder"])
        if op.message_id is not None:
            # A draft copy: its row is in Drafts already, and now has an identity.
            await store.complete_local_op(op.id, OpResult(local_remote_id()), folder_id=target)
            return set()
        raw = await store.append_source(op)
        if raw is None:  # the outbox item was discarded meanwhile: nothing to file
            await store.complete_local_op(op.id, OpResult())
            return set()
        # A sent message filed in Sent, with its bytes: read, searched, exported here.
        # Durable: its outbox item leaves in the same transaction.
        sent = NewMessage(local_remote_id(), parse_envelope(raw), Flag.SEEN, raw)
        made = await store.complete_local_op(op.id, OpResult(), sent, target, durable=True)
        return {target} if made else set()
    # SET_FLAGS: the row has its flags already. DELETE: the row, hidden since the
    # intent, goes for good in this transaction (store/local.py says where).
    await store.complete_local_op(op.id, OpResult())
    return set()


# ------------------------------------------------------------------ folders


def folder_path(path: str) -> str:
    """A folder path as the user typed it, checked: ``/`` separates sub-folders, each
    part trimmed and non-empty, no control characters. Raises OpRejected."""
    parts = [part.strip() for part in path.strip().strip("/").split("/")]
    if not path.strip() or any(not part for part in parts):
        raise OpRejected("a folder name cannot be empty (nor a part between two /)")
    joined = "/".join(parts)
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in joined):
        raise OpRejected("a folder name cannot hold control characters")
    if len(joined) > MAX_PATH:
        raise OpRejected(f"a folder name can be at most {MAX_PATH} characters long")
    if parts[0].casefold() == "inbox":
        raise OpRejected("INBOX is the server's folder: choose another name")
    return joined


async def change_local_folder(
    store: Store,
    account: Account,
    emit: Emit,
    kind: str,
    name: str,
    new_path: str | None,
) -> str:
    """Create (``name`` is the path), rename or delete a folder of a local account, in
    the store only; returns the folder's name. Deleting moves the folder's messages to
    Trash (the store has the only copy). Ops still waiting need nothing of this: they
    name folders by id, a rename updates their names, and a move into a deleted folder
    is rolled back. Raises OpRejected with words for the user."""
    if kind in ("subscribe", "unsubscribe"):
        raise OpRejected("this account has no folder subscriptions: every folder is shown")
    if kind != "create":
        folder = next((f for f in await store.folders(account.id) if f.name == name), None)
        if folder is None:
            raise OpRejected(f"there is no folder {name}")
        if folder.role is FolderRole.INBOX:
            raise OpRejected("the Inbox is the server's folder and stays as it is")
    try:
        if kind == "create":
            result = await store.create_local_folder(account.id, folder_path(name))
        elif kind == "rename" and new_path:
            result = await store.rename_local_folder(account.id, name, folder_path(new_path))
        elif kind == "delete":
            moved = await store.delete_local_folder(account.id, name)
            if moved:
                log.info("%s: %d messages of %s moved to Trash", account.name, moved, name)
            result = name
        else:
            raise OpRejected(f"unknown folder change {kind!r}")
    except (ValueError, NotFound) as exc:
        raise OpRejected(str(exc).strip("'\"")) from None
    emit(SyncEvent(account.name, EventKind.FOLDERS))
    return result
