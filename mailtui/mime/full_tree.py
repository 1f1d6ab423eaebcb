"""The part tree read with ``email.parser.BytesParser`` (the reader, attachments).

It uses the ``compat32`` policy, which keeps raw header values and never raises on access
(the ``email.policy.default`` header objects are ~15x slower here and raise on some
malformed headers). Every header value and parameter is then decoded by
``mailtui.mime._decode`` (RFC 2047 words, RFC 2231 parameters, charset fallbacks).
"""

from __future__ import annotations

from email import policy
from email.message import Message
from email.parser import BytesParser

from mailtui.mime.parts import (
    _GIVE_UP_DEPTH,
    MAX_DEPTH,
    MAX_PARTS,
    _child_default,
    _describe,
    _Part,
    _scan,
)


def _tree_from_message(msg: Message, problems: list[str]) -> _Part:
    root = _describe(_raw_fields(msg), "text/plain", 0)
    root.message = msg
    count = 1
    stack = [root]
    while stack:
        part = stack.pop()
        if not part.is_container:
            continue
        assert part.message is not None
        payload = part.message.get_payload()
        if not isinstance(payload, list) or not part.message.is_multipart():
            part.ctype = "text/plain"  # no boundary found: email kept the body as text
            continue
        if part.depth >= MAX_DEPTH:
            problems.append(f"parts nested deeper than {MAX_DEPTH} levels are not shown")
            continue
        for sub in payload:
            if count >= MAX_PARTS:
                problems.append(f"only the first {MAX_PARTS} parts are shown")
                break
            if not isinstance(sub, Message):
                continue
            child = _describe(_raw_fields(sub), _child_default(part), part.depth + 1)
            child.message = sub
            part.children.append(child)
            count += 1
        stack.extend(reversed(part.children))
    return root


def _raw_fields(msg: Message) -> list[tuple[str, str]]:
    return [
        (str(name), value if isinstance(value, str) else str(value))
        for name, value in msg.raw_items()
    ]


def _message_bytes(part: _Part) -> bytes | None:
    """The bytes of an attached message (message/rfc822), or None if not one."""
    assert part.message is not None
    # is_multipart(), not get_payload(): that one decodes an 8-bit payload with the part's
    # charset parameter, and raised on a NUL in it ("embedded null character").
    if not part.message.is_multipart():
        return None
    payload = part.message.get_payload()
    assert isinstance(payload, list)
    inner = payload[0] if payload and isinstance(payload[0], Message) else None
    if inner is None:
        return b""
    try:
        return inner.as_bytes(policy=policy.compat32)
    except Exception:  # the generator on a hostile inner message
        return b""


def _part_bytes(part: _Part) -> bytes:
    inner = _message_bytes(part)
    if inner is not None:
        return inner
    assert part.message is not None
    data = part.message.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _full_tree(raw: bytes, problems: list[str]) -> tuple[Message | None, _Part | None]:
    """Parse with ``email``; (None, None) if the structure is too deep to try."""
    _, _, deepest = _scan(raw, descend_messages=True)
    if deepest >= _GIVE_UP_DEPTH:
        problems.append(
            f"MIME structure nested more than {_GIVE_UP_DEPTH} levels deep; shown undecoded"
        )
        return None, None
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    except RecursionError:
        problems.append("MIME structure nested too deeply; shown undecoded")
        return None, None
    return msg, _tree_from_message(msg, problems)
