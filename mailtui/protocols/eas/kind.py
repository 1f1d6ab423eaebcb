"""The ``exchange`` account kind (Exchange ActiveSync): its options, its builder, and
its submission (sending through the server, ``sendmail.py``)."""

from __future__ import annotations

from mailtui.config import AccountConfig, ConfigError
from mailtui.protocols import options
from mailtui.sync.contract import (
    AccountStateAccess,
    Backend,
    KindSpec,
    Option,
    OptionType,
    Sending,
    SubmissionFactory,
)


def build(account: AccountConfig) -> Backend:
    # Imported on first use: only Exchange accounts load the ActiveSync code.
    from mailtui.protocols.eas.backend import build

    return build(account)


def submission(acc: AccountConfig, state: AccountStateAccess) -> SubmissionFactory:
    # Imported when an account sends, as the backend is when it syncs.
    from mailtui.protocols.eas import sendmail

    return sendmail.submission(acc, state)


def check(account: AccountConfig, where: str) -> None:
    if account.smtp is not None:
        raise ConfigError(f"{where} smtp: Exchange accounts send through the server itself")
    url = account.url
    if url is not None and not url.startswith(("https://", "http://")):
        raise ConfigError(f"{where} url: {url!r} is not an http(s) address")


EXCHANGE = KindSpec(
    name="exchange",
    label="Exchange",
    summary="Microsoft Exchange or Office 365 over ActiveSync; sent through the server",
    options=(
        *options.server("exchange", "outlook.office365.com"),
        Option(
            "url",
            OptionType.TEXT,
            "the ActiveSync address, when it is not https://HOST/Microsoft-Server-ActiveSync",
        ),
    ),
    sending=Sending.BACKEND,
    build=build,
    check=check,
    submission=submission,
)
