"""The ``imap`` account kind: how it describes itself to the registry and the wizard."""

from __future__ import annotations

from mailtui.config import AccountConfig
from mailtui.config.reader import FOLDER_MODES
from mailtui.protocols import options
from mailtui.sync.contract import Backend, KindSpec, Option, OptionType, Sending


def build(account: AccountConfig) -> Backend:
    # Imported on first use: only accounts that need the IMAP code load it.
    from mailtui.protocols.imap.backend import build

    return build(account)


IMAP = KindSpec(
    name="imap",
    label="IMAP",
    summary="mail kept on an IMAP server, in step both ways; sent through SMTP",
    options=(
        *options.server("imap", "imap.example.org"),
        Option(
            "folders",
            OptionType.CHOICE,
            "subscribed: show and sync subscribed folders, list the others greyed; all: every "
            "folder",
            default="subscribed",
            choices=FOLDER_MODES,
        ),
        *options.smtp(copy_to_sent=True),
    ),
    sending=Sending.SMTP,
    build=build,
    files_sent=True,
)
