"""The IMAP client under ``ImapBackend``: connecting and logging in, the selected
folder, and the folder open in the UI (IDLEd on through a second connection).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from mailtui import secrets
from mailtui.config import AccountConfig
from mailtui.errors import AuthError, OpRejected, TransientError
from mailtui.models import Flag, Security
from mailtui.protocols.imap import utf7
from mailtui.protocols.imap.connection import IDLE_MAX, CommandFailed, ImapConnection
from mailtui.protocols.imap.folders import MailboxStatus
from mailtui.protocols.imap.messages import flags_from
from mailtui.protocols.imap.watch import FolderWatch
from mailtui.protocols.imap.wire import (
    Arg,
    Response,
    as_int,
    as_list,
    as_str,
    fetch_dict,
    parse_uid_set,
    quote,
)
from mailtui.protocols.net.connect import client_context
from mailtui.protocols.net.credentials import credentials, refreshable, uses_oauth


class Selected:
    """What SELECT said about the folder."""

    def __init__(self) -> None:
        self.exists = 0
        self.uidvalidity = 0
        self.uidnext = 0
        self.highestmodseq = 0
        self.vanished: list[int] = []
        self.changed: dict[int, Flag] = {}
        # PERMANENTFLAGS, upper case; None when the server sent none (all flags stay).
        self.permanent_flags: set[str] | None = None

    def keeps(self, keyword: str) -> bool:
        """Whether the server stores ``keyword`` (e.g. ``$Forwarded``) for good."""
        allowed = self.permanent_flags
        return allowed is None or "\\*" in allowed or keyword.upper() in allowed

    def note(self, resp: Response) -> None:
        if resp.kind == "EXISTS" and resp.number is not None:
            self.exists = resp.number
        elif resp.kind == "OK" and resp.code:
            value = int(resp.code_args.split()[0]) if resp.code_args[:1].isdigit() else 0
            if resp.code == "UIDVALIDITY":
                self.uidvalidity = value
            elif resp.code == "UIDNEXT":
                self.uidnext = value
            elif resp.code == "HIGHESTMODSEQ":
                self.highestmodseq = value
            elif resp.code == "PERMANENTFLAGS":
                self.permanent_flags = set(resp.code_args.strip("() ").upper().split())
        elif resp.kind == "VANISHED":
            text = [as_str(i) for i in resp.items if isinstance(i, str)]
            if text:
                self.vanished.extend(parse_uid_set(text[-1]))
        elif resp.kind == "FETCH":
            data = fetch_dict(resp.items)
            if "UID" in data and "FLAGS" in data:
                self.changed[as_int(data["UID"])] = flags_from(as_list(data["FLAGS"]))


class ImapClient:
    """One account's IMAP client: the connection and the state every part of the
    backend shares."""


    def __init__(
        self,
        account: AccountConfig,
        *,
        use_qresync: bool = True,
        subscribed_only: bool | None = None,
        timeout: float = 60.0,
        secret: Callable[[], Any] | None = None,
    ) -> None:
        self.account = account
        self.use_qresync = use_qresync
        # Which folders count as shown (and are synced): the account's ``folders``.
        self.subscribed_only = (
            account.folders != "all" if subscribed_only is None else subscribed_only
        )
        self.timeout = timeout
        self._secret_source = secret
        self._conn: ImapConnection | None = None
        self.qresync = False
        self.condstore = False
        self._status: dict[str, MailboxStatus] = {}
        self._known: dict[str, tuple[int, int, int]] = {}  # name -> (validity, uidnext, modseq)
        self._inbox = "INBOX"
        self._selected: Selected | None = None
        self._whole_seen = 0  # messages fetched whole so far, and their bytes
        self._whole_bytes = 0
        self._password: str | None = None  # asked once, kept for every login
        #: IDLE is ended and issued again after this many seconds (RFC 3501: before 30 min).
        self.idle_renew = IDLE_MAX
        # The folder open in the UI, IDLEd on through a second connection (watch()).
        self._watch_target: str | None = None
        self.watcher = FolderWatch(
            self._open_logged_in,
            self._examine_changed,
            renew=IDLE_MAX,
            retry=float(account.poll_interval),
            account=account.name,
        )

    # ------------------------------------------------------------------ connection

    def ssl_context(self) -> ssl.SSLContext | None:
        """The system store; exactly ``ca_file``; or, with ``tls_fingerprint``, nothing
        but the pinned certificate (checked by the connection after the handshake)."""
        acc = self.account
        return client_context(acc.security, acc.ca_file, acc.tls_fingerprint)

    async def _secret(self, fresh: bool = False) -> str:
        """The password (asked once per backend, kept in memory for each login it
        makes), or a fresh OAuth access token (asked each time: tokens expire; with
        ``fresh`` a new one from the provider)."""
        try:
            if uses_oauth(self.account):
                if self._secret_source is not None:
                    return str(await self._secret_source())
                return (await credentials(self.account, fresh=fresh)).secret
            if self._password is None:
                if self._secret_source is not None:
                    self._password = str(await self._secret_source())
                else:
                    self._password = (await credentials(self.account)).secret
            return self._password
        except secrets.SecretUnavailable as exc:
            raise TransientError(str(exc)) from None
        except secrets.SecretError as exc:
            raise AuthError(str(exc)) from None

    async def _open_logged_in(self) -> ImapConnection:
        """A new connection, TLS as configured, logged in (password or OAuth2)."""
        secret = await self._secret()
        security = Security(self.account.security)
        conn = await ImapConnection.open(
            self.account.host,
            self.account.port,
            security,
            self.ssl_context(),
            self.timeout,
            fingerprint=self.account.tls_fingerprint if security != Security.NONE else None,
        )
        try:
            if uses_oauth(self.account):
                try:
                    await conn.login_oauth(self.account.username, secret, self.account.port)
                except AuthError:
                    if self._secret_source is not None or not refreshable(self.account):
                        raise
                    # Refused before its expiry (revoked, say): once with a new token.
                    secret = await self._secret(fresh=True)
                    await conn.login_oauth(self.account.username, secret, self.account.port)
            else:
                await conn.login(self.account.username, secret)
        except BaseException:
            await conn.abort()
            raise
        return conn

    async def connect(self) -> None:
        conn = await self._open_logged_in()
        try:
            if self.use_qresync and "QRESYNC" in conn.capabilities:
                await conn.command(b"ENABLE", b"QRESYNC")
                self.qresync = self.condstore = True
            elif self.use_qresync and "CONDSTORE" in conn.capabilities:
                await conn.command(b"ENABLE", b"CONDSTORE")
                self.condstore = True
        except CommandFailed as exc:
            await conn.abort()
            raise TransientError(f"the server refused {exc}") from None
        except BaseException:
            await conn.abort()
            raise
        self._conn = conn
        self._update_watch()

    async def close(self) -> None:
        await self.watcher.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.logout()

    # ------------------------------------------------------------------ the open folder

    def watch(self, folder: str | None) -> None:
        """The folder open in the UI (server name), None for none: unless it is INBOX
        (IDLEd on by the main connection), a second connection IDLEs on it
        (``mailtui.protocols.imap.watch``)."""
        self._watch_target = folder
        self._update_watch()

    def _update_watch(self) -> None:
        target = self._watch_target
        conn = self._conn
        if conn is None or "IDLE" not in conn.capabilities or target == self._inbox:
            target = None
        self.watcher.renew = self.idle_renew
        self.watcher.watch(target)

    async def _examine_changed(self, conn: ImapConnection, name: str) -> bool:
        """EXAMINE ``name`` on the second connection; True if it moved on since the
        last pull (so a change between that pull and this IDLE is not missed)."""
        sel = Selected()
        args: list[Arg] = [b"EXAMINE", quote(name)]
        if self.condstore:
            args.append(b"(CONDSTORE)")
        async for resp in conn.stream(*args):
            sel.note(resp)
        conn.selected = name
        known = self._known.get(name)
        return known is not None and (
            known[0] != sel.uidvalidity
            or known[1] < sel.uidnext
            or (self.condstore and known[2] != sel.highestmodseq)
        )

    @property
    def conn(self) -> ImapConnection:
        if self._conn is None or self._conn.broken:
            raise TransientError("not connected to the server")
        return self._conn

    async def _select(self, name: str, *qresync: Arg) -> Selected:
        sel = Selected()
        args: list[Arg] = [b"SELECT", quote(name)]
        if qresync:
            args += qresync
        elif self.condstore:
            args.append(b"(CONDSTORE)")
        self.conn.selected = None
        try:
            async for resp in self.conn.stream(*args):
                sel.note(resp)
        except CommandFailed as exc:
            raise OpRejected(f"folder {utf7.decode(name)!r}: {exc.response.text}") from None
        self.conn.selected = name
        self._selected = sel
        return sel

    async def _select_for(self, name: str, validity: int | None) -> Selected:
        """Select ``name`` unless it is selected already; refuse a recreated folder."""
        sel = self._selected
        if self.conn.selected != name or sel is None:
            sel = await self._select(name)
        if validity is not None and sel.uidvalidity != validity:
            raise OpRejected(
                f"folder {utf7.decode(name)!r} was recreated on the server; it will be synced again"
            )
        return sel
