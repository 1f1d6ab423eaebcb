"""The ``exchange`` account kind (Exchange ActiveSync): described, and sending through
the server (``sendmail.py``); the sync backend is not built yet (its accounts do not
sync)."""

from __future__ import annotations

from mailtui.config import AccountConfig, ConfigError
from mailtui.protocols import options
from mailtui.sync.contract import (
    AccountStateAccess,
    KindSpec,
    Option,
    OptionType,
    Sending,
    SubmissionFactory,
)


def check(account: AccountConfig, where: str) -> None:
    if account.smtp is not None:
        raise ConfigError(f"{where} smtp: Exchange accounts send through the server itself")


def submission(acc: AccountConfig, state: AccountStateAccess) -> SubmissionFactory:
    # Imported when an account sends: httpx and the codec are start-up time otherwise.
    from mailtui.protocols.eas import sendmail

    return sendmail.submission(acc, state)


URL = Option(
    "url",
    OptionType.TEXT,
    "the ActiveSync address, if not https://HOST/Microsoft-Server-ActiveSync (SOGo: /SOGo/…)",
)

EXCHANGE = KindSpec(
    name="exchange",
    label="Exchange",
    summary="Microsoft Exchange or Office 365 over ActiveSync; sent through the server",
    options=(*options.server("exchange", "outlook.office365.com"), URL),
    sending=Sending.BACKEND,
    check=check,
    submission=submission,
)
