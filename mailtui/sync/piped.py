"""A message handed over by a script (``mailtui send [-t] [-f FROM] [RECIPIENT…] <
message``, as ``git send-email`` or cron call sendmail): checked, completed and made
ready for the outbox. Nothing here touches the store or the network; ``cli.py`` queues
what ``prepare`` returns and sends it.

What is done to the bytes, as sendmail implementations do:

- line ends become CRLF; a Bcc field is taken out (its addresses are recipients with
  ``-t``, else only if given as arguments), so no recipient sees it;
- missing From (the account's address), Date and Message-ID are added;
- input whose first line is not a header field is taken as the body of a message
  without header (``echo text | mailtui send a@b``); an mbox ``From `` line first
  (``git format-patch``) is dropped.

Recipients are the arguments, plus with ``-t`` every address in To, Cc and Bcc (as
Postfix's sendmail does, the arguments are added to those). The envelope sender is
``-f``, else the account's address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.utils import formatdate, getaddresses

from mailtui.compose.message import Identity, OutgoingMessage, new_message_id
from mailtui.config import AccountConfig, Config
from mailtui.errors import MailtuiError
from mailtui.mime import header_block

#: The largest message taken from standard input.
MAX_MESSAGE = 100 * 1024 * 1024

_HEADER_LINE = re.compile(rb"[!-9;-~]+:")


class NotQueued(MailtuiError):
    """The message cannot be queued as given; ``str()`` says why, in one line."""


def _crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _address(text: str, what: str) -> str:
    pairs = getaddresses([text])
    if len(pairs) != 1 or "@" not in pairs[0][1] or any(c in pairs[0][1] for c in " \r\n"):
        raise NotQueued(f"{what} {text!r} is not an email address")
    return pairs[0][1]


def prepare(
    raw: bytes,
    recipients: Sequence[str],
    *,
    from_headers: bool,
    envelope_from: str | None,
    identity: Identity,
) -> OutgoingMessage:
    """The message as the outbox takes it. Raises NotQueued."""
    if not raw.strip():
        raise NotQueued("the message on standard input is empty")
    if len(raw) > MAX_MESSAGE:
        raise NotQueued(f"the message is larger than {MAX_MESSAGE // 2**20} MB")
    raw = _crlf(raw)
    if raw.startswith(b"From "):  # an mbox separator (git format-patch): not a field
        raw = raw.partition(b"\r\n")[2]
    if not _HEADER_LINE.match(raw):
        raw = b"\r\n" + raw  # no header: all of it is the body
    wanted = [_address(r, "the recipient") for r in recipients]
    if from_headers:
        wanted += header_block.addresses(raw)
    unique: dict[str, str] = {}
    for addr in wanted:
        unique.setdefault(addr.casefold(), addr)
    if not unique:
        how = "in its To, Cc or Bcc" if from_headers else "as arguments (or use -t)"
        raise NotQueued(f"no recipients: give them {how}")
    raw = header_block.without_fields(raw, ("bcc",))
    fields = {n.casefold() for n in header_block.field_names(raw)}
    mail_from = _address(envelope_from, "-f") if envelope_from else identity.addr
    message_id = ""
    if "message-id" not in fields:
        message_id = new_message_id(identity.addr)
        raw = header_block.with_field(raw, "Message-ID", message_id)
    else:
        message_id = header_block.field_values(raw, ("message-id",))[0]
    if "date" not in fields:
        raw = header_block.with_field(raw, "Date", formatdate(localtime=True))
    if "from" not in fields:
        raw = header_block.with_field(raw, "From", identity.addr)
    return OutgoingMessage(raw, mail_from, tuple(unique.values()), message_id)


def pick_account(config: Config, name: str | None, raw: bytes, envelope_from: str | None) -> (
    AccountConfig
):
    """The account to send with: the one named; else the one whose address (or one of
    its identities) is the sender (``-f``, else the From field); else the only one.
    Raises NotQueued (or ConfigError for an unknown name)."""
    if name:
        return config.account(name)
    if not config.accounts:
        raise NotQueued("no accounts configured: nothing to send with")
    senders = [envelope_from] if envelope_from else header_block.addresses(raw, ("from",))
    for sender in (s.casefold() for s in senders if s):
        for acc in config.accounts:
            own = [acc.email, *(addr for _, addr in acc.identities)]
            if sender in (a.casefold() for a in own):
                return acc
    if len(config.accounts) == 1:
        return config.accounts[0]
    names = ", ".join(a.name for a in config.accounts)
    raise NotQueued(
        f"{len(config.accounts)} accounts are configured ({names}) and none sends as "
        "the message's sender: say which with --account NAME"
    )
