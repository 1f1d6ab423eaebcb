"""One IMAP connection over an asyncio transport: TLS, login, commands, IDLE.

Failures, as the worker understands them (``mailtui.sync.contract``):

    connection refused/reset/EOF, timeout, ``* BYE``      TransientError
    certificate not trusted / not the pinned one,         ConfigError
    STARTTLS not offered
    credentials refused                                   AuthError
    tagged NO / BAD                                       CommandFailed (the caller decides)
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from mailtui.errors import AuthError, ConfigError, TransientError
from mailtui.models import Security
from mailtui.protocols.imap.commands import DEFAULT_TIMEOUT, CommandFailed, ImapCommands, Pending
from mailtui.protocols.imap.wire import Arg, quote
from mailtui.protocols.net import sasl
from mailtui.protocols.net.connect import (
    PROBE_TIMEOUT,
    check_pin,
    naming_presented_certificate,
    open_stream,
    presented_fingerprint,
    start_tls,
)
from mailtui.protocols.net.linereader import LineReader

__all__ = ["DEFAULT_TIMEOUT", "IDLE_MAX", "CommandFailed", "ImapConnection", "Pending"]

STREAM_LIMIT = 16 << 20  # longest response line (a SEARCH of a million UIDs fits)
IDLE_MAX = 25 * 60.0  # RFC 3501: servers may drop an idle client after 30 minutes


class ImapConnection(ImapCommands):
    """One connection: opened with TLS as configured, logged in, able to IDLE."""

    # ------------------------------------------------------------------ opening

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        security: Security,
        ssl_context: ssl.SSLContext | None,
        timeout: float = DEFAULT_TIMEOUT,
        fingerprint: str | None = None,
    ) -> ImapConnection:
        """Connect, read the greeting, set up TLS as configured, learn capabilities.

        With ``fingerprint`` (``ssl_context`` then verifies nothing: ``tls.pinned_context``)
        the server's certificate must have exactly that SHA-256 fingerprint; it is checked
        right after the handshake, before anything is read or sent over TLS."""
        if security != Security.NONE and ssl_context is None:
            raise ConfigError("TLS requested without a TLS context")
        # The probe: a second handshake that verifies nothing, no login.
        return await naming_presented_certificate(
            cls._open(host, port, security, ssl_context, timeout, fingerprint),
            lambda: cls.presented_fingerprint(host, port, security, min(timeout, PROBE_TIMEOUT)),
        )

    @classmethod
    async def presented_fingerprint(
        cls, host: str, port: int, security: Security, timeout: float = DEFAULT_TIMEOUT
    ) -> str | None:
        """The SHA-256 fingerprint of the certificate the server presents (no checks, no
        login); None if that cannot be had."""
        return await presented_fingerprint(
            security,
            lambda context: cls._open(host, port, security, context, timeout, None),
        )

    @property
    def line_reader(self) -> LineReader:
        return self._stream

    @classmethod
    async def _open(
        cls,
        host: str,
        port: int,
        security: Security,
        ssl_context: ssl.SSLContext | None,
        timeout: float,
        fingerprint: str | None,
    ) -> ImapConnection:
        stream = await open_stream(
            host, port, security, ssl_context, timeout=timeout, limit=STREAM_LIMIT
        )
        conn = cls(stream, host, timeout)
        conn.fingerprint = fingerprint
        try:
            if security == Security.TLS:
                conn._check_pin()
            await conn._greeting()
            if security == Security.STARTTLS:
                await conn._starttls(ssl_context)
            elif not conn.capabilities:
                await conn.capability()
        except BaseException:
            await conn.abort()
            raise
        return conn

    async def _greeting(self) -> None:
        resp = await self._read()
        if resp.kind == "BYE":
            raise TransientError(f"the server refused the connection: {resp.text}")
        if resp.tag != "*" or resp.kind not in ("OK", "PREAUTH"):
            raise TransientError("the server did not greet like an IMAP server")
        self._preauth = resp.kind == "PREAUTH"
        if resp.code == "CAPABILITY":
            self.capabilities = set(resp.code_args.upper().split())

    async def _starttls(self, ctx: ssl.SSLContext | None) -> None:
        assert ctx is not None
        if not self.capabilities:
            await self.capability()
        if "STARTTLS" not in self.capabilities:
            raise ConfigError(
                f"{self.host} does not offer STARTTLS; refusing to continue without "
                'encryption (use security = "tls" if it has an implicit-TLS port)'
            )
        try:
            await self.command(b"STARTTLS")
        except CommandFailed as exc:
            raise ConfigError(f"{self.host} refused STARTTLS: {exc}") from None
        await start_tls(self._stream, self.host, ctx, self.timeout)
        self._check_pin()
        # Capabilities from before TLS may have been forged by a man in the middle.
        self.capabilities = set()
        await self.capability()

    def _check_pin(self) -> None:
        check_pin(self._stream, self.fingerprint, self.host)

    # ------------------------------------------------------------------ login

    async def login(self, username: str, password: str) -> None:
        """AUTHENTICATE PLAIN when offered, else the LOGIN command; AuthError if refused."""
        if self._preauth:
            return
        caps = self.capabilities
        try:
            if "AUTH=PLAIN" in caps:
                await self.authenticate("PLAIN", [sasl.plain(username, password)])
            elif "LOGINDISABLED" not in caps:
                await self.command(b"LOGIN", quote(username), quote(password))
            elif "AUTH=LOGIN" in caps:
                await self.authenticate("LOGIN", sasl.login(username, password), initial=False)
            else:
                raise ConfigError(f"{self.host} offers no login method mailtui can use")
        except CommandFailed as exc:
            raise self._auth_failure(exc) from None
        await self._after_login()

    async def login_oauth(self, username: str, token: str, port: int) -> None:
        """SASL OAUTHBEARER (RFC 7628) when offered, else XOAUTH2.

        A refused token comes back as a challenge carrying JSON (``{"status": …}``); the
        client must answer it (OAUTHBEARER: ``%x01``, RFC 7628 3.2.3; XOAUTH2: an empty
        response, as Google documents) before the server sends its NO. AuthError then."""
        if self._preauth:
            return
        caps = self.capabilities
        self.oauth_status = ""
        try:
            mechanism = sasl.pick((c[5:] for c in caps if c.startswith("AUTH=")), oauth=True)
            if mechanism is None:
                offered = sorted(c[5:] for c in caps if c.startswith("AUTH="))
                raise ConfigError(
                    f"{self.host} does not offer OAuth login (OAUTHBEARER or XOAUTH2; it "
                    f"offers {', '.join(offered) or 'no AUTHENTICATE method'}); set "
                    'auth = "password" if it takes a password'
                )
            await self.authenticate(
                mechanism,
                sasl.responses(mechanism, username, token, self.host, port),
                on_error=sasl.error_reply(mechanism),
            )
        except CommandFailed as exc:
            failure = self._auth_failure(exc)
            if isinstance(failure, AuthError):
                why = f" ({self.oauth_status})" if self.oauth_status else ""
                said = exc.response.text or "no reason given"
                failure = AuthError(
                    f"{self.host} refused the OAuth access token for {username}{why}: "
                    f"{said}; the token may have expired or lack the mail scope: check "
                    "what token_command prints (or the keyring entry)"
                )
            raise failure from None
        await self._after_login()

    oauth_status = ""  # the status of the last OAuth error challenge

    def _auth_failure(self, exc: CommandFailed) -> Exception:
        if exc.code in ("UNAVAILABLE", "INUSE", "LIMIT"):
            return TransientError(f"the server cannot log in now: {exc.response.text}")
        return AuthError(exc.response.text or "wrong user name or password")

    async def _after_login(self) -> None:
        if self.last_ok.code == "CAPABILITY":
            self.capabilities = set(self.last_ok.code_args.upper().split())
        else:
            await self.capability()

    async def authenticate(
        self,
        mechanism: str,
        responses: list[bytes],
        initial: bool = True,
        on_error: bytes | None = None,
    ) -> None:
        """AUTHENTICATE with the given client responses, one per server challenge (the
        first one as SASL-IR when offered and ``initial``). A challenge after the last
        response is an error report: answered with ``on_error`` (OAuth), else cancelled."""
        await self._settle()
        pending = [sasl.encode(r) for r in responses]
        args: list[Arg] = [b"AUTHENTICATE", mechanism.encode()]
        if initial and "SASL-IR" in self.capabilities and pending:
            args.append(sasl.encode(responses[0], initial=True))
            pending.pop(0)
        tag = await self._send(args)
        while True:
            resp = await self._read()
            if resp.tag == "+":
                # A challenge: answer the next response. One more is an error report
                # (OAuth: JSON): answer it as the mechanism wants, or "*" to cancel; the
                # server says NO either way.
                if pending:
                    answer = pending.pop(0)
                elif on_error is not None:
                    self.oauth_status = sasl.oauth_error_status(resp.text.strip().encode())
                    answer = sasl.encode(on_error)
                    on_error = None
                else:
                    answer = b"*"
                await self._write_secret(answer + b"\r\n")
                continue
            if resp.tag == "*":
                self._note(resp)
                continue
            if resp.tag != tag:
                raise TransientError("the server answered an unknown tag")
            if resp.kind != "OK":
                raise CommandFailed("AUTHENTICATE", resp)
            self.last_ok = resp
            return

    # ------------------------------------------------------------------ IDLE

    async def idle(self, timeout: float) -> bool:
        """IDLE until the selected mailbox changes (True) or ``timeout`` passes (False).

        Cancellation ends IDLE properly (``DONE`` and its tagged OK) before the
        ``CancelledError`` propagates, so the connection stays usable.
        """
        await self._settle()
        self.changed = False
        tag = await self._send([b"IDLE"])
        continued = finished = False
        try:
            while not continued:
                resp = await self._read()
                if resp.tag == "+":
                    continued = True
                elif resp.tag == "*":
                    self._note(resp)
                elif resp.tag == tag:  # answered at once: no IDLE to end
                    finished = True
                    if resp.kind != "OK":
                        raise CommandFailed("IDLE", resp)
                    return self.changed
                else:
                    self.broken = True
                    raise TransientError(f"the server answered an unknown tag {resp.tag!r}")
            self._stream.idle_timeout = None  # silence is what IDLE waits through
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(timeout, IDLE_MAX)):
                        while not self.changed:
                            self._note(await self._read_raw())
            finally:
                self._stream.idle_timeout = self.timeout
        finally:
            if not finished:
                await self._end_idle(tag, continued)
        # After DONE: a change the server reported while IDLE was ending counts too
        # (IDLE is issued again right away; it would not be reported a second time).
        return self.changed

    async def _end_idle(self, tag: str, continued: bool) -> None:
        if self.broken:
            return
        try:
            async with asyncio.timeout(self.timeout):
                while not continued:  # cancelled before the server's "+"
                    resp = await self._read_raw()
                    if resp.tag == tag:
                        return
                    continued = resp.tag == "+"
                await self._write(b"DONE\r\n")
                while True:
                    resp = await self._read_raw()
                    if resp.tag == tag:
                        return
                    if resp.tag == "*":
                        with contextlib.suppress(TransientError):
                            self._note(resp)
        except (TimeoutError, TransientError):
            self.broken = True
