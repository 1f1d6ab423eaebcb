"""``EasBackend``: the ``Backend`` contract (``mailtui.sync.contract``) over Exchange
ActiveSync, a ``StatefulBackend`` (DeviceId, PolicyKey, folder tree and keys in the
account's state) and a ``FolderAdmin``.

Identities: a folder's ``name`` is its ServerId, a message's ``remote_id`` its ServerId
in that folder.

The parts, one module each: ``session`` (endpoint, account state, provisioning,
redirects), ``pull`` (FolderSync, Sync, ItemOperations), ``ops`` (client changes,
MoveItems, folder commands); here ``wait_for_changes`` (Ping) and ``build``.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from mailtui.config import AccountConfig
from mailtui.models import FolderKind, FolderRole
from mailtui.protocols.eas import ping
from mailtui.protocols.eas.ops import EasOps

#: Folders one Ping watches at most (the server may allow fewer: status 6).
MAX_PING_FOLDERS = 50


class EasBackend(EasOps):
    """One Exchange account; see the module docstring."""

    #: The longest heartbeat the server allows, once it said (Ping status 5).
    heartbeat_limit: int | None = None

    def _ping_folders(self) -> list[str]:
        folders = [
            f for f in self.tree.remote_folders() if f.kind is FolderKind.MAIL and f.selectable
        ]
        folders.sort(key=lambda f: (f.role is not FolderRole.INBOX, f.role is FolderRole.NONE))
        return [f.name for f in folders[:MAX_PING_FOLDERS]]

    async def wait_for_changes(self, timeout: float) -> set[str]:
        """Ping until a folder changes (its name returned) or ``timeout`` passes (an
        empty set: poll all, as after a change of the folder list). A server without
        Ping is polled: this sleeps."""
        folders = self._ping_folders()
        if not self.capabilities.push or not folders:
            await asyncio.sleep(timeout)
            return set()
        deadline = time.monotonic() + timeout
        while True:
            left = int(deadline - time.monotonic())
            if left < 1:
                return set()
            beat = min(left, self.heartbeat_limit or ping.MAX_HEARTBEAT)
            answer = await self.call(partial(ping.ping, self.http, list(folders), beat))
            if answer.limit is not None:
                if self.heartbeat_limit == answer.limit:
                    return set()  # refused what it said it allows: poll
                self.heartbeat_limit = max(1, answer.limit)
            elif answer.too_many is not None:
                if len(folders) <= 1:
                    return set()
                folders = folders[: max(1, min(answer.too_many, len(folders) - 1))]
            elif answer.hierarchy:
                return set()
            elif answer.changed:
                return answer.changed


def build(account: AccountConfig) -> EasBackend:
    return EasBackend(account)
