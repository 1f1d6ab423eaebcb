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

This module holds the layout, the panes (Tab, B, Esc), writing and folder keys; the rest
of ``MainScreen`` comes from its parts, one mixin each over ``MainView`` (main_view.py:
state, widgets, workers): main_sync.py (sync events, coalesced and held reloads),
main_folders.py (folder navigation), main_filter.py (the filter), main_reader.py (the
reader pane), main_triage.py (triage and list keys).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.widget import Widget

from mailtui.ui import compat, keymap
from mailtui.ui.dates import Clock
from mailtui.ui.folder_admin import FolderAdmin
from mailtui.ui.jobs import run_job
from mailtui.ui.jump_date import DateJump
from mailtui.ui.screens.main_filter import ListFilter
from mailtui.ui.screens.main_folders import FolderNavigation
from mailtui.ui.screens.main_reader import NOT_DOWNLOADED, ReaderPane
from mailtui.ui.screens.main_sync import SyncReloads
from mailtui.ui.screens.main_triage import TriageKeys
from mailtui.ui.send_notices import SendNotices
from mailtui.ui.services import MailStore, SyncControl
from mailtui.ui.triage import Triage
from mailtui.ui.widgets.filter_box import FilterBox
from mailtui.ui.widgets.folder_list import FolderList
from mailtui.ui.widgets.hint_line import HintLine
from mailtui.ui.widgets.message_list import MessageList
from mailtui.ui.widgets.message_view import MessageView
from mailtui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from mailtui.ui.screens.compose_actions import Composer

__all__ = ["NOT_DOWNLOADED", "MainScreen"]


@compat.urgent_frames  # a key's frame is painted at once (mailtui/ui/compat.py)
class MainScreen(SyncReloads, FolderNavigation, ListFilter, ReaderPane, TriageKeys):
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
        super().__init__(store, manager, clock)  # the state (main_view.py)
        self.triage = Triage(self, store, manager)
        self._composer_made: Composer | None = None
        self._folder_admin = FolderAdmin(self, manager)
        self._send_notices = SendNotices(self, lambda: self.status_bar, store, manager)
        self._date_jump = DateJump(self, store, manager, clock)

    @property
    def _composer(self) -> Composer:
        """The way into the compose screens, made on first use: its modules (the compose
        screens and what they import: 10 ms) wait for the first key
        that writes, off the first paint (docs/decisions.md, issue 17)."""
        if self._composer_made is None:
            from mailtui.ui.screens.compose_actions import Composer

            self._composer_made = Composer(self, self._store, self._manager)
        return self._composer_made

    def on_key(self, event: events.Key) -> None:
        """Keys bubble here from the focused widget: their frames are not held back."""
        compat.urgent(self)

    # -- writing: new message, reply, forward (mailtui/ui/screens/compose_actions.py) -------------

    def _write(self, kind: str) -> None:
        target = self.reader.message_id if self.reading else None
        if target is None and self.message_list.cursor_row is not None:
            target = self.message_list.cursor_row.id
        run_job(self, partial(self._composer.start, kind, target), group="compose", exclusive=True)

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

    def action_edit_message(self) -> None:
        self._write("edit")

    def action_drafts(self) -> None:
        run_job(self, self._composer.resume, group="compose", exclusive=True)

    def compose_mailto(self, url: str) -> None:
        """Opens the composer on a ``mailto:`` URL (``mailtui mailto:…``)."""
        run_job(self, partial(self._composer.start_mailto, url), group="compose", exclusive=True)

    def action_outbox(self) -> None:
        run_job(self, self._composer.show_outbox, group="compose", exclusive=True)

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

    def on_mount(self) -> None:
        self.message_list.focus()
        if self._manager is not None:
            self.status_bar.set_accounts(self._manager.status())
        self._run(self._load_folders, "folders")

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
