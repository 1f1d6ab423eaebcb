"""Config: [accounts.X.smtp] auth = "none" for a relay that takes mail without a login."""

from __future__ import annotations

import pytest

from mailtui.config import parse
from mailtui.errors import ConfigError
from mailtui.protocols.net.credentials import credentials
from mailtui.sync.outbox import smtp_settings

ACC = (
    '[accounts.w]\nkind = "imap"\nemail = "a@b.c"\nhost = "x"\n'
    'password_command = "echo imap-secret"\n'
)
SMTP = '[accounts.w.smtp]\nhost = "relay.x"\nport = 25\nauth = "none"\n'


async def test_auth_none_needs_no_username_and_runs_no_command() -> None:
    acc = parse(ACC + SMTP + 'username = ""\n').account("w")
    assert acc.smtp is not None
    assert acc.smtp.auth == "none" and acc.smtp.username == ""
    # The account's own password_command (IMAP) is not inherited for SMTP.
    assert acc.smtp.password_command is None
    settings = smtp_settings(acc)
    assert settings.login is False
    assert str(settings.security) == "starttls"  # the same TLS default as with a login
    found = await credentials(acc, smtp=True)
    assert found.password is None and found.oauth_token is None
    # The account's own server still logs in with its password.
    assert (await credentials(acc)).password == "imap-secret"


def test_auth_none_without_username_key() -> None:
    acc = parse(ACC + SMTP).account("w")
    assert acc.smtp is not None and acc.smtp.username == ""


@pytest.mark.parametrize("key", ["password_command", "token_command"])
def test_auth_none_with_a_secret_command_is_an_error(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(ACC + SMTP + f'{key} = "pass show smtp"\n')
    text = str(caught.value)
    assert "[accounts.w.smtp]" in text and key in text
    assert 'auth = "none"' in text and f"remove {key}" in text


def test_auth_none_only_for_smtp() -> None:
    with pytest.raises(ConfigError, match='auth: expected one of "password", "oauth2"'):
        parse(ACC.replace('host = "x"\n', 'host = "x"\nauth = "none"\n'))


def test_an_empty_username_still_needs_auth_none() -> None:
    with pytest.raises(ConfigError, match="username"):
        parse(ACC + '[accounts.w.smtp]\nhost = "relay.x"\nusername = ""\n')


def test_a_login_is_still_the_default() -> None:
    acc = parse(ACC + '[accounts.w.smtp]\nhost = "relay.x"\n').account("w")
    assert acc.smtp is not None and acc.smtp.auth is None
    assert smtp_settings(acc).login is True
