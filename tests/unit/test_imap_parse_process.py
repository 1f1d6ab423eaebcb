"""A first pass's header batches parsed by a child process (``imap/parse_process.py``,
``imap/parse_child.py``): the messages are those the parse thread makes, answers that
are not IMAP fail the same way, and a child that is not there, not ready or gone leaves
the batch to the thread. The child is the real ``python -m`` process."""

from __future__ import annotations

import marshal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mailtui.models import Envelope
from mailtui.protocols.imap import parse_process
from mailtui.protocols.imap.framing import fetch_items
from mailtui.protocols.imap.messages import RAW_ANSWER, parse_batch
from mailtui.protocols.imap.parse_child import FAILED, NOT_IMAP, OK, REPLY, REQUEST, answer
from mailtui.protocols.imap.parse_process import ParseProcess
from mailtui.protocols.imap.wire import ProtocolError

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = (
    b'* 1 FETCH (UID 1 FLAGS () INTERNALDATE "x" RFC822.SIZE 1 BODY[HEADER] {2}\r\nab'
    b")) (\r\n"
)


def generated(n: int) -> list[dict[str, Any]]:
    """bench/mailgen.py's messages as a first pass's raw header answers, newest first."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import envelope_parse
        import mailgen
    finally:
        sys.path.remove(str(ROOT / "bench"))
    fetched = []
    for i, raw in enumerate(mailgen.messages(n)):
        body = b"* %d FETCH " % (i + 1) + b"".join(envelope_parse.answer(i + 1, raw))
        fetched.append({"UID": str(i + 1), RAW_ANSWER: body})
    return fetched[::-1]


def request(validity: int, fetched: list[dict[str, Any]]) -> bytes:
    raws = [d[RAW_ANSWER] for d in fetched]
    uids = " ".join(d["UID"] for d in fetched).encode()
    return answer(
        REQUEST.pack(validity, len(raws), len(uids), sum(map(len, raws))),
        [len(r) for r in raws],
        uids,
        b"".join(raws),
    )


def same(got: list[Any], want: list[Any]) -> None:
    assert got == want
    assert [m.prepared for m in got] == [m.prepared for m in want]
    assert all(type(m.envelope) is Envelope for m in got)


def test_the_child_gives_the_messages_the_thread_makes() -> None:
    fetched = generated(300)
    reply = request(7, fetched)
    status, size = REPLY.unpack(reply[: REPLY.size])
    assert status == OK and size == len(reply) - REPLY.size
    made = ParseProcess.__new__(ParseProcess)
    made._addresses, made._flags = {}, {}
    got = made._messages(marshal.loads(reply[REPLY.size :]))
    same(got, parse_batch(7, fetched))
    assert {m.remote_id for m in got} == {f"7:{i}" for i in range(1, 301)}


def test_answers_that_are_not_imap_say_why() -> None:
    reply = request(7, [{"UID": "1", RAW_ANSWER: HOSTILE}])
    status, _ = REPLY.unpack(reply[: REPLY.size])
    assert status == NOT_IMAP
    with pytest.raises(ProtocolError) as thread:
        parse_batch(7, [{"UID": "1", RAW_ANSWER: HOSTILE}])
    assert reply[REPLY.size :].decode() == str(thread.value)


def test_a_failure_of_the_child_itself_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(validity: int, fetched: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr("mailtui.protocols.imap.parse_child.parse_batch", broken)
    reply = request(7, generated(3))
    assert REPLY.unpack(reply[: REPLY.size])[0] == FAILED
    assert reply[REPLY.size :] == b"KeyError"


def started() -> ParseProcess:
    child = ParseProcess.start(parse_process.MIN_MESSAGES)
    assert child is not None
    deadline = time.monotonic() + 30
    while not child._hello():  # the parse thread does not wait for it: the test does
        assert time.monotonic() < deadline, "the child did not say hello"
        time.sleep(0.01)
    return child


def test_a_running_child_parses_big_batches() -> None:
    child = started()
    try:
        fetched = generated(parse_process.MIN_BATCH + 5)
        for _ in range(2):  # one request after another on the same child
            got = child.parse(3, fetched)
            assert got is not None
            same(got, parse_batch(3, fetched))
        assert child.parse(3, fetched[: parse_process.MIN_BATCH - 1]) is None  # small
        # Answers read one by one come parsed: done here, put back in their places.
        mixed = [fetch_items(d[RAW_ANSWER]) if i % 300 == 7 else d for i, d in enumerate(fetched)]
        assert sum(RAW_ANSWER not in d for d in mixed) == 4
        got = child.parse(3, mixed)
        assert got is not None
        same(got, parse_batch(3, mixed))
        same(got, parse_batch(3, fetched))
        bad = [*fetched[1:], {"UID": "1", RAW_ANSWER: HOSTILE}]
        with pytest.raises(ProtocolError):
            child.parse(3, bad)
        assert child.parse(3, fetched) is not None  # still there after that batch
    finally:
        child.stop()
    assert child._proc.returncode == 0
    assert child.parse(3, generated(parse_process.MIN_BATCH)) is None  # stopped


def test_a_child_gone_leaves_the_batches_to_the_thread() -> None:
    child = started()
    child._proc.kill()
    child._proc.wait()
    fetched = generated(parse_process.MIN_BATCH)
    assert child.parse(3, fetched) is None
    assert child._dead
    child.stop()


def test_a_child_gone_before_its_hello_leaves_the_batches_to_the_thread() -> None:
    child = ParseProcess.start(parse_process.MIN_MESSAGES)
    assert child is not None
    child._proc.kill()
    child._proc.wait()
    assert child.parse(3, generated(parse_process.MIN_BATCH)) is None
    assert child._dead
    child.stop()


def test_a_child_whose_parent_is_gone_ends() -> None:
    """The parent's end closes the child's stdin (here closed by hand): it exits."""
    child = started()
    assert child._proc.stdin is not None
    child._proc.stdin.close()
    assert child._proc.wait(30) == 0


def test_no_child_for_a_small_folder_or_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ParseProcess.start(parse_process.MIN_MESSAGES - 1) is None
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert ParseProcess.start(parse_process.MIN_MESSAGES) is None
