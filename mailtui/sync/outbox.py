"""The outbox: every outgoing message is committed here before any network I/O, and
leaves only once the server accepted it for every recipient (then it is filed in Sent).

States (``OutboxState``) and who moves them::

    queue() ─▶ queued ──(all RCPT accepted; committed just before DATA)──▶ sending
                 ▲  │                                                        │
      retry()    │  ├─ refused for good (5xx, a recipient refused) ─▶ failed │
      (user)     │  └─ transient (4xx, offline): stays queued, backoff       │
                 │                                                         ▼
       failed / uncertain ◀── no answer after DATA (line lost, timeout) ── sending
                                                                           │ 250
               sent ──(APPEND op, same transaction)──▶ filed: item removed ◀┘

Crash policy. ``sending`` is entered only after every recipient was accepted, right
before DATA, and left in the same transaction that records the server's answer. So an
item found ``queued`` after a crash was certainly not accepted, and is sent (again); one
found ``sent`` was accepted, and only its filing is left (the APPEND op, applied once).
An item found ``sending`` was cut off while the server had it or was about to: whether
it was accepted cannot be known (SMTP has no way to ask, and the copy in the recipient's
mailbox is out of reach), so it becomes ``uncertain`` and is **never resent by itself**:
the user checks (Sent folder of the recipient, a reply) and retries, discards, or marks
it sent. A careful client prefers asking over a silent duplicate; the window is the
time the server takes to answer DATA, so this is rare. The same holds when the line
drops after DATA without a crash.

Several processes (the UI and ``mailtui send --outbox`` from cron) may flush the same
account: a ``flock`` on a file next to the database makes one wait for the other, and
``Store.outbox_transition`` (compare-and-set) keeps a user's discard or edit from
racing a send.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mailtui import mime
from mailtui.errors import MailtuiError
from mailtui.models import (
    Account,
    Flag,
    Folder,
    FolderRole,
    Origin,
    OutboxItem,
    OutboxState,
)
from mailtui.protocols.smtp import (
    RecipientsRefused,
    SmtpAuthError,
    SmtpConfigError,
    SmtpError,
    SmtpRejected,
    SmtpTransientError,
    SmtpUncertain,
)
from mailtui.store import NotFound, Store
from mailtui.sync.contract import (
    EventKind,
    Original,
    Submission,
    SubmissionFactory,
    SyncEvent,
)
from mailtui.sync.outbox_config import Connect as Connect
from mailtui.sync.outbox_config import SmtpSubmission as SmtpSubmission
from mailtui.sync.outbox_config import connector as connector
from mailtui.sync.outbox_config import files_sent_copy as files_sent_copy
from mailtui.sync.outbox_config import identities as identities
from mailtui.sync.outbox_config import smtp_credentials as smtp_credentials
from mailtui.sync.outbox_config import smtp_settings as smtp_settings
from mailtui.sync.outbox_config import submission as submission
from mailtui.sync.retry import Backoff

if TYPE_CHECKING:  # annotations only: the UI's start-up does not load the composing code
    from mailtui.compose.message import OutgoingMessage

log = logging.getLogger(__name__)

Emit = Callable[[SyncEvent], None]

UNCERTAIN_TEXT = (
    "mailtui was interrupted while the server was receiving this message; it may or may "
    "not have been sent. Check, then retry, discard or mark it sent"
)
#: States in which an item still needs the user or the sender (``sent`` is done sending).
UNSENT = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED, OutboxState.UNCERTAIN)


class OutboxError(MailtuiError):
    """A user action on the outbox is not possible now; ``str()`` says why."""


class OutboxStore(Protocol):
    """What the outbox's functions need of the store (``mailtui.store.Store`` fits, and
    so does the UI's ``MailStore``): the items, their compare-and-set state changes, and
    the account's folders to find Sent."""

    async def accounts(self) -> list[Account]: ...

    async def folders(self, account_id: int | None = None) -> list[Folder]: ...

    async def outbox(self, account_id: int) -> list[OutboxItem]: ...

    async def outbox_add(
        self,
        account_id: int,
        raw: bytes,
        mail_from: str,
        recipients: Sequence[str],
        origin: Origin | None = None,
    ) -> int: ...

    async def outbox_transition(
        self,
        item_id: int,
        from_states: Iterable[OutboxState],
        to: OutboxState,
        error: str = "",
    ) -> bool: ...

    async def outbox_sent(self, item_id: int, sent_folder_id: int | None) -> int | None: ...

    async def outbox_remove(self, item_id: int) -> None: ...

    async def sent_copies(self, account_id: int) -> str: ...

    async def set_sent_copies(self, account_id: int, choice: str) -> None: ...


# ------------------------------------------------------------------ user actions (UI)


async def queue(
    store: OutboxStore, account_id: int, message: OutgoingMessage, origin: Origin | None = None
) -> int:
    """Put a built message in the outbox (committed before this returns); kick the
    account's ``OutboxSender`` afterwards. ``origin``: the message it replies to or
    forwards, flagged once it is sent. Returns the item id."""
    return await store.outbox_add(
        account_id, message.raw, message.mail_from, message.recipients, origin
    )


async def retry(store: OutboxStore, item_id: int) -> None:
    """Send a failed or uncertain item again (the user decided). Raises OutboxError."""
    try:
        ok = await store.outbox_transition(
            item_id,
            (OutboxState.FAILED, OutboxState.UNCERTAIN, OutboxState.QUEUED),
            OutboxState.QUEUED,
        )
    except NotFound:
        raise OutboxError("that message is no longer in the outbox") from None
    if not ok:
        raise OutboxError("that message is being sent or was sent already")


async def discard(store: OutboxStore, item_id: int) -> None:
    """Drop an item that is not on the wire right now. Raises OutboxError."""
    try:
        ok = await store.outbox_transition(
            item_id,
            (OutboxState.QUEUED, OutboxState.FAILED, OutboxState.UNCERTAIN, OutboxState.SENT),
            OutboxState.FAILED,
            "discarded",
        )
    except NotFound:
        return
    if not ok:
        raise OutboxError("that message is being sent right now; try again in a moment")
    await store.outbox_remove(item_id)


async def take_for_edit(store: OutboxStore, item_id: int) -> OutboxItem:
    """Stop an unsent item from going out while the user edits it, and return it (its
    ``raw`` reopens in the composer). Finish with ``replace`` or ``retry``.

    Raises:
        OutboxError: it is being sent, or was sent.
    """
    try:
        ok = await store.outbox_transition(
            item_id,
            (OutboxState.QUEUED, OutboxState.FAILED, OutboxState.UNCERTAIN),
            OutboxState.FAILED,
            "being edited",
        )
    except NotFound:
        raise OutboxError("that message is no longer in the outbox") from None
    if not ok:
        raise OutboxError("that message is being sent or was sent already")
    for item in await store.outbox(await _account_of(store, item_id)):
        if item.id == item_id:
            return item
    raise OutboxError("that message is no longer in the outbox")


async def replace(store: OutboxStore, item_id: int, message: OutgoingMessage) -> int:
    """The edited message takes the place of ``item_id`` (taken with ``take_for_edit``).
    The new one is committed first, so a crash in between leaves both, never neither."""
    account_id = await _account_of(store, item_id)
    old = next((i for i in await store.outbox(account_id) if i.id == item_id), None)
    # Still the answer to the same message: it keeps the original to flag.
    new_id = await queue(store, account_id, message, old.origin if old is not None else None)
    await store.outbox_remove(item_id)
    return new_id


async def mark_sent(store: OutboxStore, item_id: int, *, file_copy: bool = True) -> None:
    """The user checked that an uncertain item did go out: file it in Sent (when the
    account files copies, see ``files_sent_copy``), and never resend it."""
    account_id = await _account_of(store, item_id)
    if not await store.outbox_transition(
        item_id, (OutboxState.UNCERTAIN, OutboxState.FAILED), OutboxState.SENT
    ):
        raise OutboxError("only a message that may have been sent can be marked sent")
    if file_copy:
        await store.outbox_sent(item_id, await sent_folder(store, account_id))
    else:
        await store.outbox_remove(item_id)


async def _account_of(store: OutboxStore, item_id: int) -> int:
    for account in await store.accounts():
        if any(i.id == item_id for i in await store.outbox(account.id)):
            return account.id
    raise OutboxError("that message is no longer in the outbox")


#: Names other clients give the Sent folder, for a server that marks none (lower case).
SENT_NAMES = ("sent", "sent items", "sent messages", "inbox.sent", "inbox/sent")


async def sent_folder(store: OutboxStore, account_id: int) -> int | None:
    """The account's Sent folder id: the one with the Sent role (SPECIAL-USE), else one
    named as other clients name it; None when there is none (yet)."""
    folders = await store.folders(account_id)
    for folder in folders:
        if folder.role is FolderRole.SENT:
            return folder.id
    for name in SENT_NAMES:
        for folder in folders:
            if folder.name.lower() == name or (
                "." not in name and "/" not in name and folder.display_name.lower() == name
                and folder.depth == 0
            ):
                return folder.id
    return None


def sent_folder_name(folders: Sequence[Folder], folder_id: int | None) -> str:
    return next((f.display_name for f in folders if f.id == folder_id), "Sent")


# ------------------------------------------------------------------ the sender


@dataclass(slots=True)
class ItemResult:
    """What happened to one item in a flush, in plain words for the user."""

    item_id: int
    subject: str
    state: OutboxState
    text: str
    refused: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FlushReport:
    results: list[ItemResult] = field(default_factory=list)
    #: Why sending stopped early (offline, login refused…); "" when it did not.
    stopped: str = ""
    #: True when that reason may pass by itself (the sender retries with backoff).
    transient: bool = False
    #: Items still not sent after the flush (queued, failed, uncertain).
    unsent: int = 0

    @property
    def all_sent(self) -> bool:
        return self.unsent == 0 and not self.stopped


@dataclass(slots=True)
class _Copies:
    """Where the copy of a sent message goes: ``folder`` (Sent), or kept in the outbox
    until there is one (``keep`` without ``folder``), or nowhere (``keep`` False).
    ``ask``: the user has not been asked yet about an account without Sent."""

    keep: bool
    folder: int | None
    name: str
    ask: bool = False
    #: The words after a send when mailtui files no copy (None: it does).
    unfiled: str | None = None

    @property
    def notice(self) -> str:
        """The status bar's words after a send."""
        if self.folder is not None:
            return f"Sent · copy in {self.name}"
        if self.unfiled is not None:
            return self.unfiled
        if self.keep:
            return "Sent · no Sent folder yet: the copy waits in the outbox"
        return "Sent · no copy kept (no Sent folder)"


@dataclass(frozen=True, slots=True)
class SenderOptions:
    backoff_initial: float = 5.0
    backoff_max: float = 600.0
    lock_timeout: float = 60.0


class OutboxSender:
    """Sends one account's outbox. ``flush()`` once (``mailtui send --outbox``), or
    ``run()`` as a task that flushes on ``kick()`` and retries with backoff.

    ``submission`` opens a ``Submission`` for one flush: SMTP (``submission()``), or a
    backend that sends itself.

    ``on_sent`` is called after an item was accepted and its APPEND op queued: the app
    kicks the account's sync worker there so the copy is filed in Sent at once.
    """

    def __init__(
        self,
        store: Store,
        account: Account,
        submission: SubmissionFactory,
        *,
        file_sent: bool = True,
        unfiled_notice: str = "Sent",
        local_folders: bool = False,
        emit: Emit | None = None,
        on_sent: Callable[[], None] | None = None,
        lock_path: Path | None = None,
        options: SenderOptions | None = None,
    ) -> None:
        self.store = store
        self.account = account
        self.submission = submission
        self.file_sent = file_sent
        # What the status bar says after a send when mailtui files no copy (file_sent
        # False): where the copy is, or that none is kept.
        self.unfiled_notice = unfiled_notice
        # A local account (``KindSpec.local``): its Sent folder is the store's, made here
        # if the sync worker has not made it yet, so the user is never asked for one.
        self.local_folders = local_folders
        self.emit = emit or (lambda _e: None)
        self.on_sent = on_sent or (lambda: None)
        self.lock_path = lock_path or store.path.with_name(
            f"{store.path.name}.outbox-{account.id}.lock"
        )
        self.options = options or SenderOptions()
        self._flushing = asyncio.Lock()
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Something was queued or retried: flush now."""
        self._wake.set()

    async def run(self) -> None:
        """Flush whenever kicked; after a transient failure, again with backoff."""
        backoff = Backoff(self.options.backoff_initial, self.options.backoff_max)
        while True:
            report = await self.flush()
            delay: float | None = None
            if report.transient:
                delay = backoff.next_delay()
            else:
                backoff.reset()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # not wait_for: see Worker._sleep_or_wake
                    await self._wake.wait()

    async def flush(self) -> FlushReport:
        """Send every queued item now; see the module docstring for what happens to
        each. Never raises for server or network trouble (it is in the report)."""
        async with self._flushing:
            lock = await self._lock()
            if lock is None:
                return FlushReport(
                    stopped="another mailtui is sending this account's mail; try again later",
                    transient=True,
                    unsent=await self._unsent(),
                )
            try:
                return await self._flush()
            finally:
                os.close(lock)  # releases the flock

    async def _lock(self) -> int | None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.options.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                await asyncio.sleep(0.1)

    async def _unsent(self) -> int:
        return sum(i.state in UNSENT for i in await self.store.outbox(self.account.id))

    async def _flush(self) -> FlushReport:
        report = FlushReport()
        items = await self.store.outbox(self.account.id)
        copies = await self._copies()
        queued: list[OutboxItem] = []
        for item in items:
            if item.state is OutboxState.SENDING:
                # We hold the lock, so nobody is sending it: a crash cut it off.
                with contextlib.suppress(NotFound):
                    if await self.store.outbox_transition(
                        item.id, (OutboxState.SENDING,), OutboxState.UNCERTAIN, UNCERTAIN_TEXT
                    ):
                        self._note(item, OutboxState.UNCERTAIN, UNCERTAIN_TEXT, report)
            elif item.state is OutboxState.SENT:
                with contextlib.suppress(NotFound):
                    await self._file(item, copies)  # idempotent
            elif item.state is OutboxState.QUEUED:
                queued.append(item)
        if queued:
            await self._send_all(queued, copies, report)
        report.unsent = await self._unsent()
        return report

    async def _copies(self) -> _Copies:
        """Where copies of sent mail go for this flush."""
        if not self.file_sent:  # the server files it (copy_to_sent = false), or no Sent
            return _Copies(keep=False, folder=None, name="", unfiled=self.unfiled_notice)
        if self.local_folders:
            await self.store.ensure_local_folders(self.account.id)
        folders = await self.store.folders(self.account.id)
        folder = await sent_folder(self.store, self.account.id)
        if folder is not None:
            return _Copies(keep=True, folder=folder, name=sent_folder_name(folders, folder))
        choice = await self.store.sent_copies(self.account.id)
        return _Copies(keep=choice != "none", folder=None, name="", ask=choice == "")

    async def _file(self, item: OutboxItem, copies: _Copies) -> None:
        """The item was accepted: flag what it answers, then file its copy in Sent, or
        keep it until there is a Sent folder, or (no copy wanted) let it go."""
        await self.store.outbox_sent(item.id, copies.folder)
        if not copies.keep:
            await self.store.outbox_remove(item.id)

    async def _send_all(
        self, items: Sequence[OutboxItem], copies: _Copies, report: FlushReport
    ) -> None:
        try:
            conn = await self.submission()
        except SmtpError as exc:
            report.stopped = str(exc)
            report.transient = exc.transient
            for item in items:  # the user sees why each one waits
                with contextlib.suppress(NotFound):
                    await self.store.outbox_transition(
                        item.id, (OutboxState.QUEUED,), OutboxState.QUEUED, str(exc)
                    )
            log.warning("%s: cannot send: %s", self.account.name, exc)
            self.emit(SyncEvent(self.account.name, EventKind.OUTBOX, text=f"not sent: {exc}"))
            self._failed(str(exc), exc.transient)
            return
        try:
            for item in items:
                if not await self._send_one(conn, item, copies, report):
                    break
        finally:
            await conn.close()

    def _failed(self, reason: str, transient: bool, head: str = "") -> None:
        """Tell the status bar at once: retrying by itself, or the user must act."""
        if transient:
            kind, head = EventKind.SEND_DEFERRED, head or "Not sent yet, will retry"
        else:
            kind, head = EventKind.SEND_FAILED, head or "Not sent"
        self.emit(SyncEvent(self.account.name, kind, text=f"{head}: {reason}"))

    async def _send_one(
        self, conn: Submission, item: OutboxItem, copies: _Copies, report: FlushReport
    ) -> bool:
        """Returns False when the connection is no good for the next item."""
        store = self.store

        class _Gone(Exception):
            pass

        async def mark_sending() -> None:
            try:
                ok = await store.outbox_transition(
                    item.id, (OutboxState.QUEUED,), OutboxState.SENDING
                )
            except NotFound:
                raise _Gone from None
            if not ok:
                raise _Gone  # discarded or taken for editing meanwhile

        try:
            reply = await conn.submit(
                item.mail_from,
                item.recipients,
                item.raw,
                before_data=mark_sending,
                original=await self._original(item),
            )
        except _Gone:
            return True
        except RecipientsRefused as exc:
            state = OutboxState.QUEUED if exc.transient else OutboxState.FAILED
            await self._set(item, (OutboxState.QUEUED,), state, str(exc), report, exc.refused)
            report.transient = report.transient or exc.transient
            self._failed(str(exc), exc.transient)
            return True
        except SmtpUncertain as exc:
            await self._set(item, (OutboxState.SENDING,), OutboxState.UNCERTAIN, str(exc), report)
            self._failed(str(exc), transient=False, head="Perhaps sent, check")
            return False
        except SmtpRejected as exc:
            await self._set(
                item,
                (OutboxState.QUEUED, OutboxState.SENDING),
                OutboxState.FAILED,
                str(exc),
                report,
            )
            self._failed(str(exc), transient=False)
            return True
        except (SmtpTransientError, SmtpAuthError, SmtpConfigError) as exc:
            await self._set(
                item,
                (OutboxState.QUEUED, OutboxState.SENDING),
                OutboxState.QUEUED,
                str(exc),
                report,
            )
            report.stopped = str(exc)
            report.transient = exc.transient
            self._failed(str(exc), exc.transient)
            return False
        # Accepted for every recipient. From here on it is never sent again.
        with contextlib.suppress(NotFound):
            await self._file(item, copies)
        text = f"sent to {', '.join(item.recipients)} ({reply})"
        self._note(item, OutboxState.SENT, text, report)
        self.emit(SyncEvent(self.account.name, EventKind.SENT, text=copies.notice))
        if copies.ask:
            copies.ask = False  # once a flush; the UI asks once
            self.emit(SyncEvent(self.account.name, EventKind.NO_SENT_FOLDER))
        self.on_sent()
        return True

    async def _original(self, item: OutboxItem) -> Original | None:
        """The message the item answers, as the server knows it (for EAS SmartReply)."""
        if item.origin is None:
            return None
        found = await self.store.outbox_original(self.account.id, item.origin)
        if found is None:
            return None
        return Original(found[0], found[1], forward=item.origin.flag is Flag.FORWARDED)

    async def _set(
        self,
        item: OutboxItem,
        from_states: tuple[OutboxState, ...],
        state: OutboxState,
        text: str,
        report: FlushReport,
        refused: dict[str, str] | None = None,
    ) -> None:
        with contextlib.suppress(NotFound):
            await self.store.outbox_transition(item.id, from_states, state, text)
        self._note(item, state, text, report, refused)

    def _note(
        self,
        item: OutboxItem,
        state: OutboxState,
        text: str,
        report: FlushReport,
        refused: dict[str, str] | None = None,
    ) -> None:
        subject = mime.parse_envelope(item.raw).subject
        # The item's number, not its subject: a log pasted into a bug report keeps the
        # error texts and leaves out what the mail was about.
        if state is OutboxState.SENT:
            log.info("%s: outbox item %d sent", self.account.name, item.id)
        else:
            log.warning(
                "%s: outbox item %d not sent (%s): %s", self.account.name, item.id, state, text
            )
        report.results.append(ItemResult(item.id, subject, state, text, dict(refused or {})))
        self.emit(SyncEvent(self.account.name, EventKind.OUTBOX, text=f"{subject!r}: {text}"))
