"""What the UI needs from the store and the sync manager, as structural types.

``mailtui.store.Store`` and ``mailtui.sync.manager.SyncManager`` fit these protocols; the UI
depends on nothing else of them, which keeps the list of store calls the UI makes in one
place (see docs/architecture.md, "Reading" and "User intents") and lets tests hand in a
stand-in manager that emits ``SyncEvent``s on cue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from mailtui.models import (
    Address,
    Envelope,
    Flag,
    MessageDetail,
    MessageRow,
)
from mailtui.store.listing import ThreadSummary
from mailtui.store.undo import UndoResult
from mailtui.sync.contract import AccountStatus, Capabilities, SyncEvent
from mailtui.sync.manager import WorkerSpec
from mailtui.sync.outbox import OutboxStore
from mailtui.sync.server_search import ServerFilter
from mailtui.sync.window import FolderGaps


class MailStore(OutboxStore, Protocol):
    """The store calls the UI makes: reads of what is on screen, and user intents; the
    accounts, folders and outbox calls the outbox actions need come from
    ``mailtui.sync.outbox.OutboxStore``."""

    async def count(self, folder_id: int) -> tuple[int, int]: ...

    async def unsent_count(self, account_id: int) -> int: ...

    async def remove_account(self, account_id: int) -> None: ...

    async def window(self, folder_id: int, offset: int, limit: int) -> list[MessageRow]: ...

    async def inbox_count(self) -> tuple[int, int]: ...

    async def inbox_window(self, offset: int, limit: int) -> list[MessageRow]: ...

    async def inbox_next_unread(
        self, after: MessageRow | None = None
    ) -> tuple[int, MessageRow] | None: ...

    async def message(self, message_id: int) -> MessageDetail | None: ...

    async def set_flags(self, ids: list[int], add: Flag, remove: Flag) -> list[int]: ...

    async def save_draft_copy(
        self,
        account_id: int,
        raw: bytes,
        envelope: Envelope,
        body_text: str,
        replaces: int | None = None,
    ) -> int | None: ...

    async def discard_draft_copy(self, message_id: int) -> None: ...

    async def address_suggestions(self, prefix: str, limit: int = 8) -> list[Address]: ...

    # -- triage and the list's other views (mailtui/ui/list_sources.py, screens/main.py)

    async def move(self, ids: list[int], to_folder_id: int) -> list[int]: ...

    async def delete(self, ids: list[int]) -> list[int]: ...

    async def undo_ops(self, op_ids: list[int]) -> UndoResult: ...

    async def search(
        self, query: str, limit: int, folder_id: int | None = None
    ) -> list[MessageRow]: ...

    async def next_unread(
        self, folder_id: int, after: MessageRow | None = None
    ) -> tuple[int, MessageRow] | None: ...

    async def thread_count(self, folder_id: int) -> tuple[int, int]: ...

    async def thread_window(
        self, folder_id: int, offset: int, limit: int
    ) -> list[ThreadSummary]: ...

    async def thread_messages(
        self, folder_id: int, thread_id: int, limit: int = 1000
    ) -> list[MessageRow]: ...

    async def thread_replies(
        self, folder_id: int, thread_id: int, limit: int = 1000
    ) -> list[tuple[int, str, str, tuple[str, ...]]]: ...

    async def thread_position(self, folder_id: int, thread_id: int) -> int | None: ...

    async def date_position(self, folder_id: int, before: int) -> int: ...

    async def thread_date_position(self, folder_id: int, before: int) -> int: ...

    async def next_unread_thread(
        self, folder_id: int, after: MessageRow | None = None
    ) -> tuple[int, ThreadSummary] | None: ...


class ListGaps(Protocol):
    """What a folder in its first pass lacks yet (``sync/window.py``)."""

    def gaps(self, folder_id: int) -> FolderGaps | None: ...

    def want_window(self, folder_id: int, remote_ids: list[str]) -> None:
        """Fetch these placeholders' envelopes next."""


class ServerQuestions(ListGaps, Protocol):
    """What the list asks the server about a folder in its first pass, through its
    worker (``sync/server_search.py``): the UI itself never talks to a server."""

    async def date_position(self, folder_id: int, day: date) -> int | None:
        """The listing position of the newest message on or before ``day``, its window
        cached first; None: ask the store."""

    def search_server(self, folder_id: int, query: str) -> ServerFilter | None:
        """The server searches its part not cached yet; None: no pass (or offline)."""


class SyncControl(ServerQuestions, Protocol):
    """The sync manager as the UI drives it."""

    def add_listener(self, cb: Callable[[SyncEvent], None]) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> dict[str, tuple[AccountStatus, str]]: ...

    async def fetch_body(self, message_id: int) -> bytes | None: ...

    def kick(self, account_id: int) -> None: ...

    def reconnect(self) -> None:
        """Every account tries its server now, with its credentials read again."""

    def check_now(self) -> None:
        """Every account looks for new mail now (a poll of every folder)."""

    async def change_folder(
        self, account_id: int, kind: str, name: str, new_path: str | None = None
    ) -> str: ...

    def set_open_folder(self, account_id: int | None, folder_id: int | None) -> None:
        """The folder on screen (None, None: none or "All inboxes"), for push."""

    def rows_drawn(self, folder_id: int) -> None:
        """The list drew rows of the folder (a first pass waits for its first ones)."""

    async def add_account(self, spec: WorkerSpec) -> None:
        """An account added while running: its worker starts now."""

    async def remove_account(self, account_id: int) -> None:
        """The account's worker stops and is forgotten."""

    def capabilities(self, account_id: int) -> Capabilities | None:
        """What the account's backend can do; None until its worker first connected."""
