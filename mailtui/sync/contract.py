"""The contract between sync workers and protocol backends.

A *backend* speaks one protocol for one account (IMAP, POP3, EAS, or the demo server). It
never touches the store: it yields data, and the worker (``mailtui.sync.worker``) writes
it, one transaction per batch. The worker in turn never speaks a protocol.

    backend ──list_folders: RemoteFolder──▶ worker ──sync_folders──────────▶ store
    backend ──pull: FolderBatch───────────▶ worker ──apply_batch───────────▶ store
    backend ──pull_contacts: ContactBatch─▶ worker ──apply_contact_batch───▶ store
    backend ──pull_calendar: CalendarBatch▶ worker ──apply_calendar_batch──▶ store
    backend ──fetch_bodies: raw bytes─────▶ worker ──store_bodies──────────▶ store
    backend ◀──apply: PendingOp, OpResult── worker ◀─pending_ops / op_done── store
    worker ──SyncEvent──▶ manager listeners (the UI turns them into Textual messages)

Every backend pulls mail (``Backend``); a folder's ``kind`` says what it holds, and a
contacts or calendar folder is pulled only from a backend that can (``ContactSource``,
``CalendarSource``).

Sync state per folder (UIDVALIDITY, HIGHESTMODSEQ, EAS SyncKey, …) is a JSON-able dict that
the backend defines and the store keeps; the backend returns the new state with each batch
and the worker commits it in the same transaction as the batch's data, so a crash between
batches resumes from the last committed batch. Sync state of the whole account (EAS
FolderSync key, PolicyKey, DeviceId) works the same way for a ``StatefulBackend``: the
worker hands it what the store kept (``restore``) before it connects, and commits a new
one with the batch that carries it (``account_state``) or with the folder list
(``take_account_state``).

What a protocol needs of the store beyond that is said by ``Capabilities`` in general
terms (``sole_copy``: the server may not keep what it handed over), and the worker turns
it into what the store does (fsync the bodies before the commit).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from mailtui.models import (
    CalendarBatch,
    ContactBatch,
    FolderBatch,
    OpResult,
    PendingOp,
    RawMessage,
    RemoteFolder,
)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an account can do; the UI hides what is not there instead of failing."""

    folders: bool = True  # more than one folder (POP3: False)
    server_move: bool = True  # move between folders on the server
    flags: bool = True  # read/flagged state is kept on the server
    push: bool = False  # wait_for_changes returns as soon as the server has news
    send: bool = False  # the backend sends mail itself (EAS SendMail); else SMTP
    contacts: bool = False
    calendar: bool = False
    #: The server may not keep what it hands over (POP3 without "leave on server"): a
    #: committed batch holds the only copy of its messages, so the store makes their
    #: bodies durable (fsynced) before the commit.
    sole_copy: bool = False


@runtime_checkable
class Backend(Protocol):
    """One protocol session for one account. Owned by exactly one worker task."""

    capabilities: Capabilities

    async def connect(self) -> None:
        """Open the connection and authenticate. Raises AuthError, TransientError."""

    async def close(self) -> None:
        """Close politely; never raises."""

    async def list_folders(self) -> list[RemoteFolder]:
        """All folders the account shows, with roles."""

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        """Changes of a mail folder since ``state`` in batches, newest messages first. The
        last batch has ``complete=True``. ``state`` is what the previous batch returned
        ({} at first)."""

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        """The full raw message, now (the user is waiting for it)."""

    def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, RawMessage]]:
        """Many raw messages of one folder, ``(remote_id, raw)`` as they arrive, in few
        round trips (the background body phase). Ids no longer on the server are left
        out. The worker calls nothing else on the backend until the iterator is done."""

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        """Apply one op on the server. ``target_folder`` is the server name of the op's
        destination folder for MOVE/COPY/APPEND. Raises OpRejected or TransientError."""

    async def wait_for_changes(self, timeout: float) -> set[str]:
        """Block until the server reports changes (IDLE, Ping) or ``timeout`` passes.

        Returns the names of folders that changed; an empty set means "poll all"."""


@runtime_checkable
class StatefulBackend(Protocol):
    """A backend with sync state of the whole account (EAS: FolderSync key, PolicyKey,
    DeviceId), kept by the store between sessions."""

    def restore(self, state: Mapping[str, Any]) -> None:
        """What the store kept ({} at first); called once, before ``connect``."""

    def take_account_state(self) -> dict[str, Any] | None:
        """The account state as it is now if it changed since ``restore`` or the last
        call and no batch carried it (a FolderSync key after ``list_folders``, a
        PolicyKey after ``connect``); None if unchanged. The worker commits it with the
        folder list it asks for right after ``list_folders``."""


@runtime_checkable
class ContactSource(Protocol):
    """A backend that syncs address books (folders of kind ``contacts``)."""

    def pull_contacts(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[ContactBatch]:
        """Changes since ``state`` in batches, as ``Backend.pull`` does for mail."""


@runtime_checkable
class CalendarSource(Protocol):
    """A backend that syncs calendars (folders of kind ``calendar``)."""

    def pull_calendar(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[CalendarBatch]:
        """Changes since ``state`` in batches, as ``Backend.pull`` does for mail."""


@runtime_checkable
class FolderAdmin(Protocol):
    """A backend that can create, rename and delete folders on the server (IMAP, EAS).

    Folder names are the server's full names (``RemoteFolder.name``); a *path* is what
    the user typed, ``/``-separated, which the backend encodes (modified UTF-7 for IMAP).
    Each raises OpRejected with the server's reason when it refuses."""

    async def create_folder(self, path: str) -> str:
        """Creates (and subscribes) the folder; returns its server name."""

    async def rename_folder(self, name: str, new_path: str) -> str:
        """Renames folder ``name``; returns the new server name."""

    async def delete_folder(self, name: str) -> None:
        """Deletes folder ``name`` and the messages in it."""


@runtime_checkable
class FolderWatcher(Protocol):
    """A backend that can push changes of one more folder besides its usual one (IMAP:
    IDLE on the open folder through a second connection). The worker tells it which
    folder the user has open; ``wait_for_changes`` then also returns that folder's name
    when it changes. Best effort: where the server allows no more, that folder is
    polled like the others, and nothing is raised."""

    def watch(self, folder: str | None) -> None:
        """The server name of the folder open in the UI; None for none."""


class AccountStatus(enum.StrEnum):
    STARTING = "starting"
    CONNECTING = "connecting"
    SYNCING = "syncing"
    ONLINE = "online"  # in step, waiting for changes
    OFFLINE = "offline"  # network trouble; retrying with backoff
    AUTH_FAILED = "auth_failed"  # stopped until the user fixes the password
    ERROR = "error"  # stopped: a configuration problem
    STOPPED = "stopped"


class EventKind(enum.StrEnum):
    STATUS = "status"  # the account's AccountStatus changed
    FOLDERS = "folders"  # folder list or counts changed
    MESSAGES = "messages"  # messages added/removed/flags changed in ``folder_id``
    BODY = "body"  # a body was cached (``message_id``)
    OP_DONE = "op_done"
    OP_FAILED = "op_failed"  # ``text`` says why, in plain words
    OUTBOX = "outbox"  # the account's outbox changed (sent, failed, waiting); ``text`` says
    CONTACTS = "contacts"  # contacts of ``folder_id`` changed
    CALENDAR = "calendar"  # calendar items of ``folder_id`` changed


@dataclass(frozen=True, slots=True)
class SyncEvent:
    account: str
    kind: EventKind
    status: AccountStatus | None = None
    folder_id: int | None = None
    message_id: int | None = None
    progress: tuple[int, int] = (0, 0)
    added: int = 0
    text: str = ""  # plain words for the status bar (errors included)
