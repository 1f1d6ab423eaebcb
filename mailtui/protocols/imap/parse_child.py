"""The child of ``parse_process``: a first pass's header answers in, the messages out.

``python -m mailtui.protocols.imap.parse_child`` says hello, then answers requests on
its stdin until that ends. It imports only the parse (no asyncio, no UI): the smaller
the child, the less memory the pass takes.

Wire format, both ways little-endian: a request is ``REQUEST`` (UIDVALIDITY, number of
answers, bytes of UIDs, bytes of answers), the answers' lengths (``I`` each), the UIDs
as ASCII separated by spaces, the answers; a reply is ``REPLY`` (status, length) and that
many bytes: ``marshal`` of the messages (``OK``: ``flat`` each), the ``ProtocolError``'s
text (``NOT_IMAP``), or the failure's name (``FAILED``).
"""

from __future__ import annotations

import marshal
import signal
import struct
import sys
from array import array
from collections.abc import Sequence
from typing import IO, Any, Final

from mailtui.models import NewMessage
from mailtui.models.envelope_values import prepared
from mailtui.protocols.imap.messages import RAW_ANSWER, parse_batch
from mailtui.protocols.imap.wire import ProtocolError

HELLO: Final = b"mailtui-envelopes 1\n"
REQUEST: Final = struct.Struct("<qIQQ")
REPLY: Final = struct.Struct("<BQ")
OK, NOT_IMAP, FAILED = 0, 1, 2

#: One message as the child sends it (``flat``).
Flat = tuple[Any, ...]


def flat(m: NewMessage) -> Flat:
    """``m`` as plain data ``marshal`` carries: what ``ParseProcess`` makes it from."""
    env, p = m.envelope, prepared(m)  # made by parse_batch
    return (
        m.remote_id,
        int(m.flags),
        env.subject,
        tuple((a.name, a.addr) for a in env.from_),
        tuple((a.name, a.addr) for a in env.to),
        tuple((a.name, a.addr) for a in env.cc),
        env.date,
        env.message_id,
        env.in_reply_to,
        env.references,
        env.size,
        env.has_attachments,
        env.preview,
        p.candidates,
        p.subject_key,
        p.row,
    )


def answer(request: bytes, lengths: Sequence[int], uids: bytes, answers: bytes) -> bytes:
    """The reply to one request (the child's whole work, a pure function)."""
    validity = REQUEST.unpack(request)[0]
    fetched: list[dict[str, Any]] = []
    pos = 0
    for uid, size in zip(uids.decode("ascii").split(" "), lengths, strict=True):
        fetched.append({"UID": uid, RAW_ANSWER: answers[pos : pos + size]})
        pos += size
    try:
        payload = marshal.dumps([flat(m) for m in parse_batch(validity, fetched)])
        status = OK
    except ProtocolError as exc:
        payload, status = str(exc).encode("utf-8", "replace"), NOT_IMAP
    except Exception as exc:  # a bug: the parent parses the batch itself
        payload, status = type(exc).__name__.encode(), FAILED
    return REPLY.pack(status, len(payload)) + payload


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    """Answer requests from ``inp`` on ``out`` until ``inp`` ends."""
    out.write(HELLO)
    out.flush()
    while True:
        head = inp.read(REQUEST.size)
        if len(head) < REQUEST.size:
            return
        _, count, uid_bytes, answer_bytes = REQUEST.unpack(head)
        lengths = array("I")
        lengths.frombytes(inp.read(4 * count))
        uids = inp.read(uid_bytes)
        answers = inp.read(answer_bytes)
        if len(lengths) != count or len(uids) != uid_bytes or len(answers) != answer_bytes:
            return
        out.write(answer(head, lengths, uids, answers))
        out.flush()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is for the parent, which ends us
    serve(sys.stdin.buffer, sys.stdout.buffer)
