"""One POP3 connection (RFC 1939, 2449, 2595, 5034): TLS, login, the commands, pipelining.

Failures, as the worker understands them (``mailtui.sync.contract``), as for IMAP
(``mailtui.protocols.imap.connection``):

    connection refused/reset/EOF, silence for ``timeout``     TransientError
    anything that is not POP3 (bad status line, garbage in    ProtocolViolation
    UIDL/LIST/STAT, an over-long line, no terminator)         (a TransientError)
    certificate not trusted / not the pinned one,             ConfigError
    STLS not offered, no login method
    credentials refused (``-ERR``, ``[AUTH]``)                 AuthError
    ``[IN-USE]`` / ``[SYS/TEMP]`` / ``[LOGIN-DELAY]`` at login   TransientError
    ``-ERR`` to a command                                     CommandRefused (caller decides)
    UIDL not offered                                          UidlUnsupported
    a message over ``max_size``                               MessageTooLarge

Deletion: ``dele`` only marks a message; the server removes the marked messages when
``quit`` is answered with +OK (RFC 1939's UPDATE state). A connection that ends any other
way (``abort``, a dropped link, a crash, a timeout) leaves the mailbox as it was, every
marked message still there; ``rset`` unmarks them. An error while QUIT is answered
leaves it unknown whether the deletions were done: the next connection's UIDL tells.

Message numbers are valid for one connection only; ``uidl`` maps them to the ids that last.

Pipelining (RFC 2449): when the server announces PIPELINING, ``retrieve`` keeps up to
``PIPELINE_DEPTH`` RETR/TOP commands on the wire, so the server never waits for the next
request; without it, one command at a time. One task drives a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from mailtui.errors import AuthError, ConfigError, SyncError, TransientError
from mailtui.models import Security
from mailtui.protocols.net import sasl
from mailtui.protocols.net.connect import (
    PROBE_TIMEOUT,
    check_pin,
    naming_presented_certificate,
    open_stream,
    presented_fingerprint,
    start_tls,
)
from mailtui.protocols.net.linereader import (
    BlockTooLong,
    LineReader,
    LineTooLong,
    StreamClosed,
)
from mailtui.protocols.pop3 import wire
from mailtui.protocols.pop3.wire import ProtocolViolation, Status

__all__ = [
    "DEFAULT_TIMEOUT",
    "CommandRefused",
    "Fetched",
    "MessageTooLarge",
    "Pop3Client",
    "ProtocolViolation",
    "UidlUnsupported",
]

DEFAULT_TIMEOUT = 60.0
#: Longest line: a message line may be long (base64 without breaks), a status line not.
LINE_LIMIT = 4 << 20
#: Largest message ``retr`` takes unless told otherwise.
MAX_MESSAGE = 256 << 20
#: Largest UIDL/LIST/CAPA answer (a million messages' UIDL is about 30 MB).
MAX_LISTING = 128 << 20
#: RETR/TOP commands kept on the wire at once when the server pipelines.
PIPELINE_DEPTH = 64
#: Response codes (RFC 2449, 3206) that say "not now" rather than "wrong credentials".
_NOT_NOW = frozenset({"IN-USE", "SYS/TEMP", "LOGIN-DELAY"})
#: The POP3 exchange for ``--debug-log`` (DEBUG only; login data left out).
wire_log = logging.getLogger("mailtui.wire.pop3")


class CommandRefused(SyncError):
    """The server answered a command with ``-ERR``; ``text`` is its reason, ``code``
    its RFC 2449 response code ("" without one)."""

    def __init__(self, command: str, status: Status) -> None:
        self.command = command
        self.text = status.text
        self.code = status.code
        super().__init__(f"the server refused {command}: {status.text or '-ERR'}")


class UidlUnsupported(SyncError):
    """The server has no UIDL: its messages cannot be told apart between connections, so
    only an account that deletes every message after download can use it."""


class MessageTooLarge(SyncError):
    """A message is larger than the limit the caller set. The connection is closed (the
    rest of the message was still coming); the mailbox is untouched."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """One answer of ``retrieve``: the message's bytes (``data``), or the server's
    ``-ERR`` (``refused``, e.g. a message another client deleted meanwhile)."""

    number: int
    data: bytes | None
    refused: str = ""


def unstuff(block: bytes) -> bytes:
    """A multi-line answer's bytes through its ``\\r\\n.\\r\\n``, dot-unstuffed at once:
    the same bytes as taking one dot off each line that starts with one (RFC 1939 3)."""
    data = block[:-3]  # the terminator's ".\r\n"; its CRLF ends the last line
    if data.startswith(b"."):
        data = data[1:]
    return data.replace(b"\r\n.", b"\r\n")


class Pop3Client:
    """One connection: opened with TLS as configured, then logged in."""

    def __init__(self, stream: LineReader, host: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._stream = stream
        self.host = host
        self.timeout = timeout
        #: CAPA: name → arguments; empty when the server has no CAPA (``capa_known``).
        self.capabilities: dict[str, tuple[str, ...]] = {}
        self.capa_known = False
        self.greeting = ""
        self.timestamp: str | None = None  # APOP timestamp of the greeting
        self.fingerprint: str | None = None  # pinned certificate (tls_fingerprint)
        self.broken = False
        self.logged_in = False
        self.oauth_status = ""  # the status of the last OAuth error challenge
        self.max_listing = MAX_LISTING  # largest CAPA/UIDL/LIST answer taken
        self._trace = wire_log.isEnabledFor(logging.DEBUG)  # --debug-log: asked once

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
        line_limit: int = LINE_LIMIT,
    ) -> Pop3Client:
        """Connect, read the greeting, set up TLS as configured (STLS for
        ``Security.STARTTLS``, refused when not offered), read CAPA.

        With ``fingerprint`` the server's certificate must have exactly that SHA-256
        fingerprint, checked right after the handshake, before anything is sent over TLS.
        An untrusted certificate's error names the one the server presented."""
        if security != Security.NONE and ssl_context is None:
            raise ConfigError("TLS requested without a TLS context")
        return await naming_presented_certificate(
            cls._open(host, port, security, ssl_context, timeout, fingerprint, line_limit),
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
            lambda context: cls._open(host, port, security, context, timeout, None, LINE_LIMIT),
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
        line_limit: int,
    ) -> Pop3Client:
        stream = await open_stream(
            host, port, security, ssl_context, timeout=timeout, limit=line_limit
        )
        conn = cls(stream, host, timeout)
        conn.fingerprint = fingerprint
        try:
            if security == Security.TLS:
                check_pin(stream, fingerprint, host)
            await conn._greeting()
            await conn.capa()
            if security == Security.STARTTLS:
                assert ssl_context is not None
                await conn._stls(ssl_context)
        except BaseException:
            await conn.abort()
            raise
        return conn

    async def _greeting(self) -> None:
        status = await self._status()
        if not status.ok or status.challenge:
            raise TransientError(f"the server refused the connection: {status.text or '-ERR'}")
        self.greeting = status.text
        self.timestamp = wire.apop_timestamp(status.text)

    async def _stls(self, ctx: ssl.SSLContext) -> None:
        if "STLS" not in self.capabilities:
            raise ConfigError(
                f"{self.host} does not offer STLS; refusing to continue without "
                'encryption (use security = "tls" if it has an implicit-TLS port, 995)'
            )
        try:
            await self.command("STLS")
        except CommandRefused as exc:
            raise ConfigError(f"{self.host} refused STLS: {exc.text}") from None
        await start_tls(self._stream, self.host, ctx, self.timeout)
        check_pin(self._stream, self.fingerprint, self.host)
        # Capabilities from before TLS may have been forged by a man in the middle
        # (RFC 2595 4).
        self.capabilities, self.capa_known = {}, False
        await self.capa()

    # ------------------------------------------------------------------ reading

    @contextlib.contextmanager
    def _link_errors(self, during: str = "") -> Iterator[None]:
        """Every failure of the link while reading as a TransientError (``during``: what
        was being read, for the error); the connection is then unusable."""
        if self.broken:
            raise TransientError("the connection to the server was lost")
        try:
            yield
        except TimeoutError:
            self.broken = True
            raise TransientError("the server did not answer in time") from None
        except StreamClosed:
            self.broken = True
            where = f" in the middle of {during}" if during else ""
            raise TransientError(f"the server closed the connection{where}") from None
        except LineTooLong:
            self.broken = True
            raise ProtocolViolation(
                f"the server sent a line longer than {self._stream.limit} bytes"
            ) from None
        except OSError as exc:
            self.broken = True
            raise TransientError(f"connection lost: {exc.strerror or exc}") from None

    async def _status(self) -> Status:
        with self._link_errors():
            line = await self._stream.readline()
        if self._trace:
            for shown in wire.traced("S", line):
                wire_log.debug("%s S: %s", self.host, shown)
        try:
            return wire.parse_status(line)
        except ProtocolViolation:
            self.broken = True
            raise

    async def _lines(self, limit: int, what: str) -> list[bytes]:
        """The lines of a multi-line answer, dot-unstuffed, up to the lone ``.``; each
        still ends in CRLF. More than ``limit`` bytes: MessageTooLarge (``what`` says of
        what) and the connection is closed, the rest of the answer being on its way."""
        lines: list[bytes] = []
        append = lines.append
        readline = self._stream.readline  # straight: this loop runs once per line
        size = 0
        with self._link_errors(what):
            while size <= limit:
                line = await readline()
                if line[:1] == b".":
                    if line == b".\r\n":
                        return lines
                    line = line[1:]
                size += len(line)
                append(line)
        await self.abort()
        raise MessageTooLarge(f"{what} is larger than {limit} bytes")

    async def _message(self, limit: int, what: str) -> bytes:
        """A message after its ``+OK`` (RETR, TOP), dot-unstuffed, read as one block up
        to the ``\\r\\n.\\r\\n`` that ends it, not line by line (4 times faster). An
        empty message is just ``.\\r\\n``. More than ``limit`` bytes: MessageTooLarge,
        and the connection is closed, as in ``_lines``."""
        stream = self._stream
        try:
            with self._link_errors(what):
                if await stream.peek(3) == b".\r\n":
                    await stream.readline()
                    return b""
                # Stuffing adds at most one byte to a line of 3 ("..\r\n" for "."): the
                # wire holds at most 4/3 of the message, plus the terminator.
                block = await stream.read_until(b"\r\n.\r\n", limit + limit // 3 + 8)
        except BlockTooLong:
            pass
        else:
            data = unstuff(block)
            if len(data) <= limit:
                return data
        await self.abort()
        raise MessageTooLarge(f"{what} is larger than {limit} bytes")

    async def _write(self, data: bytes, *, secret: bool = False) -> None:
        """``secret``: a SASL answer, shown in the debug log as ``<authentication
        data>``; other login lines are blanked there by ``wire.traced``."""
        if self.broken:
            raise TransientError("the connection to the server was lost")
        if self._trace:
            lines = [wire.AUTH_DATA] if secret else wire.traced("C", data)
            for shown in lines:
                wire_log.debug("%s C: %s", self.host, shown)
        try:
            self._stream.write(data)
            async with asyncio.timeout(self.timeout):
                await self._stream.drain()
        except TimeoutError:
            self.broken = True
            raise TransientError("the server did not take our commands in time") from None
        except OSError as exc:
            self.broken = True
            raise TransientError(f"connection lost: {exc.strerror or exc}") from None

    # ------------------------------------------------------------------ commands

    async def command(self, *words: str | int, shown_as: str | None = None) -> str:
        """Send one command, return the text of its ``+OK``; CommandRefused on ``-ERR``.
        ``shown_as`` replaces the command in errors (it may carry a password)."""
        line = " ".join(str(w) for w in words)
        if any(c in line for c in "\r\n\0"):
            # A user name or password with a line break would smuggle in a command.
            raise ConfigError(f"{(shown_as or line).split()[0]}: line breaks cannot be sent")
        await self._write(line.encode() + b"\r\n")
        return await self._answer(shown_as or line)

    async def _answer(self, command: str) -> str:
        status = await self._status()
        if status.challenge:
            self.broken = True
            raise ProtocolViolation(f"the server answered {command} with a SASL challenge")
        if not status.ok:
            raise CommandRefused(command, status)
        return status.text

    async def _multiline(self, *words: str | int) -> list[bytes]:
        """A listing: a command whose +OK is followed by lines (CAPA, UIDL, LIST), read
        line by line; more than ``max_listing`` bytes are a ProtocolViolation. (Messages,
        RETR and TOP, come in one block: ``_message``.)"""
        line = " ".join(str(w) for w in words)
        await self.command(*words)
        try:
            return await self._lines(self.max_listing, f"the answer to {line}")
        except MessageTooLarge as exc:
            raise ProtocolViolation(str(exc)) from None

    async def capa(self) -> dict[str, tuple[str, ...]]:
        """CAPA (RFC 2449); an old server without it leaves the capabilities empty."""
        found = await self._read_capa()
        self.capabilities, self.capa_known = found or {}, found is not None
        return self.capabilities

    async def _read_capa(self) -> dict[str, tuple[str, ...]] | None:
        try:
            return wire.parse_capa(await self._multiline("CAPA"))
        except CommandRefused:
            return None

    @property
    def pipelining(self) -> bool:
        return "PIPELINING" in self.capabilities

    @property
    def has_uidl(self) -> bool | None:
        """Whether the server offers UIDL: from CAPA, None when it has no CAPA (the
        answer to ``uidl`` tells)."""
        return "UIDL" in self.capabilities if self.capa_known else None

    # ------------------------------------------------------------------ login

    async def login(self, username: str, password: str, *, apop: bool = False) -> None:
        """Log in with a password: APOP when ``apop`` (the account asks for it; the
        greeting must carry a timestamp), else AUTH PLAIN when CAPA's SASL offers it,
        else USER/PASS (when CAPA offers USER, or the server has no CAPA), else APOP when
        the greeting has a timestamp. AuthError with the server's text if refused."""
        caps = self.capabilities
        mechanisms = {m.upper() for m in caps.get("SASL", ())}
        try:
            if apop:
                await self._apop(username, password)
            elif "PLAIN" in mechanisms:
                await self.authenticate("PLAIN", [sasl.plain(username, password)])
            elif "USER" in caps or not self.capa_known:
                await self.command("USER", username)
                await self.command("PASS", password, shown_as="PASS")
            elif self.timestamp is not None:
                await self._apop(username, password)
            else:
                raise ConfigError(f"{self.host} offers no login method mailtui can use")
        except CommandRefused as exc:
            raise self._auth_failure(exc) from None
        await self._after_login()

    async def _apop(self, username: str, password: str) -> None:
        if self.timestamp is None:
            raise ConfigError(
                f"{self.host} does not offer APOP (its greeting has no timestamp); turn "
                "APOP off for this account"
            )
        digest = wire.apop_digest(self.timestamp, password)
        await self.command("APOP", username, digest, shown_as="APOP")

    async def login_oauth(self, username: str, token: str, port: int) -> None:
        """SASL OAUTHBEARER (RFC 7628) when offered, else XOAUTH2; AuthError if refused.

        A refused token comes back as a challenge carrying JSON; it is answered as the
        mechanism wants (``sasl.error_reply``) before the server's ``-ERR``."""
        offered = self.capabilities.get("SASL", ())
        mechanism = sasl.pick(offered, oauth=True)
        if mechanism is None:
            raise ConfigError(
                f"{self.host} does not offer OAuth login (OAUTHBEARER or XOAUTH2; it "
                f"offers {', '.join(offered) or 'no SASL method'}); set "
                'auth = "password" if it takes a password'
            )
        self.oauth_status = ""
        try:
            await self.authenticate(
                mechanism,
                sasl.responses(mechanism, username, token, self.host, port),
                on_error=sasl.error_reply(mechanism),
            )
        except CommandRefused as exc:
            failure = self._auth_failure(exc)
            if isinstance(failure, AuthError):
                why = f" ({self.oauth_status})" if self.oauth_status else ""
                failure = AuthError(
                    f"{self.host} refused the OAuth access token for {username}{why}: "
                    f"{exc.text or 'no reason given'}; the token may have expired or lack "
                    "the mail scope: check what token_command prints (or the keyring entry)"
                )
            raise failure from None
        await self._after_login()

    async def authenticate(
        self, mechanism: str, responses: list[bytes], on_error: bytes | None = None
    ) -> None:
        """AUTH (RFC 5034): the first response goes with the command (``=`` if empty),
        each further one answers a ``+`` challenge. A challenge after the last response
        is an error report: answered with ``on_error`` (OAuth), else cancelled (``*``).
        CommandRefused on ``-ERR``."""
        pending = list(responses)
        line = f"AUTH {mechanism}"
        if pending and sasl.has_initial_response(mechanism):
            line += " " + sasl.encode(pending.pop(0), initial=True).decode("ascii")
        await self._write(line.encode() + b"\r\n")
        while True:
            status = await self._status()
            if not status.challenge:
                if not status.ok:
                    raise CommandRefused(f"AUTH {mechanism}", status)
                return
            if pending:
                answer = sasl.encode(pending.pop(0))
            elif on_error is not None:
                self.oauth_status = sasl.oauth_error_status(status.text.strip().encode())
                answer, on_error = sasl.encode(on_error), None
            else:
                answer = b"*"
            await self._write(answer + b"\r\n", secret=True)

    def _auth_failure(self, exc: CommandRefused) -> SyncError:
        if exc.code in _NOT_NOW:
            return TransientError(f"{self.host} cannot log in now: {exc.text}")
        return AuthError(exc.text or "wrong user name or password")

    async def _after_login(self) -> None:
        self.logged_in = True
        # RFC 2449 5: capabilities may differ once logged in (UIDL, PIPELINING, EXPIRE).
        if self.capa_known:
            found = await self._read_capa()
            if found is not None:  # refused now: what it said before login stands
                self.capabilities = found

    # ------------------------------------------------------------------ mailbox

    async def stat(self) -> tuple[int, int]:
        """(message count, mailbox size in octets), messages marked deleted left out."""
        return wire.parse_stat(await self.command("STAT"))

    async def uidl(self) -> dict[int, str]:
        """Message number → unique id, for every message not marked deleted.
        UidlUnsupported when the server has no UIDL."""
        self._need_uidl()
        try:
            lines = await self._multiline("UIDL")
        except CommandRefused as exc:
            raise self._no_uidl(exc) from None
        return wire.parse_uidl(lines)

    async def uidl_one(self, number: int) -> str:
        """The unique id of message ``number``; CommandRefused if there is none."""
        self._need_uidl()
        found, uid = wire.parse_uidl_line((await self.command("UIDL", number)).encode())
        if found != number:
            raise ProtocolViolation(f"the server answered UIDL {number} for message {found}")
        return uid

    def _need_uidl(self) -> None:
        if self.has_uidl is False:
            raise UidlUnsupported(
                f"{self.host} does not offer UIDL, so mailtui cannot tell which messages "
                "it already downloaded; only deleting each message after download works"
            )

    def _no_uidl(self, exc: CommandRefused) -> SyncError:
        if self.has_uidl is None:  # no CAPA: a refused UIDL means none
            return UidlUnsupported(
                f"{self.host} does not offer UIDL ({exc.text or '-ERR'}), so mailtui cannot "
                "tell which messages it already downloaded; only deleting each message "
                "after download works"
            )
        return exc

    async def list(self) -> dict[int, int]:
        """Message number → size in octets, for every message not marked deleted."""
        return wire.parse_list(await self._multiline("LIST"))

    async def list_one(self, number: int) -> int:
        """The size of message ``number`` in octets."""
        found, size = wire.parse_list_line((await self.command("LIST", number)).encode())
        if found != number:
            raise ProtocolViolation(f"the server answered LIST {number} for message {found}")
        return size

    async def retr(self, number: int, max_size: int = MAX_MESSAGE) -> bytes:
        """Message ``number``'s bytes as stored: dot-unstuffed, line ends as sent (CRLF).
        MessageTooLarge beyond ``max_size``."""
        await self.command("RETR", number)
        return await self._message(max_size, f"the answer to RETR {number}")

    async def top(self, number: int, lines: int = 0, max_size: int = MAX_MESSAGE) -> bytes:
        """The header of message ``number`` (with the blank line after it), plus its first
        ``lines`` body lines."""
        await self.command("TOP", number, lines)
        return await self._message(max_size, f"the answer to TOP {number} {lines}")

    async def retrieve(
        self,
        numbers: Iterable[int],
        *,
        top_lines: int | None = None,
        max_size: int = MAX_MESSAGE,
    ) -> AsyncIterator[Fetched]:
        """RETR (or ``TOP n top_lines``) each of ``numbers``, answers in that order,
        pipelined when the server announces PIPELINING (up to ``PIPELINE_DEPTH`` on the
        wire). A message the server refuses comes as ``Fetched(refused=…)``; the others
        go on. Stopping early closes the connection (answers were still coming)."""
        depth = PIPELINE_DEPTH if self.pipelining else 1
        todo = iter(numbers)
        sent: deque[tuple[int, str]] = deque()
        finished = False
        try:
            while True:
                batch = []
                while len(sent) < depth:
                    number = next(todo, None)
                    if number is None:
                        break
                    line = f"RETR {number}" if top_lines is None else f"TOP {number} {top_lines}"
                    sent.append((number, line))
                    batch.append(line.encode() + b"\r\n")
                if batch:
                    await self._write(b"".join(batch))
                if not sent:
                    finished = True
                    return
                number, line = sent.popleft()
                try:
                    await self._answer(line)
                except CommandRefused as exc:
                    yield Fetched(number, None, exc.text or "-ERR")
                    continue
                data = await self._message(max_size, f"message {number}")
                yield Fetched(number, data)
        finally:
            if not finished and sent:
                await self.abort()

    async def dele(self, number: int) -> None:
        """Mark message ``number`` deleted; removed only when QUIT is answered."""
        await self.command("DELE", number)

    async def dele_many(self, numbers: Iterable[int]) -> dict[int, str]:
        """DELE each of ``numbers``, pipelined like ``retrieve`` when the server
        announces PIPELINING. Returns the refused ones (number → the server's text);
        the others are marked, removed only when QUIT is answered."""
        depth = PIPELINE_DEPTH if self.pipelining else 1
        todo = list(numbers)
        refused: dict[int, str] = {}
        for i in range(0, len(todo), depth):
            chunk = todo[i : i + depth]
            await self._write(b"".join(f"DELE {n}\r\n".encode() for n in chunk))
            for n in chunk:
                try:
                    await self._answer(f"DELE {n}")
                except CommandRefused as exc:
                    refused[n] = exc.text or "-ERR"
        return refused

    async def rset(self) -> None:
        """Unmark every message marked deleted on this connection."""
        await self.command("RSET")

    async def noop(self) -> None:
        await self.command("NOOP")

    # ------------------------------------------------------------------ closing

    async def quit(self) -> None:
        """QUIT: the server removes the messages marked deleted, then the connection is
        closed. CommandRefused if the server says it could not remove them all;
        TransientError if its answer never came (whether they were removed is unknown)."""
        try:
            await self.command("QUIT")
        finally:
            await self.abort()

    async def abort(self) -> None:
        """Close without QUIT: messages marked deleted stay on the server. Never raises."""
        self.broken = True
        with contextlib.suppress(Exception):
            self._stream.close()
            async with asyncio.timeout(2.0):
                await self._stream.wait_closed()
