"""The MIME part tree: what a part is, which parts are the body and which attachments,
and the fast reader of the structure (no ``email``).

``parse_envelope`` and ``body_text`` run for every synced message, so they avoid
``email``'s line-by-line feed parser: ``_scan`` reads header blocks itself (with the same
rules as ``email.feedparser``, see ``_decode.read_header_block``), and finds multipart
boundaries with ``bytes.find`` on offsets into the one buffer. The reader
(``mailtui.mime.full_tree``) builds the same ``_Part`` tree with ``email``.

Both feed the same ``_plan`` which decides which parts are the body and which are
attachments, so the list row's paperclip and the reader agree. Parts are numbered in
depth-first order (``part_index``), the numbering ``attachment_bytes`` takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mailtui.mime._decode import decode_words, parse_params, read_header_block, unfold

if TYPE_CHECKING:
    from email.message import Message


MAX_DEPTH = 32  # multipart/message nesting that is followed; deeper parts are not shown
MAX_PARTS = 1000

# Nesting beyond which the feed parser is not even tried (it recurses per level, and
# its time grows with the square of the depth).
_GIVE_UP_DEPTH = 64


@dataclass(slots=True, eq=False)
class _Part:
    ctype: str
    params: dict[str, str]
    disposition: str
    disposition_params: dict[str, str]
    cte: str
    content_id: str
    depth: int
    index: int = -1
    children: list[_Part] = field(default_factory=list)
    message: Message | None = None  # parse_message: the email part
    body_start: int = 0  # parse_envelope: the (still transfer-encoded) body in raw
    body_end: int = 0
    raw_type: str | None = None  # the Content-Type value as written

    @property
    def filename(self) -> str:
        name = self.disposition_params.get("filename") or self.params.get("name") or ""
        return decode_words(name)  # RFC 2047 in a parameter: wrong, but what Outlook sends

    @property
    def is_container(self) -> bool:
        return self.ctype.startswith("multipart/")


_PART_FIELDS = frozenset(
    ("content-type", "content-disposition", "content-transfer-encoding", "content-id")
)


def _part_fields(fields: list[tuple[str, str]]) -> dict[str, str]:
    """The first value of each of ``_PART_FIELDS`` (what ``get_header`` returns), in one
    pass: a part has a dozen fields, and four look-ups lowercased each name four times."""
    found: dict[str, str] = {}
    for name, value in fields:
        if name[:1] in "cC":
            lname = name.lower()
            if lname in _PART_FIELDS and lname not in found:
                found[lname] = value
    return found


def _describe(fields: list[tuple[str, str]], default_ctype: str, depth: int) -> _Part:
    wanted = _part_fields(fields)
    raw_type = wanted.get("content-type")
    if raw_type is None:
        ctype, params = default_ctype, dict[str, str]()
    else:
        ctype, params = parse_params(raw_type)
        if ctype.count("/") != 1:
            ctype = "text/plain"  # what email does with an invalid type
    raw_disposition = wanted.get("content-disposition")
    disposition, disposition_params = "", dict[str, str]()
    if raw_disposition is not None:
        disposition, disposition_params = parse_params(raw_disposition)
    cte = wanted.get("content-transfer-encoding", "").strip().lower()
    content_id = unfold(wanted.get("content-id", "")).strip().strip("<>")
    part = _Part(ctype, params, disposition, disposition_params, cte, content_id, depth)
    part.raw_type = raw_type
    return part


def _child_default(parent: _Part) -> str:
    return "message/rfc822" if parent.ctype == "multipart/digest" else "text/plain"


def _number(root: _Part) -> list[_Part]:
    """Assign depth-first indices; return the parts in that order."""
    order: list[_Part] = []
    stack = [root]
    while stack:
        part = stack.pop()
        part.index = len(order)
        order.append(part)
        stack.extend(reversed(part.children))
    return order


@dataclass(slots=True)
class _Plan:
    bodies: list[_Part] = field(default_factory=list)
    html: _Part | None = None
    attachments: list[tuple[_Part, bool]] = field(default_factory=list)  # (part, inline)


_TEXT_TYPES = ("text/plain", "text/html")


def _is_attached(part: _Part) -> bool:
    if part.disposition == "attachment":
        return True
    return part.disposition != "inline" and bool(part.filename)


def _best_alternative(parts: list[_Part]) -> _Part:
    """text/plain wins in a terminal; then a nested multipart; then HTML; then the last."""
    for wanted in ("text/plain", "multipart/", "text/html"):
        for part in parts:
            if part.ctype.startswith(wanted) and not _is_attached(part):
                return part
    return parts[-1]


def _plan(root: _Part) -> _Plan:
    """Decide which parts are shown as the body and which are attachments.

    ``shown`` is False inside alternatives that lost to a better one; ``embedded`` is
    True for the non-root members of a multipart/related (images the HTML refers to).
    """
    plan = _Plan()
    stack: list[tuple[_Part, bool, bool]] = [(root, True, False)]
    while stack:
        part, shown, embedded = stack.pop()
        if part.is_container:
            kids = part.children
            if not kids:
                continue  # beyond the nesting limit, or empty
            subtype = part.ctype[len("multipart/") :]
            best = _best_alternative(kids) if subtype == "alternative" else None
            entries = []
            for i, kid in enumerate(kids):
                kid_shown = shown and (best is None or kid is best)
                kid_embedded = embedded or (subtype == "related" and i > 0)
                entries.append((kid, kid_shown, kid_embedded))
            stack.extend(reversed(entries))
            continue
        if part.ctype in _TEXT_TYPES and not embedded and not _is_attached(part):
            if shown:
                plan.bodies.append(part)
            if part.ctype == "text/html" and plan.html is None:
                plan.html = part
            continue
        plan.attachments.append((part, embedded and part.disposition != "attachment"))
    return plan


def _where(part: _Part) -> str:
    return "message" if part.index == 0 else f"part {part.index}"


# A CR not followed by LF ends a line for ``email.feedparser`` but not for the fast reader.
_LONE_CR = re.compile(rb"\r(?!\n)")


class _LoneCR(Exception):
    """A lone CR where the two readers could see lines differently (``_scan`` strict)."""


def _has_lone_cr(raw: bytes, start: int, end: int) -> bool:
    """Whether ``raw[start:end]`` has a CR not followed by LF."""
    found = _LONE_CR.search(raw, start, min(end + 1, len(raw)))  # + 1: the LF after end
    return found is not None and found.start() < end


def _check_cr(raw: bytes, start: int, end: int) -> None:
    if _has_lone_cr(raw, start, end):
        raise _LoneCR


def _find_delimiters(
    raw: bytes, start: int, end: int, boundary: bytes, strict: bool = False
) -> list[tuple[int, int]]:
    """Body ranges of a multipart between ``start`` and ``end``; [] if no delimiter.

    A delimiter is a line ``--boundary`` (optionally ``--boundary--``) followed by
    nothing but blanks, as ``email.feedparser`` requires. A missing close delimiter ends
    the last part at ``end``. ``strict``: raise ``_LoneCR`` at a lone CR just before
    ``--boundary`` or on its line, where ``email`` could see a delimiter this does not.
    """
    delim = b"--" + boundary
    parts: list[tuple[int, int]] = []
    part_start = -1
    pos = start
    while len(parts) < MAX_PARTS:
        i = raw.find(delim, pos, end)
        if i < 0:
            break
        pos = i + 1
        if i > start and raw[i - 1] != 0x0A:
            if strict and raw[i - 1] == 0x0D:  # "\r--boundary": a line start for email
                raise _LoneCR
            continue
        j = i + len(delim)
        closing = raw.startswith(b"--", j, end)
        k = j + 2 if closing else j
        eol = raw.find(b"\n", k, end)
        line_end = end if eol < 0 else eol
        if strict:
            _check_cr(raw, j, line_end)
        if raw[k:line_end].strip(b" \t\r"):
            continue  # a longer boundary, or text that merely starts like one
        if part_start >= 0:
            stop = i - 1 if i > start else i
            if stop > part_start and raw[stop - 1] == 0x0D:
                stop -= 1
            parts.append((part_start, max(part_start, stop)))
        if closing:
            return parts
        part_start = min(end, line_end + 1)
        pos = part_start
    if part_start >= 0 and len(parts) < MAX_PARTS:
        parts.append((part_start, end))
    return parts


def _scan(
    raw: bytes, descend_messages: bool = False, strict: bool = False
) -> tuple[list[tuple[str, str]], _Part, int]:
    """Header fields, part tree and deepest nesting reached, without ``email``.

    ``strict`` (``body_text``): raise ``_LoneCR`` at a lone CR in a header block or a
    delimiter line, the places where it could make ``email`` see another structure; a
    lone CR elsewhere in an attachment changes nothing of the text.
    """
    if b"\r" in raw and b"\n" not in raw[:4096]:
        if strict:
            raise _LoneCR
        # Bare CR line ends (classic Mac), which email also accepts; same length, so
        # offsets into the buffer still hold.
        raw = raw.replace(b"\r", b"\n")
    fields, body_start = read_header_block(raw)
    if strict:
        _check_cr(raw, 0, body_start)
    root = _describe(fields, "text/plain", 0)
    root.body_start, root.body_end = body_start, len(raw)
    deepest = 0
    count = 1
    stack = [root]
    while stack and count < MAX_PARTS:
        part = stack.pop()
        deepest = max(deepest, part.depth)
        message_like = part.ctype in ("message/rfc822", "message/global")
        if not (part.is_container or (descend_messages and message_like)):
            continue
        if part.depth >= (_GIVE_UP_DEPTH if descend_messages else MAX_DEPTH):
            continue
        if message_like:
            sub_fields, sub_start = read_header_block(raw, part.body_start, part.body_end)
            if strict:
                _check_cr(raw, part.body_start, sub_start)
            child = _describe(sub_fields, "text/plain", part.depth + 1)
            child.body_start, child.body_end = sub_start, part.body_end
            part.children.append(child)
            stack.append(child)
            count += 1
            continue
        boundary = part.params.get("boundary", "").rstrip()
        ranges = []
        if boundary:
            encoded = boundary.encode("utf-8", "surrogateescape")
            ranges = _find_delimiters(raw, part.body_start, part.body_end, encoded, strict)
        if not ranges:
            part.ctype = "text/plain"  # as email does: no boundary, no parts -> text
            continue
        for start, end in ranges:
            sub_fields, sub_start = read_header_block(raw, start, end)
            if strict:
                _check_cr(raw, start, sub_start)
            child = _describe(sub_fields, _child_default(part), part.depth + 1)
            child.body_start, child.body_end = sub_start, end
            part.children.append(child)
        count += len(part.children)
        stack.extend(reversed(part.children))
    return fields, root, deepest
