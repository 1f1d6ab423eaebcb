"""Replies and forwards: the headers and body of a new ``Draft`` from an original message.

Who gets a reply (``reply_recipients``), one row per case:

| case                                   | To                              | Cc                    |
| -------------------------------------- | ------------------------------- | --------------------- |
| reply                                  | Reply-To, else From             | —                     |
| reply, the original is the user's own  | the original To                 | —                     |
| reply-all with Mail-Followup-To        | Mail-Followup-To                | —                     |
| reply-all                              | Reply-To, else From             | original To + Cc      |
| reply-all, the original is the user's  | the original To                 | the original Cc       |

The user's own addresses (every identity) are then removed, and repeats; should that
leave To empty (a note to self), the first choice stays.

The identity to answer as (``choose_identity``) is the one the original was sent *to*:
To first, then Cc, then the delivery headers (Delivered-To, X-Original-To, Envelope-To,
which name the address a list or alias delivered to), a ``+tag`` ignored when nothing
matches exactly; for the user's own message, the identity it was sent from; else the
first identity (the account's address).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_tz

from mailtui import mime
from mailtui.compose.addresses import addr_key, format_address, unique
from mailtui.compose.message import Attachment, Draft, Identity
from mailtui.mime._decode import decode_words, fix_surrogates, get_header, read_header_block, unfold
from mailtui.mime.direction import RLM, base_direction
from mailtui.mime.sanitize import clean_line
from mailtui.models import Address

__all__ = [
    "Original",
    "attribution",
    "choose_identity",
    "forward",
    "forward_subject",
    "QUOTE_WIDTH",
    "quote",
    "read_original",
    "reopen",
    "reply",
    "reply_recipients",
    "reply_subject",
]

# Reply and forward markers that mail clients put in front of subjects (with counters such
# as "Re[2]:", "Re^2:", "Re(2):"). Kept apart: a reply to "Fwd: x" is "Re: Fwd: x".
_REPLY = r"re|aw|sv|antw|rif|rv|odp|ynt|回复|回覆|返信|ΑΠ"
_FORWARD = r"fwd?|wg|tr|vb|doorst|enc|pd|转发|轉寄|転送|ΣΧΕΤ"
_COUNTER = r"(?:\s*(?:\[\d{1,6}\]|\(\d{1,6}\)|\^\d{1,6}))?\s*[:：]\s*"
_REPLY_PREFIXES = re.compile(rf"^(?:\s*(?:{_REPLY}){_COUNTER})+", re.IGNORECASE)
_FORWARD_PREFIXES = re.compile(rf"^(?:\s*(?:{_FORWARD}){_COUNTER})+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_MSGID = re.compile(r"<[^<>\s]+>")
_PLUS_TAG = re.compile(r"\+[^@]*(?=@)")
_DELIVERY_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")
MAX_ADDRESSES = 500


@dataclass(frozen=True, slots=True)
class Original:
    """What a reply or forward needs of the message it answers (decoded, sanitized)."""

    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    subject: str = ""
    date: datetime | None = None  # with the sender's UTC offset
    from_: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    mail_followup_to: tuple[Address, ...] = ()
    delivered_to: tuple[Address, ...] = ()
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    raw: bytes = b""


def _addresses(value: str | None) -> tuple[Address, ...]:
    if not value:
        return ()
    try:
        pairs = getaddresses([fix_surrogates(unfold(value))])
    except Exception:  # the address parser on hostile input
        return ()
    out: list[Address] = []
    for name, addr in pairs[:MAX_ADDRESSES]:
        name = clean_line(decode_words(name)).strip()
        addr = clean_line(addr).strip()
        if "@" in addr:
            out.append(Address(name, addr))
    return tuple(out)


def _ids(value: str | None) -> list[str]:
    return _MSGID.findall(fix_surrogates(unfold(value))) if value else []


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_tz(unfold(value)[:200])
        if parsed is None:
            return None
        offset = parsed[9] or 0
        naive = datetime(*parsed[:6])
        return naive.replace(tzinfo=timezone(timedelta(seconds=offset)))
    except (ValueError, OverflowError, TypeError):
        return None


def read_original(raw: bytes) -> Original:
    """Everything ``reply`` and ``forward`` need from a raw message; never raises."""
    fields, _ = read_header_block(raw)
    parsed = mime.parse_message(raw)
    env = parsed.envelope
    attachments: list[Attachment] = []
    for att in parsed.attachments:
        try:
            data = mime.attachment_bytes(raw, att.part_index)
        except IndexError:
            continue
        attachments.append(Attachment(att.filename, att.content_type, data))
    delivered: list[Address] = []
    for name in _DELIVERY_HEADERS:
        for n, v in fields:
            if n.lower() == name.lower():
                delivered += _addresses(v) or [Address("", clean_line(unfold(v)).strip())]
    message_id = _ids(get_header(fields, "Message-ID"))
    return Original(
        message_id=message_id[0] if message_id else "",
        in_reply_to=(_ids(get_header(fields, "In-Reply-To")) or [""])[0],
        references=tuple(_ids(get_header(fields, "References"))),
        subject=env.subject,
        date=_date(get_header(fields, "Date")),
        from_=_addresses(get_header(fields, "From")),
        to=_addresses(get_header(fields, "To")),
        cc=_addresses(get_header(fields, "Cc")),
        reply_to=_addresses(get_header(fields, "Reply-To")),
        mail_followup_to=_addresses(get_header(fields, "Mail-Followup-To")),
        delivered_to=tuple(a for a in delivered if "@" in a.addr),
        text=parsed.text,
        attachments=tuple(attachments),
        raw=raw,
    )


# ------------------------------------------------------------------------ subjects


def reply_subject(subject: str) -> str:
    """``Re: `` once, however many reply markers the original stacked up."""
    m = _REPLY_PREFIXES.match(subject)
    rest = subject[m.end() :] if m else subject
    return "Re: " + _SPACES.sub(" ", rest).strip()


def forward_subject(subject: str) -> str:
    """``Fwd: `` once, however many forward markers the original stacked up."""
    m = _FORWARD_PREFIXES.match(subject)
    rest = subject[m.end() :] if m else subject
    return "Fwd: " + _SPACES.sub(" ", rest).strip()


# ------------------------------------------------------------------------ who


def _own(identities: Sequence[Identity]) -> frozenset[str]:
    return frozenset(addr_key(i.addr) for i in identities)


def _is_own(a: Address, own: Collection[str]) -> bool:
    return addr_key(a.addr) in own


def reply_recipients(
    original: Original, identities: Sequence[Identity], reply_all: bool
) -> tuple[tuple[Address, ...], tuple[Address, ...]]:
    """(To, Cc) of a reply; see the table in the module docstring."""
    own = _own(identities)
    from_me = any(_is_own(a, own) for a in original.from_)
    author = original.to if from_me else (original.reply_to or original.from_)
    if reply_all and original.mail_followup_to and not from_me:
        to = unique(original.mail_followup_to, exclude=own)
        if to:
            return to, ()
    to = unique(author, exclude=own) or unique(author)
    if not reply_all:
        return to, ()
    others = original.cc if from_me else (*original.to, *original.cc)
    cc = unique(others, exclude=(*own, *(a.addr for a in to)))
    return to, cc


def choose_identity(identities: Sequence[Identity], original: Original) -> Identity:
    """The identity to answer as; see the module docstring. ``identities`` must not be
    empty (the first is the account's own address)."""
    if not identities:
        raise ValueError("an account has at least one identity")
    by_key = {addr_key(i.addr): i for i in reversed(identities)}
    for a in original.from_:
        if addr_key(a.addr) in by_key:
            return by_key[addr_key(a.addr)]
    candidates = (*original.to, *original.cc, *original.delivered_to)
    for a in candidates:
        if addr_key(a.addr) in by_key:
            return by_key[addr_key(a.addr)]
    untagged = {_PLUS_TAG.sub("", k): i for k, i in reversed(list(by_key.items()))}
    for a in candidates:
        key = _PLUS_TAG.sub("", addr_key(a.addr))
        if key in untagged:
            return untagged[key]
    return identities[0]


# ------------------------------------------------------------------------ body


def _without_signature(text: str) -> str:
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] == "-- ":
            lines = lines[:i]
            break
    return "\n".join(lines).rstrip()


QUOTE_WIDTH = 72  # cells per quoted line, "> " included (RFC 5322's 78, less room to answer)
_QUOTE_MARKS = re.compile(r"^(?:> ?)*>(?: |(?=\S)|$)")


def quote(text: str, width: int = QUOTE_WIDTH) -> str:
    """Each line prefixed ``> `` (``>`` before a line already quoted, or an empty one);
    the original's signature (below ``-- ``) and trailing blank lines left out.

    A line longer than ``width`` terminal cells is wrapped at spaces, each piece under
    the same quote marks (a word longer than the line stays whole). Right-to-left
    paragraphs wrap like any other; their continuation lines start with a
    RIGHT-TO-LEFT MARK, so that each quoted line, now a paragraph of its own, still
    reads from the right in the reader and in the recipient's mail client.
    """
    out: list[str] = []
    for line in _without_signature(text).split("\n"):
        line = line.rstrip()
        if not line:
            out.append(">")
            continue
        marks = _QUOTE_MARKS.match(line)
        prefix = (">" + marks.group()) if marks else "> "
        content = line[marks.end() :] if marks else line
        if not content:
            out.append(prefix.rstrip())
            continue
        pieces = _wrap_cells(content, max(20, width - _cells(prefix)))
        keep = RLM if base_direction(content) == "rtl" else ""
        out.append(prefix + pieces[0])
        out.extend(prefix + keep + piece for piece in pieces[1:])
    return "\n".join(out)


def _cells(text: str) -> int:
    # Imported at the first quote: 29 modules and about 1 MB the app needs only then.
    from wcwidth import wcwidth

    return sum(max(0, wcwidth(char)) for char in text)


def _wrap_cells(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into pieces of at most ``width`` cells (wide letters count
    two, joiners none); the spaces at the cuts are dropped."""
    if _cells(text) <= width:
        return [text]
    pieces: list[str] = []
    current, used, started = "", 0, False
    for word in text.split(" "):
        size = _cells(word)
        if not started:  # the first word, after any indentation of the line
            current, used, started = word, size, True
        elif used + 1 + size > width and current.strip() and word:
            pieces.append(current.rstrip(" "))
            current, used = word, size
        else:
            current, used = current + " " + word, used + 1 + size
    pieces.append(current.rstrip(" "))
    return pieces


def _who(addrs: Sequence[Address]) -> str:
    if not addrs:
        return "someone"
    a = addrs[0]
    return f"{a.name} <{a.addr}>" if a.name else a.addr


def attribution(original: Original) -> str:
    """``On Tue, 3 Mar 2026 at 09:15 +0100, Ann <ann@example.org> wrote:``"""
    who = _who(original.from_)
    if original.date is None:
        return f"{who} wrote:"
    d = original.date
    zone = d.strftime("%z")
    when = f"{d.strftime('%a')}, {d.day} {d.strftime('%b %Y')} at {d.strftime('%H:%M')} {zone}"
    return f"On {when}, {who} wrote:"


def _with_signature(body: str, signature: str) -> str:
    if not signature.strip():
        return body
    return body.rstrip("\n") + "\n\n-- \n" + signature.strip("\n") + "\n"


def _references(original: Original) -> tuple[str, ...]:
    refs = list(original.references)
    if not refs and original.in_reply_to:
        refs = [original.in_reply_to]  # RFC 5322 3.6.4: the parent's In-Reply-To
    if original.message_id:
        refs.append(original.message_id)
    return tuple(dict.fromkeys(refs))


def reply(
    original: Original,
    identities: Sequence[Identity],
    *,
    reply_all: bool = False,
    flowed: bool = False,
    signature: str = "",
) -> Draft:
    """A reply draft: addressed, threaded, subject ``Re:``, the original quoted below an
    attribution line with room to write underneath."""
    to, cc = reply_recipients(original, identities, reply_all)
    body = f"{attribution(original)}\n{quote(original.text)}\n\n"
    return Draft(
        from_=choose_identity(identities, original),
        to=to,
        cc=cc,
        subject=reply_subject(original.subject),
        body=_with_signature(body, signature),
        in_reply_to=original.message_id,
        references=_references(original),
        flowed=flowed,
    )


def _header_block(original: Original) -> str:
    lines = ["-------- Forwarded Message --------", f"Subject: {original.subject}"]
    if original.date is not None:
        lines.append(f"Date: {original.date.strftime('%a, %d %b %Y %H:%M:%S %z')}")
    lines.append("From: " + ", ".join(format_address(a) for a in original.from_))
    if original.to:
        lines.append("To: " + ", ".join(format_address(a) for a in original.to))
    if original.cc:
        lines.append("Cc: " + ", ".join(format_address(a) for a in original.cc))
    return "\n".join(lines)


def forward(
    original: Original,
    identities: Sequence[Identity],
    *,
    as_attachment: bool = False,
    flowed: bool = False,
    signature: str = "",
) -> Draft:
    """A forward draft (no recipients yet): ``Fwd:`` subject, and either the original's
    header block and text inline with its attachments kept, or the whole original
    attached as ``message/rfc822``."""
    body = _with_signature("\n", signature)
    if as_attachment:
        name = _attachment_name(original.subject)
        attachments: tuple[Attachment, ...] = (Attachment(name, "message/rfc822", original.raw),)
    else:
        body += f"\n{_header_block(original)}\n\n{original.text.rstrip()}\n"
        attachments = original.attachments
    return Draft(
        from_=choose_identity(identities, original),
        subject=forward_subject(original.subject),
        body=body,
        attachments=attachments,
        flowed=flowed,
    )


def _attachment_name(subject: str) -> str:
    name = _SPACES.sub(" ", re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]', " ", subject)).strip()
    return (name[:80].strip() or "message") + ".eml"


def reopen(
    raw: bytes, identities: Sequence[Identity], envelope_recipients: Sequence[str] = ()
) -> Draft:
    """A built message back into a ``Draft`` (edit an outbox item, resume a draft).

    A sent message has no Bcc in its bytes: pass the outbox item's envelope
    ``recipients`` and every one not in To or Cc comes back as Bcc. A draft copy keeps
    its Bcc header (``build_message(draft_copy=True)``), which is read as well. The
    Message-ID is kept.
    """
    o = read_original(raw)
    fields, _ = read_header_block(raw)
    sender = o.from_[0] if o.from_ else Address("", identities[0].addr if identities else "")
    by_key = {addr_key(i.addr): i for i in identities}
    from_ = by_key.get(addr_key(sender.addr), Identity(sender.addr, sender.name))
    shown = {addr_key(a.addr) for a in (*o.to, *o.cc)}
    bcc = unique(
        (
            *_addresses(get_header(fields, "Bcc")),
            *(Address("", r) for r in envelope_recipients if addr_key(r) not in shown),
        )
    )
    ctype = (get_header(fields, "Content-Type") or "").lower()
    return Draft(
        from_=from_,
        to=o.to,
        cc=o.cc,
        bcc=bcc,
        subject=o.subject,
        body=o.text,
        attachments=o.attachments,
        in_reply_to=o.in_reply_to,
        references=o.references,
        reply_to=o.reply_to,
        flowed="format=flowed" in ctype.replace('"', "").replace(" ", ""),
        message_id=o.message_id,
    )
