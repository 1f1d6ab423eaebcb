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

Account kinds describe themselves here too (``KindSpec``: options, checks, builder, how
they send; each backend package's ``kind.py`` fills one in), and ``Submission`` is what
the outbox sender hands mail to: SMTP, or a backend that sends itself.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

from mailtui.config import AccountConfig
from mailtui.models import (
    CalendarBatch,
    ContactBatch,
    Downloaded,
    FolderBatch,
    NewMessage,
    OpResult,
    PendingOp,
    RawMessage,
    RemoteFolder,
)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an account can do; the UI hides what is not there instead of failing."""

    folders: bool = True  # more than one folder
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
    #: Folders can be subscribed and unsubscribed (``FolderAdmin.subscribe_folder``).
    subscriptions: bool = False
    #: The server files a message the client hands it (IMAP APPEND): drafts are kept in
    #: its Drafts folder. False (ActiveSync): drafts stay on this machine.
    append: bool = True
    #: The server keeps no folders, flags or moves of its own (POP3): the account's
    #: folders beyond those ``list_folders`` returns live in the store only, and every op
    #: is done in the store, never sent to the server.
    local: bool = False


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
        """Changes of a mail folder since ``state`` in batches, newest messages first (a
        first pull may bring the oldest screenful right after the newest one, so the end
        of the folder is cached early). The last batch has ``complete=True``. ``state``
        is what the previous batch returned ({} at first)."""

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
    """A backend that can create, rename, delete and subscribe folders on the server.

    Folder names are the server's full names (``RemoteFolder.name``); a *path* is what
    the user typed, ``/``-separated, which the backend encodes (modified UTF-7 for IMAP).
    Each raises OpRejected with the server's reason when it refuses."""

    async def create_folder(self, path: str) -> str:
        """Creates (and subscribes) the folder; returns its server name."""

    async def rename_folder(self, name: str, new_path: str) -> str:
        """Renames folder ``name``; returns the new server name."""

    async def delete_folder(self, name: str) -> None:
        """Deletes folder ``name`` and the messages in it."""

    async def subscribe_folder(self, name: str, subscribed: bool) -> None:
        """Subscribes folder ``name`` (the account then shows and syncs it), or
        unsubscribes it. A backend without subscriptions (``Capabilities.subscriptions``
        False) raises OpRejected."""


@runtime_checkable
class FolderWatcher(Protocol):
    """A backend that can push changes of one more folder besides its usual one (IMAP:
    IDLE on the open folder through a second connection). The worker tells it which
    folder the user has open; ``wait_for_changes`` then also returns that folder's name
    when it changes. Best effort: where the server allows no more, that folder is
    polled like the others, and nothing is raised."""

    def watch(self, folder: str | None) -> None:
        """The server name of the folder open in the UI; None for none."""


class DownloadLedger(Protocol):
    """What the store keeps of every message a server that keeps nothing for us (POP3)
    ever handed over (``FolderBatch.ledger`` writes it, with the batch): read by the
    backend to know what it downloaded already and what it may delete. The worker hands
    it over (``LedgerUser``); it reads only what is committed."""

    async def lookup(self, server_ids: Sequence[str]) -> dict[str, Downloaded]:
        """The ledger rows of those server ids that exist."""

    async def by_key(self, keys: Sequence[str]) -> list[Downloaded]:
        """The ledger rows with one of these content keys (a message under a new id)."""

    async def listed(self) -> list[str]:
        """The server ids the server listed the last time (not marked gone)."""

    async def before_deleting(self, server_ids: Sequence[str]) -> None:
        """Called right before the backend deletes these messages on the server: every
        committed batch is made durable (on the disk, fsynced) before this returns."""


@runtime_checkable
class LedgerUser(Protocol):
    """A backend that reads the account's download ledger (POP3)."""

    def use_ledger(self, ledger: DownloadLedger) -> None:
        """Called once, before ``connect``."""


@runtime_checkable
class WindowFetcher(Protocol):
    """A backend that can fetch the envelopes of some messages of a folder out of the
    pass's order: the window the user scrolled to during a first pass
    (``sync/window.py``). Called between two batches of a pull."""

    async def fetch_window(
        self, folder: str, remote_ids: Sequence[str]
    ) -> list[NewMessage] | FolderBatch:
        """Envelopes (header only) of ``remote_ids``; ids gone from the server are left
        out. Or a batch of them with what must be committed with them (POP3: their
        ledger rows, ``FolderBatch.ledger``); such a backend may leave out the ids its
        pull handed over already (a POP3 message is downloaded once)."""


@runtime_checkable
class ServerSearcher(Protocol):
    """A backend that can ask the server about the part of a folder not cached yet
    during a first pass: where a date falls, which messages match a filter
    (``sync/server_search.py``). Called between two batches of a pull."""

    async def newest_before(self, folder: str, day: date) -> str | None:
        """The newest message (remote id) that arrived before ``day`` (by the server's
        arrival date, a day at a time); None when there is none."""

    async def search_headers(
        self, folder: str, words: Sequence[str], among: Sequence[str]
    ) -> list[str]:
        """Those of ``among`` whose subject or From/To/Cc contain every one of ``words``
        (as the server matches text: case-insensitive substrings)."""


@runtime_checkable
class Settling(Protocol):
    """A backend with work to do once a pull's batches are committed (POP3: delete on
    the server what the committed ledger says is due, then QUIT so it becomes final).
    A batch the backend yielded is not committed yet when the next one is asked for."""

    async def settle(self, folder: RemoteFolder) -> None:
        """Every batch of the last pull of ``folder`` is committed."""


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
    # Sending, for the status bar at once (``text``: the whole notice, reason included):
    SENT = "sent"  # a message went out; ``text`` says where its copy went
    SEND_FAILED = "send_failed"  # not sent, and retrying will not help: the user acts
    SEND_DEFERRED = "send_deferred"  # not sent yet; the sender tries again by itself
    NO_SENT_FOLDER = "no_sent_folder"  # sent, but the account has no Sent folder: ask
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
    retry_at: float | None = None  # STATUS: time.time() of the next attempt (a backoff)


# ------------------------------------------------------------------ sending


@dataclass(frozen=True, slots=True)
class Original:
    """The message a reply or forward answers, as its server knows it: the server name of
    its folder (an EAS CollectionId) and its remote id (an EAS ServerId). A backend that
    sends itself passes it on (EAS SmartReply / SmartForward); SMTP has no use for it."""

    folder: str
    remote_id: str
    forward: bool  # a forward (SmartForward), else a reply (SmartReply)


class AccountStateAccess(Protocol):
    """What a backend's own submission may read and add of its account's sync state
    (``StatefulBackend``): the EAS DeviceId and PolicyKey the backend committed."""

    async def load(self) -> Mapping[str, Any]:
        """The account state as committed ({} when there is none yet)."""

    async def setdefault(self, key: str, value: Any) -> Any:
        """Sets ``key`` unless the state has it; returns the value it has then (a DeviceId
        made by whichever came first, the backend or the sender)."""

    async def update(self, values: Mapping[str, Any]) -> None:
        """Sets these keys of the committed state, the rest as it is (the PolicyKey the
        sender got by provisioning, so the backend's next start uses it)."""


class Submission(Protocol):
    """An open way to hand messages to the server for delivery: an SMTP connection
    (``mailtui.sync.outbox.SmtpSubmission``), or a backend that sends mail itself (EAS
    SendMail). The outbox sender opens one per flush and closes it after.

    The errors are those of ``mailtui.protocols.smtp`` (``SmtpError`` and its kinds): the
    outbox's crash policy rests on telling "refused" from "deferred" from "may have
    been sent", and those classes say which."""

    async def submit(
        self,
        mail_from: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        before_data: Callable[[], Awaitable[None]] | None = None,
        original: Original | None = None,
    ) -> str:
        """Sends one message to every recipient, or to none. ``before_data`` runs once
        the server took every recipient, right before the message itself goes: the
        outbox records there that it may be on its way. ``original``: the message it
        answers, when the server knows it. Returns the server's reply."""

    async def close(self) -> None:
        """Closes politely; never raises."""


SubmissionFactory = Callable[[], Awaitable[Submission]]


class Sending(enum.StrEnum):
    """How an account of a kind sends mail."""

    SMTP = "smtp"  # SMTP submission, set up in the account's [smtp] table
    BACKEND = "backend"  # the backend itself (EAS SendMail); no [smtp] table
    NONE = "none"  # it cannot send (the demo)


# ------------------------------------------------------------------ account kinds


class OptionType(enum.StrEnum):
    """What an option's value is: how a setup wizard asks for it and checks it."""

    TEXT = "text"
    EMAIL = "email"
    INTEGER = "integer"  # within ``Option.bounds``
    BOOLEAN = "boolean"
    CHOICE = "choice"  # one of ``Option.choices``
    PATH = "path"  # a file on this machine
    COMMAND = "command"  # a shell command whose output is the value (password_command)
    FINGERPRINT = "fingerprint"  # a certificate's SHA-256 fingerprint, "sha256:AB:CD:…"


OptionValue = str | int | bool


@dataclass(frozen=True, slots=True)
class Option:
    """One setting of an account kind, described so that a setup wizard can ask for it
    without knowing the kind.

    ``name`` is the key in the account's ``[accounts.<name>]`` table of config.toml;
    ``smtp.host`` is ``host`` in its ``[accounts.<name>.smtp]`` table."""

    name: str
    type: OptionType
    help: str  # one line
    default: OptionValue | None = None  # None: unset unless the user gives a value
    required: bool = False
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] | None = None  # lowest and highest whole number
    # The default comes from an earlier option's value: looked up in ``defaults`` (port
    # by security), or that value itself when ``defaults`` is empty (username = email).
    follows: str | None = None
    defaults: Mapping[str, OptionValue] = field(default_factory=dict)
    # No default while another option has this value: (name, value), e.g. no SMTP login
    # name or password command with ``smtp.auth = "none"``.
    unless: tuple[str, OptionValue] | None = None


Builder = Callable[[AccountConfig], Backend]
AccountCheck = Callable[[AccountConfig, str], None]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """An account kind (``AccountKind``) as it describes itself: what the setup wizard
    shows and asks, how the config is checked, how an account is built and sends.
    Each backend package declares its own (``protocols/<package>/kind.py``);
    ``mailtui.protocols.kinds`` lists them."""

    name: str  # ``kind`` in config.toml: an ``AccountKind`` value
    label: str  # a word or two for a list of kinds
    summary: str  # one line: what an account of this kind is
    options: tuple[Option, ...]
    sending: Sending
    # config -> Backend; imports the backend's code when called, not before. None: this
    # version cannot sync accounts of the kind, which are refused with a clear message.
    build: Builder | None = None
    # Checks that only this kind makes, over a parsed account: raises ConfigError whose
    # text starts with ``where`` ("<file>: [accounts.<name>]") and names the key.
    check: AccountCheck | None = None
    # Sending.BACKEND: opens the backend's own submission for an account, which may read
    # and add to the account's sync state (the DeviceId its backend uses).
    submission: Callable[[AccountConfig, AccountStateAccess], SubmissionFactory] | None = None
    # mailtui files a copy of sent mail in the account's Sent folder (IMAP APPEND, or in
    # the store for a local kind); False where the server does it (EAS).
    files_sent: bool = False
    # The kind's backends are local (``Capabilities.local``, POP3): an account's folders
    # beyond the server's INBOX live in the store, made before the first sync if need be
    # (``mailtui.sync.local_ops``), so its Sent folder is always there to file into.
    local: bool = False
    # False: accounts of this kind are not set up in config.toml (the demo).
    configurable: bool = True

    def option(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    def defaults(self, values: Mapping[str, OptionValue]) -> dict[str, OptionValue]:
        """``values`` (by option name) completed with the default of every option that
        has one, given the values before it: what the account gets when the user leaves
        the rest as it is."""
        out = dict(values)
        for option in self.options:
            if option.name in out:
                continue
            if option.unless is not None and out.get(option.unless[0]) == option.unless[1]:
                continue
            value: OptionValue | None = option.default
            if option.follows is not None:
                other = out.get(option.follows)
                if option.defaults:
                    value = option.defaults.get(str(other)) if other is not None else None
                else:
                    value = other
            if value is not None:
                out[option.name] = value
        return out

    def validate(self, account: AccountConfig, where: str) -> None:
        """The kind's own checks of a parsed account (see ``check``). Raises ConfigError."""
        if self.check is not None:
            self.check(account, where)
