"""The links of a message, and links whose text shows one place but lead to another.

A multipart/alternative message shows its text/plain part, but its links are often only
in the HTML part (``<a href>``): ``merge_links`` keeps the links of what is shown, in order,
gives a bare URL the visible text the HTML part has for the same target, and adds the HTML
part's other links after them, each target once.

``misleading`` is the phishing check a user expects of a mail client: a link whose visible
text is itself an address (``paypal.com``, ``https://www.paypal.com/login``,
``support@paypal.com``) on another host than the one its target goes to. A host and its
subdomains are one place (``paypal.com`` shown, ``www.paypal.com`` targeted is fine); text
that merely names a file (``report.pdf``) is not read as a host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from mailtui.mime.html import Link

__all__ = ["Misleading", "merge_links", "misleading"]

_HOST_LABELS = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}"
_URL_IN_TEXT = re.compile(rf"\b(?:https?|ftps?)://(?:[^\s/@]*@)?({_HOST_LABELS})", re.I)
_WWW_IN_TEXT = re.compile(rf"(?<![\w.-])(www\.{_HOST_LABELS})", re.I)
_EMAIL_IN_TEXT = re.compile(rf"[\w.+-]+@({_HOST_LABELS})", re.I)
_BARE_HOST = re.compile(rf"^({_HOST_LABELS})(?::\d+)?(?:[/?#]\S*)?$", re.I)

# Endings that make ``name.ext`` a file name, not a host name, in a link's text.
_FILE_ENDINGS = frozenset({
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "txt", "csv",
    "rtf", "zip", "gz", "tgz", "rar", "7z", "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp",
    "tif", "tiff", "mp3", "mp4", "mov", "avi", "wav", "ics", "vcf", "eml", "msg", "htm",
    "html", "php", "asp", "aspx", "jsp", "exe", "dmg", "apk", "iso", "json", "xml",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Misleading:
    """A link's text shows ``shown``; its target goes to ``target``."""

    shown: str
    target: str

    def __str__(self) -> str:
        return f"text shows {self.shown}, goes to {self.target}"


def _norm(host: str) -> str:
    host = host.lower().rstrip(".")
    try:  # one form for both ``bücher.example`` and ``xn--bcher-kva.example``
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def shown_host(text: str) -> str | None:
    """The host the visible text of a link names, if it names one."""
    text = text.strip()
    for pattern in (_URL_IN_TEXT, _WWW_IN_TEXT, _EMAIL_IN_TEXT):
        match = pattern.search(text)
        if match:
            return _norm(match.group(1))
    match = _BARE_HOST.match(text)
    if match and match.group(1).rsplit(".", 1)[-1].lower() not in _FILE_ENDINGS:
        return _norm(match.group(1))
    return None


def target_host(href: str) -> str | None:
    """The host a link's target goes to (for ``mailto:``, the address's domain)."""
    if href.lower().startswith("mailto:"):
        address = href[len("mailto:") :].split("?", 1)[0].split(",", 1)[0]
        domain = address.rpartition("@")[2]
        return _norm(domain) if domain else None
    try:
        host = urlsplit(href).hostname
    except ValueError:
        return None
    return _norm(host) if host else None


def _same_place(a: str, b: str) -> bool:
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def misleading(link: Link) -> Misleading | None:
    """Whether ``link``'s text shows a host other than the one its target goes to."""
    shown = shown_host(link.text)
    if shown is None:
        return None
    target = target_host(link.href)
    if target is None or _same_place(shown, target):
        return None
    return Misleading(shown, target)


def merge_links(shown: Iterable[Link], html: Iterable[Link]) -> list[Link]:
    """The links of the shown body, then the HTML part's others; each target once."""
    from_html: dict[str, Link] = {}
    for link in html:
        from_html.setdefault(link.href, link)
    out: dict[str, Link] = {}
    for link in shown:
        if link.href not in out:
            better = from_html.get(link.href)
            out[link.href] = better if better is not None and not link.text else link
    for href, link in from_html.items():
        out.setdefault(href, link)
    return list(out.values())
