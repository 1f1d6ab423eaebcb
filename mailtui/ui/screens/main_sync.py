"""The main screen's sync events, and the reloads they ask for, coalesced and held.

Sync events arrive as ``SyncUpdate`` messages: account states and progress go to the
status bar, a message's body to the reader, and changes to folders or messages mark the
folder list and the message list dirty (``_schedule``). Dirty views reload at most once
per ``SYNC_COALESCE`` seconds, and not while the user types (``_flush``: at the first
pause of ``SYNC_HOLD`` seconds, at the latest ``SYNC_MAX_HOLD`` seconds after the
change). The first folders and rows of a new account's first screen come at once.
"""

from __future__ import annotations

import time
from functools import partial

from mailtui.sync.contract import EventKind
from mailtui.ui.idle import hold, last_input
from mailtui.ui.list_sources import InboxSource
from mailtui.ui.messages import SyncUpdate
from mailtui.ui.screens.main_view import MainView

SYNC_COALESCE = 0.5  # seconds; a burst of sync batches costs one reload
SYNC_HOLD = 0.3  # seconds after a key during which sync-driven reloads wait...
SYNC_MAX_HOLD = 2.0  # ...but never longer than this after the change that asked for one


class SyncReloads(MainView):
    """Sync events on the main screen, and the coalesced reloads of folders and list."""

    def refresh_views(self) -> None:
        """Reload folder counts and the list (after the composer changed Drafts)."""
        self._schedule(folders=True, listing=True)

    def on_sync_update(self, message: SyncUpdate) -> None:
        event = message.event
        if self._send_notices.handle(event):
            return
        if event.kind == EventKind.STATUS and event.status is not None:
            if event.account in self.removed_accounts:
                return  # an account removed while its last words were on their way
            self.status_bar.set_account(event.account, event.status, event.text, event.retry_at)
            self.refresh_bindings()  # capabilities are known once a worker connected
        elif event.kind == EventKind.FOLDERS:
            # "All inboxes" counts whatever Inbox a new folder list brings.
            self._schedule(folders=True, listing=self._unified)
        elif event.kind == EventKind.MESSAGES:
            if event.progress[1]:
                self.status_bar.set_progress(event.account, *event.progress)
            current = self._folder is not None and event.folder_id in (None, self._folder.id)
            source = self.message_list.source
            if self._unified and isinstance(source, InboxSource):  # any Inbox's news
                current = event.folder_id is None or event.folder_id in source.inboxes
            self._schedule(folders=True, listing=current)
        elif event.kind == EventKind.BODY:
            if event.progress[1]:
                self.status_bar.set_progress(event.account, *event.progress, phase="bodies")
            if event.message_id is not None and event.message_id == self.reader.message_id:
                self._run(partial(self._open, event.message_id, mark_read=False), "reader")
        elif event.kind == EventKind.OP_FAILED:
            # The store rolled the change back; show the old state and say why.
            self.notify(event.text or "The server refused a change.", severity="error")
            self._schedule(folders=True, listing=True)

    def accounts_changed(self, *, added: str = "", removed: str = "") -> None:
        """An account was added, changed or removed: the folder pane, the list and the
        status bar's accounts again."""
        self.removed_accounts.discard(added)
        if removed:
            self.removed_accounts.add(removed)
        if self._manager is not None:
            self.status_bar.set_accounts(self._manager.status())
        self._schedule(folders=True, listing=True)

    def _schedule(self, *, folders: bool, listing: bool) -> None:
        self._folders_dirty |= folders
        self._list_dirty |= listing
        self.message_list.stale |= listing
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()
        nothing_open = self._folder is None and not self._unified
        if (listing and self.message_list.total == 0) or (folders and nothing_open):
            # The first folders and rows (a new account's first screen): no coalescing.
            if self._coalesce is not None:
                self._coalesce.stop()
            self._flush()
        elif self._coalesce is None:
            self._coalesce = self.set_timer(SYNC_COALESCE, self._flush)

    def _flush(self) -> None:
        """Reload what changed, unless the user is typing: then at the first pause of
        ``SYNC_HOLD`` seconds, and at the latest ``SYNC_MAX_HOLD`` seconds after the
        change (a reload and its repaint cost a few milliseconds that a key would wait)."""
        self._coalesce = None
        now = time.monotonic()
        since = self._dirty_since if self._dirty_since is not None else now
        wait = hold(now, last_input(self.app), since, SYNC_HOLD, SYNC_MAX_HOLD)
        if wait > 0:
            self._coalesce = self.set_timer(wait, self._flush)
            return
        self._dirty_since = None
        if self._folders_dirty:
            self._folders_dirty = False
            self._run(self._load_folders, "folders")
        if self._list_dirty:
            self._list_dirty = False
            self.message_list.reload()
