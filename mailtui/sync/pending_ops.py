"""The worker's side of pending ops: claimed in order, sent to the server, and marked done
only after its OK (a refusal fails the op for good and tells the user; a lost connection
puts the unsent ones back). A local account's ops are done in the store (``local_ops.py``).

A part of ``Worker`` (``mailtui/sync/worker.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from mailtui.errors import OpRejected, TransientError
from mailtui.models import Account, OpKind, OpResult, PendingOp
from mailtui.store import Store
from mailtui.sync.contract import Backend, EventKind, SyncEvent
from mailtui.sync.local_ops import complete_local_ops
from mailtui.sync.logbook import AccountLog
from mailtui.sync.plain_words import plain as _plain

OPS_PER_ROUND = 200


class OpSender:
    """Sending pending ops; a part of ``Worker``."""

    if TYPE_CHECKING:
        # What this part uses of the worker.
        account: Account
        store: Store
        emit: Callable[[SyncEvent], None]
        _durable: bool
        _settle_now: bool
        _log: AccountLog

    async def _push_ops(self, backend: Backend) -> None:
        if backend.capabilities.local:  # done in the store, never sent (sync/local_ops.py)
            done = await complete_local_ops(
                self.store, self.account, self.emit, durable=self._durable
            )
            # A server message deleted for good here may be due on the server now (POP3's
            # delete_when_deleted_here): the next pull's settle deletes it, not the next poll.
            self._settle_now |= bool(done.deleted) and backend.capabilities.sole_copy
            return
        while True:
            ops = await self.store.pending_ops(self.account.id, OPS_PER_ROUND)
            if not ops:
                return
            # Claimed ops can no longer be undone by the user: they are about to be sent.
            claimed = set(await self.store.claim_ops([op.id for op in ops]))
            unsent = [op.id for op in ops if op.id in claimed]
            try:
                for op in ops:
                    if op.id in claimed:
                        unsent.remove(op.id)
                        await self._apply_op(backend, op)
            except Exception:
                # The connection died mid-batch: the claimed ops after the failed one were
                # never sent; back to pending, so the next session replays them in order.
                for op_id in unsent:
                    await self.store.op_failed(op_id, "not sent: connection lost", permanent=False)
                raise
            if len(ops) < OPS_PER_ROUND:
                return

    async def _apply_op(self, backend: Backend, op: PendingOp) -> None:
        if op.remote_id is None and op.kind is not OpKind.APPEND:
            # Listed before an earlier op of the same round (a MOVE, or the APPEND of a
            # draft copy) taught the store the message's server id: read it again.
            fresh = await self.store.pending_op(op.id)
            if fresh is not None:
                op = fresh
        target: str | None = None
        if op.kind in (OpKind.MOVE, OpKind.COPY):
            target = (await self.store.folder(int(op.payload["to_folder"]))).name
        elif op.kind is OpKind.APPEND:
            target = (await self.store.folder(int(op.payload["folder"]))).name
            # The bytes to file travel in the payload, read only now (they can be large).
            raw = await self.store.append_source(op)
            if raw is None:  # the outbox item was discarded meanwhile: nothing to file
                await self.store.op_done(op.id, OpResult())
                return
            op = dataclasses.replace(op, payload={**op.payload, "raw": raw})
        try:
            result = await backend.apply(op, target)
        except OpRejected as exc:
            await self.store.op_failed(op.id, str(exc), permanent=True)
            self._log.op_refused(op.kind.value, _plain(exc))
            self.emit(SyncEvent(self.account.name, EventKind.OP_FAILED, text=_plain(exc)))
            return
        except (TransientError, OSError, TimeoutError) as exc:
            await self.store.op_failed(op.id, _plain(exc), permanent=False)
            raise
        await self.store.op_done(op.id, result)
        self.emit(SyncEvent(self.account.name, EventKind.OP_DONE, message_id=op.message_id))
