"""The search index's text for cached bodies: read, ``mime.body_text``, written back.

The sync stores bodies without their text (``bodies.indexed = 0``) and indexes them once
the account is in step (docs/decisions.md, "IMAP full sync", 4). ``index_bodies`` walks
those bodies newest first, a batch at a time: ``Store.bodies_to_index`` reads one, its
text is made, ``Store.set_body_texts`` writes it in one transaction, in the background
while the next batch is read and turned into text. Who makes the text:

- ``body_texts`` in a thread, one batch at a time: in the app, and for small backlogs.
  Only the write overlaps the next batch. The text is Python holding the GIL; SQLite
  and FTS5 run without it in the writer's thread (a few GIL round trips a batch: one
  statement, ``set_body_texts``), so they get the second core. Reading the next batch
  meanwhile does not pay: every file read needs the GIL back, and a thread that wants
  it waits up to the switch interval (5 ms) while the extraction holds it, so the read
  only ends after the extraction anyway (measured: slower than reading after it).
- ``IndexHelper``, for ``mailtui sync --once`` (``helper=True``) when the backlog is
  large (``HELPER_MIN_BODIES``): a child process (``python -m mailtui.sync.indexer``)
  runs ``body_texts`` on one core while this process reads the next batches and writes
  the last ones on the other, two batches in its hands. The raw bytes go through shared
  memory (a ``memfd``), the texts come back through a pipe: 500 MB of mail through a
  pipe cost more CPU on both sides than the second core saved (docs/decisions.md,
  "Search text after the download, faster"). The app does not use it: its indexing
  stops whenever the user wants something, and a process would start again for every
  round.

The helper is a Linux-only speed-up: where it cannot start or would not pay (no
``memfd_create``, a frozen executable, a single core, a child that does not say hello),
or when it dies, the thread goes on with the work. Its stderr goes nowhere: nothing of
it reaches the user's terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

# mmap and pickle are imported when a helper starts: every `sync --once` imports this
# module, and its start-up is measured against mbsync's (docs/decisions.md, "IMAP:
# resync start-up").
if TYPE_CHECKING:
    import mmap

    from mailtui.store import Store

log = logging.getLogger(__name__)

Bodies = Sequence[tuple[int, bytes]]
Texts = list[tuple[int, str]]

BATCH = 200  # bodies per batch (one transaction)
#: And about this much raw mail at most (at least one body): ``bodies_to_index``'s
#: ``max_bytes``, and one slot of the helper's shared memory (a batch of one bigger body
#: is done in the thread).
BATCH_BYTES = 8 << 20
#: Bodies left to index for a helper process to pay: its start costs about 0.1 s of the
#: second core, more than it saves below about 1,500 bench bodies.
HELPER_MIN_BODIES = 2000
HELPER_SLOTS = 2  # batches in the helper's hands at once: one being made, one waiting
GIL_YIELD_S = 0.001  # body_texts hands the GIL over at least this often
_START_TIMEOUT = 30.0  # s for the child to import mailtui.mime and say hello
_STOP_TIMEOUT = 5.0
_HELLO = b"mailtui-index 1\n"
_HEADER = struct.Struct("<qq")  # request: offset, number of bodies; answer: length, 0
_ITEM = struct.Struct("<qq")  # message id, length of its raw bytes in the slot


def body_texts(bodies: Bodies) -> Texts:
    """``(message_id, mime.body_text(raw))`` for each body, in order.

    Run in a thread, it hands the GIL over at least every ``GIL_YIELD_S`` (between two
    bodies): a thread that wants the GIL otherwise waits up to the switch interval
    (5 ms) for each acquisition, the UI's event loop as much as the SQLite writer.
    Measured with a 5 ms timer on the app's event loop while 10,000 bodies are indexed:
    p95 lateness 7-8 ms without, 3.3-3.8 ms with (6-7 ms before this module), and the
    indexing a little faster (the write and the reads get their turn sooner).
    """
    from mailtui.mime.search_text import body_text

    texts: Texts = []
    handed_over = time.perf_counter()
    for message_id, raw in bodies:
        try:
            text = body_text(raw)
        except Exception:  # body_text never raises; if a bug made it, index no body text
            text = ""
        texts.append((message_id, text))
        if time.perf_counter() - handed_over >= GIL_YIELD_S:
            time.sleep(0)  # releases the GIL: a waiting thread takes it now
            handed_over = time.perf_counter()
    return texts


@dataclass(slots=True)
class Indexed:
    """What an ``index_bodies`` call did."""

    bodies: int = 0  # bodies whose text went into the index
    by_helper: int = 0  # of those, the ones whose text the helper process made


async def index_bodies(
    store: Store,
    account_id: int,
    *,
    helper: bool | IndexHelper = False,
    stop: Callable[[], bool] | None = None,
) -> Indexed:
    """Index the text of the account's bodies stored without it, until there are none
    left or ``stop()`` says the user wants something (checked between batches; the next
    call goes on where this one stopped).

    ``helper``: True to start an ``IndexHelper`` when there is more than a batch to do
    (the batches go to the thread until it is ready), or one that is running already
    (the caller closes it).
    """
    run = _Run(store, account_id, helper, stop)
    try:
        await run.run()
    finally:
        await run.close()
    return run.done


class _Run:
    """One ``index_bodies`` call: the batches in flight and who makes their text."""

    def __init__(
        self,
        store: Store,
        account_id: int,
        helper: bool | IndexHelper,
        stop: Callable[[], bool] | None,
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.stop = stop
        self.may_start_helper = helper is True
        self.helper = helper if isinstance(helper, IndexHelper) else None
        self.own_helper = False  # whether this run started it (and closes it)
        self.starting: asyncio.Task[IndexHelper | None] | None = None
        self.before: int | None = None  # the next batch is older than the last one read
        self.reading: asyncio.Task[list[tuple[int, bytes]]] | None = None  # read ahead
        # Batches out for their text, oldest first: bodies, the text being made, by whom.
        self.out: deque[tuple[Bodies, asyncio.Task[Texts], bool]] = deque()
        self.writing: asyncio.Task[None] | None = None  # the last batch, written meanwhile
        self.done = Indexed()

    async def run(self) -> None:
        if self.may_start_helper and (
            await self.store.count_bodies_to_index(self.account_id, HELPER_MIN_BODIES)
            >= HELPER_MIN_BODIES
        ):
            # Meanwhile (about 0.1 s) the first batches go to the thread.
            self.starting = asyncio.create_task(IndexHelper.start())
        while True:
            todo = await self._read()
            if not todo:
                while self.out:
                    await self._finish_oldest()
                break
            self.out.append(self._texts(todo))
            if self.helper is not None:
                self._read_ahead()  # while the helper works, this process reads
            if len(self.out) >= (HELPER_SLOTS if self.helper is not None else 1):
                await self._finish_oldest()
        if self.writing is not None:
            await self.writing

    async def _read(self) -> list[tuple[int, bytes]]:
        reading, self.reading = self.reading, None
        if reading is None:
            if self.stop is not None and self.stop():
                return []
            reading = asyncio.create_task(self._read_batch())
        return await reading

    def _read_ahead(self) -> None:
        if self.stop is None or not self.stop():
            self.reading = asyncio.create_task(self._read_batch())

    async def _read_batch(self) -> list[tuple[int, bytes]]:
        todo = await self.store.bodies_to_index(
            self.account_id, BATCH, BATCH_BYTES, before=self.before
        )
        if todo:
            self.before = todo[-1][0]  # newest first
        return todo

    def _texts(self, todo: Bodies) -> tuple[Bodies, asyncio.Task[Texts], bool]:
        """Starts making the batch's text: by the helper once it is ready, else in the
        thread."""
        if self.starting is not None and self.starting.done():
            starting, self.starting = self.starting, None
            self.helper = starting.result()  # None: it could not start (it never raises)
            self.own_helper = self.helper is not None
        if self.helper is not None and self.helper.fits(todo):
            return todo, asyncio.create_task(self.helper.texts(todo)), True
        return todo, asyncio.create_task(asyncio.to_thread(body_texts, todo)), False

    async def _finish_oldest(self) -> None:
        """Waits for the oldest batch's text and has it written, in the background while
        the next batches are made (after the write before it: one at a time)."""
        todo, job, by_helper = self.out.popleft()
        try:
            texts = await job
        except HelperGone as e:
            if self.helper is not None:
                log.warning("search index helper stopped (%s); indexing in a thread", e)
                if self.own_helper:
                    await self.helper.close()
                self.helper = None
            texts, by_helper = await asyncio.to_thread(body_texts, todo), False
        if self.writing is not None:
            await self.writing
        self.writing = asyncio.create_task(self.store.set_body_texts(texts))
        self.done.bodies += len(todo)
        self.done.by_helper += len(todo) if by_helper else 0

    async def close(self) -> None:
        """Nothing left running: reads and texts in flight are dropped (their bodies
        stay unindexed), writes in progress end either way, the helper stops."""
        tasks: list[asyncio.Task[Any]] = [job for _, job, _ in self.out]
        if self.reading is not None:
            tasks.append(self.reading)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if self.writing is not None:
            if not self.writing.done():
                await asyncio.wait({self.writing})  # a transaction in progress ends
            if not self.writing.cancelled():
                self.writing.exception()  # retrieved: the run's own error is the one raised
        if self.starting is not None:
            self.starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                if (started := await self.starting) is not None:
                    await started.close()
        if self.helper is not None and self.own_helper:
            await self.helper.close()


class HelperGone(Exception):
    """The helper process stopped answering; its batches go to a thread."""


class IndexHelper:
    """A child process running ``body_texts`` on batches put into shared memory."""

    def __init__(self, proc: asyncio.subprocess.Process, memory: mmap.mmap) -> None:
        self._proc = proc
        self._memory = memory
        self._free: asyncio.Queue[int] = asyncio.Queue()
        for slot in range(HELPER_SLOTS):
            self._free.put_nowait(slot)
        # Answers come in the order of the requests: (slot, future) of each request out.
        self._waiting: deque[tuple[int, asyncio.Future[Texts]]] = deque()
        self._gone: BaseException | None = None
        self._answers = asyncio.create_task(self._read_answers())

    @classmethod
    async def start(cls) -> IndexHelper | None:
        """The helper, ready for batches; None where it cannot run (then use a thread)."""
        if not hasattr(os, "memfd_create") or getattr(sys, "frozen", False):
            return None
        if len(os.sched_getaffinity(0)) < 2:
            return None  # one core: the process would only add its own work
        import mmap

        size = BATCH_BYTES * HELPER_SLOTS
        proc: asyncio.subprocess.Process | None = None
        memory: mmap.mmap | None = None
        try:
            fd = os.memfd_create("mailtui-index", os.MFD_CLOEXEC)
            try:
                os.ftruncate(fd, size)
                memory = mmap.mmap(fd, size)
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    __name__,
                    str(fd),
                    str(size),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.DEVNULL,
                    pass_fds=(fd,),
                )
            finally:
                os.close(fd)  # the mapping and the child keep the memory
            assert proc.stdout is not None
            async with asyncio.timeout(_START_TIMEOUT):
                hello = await proc.stdout.readexactly(len(_HELLO))
            if hello != _HELLO:
                raise HelperGone("the index helper did not start")
        except Exception as e:  # no process (no python, no memory): only slower, no error
            log.info("search index helper unavailable (%r); indexing in a thread", e)
            if proc is not None:
                await _end(proc)
            if memory is not None:
                memory.close()
            return None
        except BaseException:  # cancelled while starting: leave no child behind
            if proc is not None:
                await _end(proc)
            if memory is not None:
                memory.close()
            raise
        return cls(proc, memory)

    @staticmethod
    def fits(bodies: Bodies) -> bool:
        return sum(len(raw) for _, raw in bodies) <= BATCH_BYTES

    async def texts(self, bodies: Bodies) -> Texts:
        """``body_texts(bodies)`` done by the helper (``fits(bodies)`` must hold).

        Raises:
            HelperGone: the helper died or could not be written to; nothing of the
                batch was indexed, the caller does it in a thread.
        """
        slot = await self._free.get()
        if self._gone is not None:
            self._free.put_nowait(slot)
            raise HelperGone(str(self._gone))
        start = offset = slot * BATCH_BYTES
        items = []
        for message_id, raw in bodies:
            self._memory[offset : offset + len(raw)] = raw
            offset += len(raw)
            items.append(_ITEM.pack(message_id, len(raw)))
        answer: asyncio.Future[Texts] = asyncio.get_running_loop().create_future()
        self._waiting.append((slot, answer))
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(_HEADER.pack(start, len(bodies)) + b"".join(items))
            await stdin.drain()
        except (OSError, RuntimeError) as e:  # a broken pipe: the helper is gone
            self._fail(e)
        return await answer

    async def close(self) -> None:
        """Ends the helper (it exits at the end of its input) and frees the memory."""
        self._fail(HelperGone("closed"))
        self._answers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._answers
        await _end(self._proc)
        self._memory.close()

    async def _read_answers(self) -> None:
        import pickle  # our own child's answers, over a pipe only it holds

        stdout = self._proc.stdout
        assert stdout is not None
        try:
            while True:
                length, _ = _HEADER.unpack(await stdout.readexactly(_HEADER.size))
                texts: Texts = pickle.loads(await stdout.readexactly(length))
                slot, answer = self._waiting.popleft()
                self._free.put_nowait(slot)
                if not answer.done():
                    answer.set_result(texts)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # end of file (the helper died), or a garbled answer
            self._fail(e)

    def _fail(self, exc: BaseException) -> None:
        """No more answers: every request out and every later one raises HelperGone."""
        if self._gone is None:
            self._gone = exc
        while self._waiting:
            slot, answer = self._waiting.popleft()
            self._free.put_nowait(slot)
            if not answer.done():
                answer.set_exception(HelperGone(f"the index helper stopped ({exc!r})"))


async def _end(proc: asyncio.subprocess.Process) -> None:
    """Closes the helper's input (it exits at its end) and waits; kills it if it does not
    exit in time, or if this wait is cancelled (no child is left behind)."""
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        async with asyncio.timeout(_STOP_TIMEOUT):
            await proc.wait()
    except TimeoutError:
        _kill(proc)
        await proc.wait()
    except BaseException:
        _kill(proc)
        raise


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _serve(fd: int, size: int) -> None:
    """The helper: reads requests on stdin, answers on stdout, until end of input."""
    import mmap
    import pickle
    import signal

    import mailtui.mime.search_text  # noqa: F401  (loaded before the hello, not on the first batch)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is for the parent, which ends us
    memory = mmap.mmap(fd, size)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(_HELLO)
    stdout.flush()
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            os._exit(0)  # the end of the input: nothing to flush, no interpreter teardown
        offset, count = _HEADER.unpack(header)
        items = stdin.read(_ITEM.size * count)
        bodies = []
        for message_id, length in _ITEM.iter_unpack(items):
            bodies.append((message_id, memory[offset : offset + length]))
            offset += length
        answer = pickle.dumps(body_texts(bodies), protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(answer), 0) + answer)
        stdout.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
