"""Mail data: accounts, folders, messages, pending ops and the outbox.

Nothing here does I/O or imports anything outside the standard library. The UI speaks
*local* ids only (``MessageRow.id``, ``Folder.id``); server identities (IMAP UID +
UIDVALIDITY, POP3 UIDL, EAS ServerId) are opaque ``remote_id`` strings that only the store
and the sync workers look at.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias


class Flag(enum.IntFlag):
    """Message flags, stored as one integer bitmask per message."""

    NONE = 0
    SEEN = 1
    ANSWERED = 2
    FLAGGED = 4
    DELETED = 8
    DRAFT = 16
    FORWARDED = 32
    JUNK = 64


class FolderRole(enum.StrEnum):
    """What a folder is for; protocols map SPECIAL-USE, EAS types, names onto these."""

    NONE = ""
    INBOX = "inbox"
    SENT = "sent"
    DRAFTS = "drafts"
    TRASH = "trash"
    ARCHIVE = "archive"
    JUNK = "junk"


class FolderKind(enum.StrEnum):
    """What a folder holds. Mail folders are listed for the message list; the others
    feed the address book and the calendar."""

    MAIL = "mail"
    CONTACTS = "contacts"
    CALENDAR = "calendar"
    TASKS = "tasks"


class AccountKind(enum.StrEnum):
    IMAP = "imap"
    POP3 = "pop3"
    EXCHANGE = "exchange"
    DEMO = "demo"


class Security(enum.StrEnum):
    """How a connection is secured (IMAP, POP3, SMTP alike); the config's ``security``.

    The values are what the config file says, so a member equals its string."""

    TLS = "tls"  # TLS from the first byte (implicit TLS: 993, 995, 465)
    STARTTLS = "starttls"  # plain greeting, then STARTTLS; never falls back to plain text
    NONE = "none"  # plain text throughout, only when the config says so


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox of an address header, already decoded and sanitized."""

    name: str
    addr: str

    def display(self) -> str:
        return self.name or self.addr


@dataclass(slots=True)
class Envelope:
    """What the message list and threading need, parsed from a message's header.

    ``date`` is a Unix timestamp (UTC). Every string is decoded (RFC 2047) and sanitized.
    """

    subject: str = ""
    from_: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    date: int = 0
    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    size: int = 0
    has_attachments: bool = False
    preview: str = ""


#: A message's bytes as a protocol hands them on: a ``bytearray`` when the network layer
#: filled it in place (``LineReader.readexactly``), not copied into ``bytes``.
RawMessage: TypeAlias = bytes | bytearray


class Prepared(NamedTuple):
    """The values of a new message's row that come from the message alone, made once
    (``envelope_values.prepare``): where the envelope is parsed, in a backend's parse
    thread, or by the store when a backend did not. ``remote_id``, ``flags`` and
    ``envelope`` say what they were made from (``envelope_values.prepared`` makes them
    again for a message changed since)."""

    remote_id: str
    flags: int
    envelope: Envelope
    candidates: tuple[str, ...]  # message-ids whose thread it joins, best first
    subject_key: tuple[str, bool]  # the subject as threads compare it, whether a reply
    #: The values of ``envelope_values.ROW_COLUMNS``, bound as they are. Most are the
    #: envelope's own objects (the subject, the ids, the preview; the address texts are
    #: shared by messages with the same addresses), so a batch waiting for its commit
    #: holds little more than its envelopes.
    row: tuple[Any, ...]


@dataclass(slots=True)
class NewMessage:
    """A message as a sync worker hands it to the store (one element of a batch)."""

    remote_id: str
    envelope: Envelope
    flags: Flag = Flag.NONE
    raw: RawMessage | None = None  # the full message when the protocol delivered it already
    body_text: str | None = None  # plain text for the search index, when known
    #: Made in the backend's parse thread (``envelope_values.prepare_new``), or None.
    prepared: Prepared | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Folder:
    id: int
    account_id: int
    name: str  # the server's full name (path), unique per account
    display_name: str  # the last path component, for the UI
    role: FolderRole
    total: int
    unread: int
    depth: int = 0  # nesting level, for the folder tree
    kind: FolderKind = FolderKind.MAIL
    subscribed: bool = True  # False: on the server, not synced (RemoteFolder.subscribed)


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    kind: AccountKind
    email: str


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One row of the message list: only what is drawn."""

    id: int
    folder_id: int
    date: int
    sender: str
    subject: str
    flags: Flag
    has_attachments: bool
    size: int
    thread_id: int

    @property
    def unread(self) -> bool:
        return not self.flags & Flag.SEEN


@dataclass(frozen=True, slots=True)
class MessageDetail:
    """A message as the reader opens it; ``raw`` is None until the body is cached."""

    row: MessageRow
    account_id: int
    envelope: Envelope
    raw: bytes | None


class OpKind(enum.StrEnum):
    """A user intent that still has to be applied on the server."""

    SET_FLAGS = "set_flags"  # payload: {"add": int, "remove": int}
    MOVE = "move"  # payload: {"to_folder": int}
    COPY = "copy"  # payload: {"to_folder": int}
    DELETE = "delete"  # payload: {} — expunge for good (already in Trash / no Trash)
    # payload: {"folder": int, "outbox_id"?: int}; the bytes are the outbox item's (else
    # the message's cached body); the worker adds them as payload["raw"] for the backend.
    APPEND = "append"


class OpState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # rejected for good; rolled back locally and reported


@dataclass(frozen=True, slots=True)
class PendingOp:
    """One row of ``pending_ops``: applied on the server exactly once, in id order.

    ``remote_id`` and ``folder_name`` are the server identity of the message *at the time
    the intent was made* (the local row may since have moved), so the worker can act on
    the server without asking the store again.
    """

    id: int
    account_id: int
    kind: OpKind
    message_id: int | None
    folder_id: int | None
    folder_name: str | None
    remote_id: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    last_error: str = ""


class OutboxState(enum.StrEnum):
    QUEUED = "queued"  # committed, not yet handed to the server
    SENDING = "sending"  # a worker is talking to the server about it
    SENT = "sent"  # accepted by the server for every recipient; waiting to be filed
    FAILED = "failed"  # refused; kept for the user to edit, retry or discard
    # Cut off after the message was handed to the server (crash, or the line dropped
    # before the server's answer): it may have been sent. Never resent by itself; the
    # user checks and retries, discards or marks it sent.
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class Origin:
    """The message an outgoing reply or forward answers: its store id, and its Message-ID
    to find it again should it have moved; ``flag`` is what it gets once the answer is
    sent (``Flag.ANSWERED`` or ``Flag.FORWARDED``)."""

    message_id: int | None
    header_id: str
    flag: Flag


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    account_id: int
    raw: bytes
    mail_from: str
    recipients: tuple[str, ...]
    state: OutboxState
    attempts: int
    last_error: str
    created: int
    origin: Origin | None = None
