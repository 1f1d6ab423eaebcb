"""The ``pop3`` account kind: how it describes itself to the registry and the wizard."""

from __future__ import annotations

from mailtui.config import AccountConfig
from mailtui.errors import ConfigError
from mailtui.protocols import options
from mailtui.sync.contract import Backend, KindSpec, Option, OptionType, Sending


def build(account: AccountConfig) -> Backend:
    # Imported on first use: only accounts that need the POP3 code load it.
    from mailtui.protocols.pop3.backend import build

    return build(account)


def check(account: AccountConfig, where: str) -> None:
    """Download options that contradict each other, and APOP with OAuth."""
    if not account.leave_on_server:
        for key, value in (
            ("delete_after_days", account.delete_after_days),
            ("delete_when_deleted_here", account.delete_when_deleted_here),
        ):
            if value:
                raise ConfigError(
                    f"{where} {key}: with leave_on_server = false every message is deleted "
                    f"from the server right after download; remove {key}, or set "
                    "leave_on_server = true to keep messages there until then"
                )
    if account.apop and account.auth == "oauth2":
        raise ConfigError(
            f'{where} apop: APOP logs in with a password, not with auth = "oauth2"; '
            "remove one of them"
        )


POP3 = KindSpec(
    name="pop3",
    label="POP3",
    summary="mail downloaded from a POP3 server's inbox into folders kept here; sent through SMTP",
    options=(
        *options.server("pop3", "pop.example.org"),
        Option(
            "leave_on_server",
            OptionType.BOOLEAN,
            "keep messages on the server; false deletes each once stored here: the only "
            "copy is here",
            default=True,
        ),
        Option(
            "delete_after_days",
            OptionType.INTEGER,
            "delete from the server this many days after download (0: never); other "
            "devices stop seeing them then",
            default=0,
            bounds=(0, 36500),
        ),
        Option(
            "delete_when_deleted_here",
            OptionType.BOOLEAN,
            "delete from the server what you delete for good here (emptied from Trash)",
            default=False,
        ),
        Option(
            "max_message_kb",
            OptionType.INTEGER,
            "larger messages come as header only, whole when opened, and stay on the "
            "server (0: no limit)",
            default=0,
            bounds=(0, 4 << 20),
        ),
        Option(
            "apop",
            OptionType.BOOLEAN,
            "log in with APOP (the password is never sent); only if the server offers it",
            default=False,
        ),
        *options.smtp(copy_to_sent=False),
    ),
    sending=Sending.SMTP,
    build=build,
    check=check,
    # Sent mail is filed in the local Sent folder (Capabilities.local: the store
    # completes the APPEND op), never on the POP3 server.
    files_sent=True,
    local=True,
)
