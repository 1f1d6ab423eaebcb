"""``body_text``: the body as plain text for the search index, for every synced body."""

from __future__ import annotations

import base64
import binascii
import re
from email.message import Message

from mailtui.mime._decode import parse_params
from mailtui.mime.full_tree import _full_tree
from mailtui.mime.parse import _body_text, _undecoded
from mailtui.mime.parts import (
    MAX_DEPTH,
    MAX_PARTS,
    _has_lone_cr,
    _LoneCR,
    _number,
    _Part,
    _plan,
    _scan,
)
from mailtui.mime.text import _decoded_text
from mailtui.models import Envelope


def body_text(raw: bytes) -> str:
    """The body as plain text for the search index; never raises.

    The same parts as ``parse_message(raw).text``, but HTML is tag-stripped rather than
    laid out (much faster, and without link numbers) and attachments are not decoded.

    Runs for every synced body, so it reads the part tree with ``_scan`` (as
    ``parse_envelope`` does) and decodes only the text parts; the few messages the fast
    reader does not handle exactly like ``email`` (a lone CR, nesting or part
    counts at the limits, an unusual transfer encoding) go through ``email``
    (``_slow_body_text``). Tests compare the two.
    """
    try:
        text = _fast_body_text(raw)
    except Exception:  # a bug on hostile input: the full parser decides
        text = None
    return _slow_body_text(raw) if text is None else text


# Transfer encodings the fast reader undoes exactly as ``Message.get_payload(decode=True)``.
_FAST_CTES = frozenset(("", "7bit", "8bit", "binary", "base64", "quoted-printable"))


def _fast_body_text(raw: bytes) -> str | None:
    """``body_text`` without ``email``; None when the message needs the full parser."""
    # A lone CR ends a line for email, not for read_header_block: where it matters
    # (header blocks, delimiter lines, the text parts) the message goes to email. Not
    # a scan of every byte: most of a big message is an attachment, where it does not.
    try:
        _, root, deepest = _scan(raw, descend_messages=True, strict=True)
    except _LoneCR:
        return None
    parts = _number(root)
    if deepest >= MAX_DEPTH or len(parts) >= MAX_PARTS - 1:
        return None  # where the two readers' limits differ
    if not all(_same_structure_as_email(part) for part in parts):
        return None
    bodies = _plan(root).bodies
    if any(part.cte not in _FAST_CTES for part in bodies):
        return None
    problems: list[str] = []
    texts = []
    for part in bodies:
        if _has_lone_cr(raw, part.body_start, part.body_end):
            return None
        end = part.body_end
        if part.depth and end == len(raw):
            # The last part of a multipart cut off before its close delimiter: email
            # drops one line end there too.
            end -= 2 if raw.endswith(b"\r\n") else 1 if raw.endswith(b"\n") else 0
            end = max(end, part.body_start)
        data = _undo_transfer(raw[part.body_start : end], part.cte)
        texts.append(_decoded_text(part, data, problems, render_html=False)[0])
    return "\n\n".join(t for t in texts if t.strip())


# A Content-Type both parsers read alike: type/subtype and plain or simply quoted
# parameters. Anything else is checked against email's own reading.
_SIMPLE_TYPE = re.compile(
    r"\s*[A-Za-z0-9!#$&.+^_`{|}~-]+/[A-Za-z0-9!#$&.+^_`{|}~-]+"
    r'(?:\s*;\s*[A-Za-z0-9_.-]+=(?:"[^"\\\r\n]*"|[^\s;"\\]+))*\s*;?\s*'
)


def _same_structure_as_email(part: _Part) -> bool:
    """Whether ``email`` sees the same type and boundary in this part's Content-Type
    (lenient parameter parsing differs on broken quoting, for one)."""
    if part.raw_type is None:
        return True
    if part.ctype == "text/plain" and "multipart/" in part.raw_type.lower():
        return False  # a multipart without delimiters: email keeps other text of it
    if _SIMPLE_TYPE.fullmatch(part.raw_type):
        return True
    msg = Message()
    msg["Content-Type"] = part.raw_type
    ctype, params = parse_params(part.raw_type)
    if ctype.count("/") != 1:
        ctype = "text/plain"
    return (
        msg.get_content_type() == ctype
        and (msg.get_boundary() or "") == params.get("boundary", "").rstrip()
    )


def _undo_transfer(data: bytes, cte: str) -> bytes:
    """What ``Message.get_payload(decode=True)`` (compat32) returns for these bytes."""
    if cte == "quoted-printable":
        return binascii.a2b_qp(data)
    if cte != "base64":
        return data
    # email._encoded_words.decode_b, step by step: padded and strict, then lenient,
    # then with extra padding, else the encoded bytes as they are.
    data = b"".join(data.splitlines())
    missing = len(data) % 4
    attempts = (
        (data + b"==="[: 4 - missing] if missing else data, True),
        (data, False),
        (data + b"==", False),
    )
    for encoded, validate in attempts:
        try:
            return base64.b64decode(encoded, validate=validate)
        except binascii.Error:
            continue
    return data


def _slow_body_text(raw: bytes) -> str:
    """``body_text`` with the ``email`` parser (what ``parse_message`` uses)."""
    problems: list[str] = []
    try:
        msg, root = _full_tree(raw, problems)
        if root is None:
            return _undecoded(raw, Envelope(), problems).text
        _number(root)
        texts = [_body_text(part, problems, render_html=False)[0] for part in _plan(root).bodies]
        return "\n\n".join(t for t in texts if t.strip())
    except Exception:
        return ""
