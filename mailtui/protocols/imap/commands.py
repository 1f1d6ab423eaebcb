"""IMAP commands over one stream: reading responses, tags, pipelining, closing.

Reading is literal-aware: a response line that ends in ``{n}`` is followed by
``readexactly(n)``, so message bodies are never scanned for line ends or copied through a
regex, and the transport decrypts them straight into the bytes handed on
(``mailtui.protocols.net.linereader``). One command runs at a time (the backend drives the
connection from one task); ``stream`` yields untagged responses as they arrive, so a
500 MB FETCH never sits in memory as a whole. While a command sent with ``raw_fetch``
waits for FETCH answers, the responses already whole in the reader's buffer are cut out
at once (``framing.frame``) and read from a deque, and its header answers stay unparsed
(``Response.raw``) for the parse thread.

With the debug log on (``mailtui --debug-log FILE``), the first line of each command and
response goes to the ``mailtui.wire.imap`` logger (literals never); the answers of an
AUTHENTICATE exchange and a LOGIN's literals are written as ``<authentication data>``,
and the log's filter (``secrets.Redactor``) blanks login arguments and every secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from mailtui.errors import TransientError
from mailtui.pacing import Pacer
from mailtui.protocols.imap.framing import frame, header_answers, lazy_fetch, segments_of
from mailtui.protocols.imap.wire import Arg, ProtocolError, Response, literal_size, parse_response
from mailtui.protocols.net.linereader import LineReader, LineTooLong, StreamClosed

DEFAULT_TIMEOUT = 60.0
wire_log = logging.getLogger("mailtui.wire.imap")
_TRACE_CHARS = 200
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
    #: Its header FETCH answers may come unparsed (``Response.raw``: ``framing``).
    raw_fetch: bool = False


class ImapCommands:
    """Commands and their answers on an open stream; ``ImapConnection`` opens it."""

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
        self._trace = wire_log.isEnabledFor(logging.DEBUG)  # asked once: a hot path
        # A buffered answer of thousands of FETCH responses is read without a wait: the
        # loop (keys, frames) gets a turn every few milliseconds of it (mailtui/pacing.py).
        self._pacer = Pacer()
        # Responses cut whole out of the reader's buffer, not read yet (``framing``).
        self._framed: deque[bytes] = deque()

    # ------------------------------------------------------------------ reading

    async def _read(self) -> Response:
        """The next response. The account timeout applies to silence (the reader's
        ``idle_timeout``), not to the whole response: a big literal on a slow link may
        take longer, as long as it keeps coming."""
        try:
            await self._pacer.pace()  # before the read: a cancel here loses nothing
            return await self._read_raw()
        except TimeoutError:
            self.broken = True
            raise TransientError("the server did not answer in time") from None

    async def _read_raw(self) -> Response:
        if not self._framed and self._raw_fetch_owner():
            # While a first pass's FETCH answers come: every response already in the
            # buffer is cut out at once, and read from here without a wait.
            self._framed.extend(self._stream.take(frame))
        if self._framed:
            return self._from_frame(self._framed.popleft())
        segments: list[bytes | bytearray] = []
        try:
            while True:
                line = await self._stream.readline()
                segments.append(line)
                size = literal_size(line)
                if size is None:
                    break
                segments.append(await self._stream.readexactly(size))
            if self._trace:
                self._show("S", segments[0])
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

    def _from_frame(self, raw: bytes) -> Response:
        """The response of a framed one: a header FETCH answer for a command that takes
        it so stays raw (its owner is the one ``_route`` will find: nothing changes the
        waiting commands in between), anything else is parsed as ``_read_raw`` would."""
        if self._trace:
            self._show("S", raw)
        lazy = lazy_fetch(raw)
        if lazy is not None and self._raw_fetch_owner():
            return Response(tag="*", kind="FETCH", number=lazy[0], raw=raw, raw_uid=lazy[1])
        try:
            return parse_response(segments_of(raw))
        except ProtocolError as exc:
            self.broken = True
            raise TransientError(f"the server sent something that is not IMAP: {exc}") from None

    def _take_raw(self, reading: Pending, into: list[tuple[str, bytes]]) -> int:
        """Move the header FETCH answers of the common shape at the head of what is
        framed (framing what the buffer holds first) into ``into`` as (UID, raw answer),
        when they are ``reading``'s (it takes them raw, and ``_route`` would give them
        to it: no earlier command waits for a FETCH); how many. What ``_read`` and
        ``_route`` do for each such answer, done for all at once: the first other
        response stops it, and is read as before."""
        if not reading.raw_fetch or self._fetch_owner() is not reading:
            return 0
        framed = self._framed
        taken = 0
        if not framed:
            # The common shape first, named as it is cut out; then whatever else is whole.
            whole = self._stream.take(header_answers)
            if whole:
                if self._trace:
                    for _, raw in whole:
                        self._show("S", raw)
                into += whole
                taken = len(whole)
            else:
                framed.extend(self._stream.take(frame))
        while framed:
            raw = framed[0]
            lazy = lazy_fetch(raw)
            if lazy is None:
                break
            framed.popleft()
            if self._trace:
                self._show("S", raw)
            into.append((lazy[1], raw))
            taken += 1
        if taken:
            self.changed = True  # an untagged FETCH arrived, as ``_note`` says
        return taken

    def _fetch_owner(self) -> Pending | None:
        """The command an untagged FETCH read now goes to, if one waits for it."""
        for candidate in self._pending:
            if candidate.answer is None and (
                candidate.kinds is None or "FETCH" in candidate.kinds
            ):
                return candidate
        return None

    def _raw_fetch_owner(self) -> bool:
        """Whether an untagged FETCH read now goes to a command that takes it raw."""
        owner = self._fetch_owner()
        return owner is not None and owner.raw_fetch

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

    def _show(self, who: str, data: bytes | bytearray) -> None:
        line = bytes(data).split(b"\r\n", 1)[0][:_TRACE_CHARS]
        words = line.split(b" ", 3)
        if who == "C" and len(words) > 3 and words[1].upper() in (b"AUTHENTICATE", b"LOGIN"):
            line = b" ".join(words[:3]) + b" <authentication data>"
        wire_log.debug("%s %s: %s", self.host, who, line.decode("utf-8", "replace"))

    async def _write(self, data: bytes) -> None:
        if self._trace:
            self._show("C", data)
        await self._put(data)

    async def _write_secret(self, data: bytes) -> None:
        """A write the debug log shows as ``<authentication data>`` (SASL answers, a
        LOGIN's literals)."""
        if self._trace:
            wire_log.debug("%s C: <authentication data>", self.host)
        await self._put(data)

    async def _put(self, data: bytes) -> None:
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
        secret = False  # a LOGIN's literal after the first write
        for arg in args:
            if isinstance(arg, tuple):
                data = arg[0]
                if nonsync:
                    line += b" {%d+}\r\n" % len(data) + data
                    continue
                await (self._write_secret if secret else self._write)(
                    line + b" {%d}\r\n" % len(data)
                )
                secret = bool(args) and args[0] == b"LOGIN"
                resp = await self._read()
                while resp.tag == "*":
                    self._note(resp)
                    resp = await self._read()
                if resp.tag != "+":
                    raise CommandFailed(line.decode("ascii", "replace").split(" ")[1], resp)
                line = data
            else:
                line += b" " + arg
        await (self._write_secret if secret else self._write)(line + b"\r\n")
        return tag

    async def send(self, *args: Arg, raw_fetch: bool = False) -> Pending:
        """Send a command without waiting for its answer (pipelining, RFC 3501 5.5); read
        the answer with ``responses``.

        Dovecot runs pipelined commands in parallel, so their untagged responses can
        interleave and their tagged answers can come in another order. Responses are
        told apart by kind: a FETCH goes to the oldest FETCH command still waiting (the
        caller tells batches apart by UID), a SEARCH to the oldest SEARCH, and so on; a
        response no waiting command asked for (EXISTS, a flag change another client
        made) to the oldest waiting command. A command whose responses cannot be told
        apart (SELECT, STORE, anything not in ``PIPELINED``) waits until every earlier
        answer is in before it goes out.

        ``raw_fetch``: its header FETCH answers of the common shape come unparsed
        (``Response.raw``, parsed by ``framing.fetch_items``), the rest parsed."""
        words = [a.upper() for a in args[:2] if isinstance(a, bytes)]
        name = b" ".join(words if words[:1] == [b"UID"] else words[:1])
        kinds = PIPELINED.get(name)
        sync_literal = "LITERAL+" not in self.capabilities and any(
            isinstance(a, tuple) for a in args
        )
        if kinds is None or sync_literal:
            # (A synchronizing literal waits for "+", which comes after those answers.)
            await self._settle()
        pending = Pending(
            await self._send(args), name.decode("ascii", "replace"), kinds, raw_fetch=raw_fetch
        )
        self._pending.append(pending)
        return pending

    async def responses(
        self, pending: Pending, raw_into: list[tuple[str, bytes]] | None = None
    ) -> AsyncIterator[Response]:
        """The untagged responses of a sent command, as they arrive. A tagged NO/BAD
        raises CommandFailed after them.

        With ``raw_into``, a command sent with ``raw_fetch`` gets its header FETCH
        answers of the common shape appended there as (UID, raw answer), many at a time,
        instead of one ``Response`` each (``_take_raw``); the rest is yielded."""
        finished = False
        try:
            while pending.answer is None and self._pending[0] is not pending:
                await self._read_into(self._pending[0])  # an earlier command's answer
            while pending.early:
                yield pending.early.popleft()
            while pending.answer is None:
                if raw_into is not None and self._take_raw(pending, raw_into):
                    await self._pacer.pace()
                    continue
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

    async def settle(self) -> None:
        """``_settle`` for a caller that sends a command of a pipelined kind whose
        responses must not be taken for those of an earlier one of the same kind (a
        FETCH out of a first pass's order: ``ImapPull.fetch_window``)."""
        await self._settle()

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
