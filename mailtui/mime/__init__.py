"""MIME: pure functions over raw messages; no I/O, and nothing raises on malformed input.

Every string these functions return is decoded and sanitized for a terminal.
"""

from mailtui.mime.html import Link, RenderedHtml, html_to_text, strip_tags
from mailtui.mime.parse import (
    Attachment,
    ParsedMessage,
    attachment_bytes,
    body_text,
    header_envelope,
    make_preview,
    parse_envelope,
    parse_message,
)
from mailtui.mime.safe_filename import safe_filename
from mailtui.mime.sanitize import clean_line, clean_text, escape_markup
from mailtui.mime.threading import normalize_subject

__all__ = [
    "Attachment",
    "Link",
    "ParsedMessage",
    "RenderedHtml",
    "attachment_bytes",
    "body_text",
    "clean_line",
    "clean_text",
    "escape_markup",
    "html_to_text",
    "make_preview",
    "normalize_subject",
    "header_envelope",
    "parse_envelope",
    "parse_message",
    "safe_filename",
    "strip_tags",
]
