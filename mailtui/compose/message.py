"""Build the outgoing message: a ``Draft`` in, RFC 5322/MIME bytes out.

- Headers are UTF-8 as RFC 2047 encoded words (display names, subject), so any server
  takes them; only an address whose *local part* is not ASCII needs SMTPUTF8 (RFC 6532),
  and then the message is written with UTF-8 headers and ``needs_smtputf8`` says so.
- The text part is quoted-printable UTF-8 (7-bit safe, readable), ``format=flowed``
  when the draft asks for it.
- Attachment names that are not ASCII use RFC 2231 (``filename*=utf-8''…``).
- A forwarded message is attached as ``message/rfc822`` byte for byte (7bit or 8bit:
  RFC 2046 forbids base64 there).
- ``Message-ID`` is made on the sender's domain, ``Date`` is the local time with its
  offset. Bcc never appears in the bytes; its addresses are only envelope recipients.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email import policy as email_policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from mailtui import __version__
from mailtui.compose.addresses import unique
from mailtui.compose.flowed import to_flowed
from mailtui.errors import MailtuiError
from mailtui.models import Address

__all__ = [
    "Attachment",
    "Draft",
    "DraftError",
    "Identity",
    "OutgoingMessage",
    "build_message",
    "envelope_recipients",
    "guess_content_type",
    "new_message_id",
]

USER_AGENT = f"mailtui/{__version__}"
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
MAX_REFERENCES = 20


class DraftError(MailtuiError, ValueError):
    """The draft cannot be sent as it is; ``str()`` says what to fix, in plain words."""


@dataclass(frozen=True, slots=True)
class Identity:
    """One From address the user sends as (an account has one or more)."""

    addr: str
    name: str = ""

    @property
    def address(self) -> Address:
        return Address(self.name, self.addr)

    @property
    def domain(self) -> str:
        return self.addr.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send. ``content_type`` is ``type/subtype``; ``size`` is ``len(data)``."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    @classmethod
    def from_path(cls, path: str | Path, content_type: str | None = None) -> Attachment:
        """Read a file to attach (raises ``OSError`` as ``open`` does)."""
        p = Path(path).expanduser()
        data = p.read_bytes()
        return cls(p.name, content_type or guess_content_type(p.name), data)


def guess_content_type(filename: str) -> str:
    """The MIME type for a file name (``application/octet-stream`` when unknown)."""
    ctype, encoding = mimetypes.guess_type(filename, strict=False)
    if ctype is None or encoding is not None:  # .tar.gz: the bytes are gzip, not tar
        return "application/gzip" if encoding == "gzip" else "application/octet-stream"
    return ctype


@dataclass(frozen=True, slots=True)
class Draft:
    """A message being written. Everything the compose form and the editor produce.

    ``message_id`` stays empty until the first build, which makes one; keep the returned
    ``OutgoingMessage.message_id`` in the draft (``dataclasses.replace``) so that the
    autosaved drafts and the sent message share it.
    """

    from_: Identity
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    subject: str = ""
    body: str = ""
    attachments: tuple[Attachment, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    reply_to: tuple[Address, ...] = ()
    flowed: bool = False
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What ``Store.outbox_add`` takes, plus the id the message was given."""

    raw: bytes
    mail_from: str
    recipients: tuple[str, ...]
    message_id: str
    needs_smtputf8: bool = False


def new_message_id(addr_or_domain: str, now: float | None = None) -> str:
    """``<time.random@domain>`` on the sender's domain (IDNA-encoded when needed)."""
    domain = addr_or_domain.rpartition("@")[2].strip().strip("[]") or "mailtui.invalid"
    try:
        domain.encode("ascii")
    except UnicodeEncodeError:
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = "mailtui.invalid"
    stamp = int((now if now is not None else time.time()) * 1000)
    return f"<{stamp:x}.{secrets.token_hex(8)}@{domain.lower()}>"


def envelope_recipients(draft: Draft) -> tuple[str, ...]:
    """To, Cc and Bcc addresses for RCPT TO, each once."""
    return tuple(a.addr for a in unique((*draft.to, *draft.cc, *draft.bcc)))


def _one_line(s: str) -> str:
    return _CONTROL.sub(" ", s).strip()


def _needs_utf8(addr: str) -> bool:
    return not addr.rpartition("@")[0].isascii()


def _ascii_domain(addr: str) -> str:
    local, _, domain = addr.rpartition("@")
    if domain.isascii():
        return addr
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return addr


def _header_addresses(addrs: Sequence[Address], utf8: bool) -> list[HeaderAddress]:
    out: list[HeaderAddress] = []
    for a in addrs:
        spec = a.addr.strip() if utf8 else _ascii_domain(a.addr.strip())
        name = _one_line(a.name)
        try:
            if spec.rpartition("@")[0].isascii():
                out.append(HeaderAddress(display_name=name, addr_spec=spec))
            else:  # RFC 6532: the parser behind addr_spec refuses these
                local, _, domain = spec.rpartition("@")
                out.append(HeaderAddress(display_name=name, username=local, domain=domain))
        except (ValueError, IndexError) as exc:
            raise DraftError(f"not an email address: {a.addr!r}") from exc
    return out


def _check(draft: Draft) -> None:
    if "@" not in draft.from_.addr:
        raise DraftError(f"the From address {draft.from_.addr!r} is not an email address")
    if not envelope_recipients(draft):
        raise DraftError("the message has no recipients: add an address to To, Cc or Bcc")
    for a in (*draft.to, *draft.cc, *draft.bcc, *draft.reply_to):
        if "@" not in a.addr or _CONTROL.search(a.addr) or " " in a.addr.strip():
            raise DraftError(f"not an email address: {a.addr!r}")


def _rfc822_part(att: Attachment, placeholders: dict[bytes, bytes]) -> EmailMessage:
    raw = _LINE_ENDS.sub(b"\r\n", att.data)
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    part = EmailMessage(policy=email_policy.SMTP)
    part["Content-Type"] = "message/rfc822"
    part["Content-Disposition"] = "attachment"
    part.set_param("filename", _one_line(att.filename), header="Content-Disposition")
    part["Content-Transfer-Encoding"] = "7bit" if raw.isascii() else "8bit"
    # The generator cannot write 8-bit bytes into a message/* part; a token stands in
    # for the original and is swapped for its exact bytes after generation.
    token = f"mailtui-attached-message-{secrets.token_hex(16)}"
    placeholders[token.encode("ascii")] = raw
    part.set_payload(token)
    return part


def build_message(
    draft: Draft, *, now: datetime | None = None, draft_copy: bool = False
) -> OutgoingMessage:
    """The message's bytes (CRLF line ends) and envelope, ready for ``outbox_add``.

    With ``draft_copy`` the bytes are the copy kept in the Drafts folder: recipients may
    still be missing, and Bcc is written as a header so that the draft reopens with it
    (a sent message never carries Bcc).

    Raises:
        DraftError: no recipients (unless ``draft_copy``), or an address that cannot be
            written.
    """
    if draft_copy and not envelope_recipients(draft):
        _check(replace(draft, to=(Address("", "placeholder@invalid"),)))
    else:
        _check(draft)
    when = now or datetime.now().astimezone()
    message_id = draft.message_id or new_message_id(draft.from_.addr, when.timestamp())
    all_addrs = (draft.from_.address, *draft.to, *draft.cc, *draft.bcc, *draft.reply_to)
    utf8 = any(_needs_utf8(a.addr) for a in all_addrs)
    pol = email_policy.SMTPUTF8 if utf8 else email_policy.SMTP
    msg = EmailMessage(policy=pol)
    msg["Date"] = format_datetime(when)
    msg["From"] = _header_addresses([draft.from_.address], utf8)
    if draft.to:
        msg["To"] = _header_addresses(draft.to, utf8)
    if draft.cc:
        msg["Cc"] = _header_addresses(draft.cc, utf8)
    if draft_copy and draft.bcc:
        msg["Bcc"] = _header_addresses(draft.bcc, utf8)
    if draft.reply_to:
        msg["Reply-To"] = _header_addresses(draft.reply_to, utf8)
    msg["Subject"] = _one_line(draft.subject)
    msg["Message-ID"] = message_id
    if draft.in_reply_to:
        msg["In-Reply-To"] = _one_line(draft.in_reply_to)
    refs = [_one_line(r) for r in draft.references if r.strip()]
    if len(refs) > MAX_REFERENCES:  # the thread root and the nearest ancestors
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1) :]
    if refs:
        msg["References"] = " ".join(refs)
    msg["User-Agent"] = USER_AGENT
    body = draft.body.replace("\r\n", "\n").replace("\r", "\n")
    if body and not body.endswith("\n"):
        body += "\n"
    msg.set_content(
        to_flowed(body) if draft.flowed else body,
        subtype="plain",
        charset="utf-8",
        cte="quoted-printable",
        params={"format": "flowed"} if draft.flowed else {},
    )
    placeholders: dict[bytes, bytes] = {}
    for att in draft.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        if (maintype.lower(), subtype.lower()) == ("message", "rfc822"):
            if not msg.is_multipart():
                msg.make_mixed()
            msg.attach(_rfc822_part(att, placeholders))
            continue
        if not subtype or maintype.lower() in ("multipart", "message"):
            maintype, subtype = "application", "octet-stream"
        params: dict[str, str] = {}
        if maintype.lower() == "text":  # readers assume US-ASCII without a charset
            try:
                att.data.decode("utf-8")
                params["charset"] = "us-ascii" if att.data.isascii() else "utf-8"
            except UnicodeDecodeError:
                pass
        msg.add_attachment(
            att.data,
            maintype=maintype,
            subtype=subtype,
            filename=_one_line(att.filename),
            params=params,
        )
    raw = _LINE_ENDS.sub(b"\r\n", msg.as_bytes(policy=pol))
    for token, original in placeholders.items():
        raw = raw.replace(token, original, 1)
    sender = draft.from_.addr if utf8 else _ascii_domain(draft.from_.addr)
    rcpts = tuple(r if utf8 else _ascii_domain(r) for r in envelope_recipients(draft))
    return OutgoingMessage(raw, sender, rcpts, message_id, needs_smtputf8=utf8)
