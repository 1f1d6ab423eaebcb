"""``Pop3Backend``: the ``Backend`` contract over POP3 sessions, for an account whose
folders live in the store (``Capabilities.local``): the server has one folder, INBOX,
and keeps nothing else for us.

Identity: a message's ``remote_id`` is its UIDL (``sha256:<hash of its bytes>`` on a
server without UIDL, which only an account that deletes after download may use). The
store's download ledger (read through ``DownloadLedger``, written with each batch)
remembers every id ever downloaded, so nothing comes twice, even after the user
deleted it here.

Deleting (``settle``, after the worker committed every batch of a pull): DELE of what
the committed ledger says is due (``policy.Keeping.due``), after the store made every
commit durable (``DownloadLedger.before_deleting``), then QUIT, the only moment the
server removes anything. A session that ends otherwise leaves the mailbox intact, and
the next one finds the same messages due again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from mailtui.config import AccountConfig
from mailtui.errors import ConfigError, OpRejected, TransientError
from mailtui.models import FolderBatch, FolderRole, OpResult, PendingOp, RawMessage, RemoteFolder
from mailtui.protocols.pop3.client import (
    DEFAULT_TIMEOUT,
    MAX_MESSAGE,
    CommandRefused,
    MessageTooLarge,
    Pop3Client,
)
from mailtui.protocols.pop3.policy import Keeping
from mailtui.protocols.pop3.pull import Pull
from mailtui.protocols.pop3.session import (
    SecretSource,
    Session,
    list_maildrop,
    open_client,
    secret_source,
)
from mailtui.sync.contract import Capabilities, DownloadLedger

log = logging.getLogger(__name__)

INBOX = "INBOX"

#: How long after its login the session ``connect`` opened still serves the first pull.
#: The worker pulls right after connecting; mail that arrives in between shows in the
#: next round's session, as mail arriving during any pull does.
FRESH_FOR = 5.0


class Pop3Backend:
    """One POP3 account; see the module docstring."""

    def __init__(
        self,
        account: AccountConfig,
        *,
        secret: SecretSource | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = DEFAULT_TIMEOUT,
        fresh_for: float = FRESH_FOR,
    ) -> None:
        self.account = account
        self.keeping = Keeping.of(account)
        self.capabilities = capabilities(self.keeping)
        self.clock = clock  # "now" of the download dates and the N-days rule
        self.timeout = timeout
        self.fresh_for = fresh_for  # seconds a session stays good for the first pull
        self._secret = secret or secret_source(account)
        self._ledger: DownloadLedger | None = None
        self._session: Session | None = None
        self._header_only: set[str] = set()  # left header-only by the size limit
        self._pull: Pull | None = None  # the pull under way (its window: fetch_window)
        self._login_delay = 0  # the server's LOGIN-DELAY, once a session said it

    # ------------------------------------------------------------------ contract

    def use_ledger(self, ledger: DownloadLedger) -> None:
        self._ledger = ledger

    @property
    def ledger(self) -> DownloadLedger:
        if self._ledger is None:
            raise ConfigError("a POP3 account needs the store's download ledger")
        return self._ledger

    async def connect(self) -> None:
        """Log in (a wrong password or a server without UIDL shows now)."""
        await self._open()

    async def close(self) -> None:
        """QUIT (no message is marked deleted outside ``settle``); never raises."""
        session, self._session = self._session, None
        if session is not None:
            try:
                await session.client.quit()
            except Exception:  # closing: the next session redoes what is due
                await session.client.abort()

    async def list_folders(self) -> list[RemoteFolder]:
        return [RemoteFolder(INBOX, "Inbox", FolderRole.INBOX)]

    async def pull(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        # A session shows the maildrop as it was when it began: a new one for each
        # pull, except the first after ``connect`` when that login is fresh (the same
        # poll round: one login and one listing, not two), or when the server asks for
        # a delay between logins and the open session has not been pulled yet.
        current = self._session
        if current is None or current.pulled or not (
            current.login_delay or current.age() <= self.fresh_for
        ):
            await self.close()
        session = await self._open()
        session.pulled = True
        pull = Pull(folder, session, self.ledger, self.keeping, self.clock)
        self._pull = pull
        try:
            async for batch in pull.run(state):
                yield batch
        except MessageTooLarge as exc:  # not POP3's answer to a LIST size: the server lies
            raise TransientError(str(exc)) from None
        finally:
            self._pull = None
            self._header_only |= pull.header_only

    async def fetch_window(self, folder: str, remote_ids: Sequence[str]) -> FolderBatch:
        """Header rows of ``remote_ids`` between two batches of a first download, with
        their ledger rows (``Pull.window``): only those the pull has not handed over
        yet, so nothing comes twice; none outside a pull."""
        pull = self._pull
        if pull is None or folder != INBOX or pull.session is not self._session:
            return FolderBatch(folder)
        try:
            return await pull.window(remote_ids)
        except MessageTooLarge as exc:  # a header larger than any message: the server lies
            raise TransientError(str(exc)) from None

    async def settle(self, folder: RemoteFolder) -> None:
        """Every batch of the pull is committed: DELE what is due, then QUIT."""
        session = self._session
        if session is None or folder.name != INBOX:
            return
        due = await self._due(session)
        if due:
            await self.ledger.before_deleting(due)
            refused = await session.client.dele_many(session.numbers[i] for i in due)
            for number, text in refused.items():  # another client deleted it meanwhile
                log.info("%s: DELE %d refused: %s", self.account.name, number, text)
        self._session = None
        try:
            await session.client.quit()
        except CommandRefused as exc:
            # The server could not remove them all: the next listing says what is left.
            log.warning("%s: QUIT: %s", self.account.name, exc.text)

    async def _due(self, session: Session) -> list[str]:
        if not self.keeping.deletes:
            return []  # leave everything on the server: no ledger look-up per poll
        now = self.clock()
        ids = list(session.numbers)
        due: list[str] = []
        for i in range(0, len(ids), 1000):
            rows = await self.ledger.lookup(ids[i : i + 1000])
            due += [sid for sid, row in rows.items() if self.keeping.due(row, now)]
        return due

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        """RETR by server id, in the open session or a new one (a message moved to a
        local folder is still the server's INBOX message)."""
        session = await self._open()
        number = session.numbers.get(remote_id)
        if number is None:
            raise OpRejected("the message is no longer on the server")
        try:
            return await session.client.retr(number, MAX_MESSAGE)
        except CommandRefused as exc:
            raise OpRejected(f"the server refused the message: {exc.text}") from None
        except MessageTooLarge as exc:
            self._session = None
            raise OpRejected(str(exc)) from None

    async def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, RawMessage]]:
        """Bodies of header rows, except those left header-only by the size limit
        (those come when opened, ``fetch_body``)."""
        wanted = [r for r in remote_ids if r not in self._header_only]
        if not wanted:
            return
        session = await self._open()
        numbers = {
            session.numbers[r]: r
            for r in wanted
            if r in session.numbers
            and not self.keeping.header_only(session.sizes[session.numbers[r]], MAX_MESSAGE)
        }
        async for fetched in session.client.retrieve(sorted(numbers, reverse=True)):
            if fetched.data is not None:
                yield numbers[fetched.number], fetched.data

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        # Capabilities.local: the worker completes every op in the store.
        raise OpRejected("a POP3 server keeps no folders or flags; the change stays local")

    async def wait_for_changes(self, timeout: float) -> set[str]:
        """Poll: QUIT first (the maildrop is locked and shows no new mail while a
        session is open), then wait ``timeout`` seconds, or the server's LOGIN-DELAY
        if longer (cancellable)."""
        delay = self._session.login_delay if self._session is not None else 0
        self._login_delay = max(self._login_delay, delay)
        await self.close()
        await asyncio.sleep(max(timeout, self._login_delay))
        return set()

    # ------------------------------------------------------------------ sessions

    async def _open(self) -> Session:
        """The open session, or a new one (login, UIDL, LIST)."""
        if self._session is not None and not self._session.client.broken:
            return self._session
        self._session = None
        client: Pop3Client = await open_client(self.account, self._secret, self.timeout)
        try:
            self._session = await list_maildrop(client, uidl_needed=self.keeping.leave_on_server)
        except BaseException:
            await client.abort()
            raise
        return self._session


def capabilities(keeping: Keeping) -> Capabilities:
    """Folders, moves and flags are the store's (``local``); the local copy may be the
    only one whenever the account's options can delete anything (``sole_copy``)."""
    return Capabilities(
        folders=True,
        server_move=False,
        flags=False,
        push=False,
        local=True,
        sole_copy=keeping.deletes,
    )


def build(account: AccountConfig) -> Pop3Backend:
    return Pop3Backend(account)
