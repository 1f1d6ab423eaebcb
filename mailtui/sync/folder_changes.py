"""Folder changes the user asks for (create, rename, delete, subscribe, unsubscribe),
applied through a backend's ``FolderAdmin``.

The worker serves them between two steps of its loop (``SyncWorker.request_folder_change``)
and reads the folder list again afterwards, so the store has the folders as the server
has them. A folder just subscribed is pulled right after: the user subscribed to read it.
"""

from __future__ import annotations

from typing import Final

from mailtui.errors import OpRejected
from mailtui.sync.contract import Backend, FolderAdmin

#: The kinds of change ``apply_folder_change`` knows.
KINDS: Final = ("create", "rename", "delete", "subscribe", "unsubscribe")


async def apply_folder_change(
    backend: Backend, kind: str, name: str, new_path: str | None
) -> str:
    """Applies one change on the server; returns the folder's server name (for create,
    the new folder's). Raises OpRejected with words for the user."""
    if not isinstance(backend, FolderAdmin):
        raise OpRejected("this account cannot manage folders")
    if kind == "create":
        return await backend.create_folder(name)
    if kind == "rename" and new_path:
        return await backend.rename_folder(name, new_path)
    if kind == "delete":
        await backend.delete_folder(name)
        return name
    if kind in ("subscribe", "unsubscribe"):
        if not backend.capabilities.subscriptions:
            raise OpRejected("this account has no folder subscriptions")
        await backend.subscribe_folder(name, kind == "subscribe")
        return name
    raise OpRejected(f"unknown folder change {kind!r}")
