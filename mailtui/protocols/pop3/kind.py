"""The ``pop3`` account kind: described, not yet built (accounts of it are refused)."""

from __future__ import annotations

from mailtui.protocols import options
from mailtui.sync.contract import KindSpec, Option, OptionType, Sending

POP3 = KindSpec(
    name="pop3",
    label="POP3",
    summary="mail downloaded from a POP3 server's inbox (one folder); sent through SMTP",
    options=(
        *options.server("pop3", "pop.example.org"),
        Option(
            "leave_on_server",
            OptionType.BOOLEAN,
            "keep messages on the server; false deletes each once it is stored here",
            default=True,
        ),
        *options.smtp(copy_to_sent=False),
    ),
    sending=Sending.SMTP,
)
