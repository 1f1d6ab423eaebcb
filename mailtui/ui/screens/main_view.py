"""What the parts of the main screen stand on: its state, its widgets, the reader pane's
shape, and the workers whose errors become notices.

``MainScreen`` (main.py) is this class plus one mixin per concern, each a subclass of
``MainView``: sync events and reloads (main_sync.py), folder navigation and the status
line's place (main_folders.py), the filter (main_filter.py), the reader pane
(main_reader.py), triage keys (main_triage.py). The few methods one part calls in another
are declared below for the type checker only; ``MainScreen`` has them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from mailtui.models import Folder
from mailtui.ui.dates import Clock
from mailtui.ui.jobs import Job, run_job
from mailtui.ui.jump_date import DateJump
from mailtui.ui.send_notices import SendNotices
from mailtui.ui.services import MailStore, SyncControl
from mailtui.ui.triage import Triage
from mailtui.ui.widgets.folder_list import FolderList
from mailtui.ui.widgets.message_list import MessageList
from mailtui.ui.widgets.message_view import MessageView
from mailtui.ui.widgets.status_bar import StatusBar


class MainView(Screen[None]):
    """The main screen's state and widgets, shared by its parts."""

    # Made by ``MainScreen.__init__`` (they are handed the whole screen).
    triage: Triage
    _send_notices: SendNotices
    _date_jump: DateJump

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
        self._filter_timer: Timer | None = None

    if TYPE_CHECKING:  # defined by the parts, called across them

        def _schedule(self, *, folders: bool, listing: bool) -> None: ...  # main_sync.py

        async def _load_folders(self) -> None: ...  # main_folders.py

        def _show_whole(self) -> None: ...  # main_folders.py

        def go_to_folder(self, folder: Folder) -> None: ...  # main_folders.py

        def _end_filter(self) -> None: ...  # main_filter.py

        async def _open(self, message_id: int, mark_read: bool = True) -> None: ...

        def close_reader(self) -> None: ...  # main_reader.py

        def _show_empty_note(self) -> None: ...  # main.py

    # -- widgets ---------------------------------------------------------------------------

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

    # -- errors ----------------------------------------------------------------------------

    def _run(self, work: Job, group: str) -> None:
        """One exclusive worker per group; its errors become notices (below)."""
        run_job(self, work, group=group, exclusive=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A store or parse error in any worker becomes a notice, never a crash."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"Something went wrong: {error}", severity="error", timeout=8)
