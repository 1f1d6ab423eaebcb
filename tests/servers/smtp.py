"""A real SMTP submission server for integration tests (aiosmtpd, in its own thread).

- Listens on 127.0.0.1: `port` (submission, STARTTLS required before anything but
  EHLO/HELO/NOOP/QUIT) and `smtps_port` (implicit TLS, 465-style).
- AUTH PLAIN / LOGIN only over TLS, checked against the Dovecot users and passwords;
  MAIL FROM without AUTH is refused (530).
- RCPT TO a local domain (Dovecot's `domains`) must name an existing user, else 550;
  other domains are accepted and only recorded (nothing leaves this machine).
- Each accepted message is delivered to the local recipients through Dovecot's LMTP
  socket before the DATA reply, so once the client's `sendmail` returns, the message is
  in the recipient's INBOX over IMAP. `messages` records every accepted envelope.
- `faults` injects failures (see SMTPFaults); `inject(...)` sets some for a `with` block.
- With `oauth=OAuthTokenServer`: AUTH XOAUTH2 and OAUTHBEARER too, tokens checked with
  `oauth.user_for`; a bad token gets the error challenge (JSON) and, after the client's
  answer to it, 535. `oauth_logins` records (mechanism, user) of each accepted one.
- With `offer_auth=False` it is a relay that takes mail without a login: EHLO announces
  no AUTH (after STARTTLS either), AUTH is refused as unknown (504), and MAIL FROM needs
  no login; STARTTLS is still required on the submission port.
- With `require_starttls=False` the submission port also takes AUTH and mail without
  STARTTLS (for SOGo, whose SMTP-over-TLS breaks its next IMAP connection; see sogo.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import smtplib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from .dovecot import DovecotServer
from .oauth import OAuthTokenServer
from .ports import LOOPBACK
from .tls import TLSFiles

SERVER_NAME = "smtp.mailtui.test"


class _QuietLoginDataDeprecation(logging.Filter):
    """aiosmtpd 1.4 warns about its own use of Session.login_data on every AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_QuietLoginDataDeprecation())


@dataclass
class SMTPFaults:
    """Failures to inject; each one is real (the client sees it on the wire).

    `times`: how many times faults may fire before they all clear (None: until
    `reset()`), e.g. `times=1` makes only the next attempt fail.
    """

    refuse_auth: bool = False
    """AUTH answers 535 even for the right password."""
    auth_reply: str | None = None
    """AUTH answers this instead (e.g. "454 4.7.0 Temporary authentication failure")."""
    mail_reply: str | None = None
    """MAIL FROM answers this (e.g. "421 4.3.2 Shutting down", "452 4.3.1 Out of memory")."""
    reject_rcpts: dict[str, str] = field(default_factory=dict)
    """Lower-cased address -> reply for RCPT TO (e.g. "452 4.2.2 Mailbox full")."""
    data_reply: str | None = None
    """The message is received, not delivered, and DATA answers this (451 / 554 …)."""
    data_delay: float = 0.0
    """Seconds to wait before answering DATA (client timeouts)."""
    drop_in_data: bool = False
    """Cut the connection after the message was sent, before the DATA reply; nothing is
    delivered or recorded."""
    drop_after_delivery: bool = False
    """Deliver and record the message, then cut the connection before the DATA reply:
    the client cannot know it was accepted (a retry makes a duplicate)."""
    times: int | None = None


@dataclass
class AcceptedMessage:
    """One message the server answered 250 to DATA for (or delivered before a drop)."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None
    tls: bool
    mail_options: list[str]
    rcpt_options: list[str]
    delivered_to: list[str]
    """Local users (names) Dovecot accepted the message for over LMTP."""
    delivery_errors: dict[str, str]
    """Local recipient -> LMTP error, when Dovecot refused one."""


class _Handler:
    """aiosmtpd hooks; runs in the server's event loop thread."""

    def __init__(self, server: SMTPServer, implicit_tls: bool) -> None:
        self.server = server
        self.implicit_tls = implicit_tls

    def _tls(self, session: Session) -> bool:
        return self.implicit_tls or session.ssl is not None

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not session.authenticated and self.server.offer_auth:
            return "530 5.7.0 Authentication required"
        faults = self.server.faults
        if faults.mail_reply:
            self.server._fault_fired()
            return faults.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        faults = self.server.faults
        injected = faults.reject_rcpts.get(address.lower())
        if injected:
            self.server._fault_fired()
            return injected
        dovecot = self.server.dovecot
        if dovecot.is_local_domain(address) and dovecot.local_user_for(address) is None:
            return "550 5.1.1 User unknown"
        if not dovecot.is_local_domain(address) and not self.server.accept_external:
            return "550 5.7.1 Relaying denied"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        faults = self.server.faults
        if faults.data_delay:
            self.server._fault_fired()
            await asyncio.sleep(faults.data_delay)
        if faults.drop_in_data:
            self.server._fault_fired()
            _drop(server)
            return "421 4.4.2 Connection dropped"
        if faults.data_reply:
            self.server._fault_fired()
            return faults.data_reply
        raw = envelope.original_content or b""
        mail_from = envelope.mail_from or ""
        local = [r for r in envelope.rcpt_tos if self.server.dovecot.is_local_domain(r)]
        loop = asyncio.get_running_loop()
        delivered, errors = await loop.run_in_executor(
            None, self.server._lmtp_deliver, mail_from, local, raw
        )
        auth = session.auth_data
        login = auth.login if isinstance(auth, LoginPassword) else None
        message = AcceptedMessage(
            mail_from=mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            data=raw,
            login=login.decode("utf-8", "replace") if isinstance(login, bytes) else login,
            tls=self._tls(session),
            mail_options=list(envelope.mail_options),
            rcpt_options=list(envelope.rcpt_options),
            delivered_to=delivered,
            delivery_errors=errors,
        )
        if local and not delivered and len(local) == len(envelope.rcpt_tos):
            return "451 4.3.0 Local delivery failed: " + "; ".join(errors.values())[:200]
        with self.server._lock:
            self.server.messages.append(message)
        if faults.drop_after_delivery:
            self.server._fault_fired()
            _drop(server)
            return "421 4.4.2 Connection dropped"
        return "250 2.0.0 OK: queued"


class _RelayHandler(_Handler):
    """A relay: no AUTH in the EHLO answer (aiosmtpd lists it otherwise, even empty)."""

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        return [r for r in responses if not r.upper().startswith("250-AUTH")]


class _OAuthHandler(_Handler):
    """Adds AUTH XOAUTH2 and OAUTHBEARER (aiosmtpd advertises every `auth_*` method)."""

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        blob = await _initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        parts = blob.decode("utf-8", "replace").split("\x01")
        fields = dict(part.split("=", 1) for part in parts if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        error = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
        return await self._check(server, "XOAUTH2", user, token, error)

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        blob = await _initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        gs2, _, rest = blob.decode("utf-8", "replace").partition("\x01")
        user = ""
        for part in gs2.split(","):
            if part.startswith("a="):
                user = part[2:].replace("=2C", ",").replace("=3D", "=")
        fields = dict(part.split("=", 1) for part in rest.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        error = {"status": "invalid_token", "scope": "mail"}
        return await self._check(server, "OAUTHBEARER", user, token, error)

    async def _check(
        self, server: SMTP, mechanism: str, user: str, token: str, error: dict[str, str]
    ) -> AuthResult:
        owner = self.server
        assert owner.oauth is not None
        expected = owner.oauth.user_for(token)
        name = user.partition("@")[0] if "@" in user else user
        if expected is not None and expected == name and not owner.faults.refuse_auth:
            with owner._lock:
                owner.oauth_logins.append((mechanism, user))
            return AuthResult(
                success=True, handled=False, auth_data=LoginPassword(user.encode(), b"")
            )
        # RFC 7628 3.2.2 / XOAUTH2: an error challenge; the client's answer ends it.
        answer = await server.challenge_auth(json.dumps(error))
        if answer is MISSING:
            return AuthResult(success=False, handled=True)  # "*": 501 already sent
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Authentication credentials invalid"
        )


async def _initial_response(server: SMTP, args: list[str]) -> bytes | None:
    """The client's first response: on the AUTH line, or after an empty challenge."""
    if len(args) > 1:
        try:
            return base64.b64decode(args[1], validate=True)
        except binascii.Error:
            await server.push("501 5.5.2 Can't decode base64")
            return None
    answer = await server.challenge_auth("")
    return None if answer is MISSING else bytes(answer)  # type: ignore[arg-type]


def _drop(server: SMTP) -> None:
    transport = server.transport
    if isinstance(transport, asyncio.Transport):
        transport.abort()


class SMTPServer:
    """The test SMTP server; `start()` / `stop()`, or use it as a context manager."""

    host = LOOPBACK

    def __init__(
        self,
        dovecot: DovecotServer,
        tls: TLSFiles,
        *,
        implicit_tls: bool = True,
        accept_external: bool = True,
        data_size_limit: int = 32 * 1024 * 1024,
        oauth: OAuthTokenServer | None = None,
        offer_auth: bool = True,
        require_starttls: bool = True,
    ) -> None:
        self.dovecot = dovecot
        self.offer_auth = offer_auth
        self.require_starttls = require_starttls
        self.oauth = oauth
        self.oauth_logins: list[tuple[str, str]] = []
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.accept_external = accept_external
        self.data_size_limit = data_size_limit
        self.port = 0
        self.smtps_port = 0
        self.faults = SMTPFaults()
        self.messages: list[AcceptedMessage] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._connections: set[SMTP] = set()
        self._ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl_context.load_cert_chain(str(tls.cert_path), str(tls.key_path))

    @property
    def ca_path(self) -> str:
        return str(self.tls.ca_path)

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="test-smtp-server", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> SMTPServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        plain = await loop.create_server(lambda: self._protocol(implicit_tls=False), self.host, 0)
        self._servers.append(plain)
        self.port = plain.sockets[0].getsockname()[1]
        if self.implicit_tls:
            tls = await loop.create_server(
                lambda: self._protocol(implicit_tls=True),
                self.host,
                0,
                ssl=self._ssl_context,
            )
            self._servers.append(tls)
            self.smtps_port = tls.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for conn in list(self._connections):
            _drop(conn)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        # Let aborted connections run their connection_lost callbacks.
        await asyncio.sleep(0)

    def _protocol(self, *, implicit_tls: bool) -> SMTP:
        # On the implicit-TLS port the whole connection is encrypted already: no STARTTLS
        # to offer, and AUTH is allowed at once (aiosmtpd only knows about STARTTLS).
        handler: type[_Handler] = _Handler
        if self.oauth is not None:
            handler = _OAuthHandler
        elif not self.offer_auth:
            handler = _RelayHandler
        smtp = _TrackedSMTP(
            self,
            handler(self, implicit_tls),
            hostname=SERVER_NAME,
            ident="mailtui test SMTP",
            tls_context=None if implicit_tls else self._ssl_context,
            require_starttls=not implicit_tls and self.require_starttls,
            auth_require_tls=not implicit_tls and self.require_starttls,
            authenticator=self._authenticate,
            auth_exclude_mechanism=() if self.offer_auth else ("LOGIN", "PLAIN"),
            decode_data=False,
            enable_SMTPUTF8=True,
            data_size_limit=self.data_size_limit,
            timeout=60,
            loop=asyncio.get_running_loop(),
        )
        return smtp

    # ------------------------------------------------------------------ behaviour
    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        faults = self.faults
        if faults.auth_reply:
            self._fault_fired()
            return AuthResult(success=False, handled=False, message=faults.auth_reply)
        if faults.refuse_auth:
            self._fault_fired()
            return AuthResult(success=False, handled=False)
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = self.dovecot.check_password(login, password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def _lmtp_deliver(
        self, mail_from: str, recipients: list[str], raw: bytes
    ) -> tuple[list[str], dict[str, str]]:
        """Deliver to each local recipient over LMTP (blocking; runs in an executor).

        One transaction per recipient: smtplib.LMTP reads one DATA reply only.
        """
        delivered: list[str] = []
        errors: dict[str, str] = {}
        if not recipients:
            return delivered, errors
        with smtplib.LMTP(str(self.dovecot.lmtp_socket), timeout=30) as lmtp:
            lmtp.ehlo(SERVER_NAME)
            for rcpt in recipients:
                try:
                    lmtp.sendmail(mail_from, [rcpt], raw)
                except smtplib.SMTPException as exc:
                    errors[rcpt] = str(exc)
                    with contextlib.suppress(smtplib.SMTPException):
                        lmtp.rset()
                else:
                    delivered.append(self.dovecot.local_user_for(rcpt) or rcpt)
        return delivered, errors

    def _fault_fired(self) -> None:
        with self._lock:
            if self.faults.times is None:
                return
            self.faults.times -= 1
            if self.faults.times <= 0:
                self.faults = SMTPFaults()

    # ------------------------------------------------------------------ for tests
    def reset(self) -> None:
        """Clear injected faults (recorded messages stay; filter them by recipient)."""
        with self._lock:
            self.faults = SMTPFaults()

    @contextlib.contextmanager
    def inject(self, **faults: Any) -> Iterator[SMTPFaults]:
        """`with smtp_server.inject(drop_in_data=True): ...` sets faults for the block."""
        with self._lock:
            self.faults = SMTPFaults(**faults)
            current = self.faults
        try:
            yield current
        finally:
            self.reset()

    def messages_to(self, address: str) -> list[AcceptedMessage]:
        """Accepted messages with `address` among the envelope recipients."""
        address = address.lower()
        with self._lock:
            return [m for m in self.messages if address in (r.lower() for r in m.rcpt_tos)]

    def messages_from(self, *logins_or_addresses: str) -> list[AcceptedMessage]:
        """Accepted messages sent with one of these AUTH logins or envelope senders."""
        keys = {k.lower() for k in logins_or_addresses}
        with self._lock:
            return [
                m
                for m in self.messages
                if (m.login or "").lower() in keys or m.mail_from.lower() in keys
            ]


class _TrackedSMTP(SMTP):
    """aiosmtpd's protocol, registered with the server so stop() can cut connections."""

    def __init__(self, owner: SMTPServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._owner._connections.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._owner._connections.discard(self)
        super().connection_lost(error)
