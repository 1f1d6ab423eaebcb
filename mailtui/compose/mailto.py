"""``mailto:`` URLs (RFC 6068) into draft fields.

``mailto:ann@example.org,bob@example.org?cc=c@example.org&subject=Hello%20there&body=Hi``.
Percent-escapes are UTF-8; ``+`` is a plus, not a space. Only the fields RFC 6068
section 6 calls safe are taken (to, cc, bcc, subject, body, in-reply-to, references);
anything else a page puts in the URL (From, Sender, Reply-To, attachments…) is ignored,
so a link cannot send mail in the user's name to somewhere the user cannot see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from mailtui.compose.addresses import AddressError, parse_addresses, unique
from mailtui.compose.message import Draft, Identity
from mailtui.errors import MailtuiError
from mailtui.models import Address

__all__ = ["Mailto", "MailtoError", "draft_from_mailto", "parse_mailto"]

_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_URL = 64 * 1024


class MailtoError(MailtuiError, ValueError):
    """Not a usable mailto: URL; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class Mailto:
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    subject: str = ""
    body: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()


def _decode(value: str) -> str:
    return unquote(value, encoding="utf-8", errors="replace")


def _addresses(value: str, where: str) -> tuple[Address, ...]:
    try:
        return parse_addresses(value)
    except AddressError as exc:
        raise MailtoError(f"mailto: {where}: {exc}") from None


def parse_mailto(url: str) -> Mailto:
    """The fields of a ``mailto:`` URL.

    Raises:
        MailtoError: not a mailto URL, or an address in it is not one.
    """
    url = url.strip()
    if len(url) > MAX_URL:
        raise MailtoError("mailto: URL is too long")
    if not url[:7].lower() == "mailto:":
        raise MailtoError(f"not a mailto: URL: {url[:80]!r}")
    rest = url[7:]
    path, _, query = rest.partition("?")
    query = query.partition("#")[0]
    to: list[Address] = list(_addresses(_decode(path), "to")) if path else []
    cc: list[Address] = []
    bcc: list[Address] = []
    subject = body = in_reply_to = ""
    references: list[str] = []
    for field in query.split("&") if query else ():
        name, _, raw_value = field.partition("=")
        name = _decode(name).strip().lower()
        value = _decode(raw_value)
        if name == "body":
            body = value.replace("\r\n", "\n").replace("\r", "\n")
            body = _CONTROL.sub("", body)
            continue
        value = _CONTROL.sub(" ", value.replace("\r\n", " ").replace("\n", " ")).strip()
        if name == "to":
            to += _addresses(value, "to")
        elif name == "cc":
            cc += _addresses(value, "cc")
        elif name == "bcc":
            bcc += _addresses(value, "bcc")
        elif name == "subject":
            subject = value
        elif name == "in-reply-to":
            ids = _MSGID.findall(value)
            in_reply_to = ids[0] if ids else ""
        elif name == "references":
            references += _MSGID.findall(value)
    return Mailto(
        to=unique(to),
        cc=unique(cc),
        bcc=unique(bcc),
        subject=subject,
        body=body,
        in_reply_to=in_reply_to,
        references=tuple(dict.fromkeys(references)),
    )


def draft_from_mailto(url: str, identity: Identity) -> Draft:
    """A new draft from a ``mailto:`` URL (``mailtui mailto:…``). Raises MailtoError."""
    m = parse_mailto(url)
    references = m.references
    if m.in_reply_to and m.in_reply_to not in references:
        references = (*references, m.in_reply_to)
    return Draft(
        from_=identity,
        to=m.to,
        cc=m.cc,
        bcc=m.bcc,
        subject=m.subject,
        body=m.body,
        in_reply_to=m.in_reply_to,
        references=references,
    )
