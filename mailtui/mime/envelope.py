"""``parse_envelope``: the list row of every synced message, from the fast reader of the
structure (``mailtui.mime.parts._scan``); it decodes only the first few KB of the first
text part, for the preview."""

from __future__ import annotations

import binascii
import re

from mailtui.mime._decode import decode_bytes, read_header_block
from mailtui.mime.headers import _envelope
from mailtui.mime.html import strip_tags
from mailtui.mime.lean import lean_envelope
from mailtui.mime.parts import _Plan, _plan, _scan
from mailtui.mime.sanitize import clean_line
from mailtui.mime.text import _charset
from mailtui.models import Envelope

PREVIEW_CHARS = 200

# How much of a part is decoded for the preview.
_PREVIEW_RAW_BYTES = (6000,)
_PREVIEW_HTML_RAW_BYTES = (12_000, 64_000)
_PREVIEW_SCAN_CHARS = 4000


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
        else:
            # The common shape in a few passes (``mime.lean``), the same envelope.
            lean = lean_envelope(header.decode("ascii", "surrogateescape"))
            if lean is not None:
                lean.size = len(header)
                return lean
        fields, _ = read_header_block(header)
        return _envelope(fields, len(header))
    except Exception:  # a bug on hostile input must not stop a sync
        return Envelope(size=len(header))
