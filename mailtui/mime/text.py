"""The text of one body part: charset, format=flowed, HTML rendered or stripped, links."""

from __future__ import annotations

import re

from mailtui.mime._decode import codec_for, decode_bytes
from mailtui.mime.html import Link, html_to_text, strip_tags
from mailtui.mime.parts import _Part, _where
from mailtui.mime.sanitize import clean_line, clean_text

MAX_TEXT = 8_000_000

MAX_PLAIN_LINKS = 500


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
