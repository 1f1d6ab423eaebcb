"""Create, rename, delete and subscribe folders from the main screen (``+``, ``ctrl+r``,
``-``, ``U``).

The change goes to the account's worker (``SyncManager.change_folder``), which asks the
server and then re-reads the folder list; nothing changes locally before the server
agreed, because a folder the server refused must not appear to exist. Offline, the user
is told so at once. Subscribing acts on the folder under the folder pane's cursor when
the pane has the focus (where the greyed, unsubscribed folders are), else on the open
folder; a folder just subscribed syncs at once.

A local account's folders (``Capabilities.local``, POP3) are the store's: the change is
made there at once, offline too, and a deleted folder's messages go to Trash (the store
holds the only copy); such an account has no subscriptions, so ``U`` is not offered.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from mailtui.errors import ConfigError, SyncError
from mailtui.mime import clean_line
from mailtui.models import Folder, FolderRole
from mailtui.ui import keymap
from mailtui.ui.folder_tree import folder_label
from mailtui.ui.modals.confirm import ConfirmScreen
from mailtui.ui.modals.text_prompt import TextPrompt
from mailtui.ui.services import SyncControl
from mailtui.ui.widgets.message_list import EMPTY_NOTE


class FolderAdmin:
    def __init__(self, screen: Screen[Any], manager: SyncControl | None) -> None:
        self._screen = screen
        self._manager = manager

    def _can(self, folder: Folder | None) -> bool:
        if self._manager is None or folder is None:
            self._screen.notify("Open a folder of an online account first", severity="warning")
            return False
        return True

    async def _change(self, folder: Folder, kind: str, name: str, new: str | None) -> None:
        assert self._manager is not None
        try:
            result = await self._manager.change_folder(folder.account_id, kind, name, new)
        except (SyncError, ConfigError) as exc:
            self._screen.notify(f"The folder was not changed: {exc}", severity="error")
            return
        if kind == "subscribe":
            self._screen.notify(f"Subscribed to {clean_line(folder_label(folder))}: syncing it")
            return
        if kind == "unsubscribe":
            self._screen.notify(
                f"Unsubscribed from {clean_line(folder_label(folder))}: no longer synced"
            )
            return
        done = {"create": "Created", "rename": "Renamed to", "delete": "Deleted"}[kind]
        self._screen.notify(f"{done} {clean_line(str(result))}")

    def _subscribe_key(self) -> str:
        overrides: dict[str, str] = getattr(self._screen.app, "keymap_overrides", {})
        keys = keymap.effective_keys("folder.subscribe", overrides)
        return keymap.key_label(keys[0]) if keys else "U"

    def empty_note(self, folder: Folder | None) -> str:
        """What the message list says when ``folder`` shows no messages."""
        if folder is None or folder.subscribed:
            return EMPTY_NOTE
        return f"Not subscribed, so not synced: {self._subscribe_key()} to subscribe"

    def toggle_subscribed(self, folder: Folder | None) -> None:
        """Subscribe ``folder`` (it then syncs), or unsubscribe it."""
        if not self._can(folder):
            return
        assert folder is not None
        if folder.subscribed and folder.role is not FolderRole.NONE:
            self._screen.notify(
                f"{clean_line(folder_label(folder))} is a special folder and is always shown",
                severity="warning",
            )
            return
        kind = "unsubscribe" if folder.subscribed else "subscribe"
        self._screen.run_worker(self._change(folder, kind, folder.name, None), group="folder_admin")

    def create(self, near: Folder | None) -> None:
        if not self._can(near):
            return
        assert near is not None
        parent = near.name.rsplit("/", 1)[0] + "/" if "/" in near.name else ""

        async def answered(path: str | None) -> None:
            if path:
                await self._change(near, "create", path, None)

        self._screen.app.push_screen(
            TextPrompt("New folder (use / for a sub-folder):", parent, "Projects/Atlas"),
            answered,
        )

    def rename(self, folder: Folder | None) -> None:
        if not self._can(folder):
            return
        assert folder is not None
        if folder.role is FolderRole.INBOX:
            self._screen.notify("The Inbox cannot be renamed", severity="warning")
            return

        async def answered(path: str | None) -> None:
            if path and path != folder.name:
                await self._change(folder, "rename", folder.name, path)

        self._screen.app.push_screen(
            TextPrompt(f"Rename {clean_line(folder.name)} to:", folder.name), answered
        )

    def delete(self, folder: Folder | None) -> None:
        if not self._can(folder):
            return
        assert folder is not None
        if folder.role is not FolderRole.NONE:
            self._screen.notify(
                f"{clean_line(folder.display_name)} is a special folder and stays",
                severity="warning",
            )
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self._change(folder, "delete", folder.name, None)

        what = f"{folder.total:,} messages" if folder.total != 1 else "1 message"
        assert self._manager is not None
        caps = self._manager.capabilities(folder.account_id)
        if caps is not None and caps.local:
            moved = {0: "", 1: " The message in it goes to Trash."}
            question = f"Delete the folder {clean_line(folder.name)}?" + moved.get(
                folder.total, f" The {what} in it go to Trash."
            )
        else:
            question = (
                f"Delete the folder {clean_line(folder.name)} and the {what} in it, "
                "on the server too?"
            )
        self._screen.app.push_screen(ConfirmScreen(question), answered)
