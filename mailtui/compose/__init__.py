"""Composing: pure functions from what the user wrote to the bytes that are sent.

No I/O here except ``Attachment.from_path``. The compose screens build a ``Draft`` (new,
``reply``, ``forward``, ``draft_from_mailto``), let the user edit it, then call
``build_message`` and hand the result to ``mailtui.sync.outbox.queue``.

    read_original(raw) ─▶ reply / forward ─▶ Draft ─▶ build_message ─▶ OutgoingMessage
"""

from mailtui.compose.addresses import (
    AddressError,
    addr_key,
    format_address,
    parse_addresses,
    unique,
)
from mailtui.compose.flowed import to_flowed
from mailtui.compose.mailto import Mailto, MailtoError, draft_from_mailto, parse_mailto
from mailtui.compose.message import (
    Attachment,
    Draft,
    DraftError,
    Identity,
    OutgoingMessage,
    build_message,
    envelope_recipients,
    guess_content_type,
    new_message_id,
)
from mailtui.compose.reply import (
    Original,
    attribution,
    choose_identity,
    forward,
    forward_subject,
    quote,
    read_original,
    reopen,
    reply,
    reply_recipients,
    reply_subject,
)

__all__ = [
    "AddressError",
    "Attachment",
    "Draft",
    "DraftError",
    "Identity",
    "Mailto",
    "MailtoError",
    "Original",
    "OutgoingMessage",
    "addr_key",
    "attribution",
    "build_message",
    "choose_identity",
    "draft_from_mailto",
    "envelope_recipients",
    "format_address",
    "forward",
    "forward_subject",
    "guess_content_type",
    "new_message_id",
    "parse_addresses",
    "parse_mailto",
    "quote",
    "read_original",
    "reopen",
    "reply",
    "reply_recipients",
    "reply_subject",
    "to_flowed",
    "unique",
]
