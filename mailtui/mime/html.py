"""HTML mail to plain text, without ever touching the network.

``html_to_text`` lays HTML out as text with inscriptis (tables, lists, paragraphs) on a
tree built by lxml with ``no_network=True``; nothing fetches anything: images, style
sheets, frames and DTDs are never loaded, only read as markup. ``<script>``, ``<style>``
and ``<template>`` elements are dropped before layout. Each link gets a number
(``Read more [1]``) and ``RenderedHtml.links`` lists them so the reader can show targets.

The direction an element states with ``dir="rtl"`` or ``dir="ltr"`` (inherited by what
it holds) survives the layout as a mark at the start of each of its paragraphs: U+200F
RIGHT-TO-LEFT MARK or U+200E LEFT-TO-RIGHT MARK, strong letters that are never drawn. The
bidi algorithm takes a paragraph's direction from its first strong letter, so the reader
(and a reply's quote, and any other client) lays the paragraph out as the HTML asked.

Hostile input is bounded: the source is cut at ``MAX_HTML_CHARS``; libxml2 caps nesting
depth; any failure of the real layout falls back to ``strip_tags``, a crude regex
tag-stripper. Every returned string is sanitized.
"""

from __future__ import annotations

import html as html_entities
import re
from dataclasses import dataclass
from typing import Any

from mailtui.mime.sanitize import clean_line, clean_text

__all__ = ["MAX_HTML_CHARS", "Link", "RenderedHtml", "html_links", "html_to_text", "strip_tags"]

MAX_HTML_CHARS = 2_000_000
MAX_LINKS = 500
MAX_HREF = 2048
MAX_LINK_TEXT = 200

# Link schemes worth offering; anything else (javascript:, data:, file:, cid:...) is
# neither numbered nor listed.
_LISTED_SCHEMES = ("http://", "https://", "mailto:", "ftp://", "ftps://", "tel:")


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in a message: its text and target, both sanitized single lines."""

    text: str
    href: str


@dataclass(frozen=True, slots=True)
class RenderedHtml:
    text: str
    links: tuple[Link, ...] = ()
    problems: tuple[str, ...] = ()


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_SPACES = re.compile(r"\s+")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(source: str) -> RenderedHtml:
    """Render HTML ``source`` as plain text plus its links; never raises."""
    problems: list[str] = []
    if len(source) > MAX_HTML_CHARS:
        source = source[:MAX_HTML_CHARS]
        problems.append("HTML part is over 2 MB; only its beginning is shown")
    # Control characters are of no use in HTML and lxml refuses some of them.
    source = clean_text(source)
    try:
        text, links = _render(source)
    except Exception:  # lxml/inscriptis on hostile input: fall back, never fail
        problems.append("HTML could not be laid out; shown with its tags stripped")
        text, links = strip_tags(source), _links_by_regex(source)
    return RenderedHtml(_tidy(clean_text(text)), tuple(links), tuple(problems))


def _tree(source: str) -> Any:
    """The lxml tree of ``source`` without scripts and styles; None if it has no content.

    Raises if libxml2 stopped part-way (nesting deeper than it allows): the tree then lacks
    the rest of the document, and the callers fall back to the regex paths.
    """
    # Imported here: parsing envelopes never needs it, and it takes a while to load.
    import lxml.html  # type: ignore[import-untyped]  # lxml ships no type information

    source = _XML_DECLARATION.sub("", source, count=1)
    if not source.strip():
        return None
    parser = lxml.html.HTMLParser(
        recover=True,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
        default_doctype=False,
    )
    try:
        tree = lxml.html.document_fromstring(source, parser=parser)
    except lxml.etree.ParserError:  # "Document is empty": only comments, say
        return None
    if any(e.level_name == "FATAL" for e in parser.error_log):
        raise ValueError("HTML parser stopped early")
    for element in list(tree.iter("script", "style", "template", "noembed")):
        _drop(element)
    return tree


def _render(source: str) -> tuple[str, list[Link]]:
    from inscriptis.html_engine import Inscriptis
    from inscriptis.model.config import ParserConfig

    tree = _tree(source)
    if tree is None:
        return "", []
    links = _number_links(tree)
    _mark_directions(tree)
    text = Inscriptis(tree, ParserConfig()).get_text()
    return text, links


def html_links(source: str) -> list[Link]:
    """The links of HTML ``source`` with their visible text, without laying it out.

    For an HTML part that is not the one shown (the text/plain alternative won): its links
    are still the message's links. Never raises; never loads anything.
    """
    source = clean_text(source[:MAX_HTML_CHARS])
    try:
        tree = _tree(source)
        return [] if tree is None else _number_links(tree)
    except Exception:  # lxml on hostile input: the crude path still finds the targets
        return _links_by_regex(source)


_MARKS = {"rtl": "\u200f", "ltr": "\u200e"}
# Elements that start a paragraph of their own in inscriptis' layout.
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "div",
    "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
    "table", "td", "th", "tr", "ul",
})


def _mark_directions(tree: Any) -> None:
    """Put the direction mark of its ``dir`` in front of each paragraph that has one
    (``dir`` is inherited; ``auto`` and unknown values leave the paragraph to its first
    strong letter), and after each ``<br>`` within it. The mark goes in front of the
    paragraph's first text, which may sit in an inline element (``<p><b>Hi</b>``)."""
    stack: list[tuple[Any, str, bool]] = [(tree, "", False)]
    while stack:
        element, inherited, pending = stack.pop()
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        stated = (element.get("dir") or "").strip().lower()
        direction = stated if stated in _MARKS else "" if stated == "auto" else inherited
        pending = pending or element.tag in _BLOCKS
        if direction and pending and (element.text or "").strip():
            element.text = _MARKS[direction] + (element.text or "")
            pending = False
        if direction and element.tag == "br" and (element.tail or "").strip():
            element.tail = _MARKS[direction] + (element.tail or "")
        children = list(element)
        stack.extend(
            (child, direction, pending and index == 0)
            for index, child in reversed(list(enumerate(children)))
        )


def _drop(element: Any) -> None:
    parent = element.getparent()
    if parent is None:
        return
    # Keep the text that follows the element.
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _number_links(tree: Any) -> list[Link]:
    links: list[Link] = []
    numbers: dict[str, int] = {}
    for anchor in tree.iter("a", "area"):
        href = _clean_href(anchor.get("href"))
        if href is None:
            continue
        if href not in numbers:
            if len(links) >= MAX_LINKS:
                continue
            text = _SPACES.sub(" ", anchor.text_content()).strip()
            if not text:
                text = " ".join(img.get("alt") or "" for img in anchor.iter("img")).strip()
            links.append(Link(clean_line(text)[:MAX_LINK_TEXT], href))
            numbers[href] = len(links)
        marker = f" [{numbers[href]}]"
        if len(anchor):
            last = anchor[-1]
            last.tail = (last.tail or "") + marker
        else:
            anchor.text = (anchor.text or "") + marker
    return links


def _clean_href(href: str | None) -> str | None:
    if not href:
        return None
    href = clean_line(html_entities.unescape(href)).strip()
    href = _SPACES.sub("", href)
    if not href.lower().startswith(_LISTED_SCHEMES) or len(href) > MAX_HREF:
        return None
    return href


_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_INVISIBLE_BLOCK = re.compile(
    r"<(script|style|title|template)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE
)
_BREAK = re.compile(r"<(?:br|/p|/div|/tr|/h[1-6]|li|/li|/table|hr)\b[^>]*>", re.IGNORECASE)
_SPACE_RUN = re.compile("  +")  # a literal prefix: much faster than " {2,}"
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*(?:>|\Z)")
_HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def strip_tags(source: str) -> str:
    """Crude, fast HTML to text: drop invisible blocks and tags, unescape entities.

    Used for previews of HTML-only mail and as the fallback of ``html_to_text``. The
    result is sanitized, with runs of blank space reduced.
    """
    s = _COMMENT.sub("", source)
    s = _INVISIBLE_BLOCK.sub("", s)
    s = _BREAK.sub("\n", s)
    s = _CELL_END.sub(" ", s)
    s = _TAG.sub("", s)
    s = html_entities.unescape(s)
    s = clean_text(s).replace("\xa0", " ").replace("\t", " ")
    s = _SPACE_RUN.sub(" ", s)
    return _tidy(s)


def _links_by_regex(source: str) -> list[Link]:
    links: list[Link] = []
    seen: set[str] = set()
    for m in _HREF.finditer(source):
        href = _clean_href(m.group(1) or m.group(2) or m.group(3))
        if href is None or href in seen:
            continue
        seen.add(href)
        links.append(Link("", href))
        if len(links) >= MAX_LINKS:
            break
    return links


def _tidy(text: str) -> str:
    text = _TRAILING_SPACE.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip("\n")
