"""Parse raw messages into what the store and the reader need; never raises on bad input.

| function             | module          | used by            | does                          |
| -------------------- | --------------- | ------------------ | ----------------------------- |
| ``parse_envelope``   | ``envelope``    | sync, each message | header fields, paperclip, preview |
| ``body_text``        | ``search_text`` | the search index   | the body as plain text        |
| ``parse_message``    | ``parse``       | the reader         | headers, text, links, attachments |
| ``attachment_bytes`` | ``parse``       | save / open one    | the decoded bytes of one part |

Two readers of MIME structure, on purpose: the fast one (``mailtui.mime.parts._scan``)
for what runs for every synced message, ``email``'s (``mailtui.mime.full_tree``) for the
reader and attachments. Both build the same part tree, and the same ``_plan`` picks the
body and the attachments from it.

Every string returned passes through ``clean_line`` or ``clean_text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from mailtui.mime._decode import decode_bytes, get_header, read_header_block
from mailtui.mime.envelope import parse_envelope
from mailtui.mime.full_tree import _full_tree, _part_bytes, _raw_fields
from mailtui.mime.headers import _headers, _one_line, _subject
from mailtui.mime.html import Link, html_links
from mailtui.mime.links import merge_links
from mailtui.mime.parts import _number, _Part, _plan, _where
from mailtui.mime.safe_filename import safe_filename
from mailtui.mime.sanitize import clean_line, clean_text
from mailtui.mime.text import _charset, _decoded_text
from mailtui.models import Envelope

__all__ = [
    "Attachment",
    "ParsedMessage",
    "attachment_bytes",
    "parse_message",
]

MAX_PROBLEMS = 50


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
    of the rendered HTML (numbered ``[n]`` in ``text``), or the URLs of a plain body
    followed by the links of its HTML alternative (``mime.links.merge_links``).
    ``problems`` are human-readable notes about what was malformed or left out.
    """

    envelope: Envelope
    headers: tuple[tuple[str, str], ...] = ()
    text: str = ""
    html: str = ""
    links: tuple[Link, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    problems: tuple[str, ...] = ()


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


def _body_text(
    part: _Part, problems: list[str], render_html: bool = True
) -> tuple[str, list[Link]]:
    """(text, links) of a body part; ``render_html=False`` strips tags instead (fast)."""
    return _decoded_text(part, _part_bytes(part), problems, render_html)


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
            if not any(part is plan.html for part in plan.bodies):
                # The text/plain alternative is shown; the links are often only here.
                links = merge_links(links, html_links(html))
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
