"""The main screen's folder navigation: the folder pane, which folder (or "All inboxes")
is open, and the status line's place (folder, counts, view, filter, selection).

``_load_folders`` reads the accounts and folders into the pane and keeps the open folder
open (or opens the first one: "All inboxes" with several accounts, else the first
account's Inbox, waiting once for an Inbox that is still on its way).
"""

from __future__ import annotations

from mailtui.models import Folder, FolderRole
from mailtui.ui.folder_tree import UNIFIED_LABEL, first_folder, folder_label
from mailtui.ui.list_sources import UNIFIED, InboxSource
from mailtui.ui.location import listing_location, location
from mailtui.ui.screens import main_sync
from mailtui.ui.screens.main_view import MainView
from mailtui.ui.widgets.folder_list import FolderList
from mailtui.ui.widgets.message_list import MessageList


class FolderNavigation(MainView):
    """Opening folders and "All inboxes", from the pane, a key or a triage outcome."""

    async def _load_folders(self) -> None:
        accounts = await self._store.accounts()
        folders = await self._store.folders()
        self.folder_list.set_folders(accounts, folders)
        if self._unified:
            if self.folder_list.has_unified:
                self.folder_list.set_open_unified()
                return
            self._unified = False  # fewer than two accounts have an Inbox now
        if self._folder is not None:
            current = next((f for f in folders if f.id == self._folder.id), None)
            if current is None:  # gone from the server
                self._folder = None
            else:
                self._folder = current
                self.folder_list.set_open(current.id)
                self._show_empty_note()  # subscribed or unsubscribed since
        if self._folder is None:
            first = first_folder(folders, [account.id for account in accounts])
            if self.folder_list.has_unified:  # several accounts: start on all of them
                self.show_unified()
            elif first is not None and self._wait_for_inbox(first):
                # A new account's folders may come before its Inbox (a local account's
                # own folders): the merge's wait for it, as before the list was read at once.
                self.set_timer(
                    main_sync.SYNC_COALESCE, lambda: self._run(self._load_folders, "folders")
                )
            elif first is not None:
                self.show_folder(first)
            elif self._manager is not None:
                self.status_bar.set_location("No folders yet: waiting for the first sync")
            else:
                self.status_bar.set_location("No mail here yet")

    def _wait_for_inbox(self, first: Folder) -> bool:
        """Whether to open nothing yet: the first folder is no Inbox while syncing, once."""
        waited, self._inbox_waited = self._inbox_waited, True
        return first.role != FolderRole.INBOX and self._manager is not None and not waited

    def show_unified(self) -> None:
        """Show every account's Inbox as one list, newest first."""
        self._folder = None
        self._unified = True
        self._end_filter()
        self.folder_list.set_open_unified()
        self.message_list.show_source(InboxSource(self._store))
        self._show_empty_note()
        self.status_bar.set_location(UNIFIED_LABEL)
        self.refresh_bindings()
        if self._manager is not None:
            self._manager.set_open_folder(None, None)  # the Inboxes are pushed anyway

    def _show_whole(self) -> None:
        """The open folder (or "All inboxes") again, without a filter."""
        if self._unified:
            self.message_list.show_source(InboxSource(self._store))
        elif self._folder is not None:
            self.message_list.show_folder(self._folder.id)

    def show_folder(self, folder: Folder) -> None:
        self._unified = False
        self._folder = folder
        self._end_filter()
        self.folder_list.set_open(folder.id)
        self.message_list.show_folder(folder.id)
        self._show_empty_note()
        self.status_bar.set_location(location(folder_label(folder), folder.total))
        self.refresh_bindings()  # another account may be able to do other things
        if self._manager is not None:
            # Its account's worker pushes its changes too (IMAP: IDLE on it).
            self._manager.set_open_folder(folder.account_id, folder.id)

    def on_folder_list_selected(self, event: FolderList.Selected) -> None:
        event.stop()
        self.close_reader()
        self.show_folder(event.folder)
        if self.narrow:
            self.remove_class("-show-folders")
        self.message_list.focus()

    def on_folder_list_inboxes_selected(self, event: FolderList.InboxesSelected) -> None:
        event.stop()
        self.close_reader()
        self.show_unified()
        if self.narrow:
            self.remove_class("-show-folders")
        self.message_list.focus()

    def on_message_list_loaded(self, event: MessageList.Loaded) -> None:
        event.stop()
        if (self._folder is not None and event.folder_id == self._folder.id) or (
            self._unified and event.folder_id == UNIFIED
        ):
            self._show_location(event.total, event.unread)
            if event.total and self._folder is not None and self._manager is not None:
                # Once painted: a new account's first pass waits for its first rows.
                self.call_after_refresh(self._manager.rows_drawn, self._folder.id)

    def _show_location(self, total: int, unread: int) -> None:
        """The status line's left part: folder, counts, view, filter, selection."""
        if self._folder is None and not self._unified:
            return
        listing = self.message_list
        name = folder_label(self._folder) if self._folder is not None else UNIFIED_LABEL
        # A folder in its first pass: a filter searched only the part cached so far.
        partial = (
            self._manager is not None
            and self._folder is not None
            and self._manager.gaps(self._folder.id) is not None
        )
        where = listing_location(
            name, listing.source, total, unread, len(listing.selected), partial
        )
        self.status_bar.set_location(where)

    def on_message_list_selection_changed(self, event: MessageList.SelectionChanged) -> None:
        event.stop()
        self.message_list.reload()  # the counts in the status line come with Loaded

    def go_to_folder(self, folder: Folder) -> None:
        self.close_reader()
        self.show_folder(folder)
        if self.narrow:
            self.remove_class("-show-folders")
        self.message_list.focus()
