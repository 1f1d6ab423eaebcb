"""The user's changes sent to the server (``EasBackend.apply``) and folder
administration (FolderCreate, FolderUpdate, FolderDelete).

Read and flag changes and deletes go as client commands in a Sync of the message's
folder, from the folder's latest key; the server's own changes that come in the same
answer are kept (``stash``) for the folder's next pull, which commits them with the new
key. A move is MoveItems (``DstMsgId`` is the message's new id). ActiveSync cannot copy
a message or put one into a folder (APPEND): those ops are refused with the reason.
Each is safe to repeat after a lost answer: a Change is idempotent, a Delete or a move
of a message that is gone already is a success.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from mailtui.errors import ConfigError, OpRejected, TransientError
from mailtui.models import Flag, OpKind, OpResult, PendingOp
from mailtui.protocols.eas import items, pull, sync
from mailtui.protocols.eas.folders import (
    FolderKeyInvalid,
    folder_create,
    folder_delete,
    folder_update,
)
from mailtui.protocols.eas.pull import EasPull

T = TypeVar("T")
#: Sync statuses of a client change that mean the message is gone: the op is done.
_GONE = {"8"}


class EasOps(EasPull):
    """``apply`` and ``FolderAdmin``."""

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        if op.kind is OpKind.COPY:
            raise OpRejected("ActiveSync cannot copy messages between folders")
        if op.kind is OpKind.APPEND:
            raise OpRejected("ActiveSync cannot put a message into a folder")
        if op.remote_id is None or op.folder_name is None:
            raise OpRejected("the message was never on the server")
        if op.kind is OpKind.MOVE:
            if target_folder is None:
                raise OpRejected("no target folder")
            source, rid = op.folder_name, op.remote_id
            moved = await self.call(lambda: items.move(self.http, rid, source, target_folder))
            self._stash(source, sync.SyncAnswer(self.keys.get(source, "0"), removed=[rid]))
            return OpResult(new_remote_id=moved.new_id)
        if op.kind is OpKind.DELETE:
            change = sync.Change(op.remote_id, delete=True)
        elif op.kind is OpKind.SET_FLAGS:
            add = Flag(int(op.payload.get("add", 0)))
            remove = Flag(int(op.payload.get("remove", 0)))
            change = sync.Change(
                op.remote_id,
                read=True if add & Flag.SEEN else False if remove & Flag.SEEN else None,
                flagged=True if add & Flag.FLAGGED else False if remove & Flag.FLAGGED else None,
            )
            if change.read is None and change.flagged is None:
                return OpResult()  # answered/forwarded: the server sets those itself
        else:
            raise OpRejected(f"ActiveSync does not support {op.kind.value} this way")
        await self._send_change(op.folder_name, change)
        if op.kind is OpKind.SET_FLAGS:
            await self._note_flags(op.folder_name, op.remote_id)
        return OpResult()

    async def _note_flags(self, folder: str, server_id: str) -> None:
        """The message's flags as the server has them now, for the folder's next pull
        (the server does not send a client its own change back)."""
        try:
            found = await self._item_properties(folder, server_id)
        except (ConfigError, OpRejected, TransientError):
            return  # the flags are right in the store already; only the pull misses them
        if found is not None:
            flags = sync.flags_of(found)
            self._stash(
                folder, sync.SyncAnswer(self.keys.get(folder, "0"), flags=[(server_id, flags)])
            )

    async def _send_change(self, folder: str, change: sync.Change) -> None:
        key = self.keys.get(folder)
        if key is None or key == "0":
            # Never synced: there is nothing of the folder on this side to change.
            raise OpRejected("the folder was never synced")
        answer = await self._sync(folder, key, window=pull.WINDOW, changes=[change])
        refused = answer.refused.get(change.server_id)
        if refused is not None and refused not in _GONE:
            raise OpRejected(f"the server refused the change: {sync.describe_refusal(refused)}")
        if change.delete:  # gone here too: the pull says so, as for another client's
            answer.removed.append(change.server_id)
        self._stash(folder, answer)

    def _stash(self, folder: str, answer: sync.SyncAnswer) -> None:
        """Keeps ``answer`` (its key, and the server's changes) for the folder's next pull."""
        earlier = self.stash.get(folder)
        if earlier is not None:
            answer.added = earlier.added + answer.added
            answer.flags = earlier.flags + answer.flags
            answer.removed = earlier.removed + answer.removed
        if answer.key == "0":
            return  # never synced: nothing to hand on
        self.stash[folder] = answer
        self.keys[folder] = answer.key

    # ------------------------------------------------------------------ folders

    def _split(self, path: str) -> tuple[str, str]:
        parent_path, _, name = path.strip("/").rpartition("/")
        if not name:
            raise OpRejected("a folder needs a name")
        if not parent_path:
            return "0", name
        parent = self.tree.find(parent_path)
        if parent is None:
            raise OpRejected(f"there is no folder {parent_path!r}")
        return parent, name

    async def create_folder(self, path: str) -> str:
        await self.fresh_tree()
        parent, name = self._split(path)
        return await self._folder_call(lambda: folder_create(self.http, self.tree, parent, name))

    async def rename_folder(self, name: str, new_path: str) -> str:
        await self.fresh_tree()
        parent, new_name = self._split(new_path)
        await self._folder_call(lambda: folder_update(self.http, self.tree, name, parent, new_name))
        return name  # the ServerId stays

    async def delete_folder(self, name: str) -> None:
        await self.fresh_tree()
        await self._folder_call(lambda: folder_delete(self.http, self.tree, name))
        self.keys.pop(name, None)

    async def subscribe_folder(self, name: str, subscribed: bool) -> None:
        raise OpRejected("ActiveSync has no folder subscriptions")

    async def _folder_call(self, command: Callable[[], Awaitable[T]]) -> T:
        try:
            return await self.call(command)
        except FolderKeyInvalid:
            await self.fresh_tree()
            return await self.call(command)
