"""One IMAP connection over an asyncio transport: TLS, login, commands, IDLE.

Reading is literal-aware: a response line that ends in ``{n}`` is followed by
``readexactly(n)``, so message bodies are never scanned for line ends or copied through a
regex, and the transport decrypts them straight into the bytes handed on
(``mailtui.protocols.net.linereader``). One command runs at a time (the backend drives the
connection from one task); ``stream`` yields untagged responses as they arrive, so a
500 MB FETCH never sits in memory as a whole.

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
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from mailtui.errors import AuthError, ConfigError, SyncError, TransientError
from mailtui.models import Security
from mailtui.protocols.imap.wire import (
    Arg,
    ProtocolError,
    Response,
    literal_size,
    parse_response,
    quote,
)
from mailtui.protocols.net import sasl, tls
from mailtui.protocols.net.connect import (
    PROBE_TIMEOUT,
    CertificateNotTrusted,
    check_pin,
    not_trusted_presenting,
    open_stream,
    ssl_object,
    start_tls,
)
from mailtui.protocols.net.linereader import LineReader, LineTooLong, StreamClosed

STREAM_LIMIT = 16 << 20  # longest response line (a SEARCH of a million UIDs fits)
DEFAULT_TIMEOUT = 60.0
IDLE_MAX = 25 * 60.0  # RFC 3501: servers may drop an idle client after 30 minutes
CHANGE_KINDS = frozenset({"EXISTS", "EXPUNGE", "FETCH", "VANISHED"})


class CommandFailed(Exception):
    """The server answered a command with NO or BAD."""

    def __init__(self, command: str, response: Response) -> None:
        self.command = command
        self.response = response
        self.code = response.code
        detail = response.text or response.kind
        super().__init__(f"{command}: {detail}")


#: Commands that may be pipelined, and the kinds of untagged response that answer them.
PIPELINED: dict[bytes, frozenset[str]] = {
    b"UID FETCH": frozenset({"FETCH"}),
    b"FETCH": frozenset({"FETCH"}),
    b"UID SEARCH": frozenset({"SEARCH", "ESEARCH"}),
    b"SEARCH": frozenset({"SEARCH", "ESEARCH"}),
    b"STATUS": frozenset({"STATUS"}),
    b"NOOP": frozenset(),
}


@dataclass(eq=False)
class Pending:
    """A command sent and not answered yet (``ImapConnection.send``)."""

    tag: str
    name: str
    #: The kinds of untagged response that answer it; None: any (sent alone).
    kinds: frozenset[str] | None = None
    #: Its untagged responses read while another command's answer was wanted.
    early: deque[Response] = field(default_factory=deque)
    answer: Response | None = None


class ImapConnection:
    def __init__(self, stream: LineReader, host: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._stream = stream
        self.host = host
        self.timeout = timeout
        self.capabilities: set[str] = set()
        self.enabled: set[str] = set()
        self.selected: str | None = None
        self.broken = False
        self.changed = False  # an untagged EXISTS/EXPUNGE/FETCH/VANISHED arrived
        self._tag = 0
        self._pending: list[Pending] = []  # sent, answer not read yet, oldest first
        self._preauth = False
        self.fingerprint: str | None = None  # pinned certificate (tls_fingerprint)

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
        try:
            return await cls._open(host, port, security, ssl_context, timeout, fingerprint)
        except CertificateNotTrusted as exc:
            # Say which certificate it was, for the user to compare with the server's own
            # before trusting it (a second handshake that verifies nothing, no login).
            presented = await cls.presented_fingerprint(
                host, port, security, min(timeout, PROBE_TIMEOUT)
            )
            if presented is None:
                raise
            raise not_trusted_presenting(exc, presented) from None

    @classmethod
    async def presented_fingerprint(
        cls, host: str, port: int, security: Security, timeout: float = DEFAULT_TIMEOUT
    ) -> str | None:
        """The SHA-256 fingerprint of the certificate the server presents (no checks, no
        login); None if that cannot be had."""
        if security == Security.NONE:
            return None
        try:
            conn = await cls._open(host, port, security, tls.pinned_context(), timeout, None)
        except (SyncError, ConfigError, OSError):
            return None
        try:
            return tls.peer_fingerprint(conn._ssl_object())
        finally:
            await conn.abort()

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

    def _ssl_object(self) -> ssl.SSLObject | None:
        return ssl_object(self._stream)

    # ------------------------------------------------------------------ reading

    async def _read(self) -> Response:
        """The next response. The account timeout applies to silence (the reader's
        ``idle_timeout``), not to the whole response: a big literal on a slow link may
        take longer, as long as it keeps coming."""
        try:
            return await self._read_raw()
        except TimeoutError:
            self.broken = True
            raise TransientError("the server did not answer in time") from None

    async def _read_raw(self) -> Response:
        segments: list[bytes | bytearray] = []
        try:
            while True:
                line = await self._stream.readline()
                segments.append(line)
                size = literal_size(line)
                if size is None:
                    break
                segments.append(await self._stream.readexactly(size))
            return parse_response(segments)
        except StreamClosed:
            self.broken = True
            raise TransientError("the server closed the connection") from None
        except LineTooLong:
            self.broken = True
            raise TransientError("the server sent an overlong line") from None
        except ProtocolError as exc:
            self.broken = True
            raise TransientError(f"the server sent something that is not IMAP: {exc}") from None
        except TimeoutError:  # an OSError, but no connection was lost (yet): _read says
            raise
        except OSError as exc:
            self.broken = True
            raise TransientError(f"connection lost: {exc.strerror or exc}") from None

    def _note(self, resp: Response) -> None:
        if resp.kind == "BYE":
            self.broken = True
            raise TransientError(f"the server closed the connection: {resp.text or 'BYE'}")
        if resp.kind in CHANGE_KINDS:
            self.changed = True
        elif resp.kind == "CAPABILITY":
            self.capabilities = {str(i).upper() for i in resp.items if isinstance(i, str)}

    # ------------------------------------------------------------------ commands

    def _next_tag(self) -> str:
        self._tag += 1
        return f"m{self._tag}"

    async def _write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
            await self._stream.drain()
        except OSError as exc:
            self.broken = True
            raise TransientError(f"connection lost: {exc.strerror or exc}") from None

    async def _send(self, args: Sequence[Arg]) -> str:
        if self.broken:
            raise TransientError("the connection to the server was lost")
        tag = self._next_tag()
        nonsync = "LITERAL+" in self.capabilities
        line = tag.encode()
        for arg in args:
            if isinstance(arg, tuple):
                data = arg[0]
                if nonsync:
                    line += b" {%d+}\r\n" % len(data) + data
                    continue
                await self._write(line + b" {%d}\r\n" % len(data))
                resp = await self._read()
                while resp.tag == "*":
                    self._note(resp)
                    resp = await self._read()
                if resp.tag != "+":
                    raise CommandFailed(line.decode("ascii", "replace").split(" ")[1], resp)
                line = data
            else:
                line += b" " + arg
        await self._write(line + b"\r\n")
        return tag

    async def send(self, *args: Arg) -> Pending:
        """Send a command without waiting for its answer (pipelining, RFC 3501 5.5); read
        the answer with ``responses``.

        Dovecot runs pipelined commands in parallel, so their untagged responses can
        interleave and their tagged answers can come in another order. Responses are
        told apart by kind: a FETCH goes to the oldest FETCH command still waiting (the
        caller tells batches apart by UID), a SEARCH to the oldest SEARCH, and so on; a
        response no waiting command asked for (EXISTS, a flag change another client
        made) to the oldest waiting command. A command whose responses cannot be told
        apart (SELECT, STORE, anything not in ``PIPELINED``) waits until every earlier
        answer is in before it goes out."""
        words = [a.upper() for a in args[:2] if isinstance(a, bytes)]
        name = b" ".join(words if words[:1] == [b"UID"] else words[:1])
        kinds = PIPELINED.get(name)
        sync_literal = "LITERAL+" not in self.capabilities and any(
            isinstance(a, tuple) for a in args
        )
        if kinds is None or sync_literal:
            # (A synchronizing literal waits for "+", which comes after those answers.)
            await self._settle()
        pending = Pending(await self._send(args), name.decode("ascii", "replace"), kinds)
        self._pending.append(pending)
        return pending

    async def responses(self, pending: Pending) -> AsyncIterator[Response]:
        """The untagged responses of a sent command, as they arrive. A tagged NO/BAD
        raises CommandFailed after them."""
        finished = False
        try:
            while pending.answer is None and self._pending[0] is not pending:
                await self._read_into(self._pending[0])  # an earlier command's answer
            while pending.early:
                yield pending.early.popleft()
            while pending.answer is None:
                resp = await self._read()
                if self._route(resp, pending):
                    yield resp
            finished = True
        finally:
            if pending in self._pending:
                self._pending.remove(pending)
            if not finished:
                self.broken = True  # the rest of the answer is still on the wire
        answer = pending.answer
        if answer.kind != "OK":
            raise CommandFailed(pending.name, answer)
        self.last_ok = answer

    def _route(self, resp: Response, reading: Pending) -> bool:
        """Whether ``resp`` is an untagged response of ``reading``; one of another
        waiting command is kept in its handle, a tagged answer recorded."""
        if resp.tag == "*":
            self._note(resp)
            owner = None
            for candidate in self._pending:
                if candidate.answer is None and (
                    candidate.kinds is None or resp.kind in candidate.kinds
                ):
                    owner = candidate
                    break
            if owner is None:  # nobody asked for it: the oldest waiting command
                owner = next((p for p in self._pending if p.answer is None), reading)
            if owner is reading:
                return True
            owner.early.append(resp)
            return False
        for candidate in self._pending:
            if candidate.tag == resp.tag and candidate.answer is None:
                candidate.answer = resp
                return False
        self.broken = True
        if resp.tag == "+":
            raise TransientError("the server asked for data it should not need")
        raise TransientError(f"the server answered an unknown tag {resp.tag!r}")

    async def _read_into(self, pending: Pending) -> None:
        """Read until an earlier command's answer is in, keeping its responses."""
        while pending.answer is None:
            resp = await self._read()
            if self._route(resp, pending):
                pending.early.append(resp)
        self._pending.remove(pending)

    async def _settle(self) -> None:
        """Read every answer still on the wire into its command's handle."""
        while self._pending:
            await self._read_into(self._pending[0])

    async def stream(self, *args: Arg) -> AsyncIterator[Response]:
        """Run a command; yield its untagged responses as they arrive. A tagged NO/BAD
        raises CommandFailed after the untagged ones were yielded."""
        pending = await self.send(*args)
        async for resp in self.responses(pending):
            yield resp

    async def command(self, *args: Arg) -> tuple[Response, list[Response]]:
        """Run a command; return (tagged OK, untagged responses)."""
        untagged = [resp async for resp in self.stream(*args)]
        return self.last_ok, untagged

    last_ok: Response = Response(tag="", kind="OK")

    async def capability(self) -> set[str]:
        await self.command(b"CAPABILITY")
        return self.capabilities

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
                await self._write(answer + b"\r\n")
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

    # ------------------------------------------------------------------ closing

    async def logout(self) -> None:
        """LOGOUT politely, then close; never raises."""
        if not self.broken:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await self._settle()
                    await self._send([b"LOGOUT"])
                    while not (await self._read_raw()).tag.startswith("m"):
                        pass
        await self.abort()

    async def abort(self) -> None:
        self.broken = True
        with contextlib.suppress(Exception):
            self._stream.close()
            async with asyncio.timeout(2.0):
                await self._stream.wait_closed()
