"""MIME: pure functions over raw messages; no I/O, and nothing raises on malformed input.

Every string these functions return is decoded and sanitized for a terminal.

The names of ``parse``, ``envelope``, ``search_text`` and ``html`` load their module on
first use (PEP 562): they pull in the ``email`` package, which a no-change sync never
needs, and that sync's whole run is measured against mbsync's (docs/decisions.md, "IMAP:
resync start-up"). The small modules are imported here: ``safe_filename`` is also the
name of its module, which importing the submodule later would otherwise bind in its place.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mailtui.mime.safe_filename import safe_filename
from mailtui.mime.sanitize import clean_line, clean_text, escape_markup
from mailtui.mime.threading import normalize_subject

if TYPE_CHECKING:
    from mailtui.mime.envelope import header_envelope, make_preview, parse_envelope
    from mailtui.mime.html import Link, RenderedHtml, html_to_text, strip_tags
    from mailtui.mime.parse import Attachment, ParsedMessage, attachment_bytes, parse_message
    from mailtui.mime.search_text import body_text

_HOME: dict[str, str] = {
    **dict.fromkeys(("Link", "RenderedHtml", "html_to_text", "strip_tags"), "html"),
    **dict.fromkeys(("Attachment", "ParsedMessage", "attachment_bytes", "parse_message"), "parse"),
    **dict.fromkeys(("header_envelope", "make_preview", "parse_envelope"), "envelope"),
    "body_text": "search_text",
}

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
    "header_envelope",
    "html_to_text",
    "make_preview",
    "normalize_subject",
    "parse_envelope",
    "parse_message",
    "safe_filename",
    "strip_tags",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
