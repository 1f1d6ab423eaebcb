"""Parse raw messages into what the store and the reader need; never raises on bad input.

| function            | used by                   | does                                        |
| ------------------- | ------------------------- | ------------------------------------------- |
| ``parse_envelope``  | sync workers, every message | header fields, has_attachments, preview   |
| ``parse_message``   | the reader                | headers, body text, HTML, links, attachments |
| ``attachment_bytes``| save / open an attachment | the decoded bytes of one part               |

Two readers of MIME structure, on purpose:

- ``parse_envelope`` runs for every synced message, so it avoids ``email``'s line-by-line
  feed parser: it reads header blocks itself (with the same rules as ``email.feedparser``,
  see ``_decode.read_header_block``), finds multipart boundaries with ``bytes.find`` on
  offsets into the one buffer, and decodes only the first few KB of the first text part.
- ``parse_message`` and ``attachment_bytes`` use ``email.parser.BytesParser`` with the
  ``compat32`` policy, which keeps raw header values and never raises on access (the
  ``email.policy.default`` header objects are ~15x slower here and raise on some
  malformed headers). Every header value and parameter is then decoded by
  ``mailtui.mime._decode`` (RFC 2047 words, RFC 2231 parameters, charset fallbacks).

Both feed the same ``_plan`` which decides which parts are the body and which are
attachments, so the list row's paperclip and the reader agree. Parts are numbered in
depth-first order (``part_index``), the numbering ``attachment_bytes`` takes.

Every string returned passes through ``clean_line`` or ``clean_text``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, mktime_tz, parsedate_tz

from mailtui.mime._decode import (
    codec_for,
    decode_bytes,
    decode_words,
    fix_surrogates,
    get_header,
    header_text,
    parse_params,
    read_header_block,
    unfold,
)
from mailtui.mime.html import Link, html_to_text, strip_tags
from mailtui.mime.safe_filename import safe_filename
from mailtui.mime.sanitize import clean_line, clean_text
from mailtui.models import Address, Envelope

__all__ = [
    "Attachment",
    "ParsedMessage",
    "attachment_bytes",
    "body_text",
    "make_preview",
    "parse_envelope",
    "parse_message",
]

PREVIEW_CHARS = 200
MAX_DEPTH = 32  # multipart/message nesting that is followed; deeper parts are not shown
MAX_PARTS = 1000
MAX_SUBJECT = 2000
MAX_NAME = 500
MAX_ADDR = 500
MAX_ADDRESSES = 1000
MAX_ADDRESS_HEADER = 200_000
MAX_ID = 998
MAX_REFERENCES = 100
MAX_HEADERS = 500
MAX_HEADER_VALUE = 8000
MAX_TEXT = 8_000_000
MAX_PROBLEMS = 50
MAX_PLAIN_LINKS = 500
# Nesting beyond which the feed parser is not even tried (it recurses per level, and
# its time grows with the square of the depth).
_GIVE_UP_DEPTH = 64

# How much of a part is decoded for the preview.
_PREVIEW_RAW_BYTES = (6000,)
_PREVIEW_HTML_RAW_BYTES = (12_000, 64_000)
_PREVIEW_SCAN_CHARS = 4000

_YEAR_1 = -62135596800
_YEAR_10000 = 253402300800


@dataclass(frozen=True, slots=True)
class Attachment:
    """A part the reader lists for saving or opening.

    ``filename`` is a safe display/save name (see ``safe_filename``), ``size`` the
    decoded size in bytes, ``part_index`` what ``attachment_bytes`` takes. ``is_inline``
    marks a part embedded in HTML (an image of a multipart/related), which does not count
    for ``Envelope.has_attachments``.
    """

    filename: str
    content_type: str
    size: int
    part_index: int
    is_inline: bool
    content_id: str = ""


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A message as the reader shows it.

    ``text`` is the body to display: the text/plain part(s), else the HTML rendered to
    text (format=flowed already unwrapped). ``html`` is the HTML source if the message has
    one (never loaded or rendered with remote content), else "". ``links`` are the links
    of the rendered HTML (numbered ``[n]`` in ``text``), or the URLs of a plain body.
    ``problems`` are human-readable notes about what was malformed or left out.
    """

    envelope: Envelope
    headers: tuple[tuple[str, str], ...] = ()
    text: str = ""
    html: str = ""
    links: tuple[Link, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    problems: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------
# The part tree, shared by both readers


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


# ---------------------------------------------------------------------------------------
# Header fields -> Envelope fields

_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>]{1,998})>")


def _one_line(s: str, limit: int) -> str:
    return _SPACES.sub(" ", clean_line(s)).strip()[:limit]


def _subject(raw: str | None) -> str:
    return _one_line(header_text(raw[: MAX_SUBJECT * 4]), MAX_SUBJECT) if raw else ""


# The common shapes of an address list, ``Name <a@b>``, ``"Quoted, Name" <a@b>`` and bare
# ``a@b``, read by one regex; anything else (comments, groups, routes, odd quoting) goes to
# ``email.utils.getaddresses``, which gives the same result for these shapes but is ~10x
# slower. A test compares the two.
_SIMPLE_ADDRESS = re.compile(
    r"""\s*(?:(?:"((?:[^"\\\r\n]|\\.)*)"|([^",<>@()\[\]:;\\]*?))\s*<([^<>\s",()\[\]:;\\]*)>"""
    r"""|([^\s<>",()\[\]:;\\]+@[^\s<>",()\[\]:;\\]+))\s*(?:,|\Z)"""
)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def _simple_addresses(value: str) -> list[tuple[str, str]] | None:
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while pos < end:
        m = _SIMPLE_ADDRESS.match(value, pos)
        if m is None or m.end() == pos:
            return None
        quoted, plain, angle, bare = m.groups()
        if bare is not None:
            pairs.append(("", bare))
        elif quoted is not None:
            pairs.append((_QUOTED_PAIR.sub(r"\1", quoted), angle))
        else:
            pairs.append((plain.strip(), angle))
        pos = m.end()
    return pairs


def _addresses(raw: str | None) -> tuple[Address, ...]:
    if not raw:
        return ()
    value = fix_surrogates(unfold(raw[:MAX_ADDRESS_HEADER]))
    pairs = _simple_addresses(value)
    if pairs is None:
        try:
            pairs = getaddresses([value])
        except Exception:  # the address parser on hostile input
            return ()
    out: list[Address] = []
    for name, addr in pairs:
        name = _one_line(decode_words(name), MAX_NAME)
        addr = _one_line(addr, MAX_ADDR)
        if not name and not addr:
            continue
        out.append(Address(name, addr))
        if len(out) >= MAX_ADDRESSES:
            break
    return tuple(out)


def _date(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        parsed = parsedate_tz(unfold(raw)[:200])
        if parsed is None:
            return 0
        if parsed[9] is None:  # no zone: UTC rather than this machine's local time
            parsed = (*parsed[:9], 0)
        ts = int(mktime_tz(parsed))
    except Exception:  # OverflowError, ValueError... on absurd dates
        return 0
    return ts if _YEAR_1 <= ts < _YEAR_10000 else 0


def _ids(raw: str | None, bare: str = "@") -> list[str]:
    """The <ids> in a header; failing those, the bare tokens containing ``bare``."""
    if not raw:
        return []
    value = fix_surrogates(unfold(raw))
    ids = ["<" + _SPACES.sub("", m.group(1)) + ">" for m in _MSGID.finditer(value)]
    if not ids:  # ids written without brackets
        ids = [f"<{token.strip('<>')}>" for token in value.split() if bare in token]
    return [_one_line(i, MAX_ID) for i in ids]


def _first_id(raw: str | None, bare: str = "@") -> str:
    ids = _ids(raw[:4000] if raw else raw, bare)
    return ids[0] if ids else ""


def _references(raw: str | None) -> tuple[str, ...]:
    ids = _ids(raw)
    if len(ids) > MAX_REFERENCES:  # keep the thread root and the nearest ancestors
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return tuple(ids)


_ENVELOPE_FIELDS = frozenset(
    ("subject", "from", "to", "cc", "date", "message-id", "in-reply-to", "references")
)


def _envelope(fields: list[tuple[str, str]], size: int) -> Envelope:
    wanted: dict[str, str] = {}
    for name, value in fields:
        key = name.lower()
        if key in _ENVELOPE_FIELDS:
            wanted.setdefault(key, value)  # the first occurrence, as email's get() does
    return Envelope(
        subject=_subject(wanted.get("subject")),
        from_=_addresses(wanted.get("from")),
        to=_addresses(wanted.get("to")),
        cc=_addresses(wanted.get("cc")),
        date=_date(wanted.get("date")),
        message_id=_first_id(wanted.get("message-id"), bare=""),
        in_reply_to=_first_id(wanted.get("in-reply-to")),
        references=_references(wanted.get("references")),
        size=size,
    )


def make_preview(text: str) -> str:
    """One line of at most ``PREVIEW_CHARS`` from a body: quoted lines skipped (unless
    there is nothing else), spaces collapsed, sanitized."""
    lines = text[:_PREVIEW_SCAN_CHARS].split("\n")
    for skip_quotes in (True, False):
        pieces: list[str] = []
        size = 0
        for line in lines:
            if skip_quotes and line.lstrip().startswith(">"):
                continue
            words = clean_line(line).split()
            if words:
                piece = " ".join(words)
                pieces.append(piece)
                size += len(piece) + 1
                if size > PREVIEW_CHARS:
                    break
        if pieces:
            return " ".join(pieces)[:PREVIEW_CHARS]
    return ""


# ---------------------------------------------------------------------------------------
# parse_envelope: the fast reader


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


def _decode_transfer_prefix(data: bytes, cte: str) -> bytes:
    try:
        if cte == "base64":
            data = data.translate(None, b" \t\r\n")
            return binascii.a2b_base64(data[: len(data) - len(data) % 4])
        if cte == "quoted-printable":
            return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        return b""
    return data


_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def _fast_preview(raw: bytes, plan: _Plan) -> str:
    for part in plan.bodies:
        html = part.ctype == "text/html"
        # HTML is tried on a small prefix first: most of a newsletter is markup, but the
        # first 200 characters of text are usually near the start of <body>.
        limits = _PREVIEW_HTML_RAW_BYTES if html else _PREVIEW_RAW_BYTES
        preview = ""
        for limit in limits:
            end = min(part.body_end, part.body_start + limit)
            data = _decode_transfer_prefix(raw[part.body_start : end], part.cte)
            text, _ = decode_bytes(data, _charset(part, data), final=end == part.body_end)
            if html:
                body = _BODY_TAG.search(text)
                text = strip_tags(text[body.end() :] if body else text)
            preview = make_preview(text)
            if len(preview) >= PREVIEW_CHARS or end == part.body_end:
                break
        if preview:
            return preview
    return ""


def parse_envelope(raw: bytes) -> Envelope:
    """The ``Envelope`` of a raw message (header fields, has_attachments, preview)."""
    try:
        fields, root, _ = _scan(raw)
        envelope = _envelope(fields, len(raw))
        plan = _plan(root)
        envelope.has_attachments = any(not inline for _, inline in plan.attachments)
        envelope.preview = _fast_preview(raw, plan)
        return envelope
    except Exception:  # a bug on hostile input must not stop a sync
        return Envelope(size=len(raw))


def header_envelope(header: bytes) -> Envelope:
    """``parse_envelope`` of a header block alone (IMAP ``BODY[HEADER]``): the same
    fields, without the part tree, preview and attachment scan a body would need."""
    try:
        if b"\r" in header and b"\n" not in header[:4096]:
            header = header.replace(b"\r", b"\n")  # as _scan does
        fields, _ = read_header_block(header)
        return _envelope(fields, len(header))
    except Exception:  # a bug on hostile input must not stop a sync
        return Envelope(size=len(header))


# ---------------------------------------------------------------------------------------
# parse_message: the full reader


_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)


def _charset(part: _Part, data: bytes) -> str | None:
    charset = part.params.get("charset")
    if not charset and part.ctype == "text/html":
        m = _META_CHARSET.search(data[:4096])
        if m:
            return m.group(1).decode("ascii")
    return charset


def _unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed: join soft-broken lines, drop space-stuffing."""
    out: list[str] = []
    current: list[str] | None = None
    current_depth = 0

    def flush() -> None:
        nonlocal current
        if current is not None:
            prefix = ">" * current_depth + " " if current_depth else ""
            out.append(prefix + "".join(current))
            current = None

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if current is not None and depth != current_depth:
            flush()
        if current is None:
            current, current_depth = [], depth
        current.append(content)
        if not flowed:
            flush()
    flush()
    return "\n".join(out)


_URL = re.compile(r"""\b(?:https?|ftp)://[^\s<>"'`]+""", re.IGNORECASE)


def _plain_links(text: str) -> list[Link]:
    links: list[Link] = []
    seen: set[str] = set()
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}'")
        if url not in seen and len(url) <= 2048:
            seen.add(url)
            links.append(Link("", url))
            if len(links) >= MAX_PLAIN_LINKS:
                break
    return links


_DEFECT_TEXT = {
    "NoBoundaryInMultipartDefect": "multipart part without a boundary; shown as plain text",
    "StartBoundaryNotFoundDefect": "multipart boundary never occurs; shown as plain text",
    "CloseBoundaryNotFoundDefect": "multipart has no closing boundary (truncated message?)",
    "FirstHeaderLineIsContinuationDefect": "header starts with a continuation line",
    "MisplacedEnvelopeHeaderDefect": "misplaced 'From ' line in the header",
    "MissingHeaderBodySeparatorDefect": "no blank line between header and body",
    "MultipartInvariantViolationDefect": "multipart type but not made of parts",
    "InvalidMultipartContentTransferEncodingDefect": "multipart with a transfer encoding",
    "InvalidBase64PaddingDefect": "invalid base64 padding",
    "InvalidBase64CharactersDefect": "invalid characters in base64 data",
    "InvalidBase64LengthDefect": "truncated base64 data",
    "UndecodableBytesDefect": "undecodable bytes",
}


def _where(part: _Part) -> str:
    return "message" if part.index == 0 else f"part {part.index}"


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


def _body_text(
    part: _Part, problems: list[str], render_html: bool = True
) -> tuple[str, list[Link]]:
    """(text, links) of a body part; ``render_html=False`` strips tags instead (fast)."""
    return _decoded_text(part, _part_bytes(part), problems, render_html)


def _decoded_text(
    part: _Part, data: bytes, problems: list[str], render_html: bool
) -> tuple[str, list[Link]]:
    """``_body_text`` once the part's transfer encoding is undone (``data``)."""
    charset = _charset(part, data)
    text, as_declared = decode_bytes(data, charset)
    if not as_declared:
        label = clean_line(charset or "")[:40]
        if not label:
            what = "has no charset"
        elif codec_for(charset) is None:
            what = f"has an unknown charset {label!r}"
        else:
            what = f"is not in its declared charset {label!r}"
        problems.append(f"{_where(part)}: 8-bit text {what}; decoded as best as possible")
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
        problems.append(f"{_where(part)}: text over {MAX_TEXT // 1_000_000} MB; cut")
    if part.ctype == "text/html":
        if not render_html:
            return strip_tags(text), []
        rendered = html_to_text(text)
        problems.extend(f"{_where(part)}: {p}" for p in rendered.problems)
        return rendered.text, list(rendered.links)
    if "\r" in text:  # CRLF from a binary transfer, or old Mac line ends: lines all the same
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.params.get("format", "").lower() == "flowed":
        text = _unflow(text, part.params.get("delsp", "").lower() == "yes")
    text = clean_text(text)
    return text, _plain_links(text) if render_html else []


def _attachment(part: _Part, inline: bool) -> Attachment:
    data_len = len(_part_bytes(part))
    name = part.filename
    if not name and part.message is not None and part.ctype in ("message/rfc822", "message/global"):
        inner = part.message.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            subject = _subject(get_header(_raw_fields(inner[0]), "subject"))
            name = f"{subject}.eml" if subject else ""
    return Attachment(
        filename=safe_filename(name, part.index, part.ctype),
        content_type=clean_line(part.ctype)[:200],
        size=data_len,
        part_index=part.index,
        is_inline=inline,
        content_id=_one_line(part.content_id, 500),
    )


def _defects(parts: list[_Part], problems: list[str]) -> None:
    for part in parts:
        if part.message is None:
            continue
        for defect in part.message.defects:
            name = type(defect).__name__
            text = _DEFECT_TEXT.get(name) or clean_line(str(defect))[:200] or name
            problems.append(f"{_where(part)}: {text}")


def _headers(fields: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (
            _one_line(name, 200),
            _one_line(header_text(value[: MAX_HEADER_VALUE * 4]), MAX_HEADER_VALUE),
        )
        for name, value in fields[:MAX_HEADERS]
    )


def _dedupe(problems: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for p in problems:
        seen.setdefault(clean_line(p), None)
    return tuple(seen)[:MAX_PROBLEMS]


def _undecoded(raw: bytes, envelope: Envelope, problems: list[str]) -> ParsedMessage:
    fields, body_start = read_header_block(raw)
    body, _ = decode_bytes(raw[body_start : body_start + 256_000], None, final=False)
    return ParsedMessage(
        envelope=envelope,
        headers=_headers(fields),
        text=clean_text(body),
        problems=_dedupe(problems),
    )


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse a whole message for the reader; never raises."""
    envelope = parse_envelope(raw)
    problems: list[str] = []
    try:
        msg, root = _full_tree(raw, problems)
        if msg is None or root is None:
            return _undecoded(raw, envelope, problems)
        parts = _number(root)
        plan = _plan(root)
        texts: list[str] = []
        links: list[Link] = []
        for part in plan.bodies:
            text, part_links = _body_text(part, problems)
            if text.strip():
                texts.append(text)
            links.extend(part_links)
        html = ""
        if plan.html is not None:
            data = _part_bytes(plan.html)
            html = clean_text(decode_bytes(data, _charset(plan.html, data))[0])
        attachments = [_attachment(part, inline) for part, inline in plan.attachments]
        _defects(parts, problems)
        return ParsedMessage(
            envelope=envelope,
            headers=_headers(_raw_fields(msg)),
            text="\n\n".join(texts),
            html=html,
            links=tuple(links),
            attachments=tuple(attachments),
            problems=_dedupe(problems),
        )
    except Exception as exc:  # the last line of defence: show what can be shown
        problems.append(f"could not parse the message ({type(exc).__name__}); shown undecoded")
        return _undecoded(raw, envelope, problems)


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


def attachment_bytes(raw: bytes, part_index: int) -> bytes:
    """The decoded content of part ``part_index`` (an ``Attachment.part_index``).

    An attached message (message/rfc822) comes back as the bytes of that message.
    Raises ``IndexError`` if ``part_index`` is not a leaf part of ``raw``; malformed
    content never raises (undecodable base64 yields what could be decoded).
    """
    problems: list[str] = []
    try:
        msg, root = _full_tree(raw, problems)
    except Exception:
        root = None
    if root is not None:
        for part in _number(root):
            if part.index == part_index and not part.is_container:
                try:
                    return _part_bytes(part)
                except Exception:
                    return b""
    raise IndexError(f"message has no part {part_index}")
