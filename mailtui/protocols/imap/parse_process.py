"""A first pass's envelope parse in a child process, beside the writer and the loop.

A first pass of a big folder is bound by the Python its three threads run with the one
GIL: the loop's framing, the parse of each batch's header answers and the writer's
commit, which is the pass's critical path and waits for the GIL the parse holds
(docs/decisions.md, "First contact: the envelope rate, third step"). The parse needs
nothing of the process but the answers, so a child process runs it on the other core:
``ParseProcess.parse`` sends a batch's raw answers (``framing``) through a pipe and
gets the messages back as plain tuples (``marshal``), from which this process makes the
same ``NewMessage`` objects ``messages.parse_batch`` makes, with their ``Prepared``
values (the parse thread does that: a few ms a batch of 2,000, against ≈ 25 ms of
parse).

The child is ``parse_child``, started as ``python -m mailtui.protocols.imap.parse_child``
for the first pass of a folder of ``MIN_MESSAGES`` or more and ended with it (its stdin
closed; it ends too when this process dies). Its stderr goes nowhere. It is a speed-up
only: where it cannot start, has not said hello yet, dies or fails on a batch for a
reason that is not the answers' (a bug), the parse thread parses the batch as before;
answers that are not IMAP fail with the ``ProtocolError`` the thread would raise.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import select
import subprocess
import sys
import threading
from array import array
from collections.abc import Sequence
from typing import Any, Final

from mailtui.models import Address, Envelope, Flag, NewMessage
from mailtui.models.mail import Prepared
from mailtui.pacing import between_keys
from mailtui.protocols.imap import parse_child
from mailtui.protocols.imap.messages import RAW_ANSWER, parse_batch
from mailtui.protocols.imap.parse_child import HELLO, NOT_IMAP, OK, REPLY, REQUEST, Flat
from mailtui.protocols.imap.wire import ProtocolError

log = logging.getLogger(__name__)

#: A folder with fewer messages parses in the thread: a child costs about 60 ms of the
#: other core to start, and 0.3 ms a batch of 2,000 to feed.
MIN_MESSAGES: Final = 20_000
#: Batches with fewer answers (the first screens) parse in the thread, without a trip.
MIN_BATCH: Final = 1000
_STOP_TIMEOUT: Final = 5.0


class ParseProcess:
    """A running child; ``parse`` from the parse thread, ``stop`` at the pass's end."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        self._lock = threading.Lock()  # one request at a time
        self._ready = False
        self._dead = False
        #: Address tuples made lately, by their plain form (a mailbox repeats them).
        self._addresses: dict[tuple[tuple[str, str], ...], tuple[Address, ...]] = {}
        self._flags: dict[int, Flag] = {}

    @classmethod
    def start(cls, messages: int) -> ParseProcess | None:
        """A child for a first pass of ``messages`` messages, or None where it would not
        pay (a small folder, one core, a frozen program) or cannot start."""
        if messages < MIN_MESSAGES or (os.cpu_count() or 1) < 2 or getattr(sys, "frozen", False):
            return None
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", parse_child.__name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError as exc:
            log.info("no parse process (%s): the thread parses", exc)
            return None
        return cls(proc)

    def parse(self, validity: int, fetched: list[dict[str, Any]]) -> list[NewMessage] | None:
        """``messages.parse_batch(validity, fetched)``, its raw answers parsed by the
        child, or None where the caller parses it all (too few raw answers, the child
        not ready, gone or failed on them). Raises ``ProtocolError`` as ``parse_batch``
        would. The answers read one by one (the reader's buffer ended inside one), not
        raw, are parsed here and put back in their places."""
        raw = [d for d in fetched if RAW_ANSWER in d]
        if len(raw) < MIN_BATCH:
            return None
        with self._lock:
            if self._dead:
                return None
            try:
                if not self._hello():
                    return None
                status, payload = self._ask(validity, raw)
            except (OSError, ValueError, EOFError) as exc:
                log.info("the parse process is gone (%s): the thread parses", exc)
                self._dead = True
                return None
        if status == NOT_IMAP:
            raise ProtocolError(payload.decode("utf-8", "replace"))
        if status != OK:
            log.warning("the parse process failed on a batch (%s)", payload.decode())
            return None
        made = iter(between_keys(self._messages, marshal.loads(payload)))
        if len(raw) == len(fetched):
            return list(made)
        rest = iter(parse_batch(validity, [d for d in fetched if RAW_ANSWER not in d]))
        return [next(made) if RAW_ANSWER in d else next(rest) for d in fetched]

    def _hello(self) -> bool:
        """Whether the child has said hello (waiting for it only while it can be read
        at once: until then the thread parses)."""
        if self._ready:
            return True
        out = self._proc.stdout
        assert out is not None
        if not select.select([out], [], [], 0)[0]:
            return False
        if out.read(len(HELLO)) != HELLO:
            raise EOFError("no hello")
        self._ready = True
        return True

    def _ask(self, validity: int, fetched: list[dict[str, Any]]) -> tuple[int, bytes]:
        inp, out = self._proc.stdin, self._proc.stdout
        assert inp is not None and out is not None
        raws = [d[RAW_ANSWER] for d in fetched]
        uids = " ".join(str(d.get("UID")) for d in fetched).encode("ascii")
        lengths = array("I", [len(r) for r in raws])
        answers = b"".join(raws)
        inp.write(REQUEST.pack(validity, len(raws), len(uids), len(answers)))
        inp.write(lengths.tobytes())
        inp.write(uids)
        inp.write(answers)
        inp.flush()
        head = out.read(REPLY.size)
        if len(head) < REPLY.size:
            raise EOFError("no reply")
        status, size = REPLY.unpack(head)
        payload = out.read(size)
        if len(payload) < size:
            raise EOFError("a reply cut short")
        return status, payload

    def _messages(self, flats: Sequence[Flat]) -> list[NewMessage]:
        """The ``NewMessage`` objects of ``flats``, as ``parse_batch`` makes them."""
        out: list[NewMessage] = []
        addresses, flags = self._addresses, self._flags
        if len(addresses) > 4096:
            addresses.clear()
        for rid, bits, subject, from_, to, cc, date, mid, irt, refs, size, att, preview, *rest in (
            flats
        ):
            got = addresses.get
            senders = got(from_) or _addresses(addresses, from_)
            recipients = got(to) or _addresses(addresses, to)
            copies = got(cc) or _addresses(addresses, cc)
            env = Envelope(
                subject, senders, recipients, copies, date, mid, irt, refs, size, att, preview
            )
            flag = flags.get(bits)
            if flag is None:
                flag = flags[bits] = Flag(bits)
            m = NewMessage(rid, env, flag)
            m.prepared = Prepared(rid, bits, env, *rest)
            out.append(m)
        return out

    def stop(self) -> None:
        """End the child (its stdin closed: it exits after the request it answers) and
        reap it; blocking, for a thread. A child that does not end is killed."""
        proc = self._proc
        if self._lock.acquire(timeout=_STOP_TIMEOUT):  # the request under way answered
            try:
                self._dead = True
                with contextlib.suppress(OSError, ValueError):
                    assert proc.stdin is not None
                    proc.stdin.close()
            finally:
                self._lock.release()
        try:
            proc.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError, ValueError):
            assert proc.stdout is not None
            proc.stdout.close()


def _addresses(
    made: dict[tuple[tuple[str, str], ...], tuple[Address, ...]], plain: tuple[tuple[str, str], ...]
) -> tuple[Address, ...]:
    """``plain`` as ``Address`` objects, kept in ``made``."""
    made[plain] = found = tuple(Address(name, addr) for name, addr in plain)
    return found
