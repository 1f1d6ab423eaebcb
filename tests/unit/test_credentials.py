"""One credential lookup for the account's server and its SMTP server
(mailtui/protocols/net/credentials.py): which command or keyring entry each reads."""

from __future__ import annotations

import pytest

from mailtui.config import parse
from mailtui.protocols.net.credentials import Credentials, credentials, uses_oauth
from mailtui.secrets import SERVICE, SecretError
from tests.unit.keyrings import MemoryKeyring

ACC = '[accounts.w]\nkind = "imap"\nemail = "a@b.c"\nhost = "x"\n'
OAUTH = 'auth = "oauth2"\n'
SMTP = '[accounts.w.smtp]\nhost = "smtp.x"\n'


def printing(text: str) -> str:
    return f"printf '{text}\\n'"




@pytest.mark.parametrize(
    ("doc", "smtp", "stored", "expected"),
    [
        # The account's own server.
        (ACC + f'password_command = "{printing("pw")}"\n', False, {}, Credentials("pw")),
        (ACC, False, {"w": "ring-pw"}, Credentials("ring-pw")),
        (ACC, False, {"w:smtp": "smtp-pw"}, "no password stored for account 'w'"),
        (
            ACC + OAUTH + f'token_command = "{printing("tok")}"\n',
            False,
            {"w": "ring-pw"},
            Credentials(oauth_token="tok"),
        ),
        (ACC + OAUTH, False, {"w:oauth2": "ring-tok"}, Credentials(oauth_token="ring-tok")),
        (ACC + OAUTH, False, {"w": "ring-pw"}, "no OAuth access token for account 'w'"),
        # The SMTP server: its own command, else the account's, else <account>:smtp, else
        # <account>.
        (
            ACC + f'password_command = "{printing("pw")}"\n'
            + SMTP + f'password_command = "{printing("smtp-pw")}"\n',
            True,
            {},
            Credentials("smtp-pw"),
        ),
        (
            ACC + f'password_command = "{printing("pw")}"\n' + SMTP,
            True,
            {"w:smtp": "ring-smtp"},
            Credentials("pw"),
        ),
        (ACC + SMTP, True, {"w:smtp": "ring-smtp", "w": "ring-pw"}, Credentials("ring-smtp")),
        (ACC + SMTP, True, {"w": "ring-pw"}, Credentials("ring-pw")),
        (ACC + SMTP, True, {"w:oauth2": "tok"}, "no password stored for account 'w'"),
        # OAuth: the SMTP table inherits auth and token_command, or names its own.
        (
            ACC + OAUTH + f'token_command = "{printing("tok")}"\n' + SMTP,
            True,
            {},
            Credentials(oauth_token="tok"),
        ),
        (
            ACC + OAUTH + f'token_command = "{printing("tok")}"\n'
            + SMTP + f'token_command = "{printing("smtp-tok")}"\n',
            True,
            {},
            Credentials(oauth_token="smtp-tok"),
        ),
        (ACC + OAUTH + SMTP, True, {"w:oauth2": "ring-tok"}, Credentials(oauth_token="ring-tok")),
        (
            ACC + OAUTH + f'token_command = "{printing("tok")}"\n'
            + SMTP + f'auth = "password"\npassword_command = "{printing("smtp-pw")}"\n',
            True,
            {},
            Credentials("smtp-pw"),
        ),
        (
            ACC + SMTP + OAUTH + f'token_command = "{printing("smtp-tok")}"\n',
            True,
            {"w": "ring-pw"},
            Credentials(oauth_token="smtp-tok"),
        ),
    ],
)
async def test_where_each_secret_comes_from(
    memory_keyring: MemoryKeyring,
    doc: str,
    smtp: bool,
    stored: dict[str, str],
    expected: Credentials | str,
) -> None:
    memory_keyring.items = {(SERVICE, key): value for key, value in stored.items()}
    acc = parse(doc).account("w")
    if isinstance(expected, str):
        with pytest.raises(SecretError, match=expected):
            await credentials(acc, smtp=smtp)
        return
    got = await credentials(acc, smtp=smtp)
    assert (got.password, got.oauth_token) == (expected.password, expected.oauth_token)
    assert got.secret == (expected.oauth_token or expected.password)
    assert uses_oauth(acc, smtp) is (expected.oauth_token is not None)


async def test_a_failing_command_is_named() -> None:
    acc = parse(ACC + 'password_command = "false"\n' + SMTP).account("w")
    for smtp in (False, True):
        with pytest.raises(SecretError, match="password_command failed with exit code 1"):
            await credentials(acc, smtp=smtp)


def test_without_an_smtp_table_smtp_is_not_oauth() -> None:
    acc = parse(ACC + OAUTH).account("w")
    assert uses_oauth(acc) and not uses_oauth(acc, smtp=True)


def test_repr_hides_the_secret() -> None:
    assert repr(Credentials(password="hunter2")) == "Credentials(<password>)"
    assert repr(Credentials(oauth_token="tok")) == "Credentials(<oauth>)"
