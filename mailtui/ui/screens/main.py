"""The main screen: folders | message list over the reader, a status line and the footer.

    ┌ folders ─┬ message list (virtual) ─────────────┐   wide (100+ columns): all three
    │ demo     │ N  14:05 Alice   Lunch?             │   panes; the reader opens under
    │  Inbox 3 ├─────────────────────────────────────┤   the list
    │  Sent    │ reader                              │
    ├──────────┴─────────────────────────────────────┤   narrow (80 columns): the folder
    │ status: folder, counts · account states        │   pane is toggled (B, Tab), the
    │ footer: key hints                              │   reader takes the whole screen
    └────────────────────────────────────────────────┘

Data flow ("attributes down, messages up"): the screen reads the store in workers and
hands results to the widgets; widgets post messages (``FolderList.Selected``,
``MessageList.Opened``, ``MessageView.Closed``) that the screen turns into store reads and
user intents. Sync events arrive as ``SyncUpdate`` messages and are coalesced into at most
one folder-list and one message-list reload per ``SYNC_COALESCE`` seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from mailtui.mime import parse_message
from mailtui.models import Flag, Folder, FolderRole, MessageDetail
from mailtui.sync.contract import EventKind
from mailtui.ui import compat, keymap
from mailtui.ui.dates import Clock
from mailtui.ui.folder_admin import FolderAdmin
from mailtui.ui.folder_tree import UNIFIED_LABEL, first_folder, folder_label
from mailtui.ui.idle import hold, last_input
from mailtui.ui.jump_date import QUESTION, DateJump
from mailtui.ui.list_sources import (
    STILL_LOADING,
    UNIFIED,
    FilterSource,
    InboxFilterSource,
    InboxSource,
)
from mailtui.ui.location import listing_location, location
from mailtui.ui.messages import SyncUpdate
from mailtui.ui.modals.choice import Answer, ChoiceScreen
from mailtui.ui.modals.folder_picker import FolderChoice, FolderPicker
from mailtui.ui.modals.text_prompt import TextPrompt
from mailtui.ui.reading import AttachmentLine, body_text, header_text
from mailtui.ui.screens.compose_actions import Composer
from mailtui.ui.send_notices import SendNotices
from mailtui.ui.services import MailStore, SyncControl
from mailtui.ui.triage import ON_MESSAGES, Outcome, Triage, allowed
from mailtui.ui.widgets.filter_box import FilterBox
from mailtui.ui.widgets.folder_list import FolderList
from mailtui.ui.widgets.hint_line import HintLine
from mailtui.ui.widgets.message_list import MessageList
from mailtui.ui.widgets.message_view import MessageView
from mailtui.ui.widgets.status_bar import NOTICE_SECONDS, StatusBar

SYNC_COALESCE = 0.5  # seconds; a burst of sync batches costs one reload
SYNC_HOLD = 0.3  # seconds after a key during which sync-driven reloads wait...
SYNC_MAX_HOLD = 2.0  # ...but never longer than this after the change that asked for one
FILTER_DEBOUNCE = 0.15  # seconds of no typing before the filter asks the store

NOT_DOWNLOADED = (
    "This message has not been downloaded yet and its account is offline.\n"
    "It will show here once the account is back online."
)


@compat.urgent_frames  # a key's frame is painted at once (mailtui/ui/compat.py)
class MainScreen(Screen[None]):
    """Folders, messages and the reader, laid out for the terminal's width."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("panes"),
        *keymap.bindings("triage"),
        *keymap.bindings("writing"),
        *keymap.bindings("folder_admin"),
    ]
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (100, "-wide"),
    ]

    DEFAULT_CSS = """
    MainScreen {
        layout: vertical;
        & #panes { height: 1fr; }
        & #main { width: 1fr; height: 1fr; }
        & #reader { display: none; height: 2fr; border-top: solid $foreground 20%; }
        & #filter { display: none; }
        &.-filtering #filter { display: block; }
        &.-wide.-hide-folders #folders { display: none; }
        &.-narrow #folders { display: none; width: 24; }
        &.-narrow.-show-folders #folders { display: block; }
        &.-narrow #reader { border-top: none; }
        &.-narrow #main.-reading #messages { display: none; }
        &.-narrow #folders.-reading { display: none; }
    }
    """
    # Opening and closing the reader is on the key path, so it restyles as little as it
    # can (``_set_reading``): the reader's ``display`` is set on the widget (no CSS
    # matching), and the separator is the reader's own top border, shown with it. The
    # "-reading" class on #main and #folders serves the narrow layout only; rules that
    # use it may style #messages and #folders themselves, nothing below them.

    # Textual's Screen.focused repaints the whole screen when it changes (Reactive's
    # default): every widget's lines went through the compositor again on Enter and Esc,
    # which move the focus between the list and the reader. The widgets that gain or lose
    # the focus restyle and repaint themselves (:focus), so the screen need not.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, store: MailStore, manager: SyncControl | None, clock: Clock) -> None:
        super().__init__()
        self._store = store
        self._manager = manager
        self.removed_accounts: set[str] = set()  # removed while running: no status shown
        self._clock = clock
        self._folder: Folder | None = None
        self._unified = False  # "All inboxes" is open (then ``_folder`` is None)
        self._folders_dirty = False
        self._list_dirty = False
        self._coalesce: Timer | None = None
        self._inbox_waited = False  # a first folder list without an Inbox: waited once
        self._dirty_since: float | None = None  # time.monotonic() of the oldest change
        self._offered_keys: tuple[bool, ...] = ()  # unified inbox: actions allowed, as shown
        self._reader_account: int | None = None  # the account of the message in the reader
        self.triage = Triage(self, store, manager)
        self._filter_timer: Timer | None = None
        self._composer = Composer(self, store, manager)
        self._folder_admin = FolderAdmin(self, manager)
        self._send_notices = SendNotices(self, lambda: self.status_bar, store, manager)
        self._date_jump = DateJump(self, store, manager, clock)

    def on_key(self, event: events.Key) -> None:
        """Keys bubble here from the focused widget: their frames are not held back."""
        compat.urgent(self)

    # -- writing: new message, reply, forward (mailtui/ui/screens/compose_actions.py) -------------

    def _write(self, kind: str) -> None:
        target = self.reader.message_id if self.reading else None
        if target is None and self.message_list.cursor_row is not None:
            target = self.message_list.cursor_row.id
        self.run_worker(self._composer.start(kind, target), group="compose", exclusive=True)

    def action_compose_new(self) -> None:
        self._write("new")

    def action_reply(self) -> None:
        self._write("reply")

    def action_reply_all(self) -> None:
        self._write("reply_all")

    def action_forward(self) -> None:
        self._write("forward")

    def action_forward_attached(self) -> None:
        self._write("forward_attached")

    # -- folders on the server: create, rename, delete (mailtui/ui/folder_admin.py) -------

    def action_create_folder(self) -> None:
        self._folder_admin.create(self._folder)

    def action_rename_folder(self) -> None:
        self._folder_admin.rename(self._folder)

    def action_delete_folder(self) -> None:
        self._folder_admin.delete(self._folder)

    def action_toggle_subscribed(self) -> None:
        in_pane = self.focused is self.folder_list and not self.folder_list.on_unified
        target = self.folder_list.highlighted if in_pane else self._folder
        self._folder_admin.toggle_subscribed(target)

    def _show_empty_note(self) -> None:
        """An unsubscribed folder says so (and how to subscribe) instead of "no messages"."""
        note = self._folder_admin.empty_note(None if self._unified else self._folder)
        if note != self.message_list.empty_note:
            self.message_list.empty_note = note
            self.message_list.refresh()

    def refresh_views(self) -> None:
        """Reload folder counts and the list (after the composer changed Drafts)."""
        self._schedule(folders=True, listing=True)

    def action_edit_message(self) -> None:
        self._write("edit")

    def action_drafts(self) -> None:
        self.run_worker(self._composer.resume(), group="compose", exclusive=True)

    def compose_mailto(self, url: str) -> None:
        """Opens the composer on a ``mailto:`` URL (``mailtui mailto:…``)."""
        self.run_worker(self._composer.start_mailto(url), group="compose", exclusive=True)

    def action_outbox(self) -> None:
        self.run_worker(self._composer.show_outbox(), group="compose", exclusive=True)

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield FolderList(id="folders")
            with Vertical(id="main"):
                yield FilterBox(id="filter")
                yield MessageList(self._store, self._clock, gaps=self._manager, id="messages")
                yield MessageView(id="reader")
        yield StatusBar(id="status")
        yield HintLine()

    @property
    def folder_list(self) -> FolderList:
        return self.query_one(FolderList)

    @property
    def message_list(self) -> MessageList:
        return self.query_one(MessageList)

    @property
    def reader(self) -> MessageView:
        return self.query_one(MessageView)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def reading(self) -> bool:
        return self.query_one("#main").has_class("-reading")

    @property
    def reader_account(self) -> int | None:
        """The account of the message open in the reader (None when none is)."""
        return self._reader_account if self.reader.message_id is not None else None

    def _set_reading(self, reading: bool) -> None:
        """Open or close the reader pane.

        ``set_class`` on #main would restyle every node under it (the filter's input,
        the list, the reader's parts: ≈ 30 nodes, 2-3 ms of CSS matching on the key that
        opens or closes a message). The reader's ``display`` is set directly instead;
        the "-reading" class is kept for the narrow layout, where only the list and the
        folder pane are restyled by it (a change of layout restyles the whole screen,
        so the class is right there too)."""
        main, folders = self.query_one("#main"), self.folder_list
        main.set_class(reading, "-reading", update=False)
        folders.set_class(reading, "-reading", update=False)
        self.reader.display = reading
        if self.narrow:
            self.app.stylesheet.update_nodes([self.message_list, folders])

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    @property
    def open_folder(self) -> Folder | None:
        return self._folder

    @property
    def unified(self) -> bool:
        """The list shows "All inboxes" (every account's Inbox)."""
        return self._unified

    def on_mount(self) -> None:
        self.message_list.focus()
        if self._manager is not None:
            self.status_bar.set_accounts(self._manager.status())
        self._run(self._load_folders(), "folders")

    # -- folders ---------------------------------------------------------------------------

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
                self.set_timer(SYNC_COALESCE, lambda: self._run(self._load_folders(), "folders"))
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

    # -- triage (mailtui/ui/triage.py) -----------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what the account cannot do (its Capabilities): the open folder's, or in
        the unified inbox the account of the message under the cursor or in the reader."""
        return allowed(action, self.triage.capabilities(action))

    def on_message_list_cursor_folder(self, event: MessageList.CursorFolder) -> None:
        """In the unified inbox the cursor moved to another account's message: offer the
        keys that account allows (only when they differ, a refresh costs a redraw)."""
        event.stop()
        if not self._unified:
            return
        offered = self._offered()
        if offered != self._offered_keys:
            self._offered_keys = offered
            self.refresh_bindings()

    def _offered(self) -> tuple[bool, ...]:
        return tuple(allowed(a, self.triage.capabilities(a)) for a in sorted(ON_MESSAGES))

    def reader_target(self) -> int | None:
        """The message in the reader when the keys act on it (``TriageView``)."""
        if self.reading and (self.narrow or self.focused is self.reader):
            return self.reader.message_id
        return None

    async def choose_folder(
        self, title: str, choices: list[FolderChoice], warnings: tuple[str, ...] = ()
    ) -> Folder | None:
        for words in warnings:
            self.notify(words, severity="warning")
        return await self.app.push_screen_wait(FolderPicker(title, choices))

    async def ask(self, question: str, answers: list[Answer]) -> str | None:
        return await self.app.push_screen_wait(ChoiceScreen(question, answers))

    def _triage(self, action: Callable[[], Awaitable[Outcome]]) -> None:
        work = self.triage.perform(action, self.show_outcome)
        self.run_worker(work, group="triage", exit_on_error=False)

    def show_outcome(self, outcome: Outcome) -> None:
        """Show what a triage action did: the store changed, so the list and the counts
        reload now (not when the sync event comes)."""
        for words in outcome.warnings:
            self.notify(words, severity="warning")
        if outcome.acted_on:
            self.message_list.clear_selection()
        if outcome.removed and self.reading:
            self.close_reader()
        if outcome.reload:
            self.message_list.reload()
            self._schedule(folders=True, listing=False)
        if outcome.notice is not None:
            self.status_bar.set_notice(outcome.notice)
        if outcome.go_to is not None:
            self.go_to_folder(outcome.go_to)

    def action_toggle_read(self) -> None:
        self._triage(self.triage.toggle_read)

    def action_toggle_flag(self) -> None:
        self._triage(self.triage.toggle_flag)

    def action_delete(self) -> None:
        self._triage(self.triage.delete)

    def action_archive(self) -> None:
        self._triage(self.triage.archive)

    def action_spam(self) -> None:
        self._triage(self.triage.spam)

    def action_move(self) -> None:
        self._triage(self.triage.move)

    def action_undo(self) -> None:
        self._triage(self.triage.undo)

    def action_goto_folder(self) -> None:
        self._triage(self.triage.goto_folder)

    def go_to_folder(self, folder: Folder) -> None:
        self.close_reader()
        self.show_folder(folder)
        if self.narrow:
            self.remove_class("-show-folders")
        self.message_list.focus()

    def action_toggle_threads(self) -> None:
        if self._unified:
            self.status_bar.set_notice("Conversations are per folder: open an account's Inbox")
            return
        if self._folder is None:
            return
        self._end_filter()
        threaded = not self.message_list.threaded
        self.message_list.show_folder(self._folder.id, threaded=threaded)
        self.status_bar.set_notice("Conversations" if threaded else "Flat list")

    def action_next_unread(self) -> None:
        self._run(self._next_unread(), "unread")

    def action_jump_date(self) -> None:  # mailtui/ui/jump_date.py
        if self.message_list.source is not None:
            jump = self._date_jump.go
            self.app.push_screen(TextPrompt(QUESTION), lambda text: self._run(jump(text), "jump"))

    def say(self, words: str, *, wait: bool = False) -> None:
        self.status_bar.set_notice(words, expire=None if wait else NOTICE_SECONDS)

    def on_message_list_pending(self, event: MessageList.Pending) -> None:
        self.status_bar.set_notice(STILL_LOADING)

    async def _next_unread(self) -> None:
        line = await self.message_list.next_unread()
        if line is None:
            self.status_bar.set_notice("No unread messages here")
        elif self.reading:  # reading on: open it, like turning a page
            self._run(self._open(line.row.id), "reader")

    # -- filter (search as you type) -------------------------------------------------------

    @property
    def filter_box(self) -> FilterBox:
        return self.query_one(FilterBox)

    def action_filter(self) -> None:
        if self._folder is None and not self._unified:
            return
        self.close_reader()
        self.add_class("-filtering")
        self.filter_box.focus()

    def on_input_changed(self, event: FilterBox.Changed) -> None:
        if event.input is not self.filter_box:
            return
        event.stop()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE, self._apply_filter)

    def _apply_filter(self) -> None:
        self._filter_timer = None
        if not self.has_class("-filtering"):
            return
        query = self.filter_box.value.strip()
        if query and self._unified:
            self.message_list.show_source(InboxFilterSource(self._store, query, self._manager))
        elif query and self._folder is not None:
            found = FilterSource(self._store, self._folder.id, query, self._manager)
            self.message_list.show_source(found)
        elif isinstance(self.message_list.source, (FilterSource, InboxFilterSource)):
            self._show_whole()

    def on_filter_box_done(self, event: FilterBox.Done) -> None:
        event.stop()
        if self._filter_timer is not None:  # Enter before the pause: filter now
            self._filter_timer.stop()
            self._apply_filter()
        if not self.filter_box.value.strip():
            self._end_filter()
        self.message_list.focus()

    def on_filter_box_cleared(self, event: FilterBox.Cleared) -> None:
        event.stop()
        self._end_filter()
        self.message_list.focus()

    def _end_filter(self) -> None:
        """Drop the filter and show the whole folder again (if it was filtered)."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if not self.has_class("-filtering"):
            return
        self.remove_class("-filtering")
        with self.filter_box.prevent(FilterBox.Changed):
            self.filter_box.value = ""
        if isinstance(self.message_list.source, (FilterSource, InboxFilterSource)):
            self._show_whole()

    # -- reading ---------------------------------------------------------------------------

    def on_message_list_opened(self, event: MessageList.Opened) -> None:
        event.stop()
        self._run(self._open(event.message_id), "reader")

    def _reveal(self, message_id: int, headers: Any, body: Any, **more: Any) -> None:
        """Show a message in the reader, opening the pane if it is closed: the pane and
        its content come in the same frame (no empty reader first)."""
        self.reader.show(message_id, headers, body, **more)
        if not self.reading:
            self._set_reading(True)
            self.reader.focus()

    async def _open(self, message_id: int, mark_read: bool = True) -> None:
        detail = await self._store.message(message_id)
        if detail is None:
            self.close_reader()
            self.notify("That message is gone (moved or deleted elsewhere).")
            return
        self._reader_account = detail.account_id  # its capabilities decide the keys
        now = self._clock()
        raw = detail.raw
        if raw is not None:
            # A message can be megabytes of MIME: parse it off the event loop, keys stay live.
            parsed = await asyncio.to_thread(parse_message, raw)
        if mark_read and detail.row.unread:
            # After the message is on screen, in its own worker: the write may wait for a
            # sync batch, and closing the reader must not cancel it.
            self.call_after_refresh(
                self.run_worker, self._mark_read(detail), group="mark-read", exit_on_error=False
            )
        if raw is None:
            self._reveal(message_id, header_text(detail, now), Text("Loading…"))
            if self._manager is not None:
                self.status_bar.set_notice("Loading…", expire=None)
                try:
                    raw = await self._manager.fetch_body(message_id)
                finally:
                    self.status_bar.set_notice("")
            if raw is None:
                self._reveal(message_id, header_text(detail, now), Text(NOT_DOWNLOADED))
                return
            parsed = await asyncio.to_thread(parse_message, raw)
        attachments = [
            AttachmentLine(a.filename, a.content_type, a.size)
            for a in parsed.attachments
            if not a.is_inline  # pictures inside an HTML body are not attachments to list
        ]
        self._reveal(
            message_id,
            header_text(detail, now, attachments, parsed.problems),
            body_text(parsed.text),
            parsed=parsed,
            raw=raw,
        )

    async def _mark_read(self, detail: MessageDetail) -> None:
        row = detail.row
        self.status_bar.clear_new_mail()  # "2 new" was news until a message was read
        await self._store.set_flags([row.id], add=Flag.SEEN, remove=Flag.NONE)
        if self._manager is not None:
            self._manager.kick(detail.account_id)
        self.message_list.update_row(dataclasses.replace(row, flags=row.flags | Flag.SEEN))
        self._schedule(folders=True, listing=False)
        if self._folder is not None and self._folder.id == row.folder_id:
            total, unread = await self._store.count(row.folder_id)
            self.status_bar.set_location(location(folder_label(self._folder), total, unread))
        elif self._unified and type(self.message_list.source) is InboxSource:
            total, unread = await self._store.inbox_count()
            self.status_bar.set_location(location(UNIFIED_LABEL, total, unread))

    def close_reader(self) -> None:
        self.workers.cancel_group(self, "reader")  # also a message still being opened
        if not self.reading:
            return
        self._set_reading(False)
        self.reader.clear()
        self.status_bar.set_notice("")
        self.message_list.focus()

    def on_message_view_closed(self, event: MessageView.Closed) -> None:
        event.stop()
        self.close_reader()

    # -- panes -----------------------------------------------------------------------------

    def _panes(self) -> list[Widget]:
        """Panes that Tab cycles through, in screen order."""
        if self.narrow:
            if self.reading:
                return [self.reader]
            return [self.folder_list, self.message_list]
        panes: list[Widget] = []
        if not self.has_class("-hide-folders"):
            panes.append(self.folder_list)
        panes.append(self.message_list)
        if self.reading:
            panes.append(self.reader)
        return panes

    def _focus_pane(self, step: int) -> None:
        panes = self._panes()
        focused = self.focused
        index = panes.index(focused) if focused in panes else 0
        target = panes[(index + step) % len(panes)]
        if self.narrow:
            self.set_class(target is self.folder_list, "-show-folders")
        target.focus()

    def action_next_pane(self) -> None:
        self._focus_pane(+1)

    def action_previous_pane(self) -> None:
        self._focus_pane(-1)

    def action_toggle_folders(self) -> None:
        if self.narrow:
            if self.reading:
                return
            self.toggle_class("-show-folders")
            shown = self.has_class("-show-folders")
        else:
            self.toggle_class("-hide-folders")
            shown = not self.has_class("-hide-folders")
        if shown:
            self.folder_list.focus()
        elif self.focused is self.folder_list:
            self.message_list.focus()

    def action_back(self) -> None:
        if self.focused is self.message_list and self.message_list.selected:
            self.message_list.clear_selection()
        elif self.reading:
            self.close_reader()
        elif self.has_class("-filtering"):
            self._end_filter()
            self.message_list.focus()
        elif self.focused is self.folder_list:
            if self.narrow:
                self.remove_class("-show-folders")
            self.message_list.focus()

    # -- sync events -----------------------------------------------------------------------

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
                self._run(self._open(event.message_id, mark_read=False), "reader")
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
            self._run(self._load_folders(), "folders")
        if self._list_dirty:
            self._list_dirty = False
            self.message_list.reload()

    # -- errors ----------------------------------------------------------------------------

    def _run(self, work: Coroutine[Any, Any, None], group: str) -> None:
        """One exclusive worker per group; its errors become notices (below)."""
        self.run_worker(work, group=group, exclusive=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A store or parse error in any worker becomes a notice, never a crash."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"Something went wrong: {error}", severity="error", timeout=8)
