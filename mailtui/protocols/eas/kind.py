"""The ``exchange`` account kind (Exchange ActiveSync): described, not yet built
(accounts of it are refused)."""

from __future__ import annotations

from mailtui.config import AccountConfig, ConfigError
from mailtui.protocols import options
from mailtui.sync.contract import KindSpec, Sending


def check(account: AccountConfig, where: str) -> None:
    if account.smtp is not None:
        raise ConfigError(f"{where} smtp: Exchange accounts send through the server itself")


EXCHANGE = KindSpec(
    name="exchange",
    label="Exchange",
    summary="Microsoft Exchange or Office 365 over ActiveSync; sent through the server",
    options=options.server("exchange", "outlook.office365.com"),
    sending=Sending.BACKEND,
    check=check,
)
