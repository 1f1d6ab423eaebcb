"""A relay on 127.0.0.1 between a POP3 client and the harness's Dovecot that reads both
directions of plain POP3 and can SIGKILL the client at a point of the conversation.

    with Pop3Tap(dovecot.host, dovecot.pop3_port) as tap:
        tap.arm(KillAt(command=17))          # or KillAt(server_bytes=…), KillAt(verb="QUIT")
        proc = subprocess.Popen([... "mailtui", "sync", "--once"])   # port = tap.port
        tap.attach(proc.pid)
        proc.wait()
        tap.killed                           # what it was killing at, or None
        tap.retrieved                        # RETR answers received in full, in order
        tap.topped                           # UIDLs of the TOP answers received in full
        tap.uidls                            # message number -> UIDL, the last listing
        tap.deleted                          # UIDLs of the client's DELE commands

Kill points are counted in the conversation, not in time, so a seed that picks one picks
the same point on every run (where the client then is in its own work still varies):

- ``command=K``: the client's K-th command line of this run (all connections together) is
  held back, the client is killed, and the server never sees that line.
- ``verb="RETR", nth=N`` (or ``"DELE"``, ``"QUIT"`` …): the same at the N-th command
  with that verb (the first by default).
- ``server_bytes=B``: exactly B bytes of the server's answers reach the client (counted
  over the run), then the client is killed; the rest is never delivered.

After a kill the relay closes both sides: the server sees a connection dropped without
QUIT, as when a real client dies, so (RFC 1939) none of that session's DELEs take effect.

Answers are parsed to know what the client asked and got: the UIDL listing of each
connection (message number → UIDL), every RETR answer received whole (its message,
dot-unstuffed, and UIDL) and every DELE the client sent (by UIDL; one it was killed at
included, although the server never saw that one). Plain POP3 only: a client that
sends STLS makes the rest of that connection unreadable (``tap.errors`` says so).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .dovecot import DovecotServer
from .ports import LOOPBACK

#: Commands whose +OK answer is multi-line (with an argument, LIST and UIDL are not).
_MULTILINE = {"CAPA", "RETR", "TOP"}
_MULTILINE_WITHOUT_ARGUMENT = {"LIST", "UIDL"}


#: Seconds a command held for ``KillAt.once`` waits at most.
ONCE_TIMEOUT = 60.0


@dataclass(frozen=True)
class KillAt:
    """Where to kill the client: ``command``, ``verb`` or ``server_bytes``. With ``verb``,
    at its ``nth`` command of that verb in the run, and ``after`` names a verb that must
    have been sent before (``verb="QUIT", after="DELE"``: the first QUIT once something
    was marked deleted)."""

    command: int | None = None
    verb: str | None = None
    nth: int = 1
    after: str | None = None
    server_bytes: int | None = None
    #: With ``command`` or ``verb``: that command is held (the client waits for its
    #: answer) until this says True, then the client is killed at it; for a state of
    #: the client's store that the kill point must come after (its other tasks go on
    #: meanwhile), not a race with them. ``ONCE_TIMEOUT`` at most: then an error.
    once: Callable[[], bool] | None = None

    def __str__(self) -> str:
        if self.command is not None:
            return f"command #{self.command}"
        if self.verb is not None:
            which = "first" if self.nth == 1 else f"#{self.nth}"
            return f"{which} {self.verb}" + (f" after a {self.after}" if self.after else "")
        return f"after {self.server_bytes} server bytes"


@dataclass(frozen=True)
class Retrieved:
    uidl: str | None
    number: int
    message: bytes


@dataclass
class _Conversation:
    """One connection's parser state (both pumps share it)."""

    pending: deque[tuple[str, str]] = field(default_factory=deque)  # (verb, argument)
    greeted: bool = False
    continuation: bool = False  # the next client line answers a SASL "+ " challenge
    opaque: bool = False  # after STLS: not readable any more
    uidls: dict[int, str] = field(default_factory=dict)
    buffer: bytearray = field(default_factory=bytearray)
    answer: tuple[str, str] | None = None  # the multi-line answer being read
    lines: list[bytes] = field(default_factory=list)


class Pop3Tap:
    """A context manager: starts listening on a free port of 127.0.0.1 (``port``)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)  # accept() wakes up to see `close`
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._attached = threading.Event()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._pid = 0
        self._kill_at: KillAt | None = None
        self._commands = 0
        self._server_bytes = 0
        self._verbs: set[str] = set()
        self._matched = 0  # commands of KillAt.verb so far
        self.killed: str | None = None
        self.commands: list[str] = []
        self.retrieved: list[Retrieved] = []
        self.topped: list[str | None] = []
        self.uidls: dict[int, str] = {}
        self.deleted: list[str] = []
        self.connections = 0
        self.errors: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Pop3Tap:
        thread = threading.Thread(target=self._accept_loop, name="pop3-tap", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._attached.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._drop_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def arm(self, kill_at: KillAt | None) -> None:
        """Start a new run: counters and records reset, ``kill_at`` (None: never kill).
        Connections wait until ``attach`` names the client's process."""
        with self._lock:
            self._attached.clear()
            self._pid = 0
            self._kill_at = kill_at
            self._commands = 0
            self._server_bytes = 0
            self._verbs = set()
            self._matched = 0
            self.killed = None
            self.commands = []
            self.retrieved = []
            self.topped = []
            self.uidls = {}
            self.deleted = []
            self.connections = 0
            self.errors = []

    def attach(self, pid: int) -> None:
        """The process to kill; connections are served from now on."""
        with self._lock:
            self._pid = pid
        self._attached.set()

    # ------------------------------------------------------------------ relaying
    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self._attached.wait()
            if self._closing.is_set():
                client.close()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError as exc:
                self.errors.append(f"cannot reach the server: {exc}")
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self.connections += 1
                self._sockets += [client, server]
            conv = _Conversation()
            for target, args in (
                (self._pump_client, (client, server, conv)),
                (self._pump_server, (server, client, conv)),
            ):
                thread = threading.Thread(target=target, args=args, daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump_client(
        self, client: socket.socket, server: socket.socket, conv: _Conversation
    ) -> None:
        buffer = bytearray()
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                _shutdown(server)
                return
            buffer += data
            out = bytearray()
            while True:
                end = buffer.find(b"\r\n")
                if end < 0 or conv.opaque:
                    break
                line = bytes(buffer[: end + 2])
                del buffer[: end + 2]
                if not self._client_line(line, conv):
                    _send(server, bytes(out))
                    self._drop(client, server)
                    return
                out += line
            if conv.opaque:
                out += buffer
                buffer.clear()
            if not _send(server, bytes(out)):
                return

    def _client_line(self, line: bytes, conv: _Conversation) -> bool:
        """Record a client line; False when the client was killed at it."""
        if conv.continuation:
            conv.continuation = False
            return True
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        verb, _, argument = text.partition(" ")
        verb = verb.upper()
        with self._lock:
            if self.killed is not None:
                return False
            self._commands += 1
            if verb == "DELE":  # the one killed at included: the client meant to send it
                uidl = conv.uidls.get(_number(argument))
                self.deleted.append(uidl if uidl is not None else f"#{argument}")
            at = self._kill_at
            matches = (
                at is not None and at.verb == verb and (at.after is None or at.after in self._verbs)
            )
            if matches:
                self._matched += 1
            hit = at is not None and (
                at.command == self._commands or (matches and self._matched == at.nth)
            )
            shown = _masked(verb, argument, text)
            if hit and (at is None or at.once is None):
                self._kill(f"{at} ({shown})")
                return False
            if not hit:
                self.commands.append(shown)
                self._verbs.add(verb)
                conv.pending.append((verb, argument))
        if hit and at is not None and at.once is not None:
            waited = _until(at.once, ONCE_TIMEOUT)
            with self._lock:
                if not waited:
                    self.errors.append(f"held at {at} ({shown}) for {ONCE_TIMEOUT} s in vain")
                if self.killed is None:
                    self._kill(f"{at} ({shown})")
            return False
        if verb == "STLS":
            self.errors.append("the client sent STLS: the rest of the connection is not read")
        return True

    def _pump_server(
        self, server: socket.socket, client: socket.socket, conv: _Conversation
    ) -> None:
        while True:
            try:
                data = server.recv(65536)
            except OSError:
                data = b""
            if not data:
                _shutdown(client)
                return
            with self._lock:
                if self.killed is not None:
                    self._drop(client, server)
                    return
                budget = self._kill_at.server_bytes if self._kill_at is not None else None
                if budget is not None and self._server_bytes + len(data) >= budget:
                    data = data[: budget - self._server_bytes]
                    self._server_bytes = budget
                    last = True
                else:
                    self._server_bytes += len(data)
                    last = False
            self._server_data(data, conv)
            _send(client, data)
            if last:
                with self._lock:
                    if self.killed is None and self._kill_at is not None:
                        self._kill(str(self._kill_at))
                self._drop(client, server)
                return

    def _server_data(self, data: bytes, conv: _Conversation) -> None:
        if conv.opaque:
            return
        conv.buffer += data
        while not conv.opaque:
            end = conv.buffer.find(b"\r\n")
            if end < 0:
                return
            line = bytes(conv.buffer[: end + 2])
            del conv.buffer[: end + 2]
            self._server_line(line, conv)

    def _server_line(self, line: bytes, conv: _Conversation) -> None:
        if conv.answer is not None:  # inside a multi-line answer
            if line == b".\r\n":
                self._answered(conv.answer, conv.lines, conv)
                conv.answer, conv.lines = None, []
            else:
                conv.lines.append(line[1:] if line.startswith(b".") else line)
            return
        if not conv.greeted:
            conv.greeted = True
            return
        if line.startswith(b"+ ") or line == b"+\r\n":  # a SASL challenge
            conv.continuation = True
            return
        with self._lock:
            if not conv.pending:
                self.errors.append(f"an answer to no command: {line[:80]!r}")
                return
            verb, argument = conv.pending.popleft()
        if not line.startswith(b"+OK"):
            return
        if verb == "STLS":
            conv.opaque = True
        elif verb in _MULTILINE or (verb in _MULTILINE_WITHOUT_ARGUMENT and not argument):
            conv.answer, conv.lines = (verb, argument), []

    def _answered(self, answer: tuple[str, str], lines: list[bytes], conv: _Conversation) -> None:
        verb, argument = answer
        if verb == "UIDL":
            for raw in lines:
                text, _, uidl = raw.decode("ascii", "replace").strip().partition(" ")
                conv.uidls[_number(text)] = uidl
            with self._lock:
                self.uidls = dict(conv.uidls)
        elif verb == "RETR":
            n = _number(argument)
            with self._lock:
                self.retrieved.append(Retrieved(conv.uidls.get(n), n, b"".join(lines)))
        elif verb == "TOP":
            with self._lock:
                self.topped.append(conv.uidls.get(_number(argument.split(" ")[0])))

    # ------------------------------------------------------------------ killing
    def _kill(self, where: str) -> None:
        """With the lock held."""
        self.killed = where
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)

    def _drop(self, *socks: socket.socket) -> None:
        for s in socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def _drop_all(self) -> None:
        with self._lock:
            socks, self._sockets = self._sockets, []
        self._drop(*socks)


def _until(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether ``condition`` became true within ``timeout`` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _masked(verb: str, argument: str, text: str) -> str:
    """The command as recorded: no password or SASL response in it."""
    if verb == "PASS":
        return "PASS ***"
    if verb == "AUTH" and " " in argument:
        return f"AUTH {argument.split()[0]} ***"
    return text


def _number(text: str) -> int:
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return -1


def _send(sock: socket.socket, data: bytes) -> bool:
    if not data:
        return True
    try:
        sock.sendall(data)
    except OSError:
        return False
    return True


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def sessions_ended(dovecot: DovecotServer, user: str, log_start: int, timeout: float = 30) -> None:
    """Wait until every POP3 session ``user`` logged in with (in Dovecot's log from byte
    ``log_start``) has ended. A pop3 process goes on after its connection dropped: it logs
    "Disconnected", then moves the messages it showed from new/ to cur/ (or expunges
    after QUIT), so the Maildir is read only once every such process has exited."""
    name = re.escape(user)
    deadline = time.monotonic() + timeout
    while True:
        log = dovecot.log_text(log_start)
        logins = set(re.findall(rf"Login: user=<{name}>.*?mpid=(\d+)", log))
        ended = set(re.findall(rf"pop3\({name}\)<(\d+)><[^>]*>: \w+: Disconnected", log))
        if logins <= ended and not any(_is_pop3_of(pid, user) for pid in logins):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{user}'s POP3 sessions did not end: {sorted(logins - ended)}")
        time.sleep(0.02)


def _is_pop3_of(pid: str, user: str) -> bool:
    """Whether process ``pid`` is still a Dovecot pop3 process serving ``user``
    (``verbose_proctitle``: "dovecot-INSTANCE/pop3 [user 127.0.0.1]")."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"/pop3 [" in title and f"[{user} ".encode() in title
