"""OAuth2 access tokens from token_command or the keyring (``<account>:oauth2``), with
errors that name the setting; passwords are unchanged."""

from __future__ import annotations

import pytest

from mailtui import secrets
from tests.unit.keyrings import MemoryKeyring


async def test_token_command_is_run_each_time() -> None:
    assert await secrets.access_token("w", "printf 'ya29.tok-en_1\\n'") == "ya29.tok-en_1"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("exit 3", "token_command failed with exit code 3"),
        ("true", "token_command printed nothing"),
        ("printf 'two words\\n'", "contains spaces or control characters"),
    ],
)
async def test_token_command_problems_name_token_command(command: str, expected: str) -> None:
    with pytest.raises(secrets.SecretError, match=expected):
        await secrets.access_token("w", command)


async def test_token_from_the_keyring_under_account_oauth2(memory_keyring: MemoryKeyring) -> None:
    expected = r"no OAuth access token for account 'w'.*w:oauth2"
    with pytest.raises(secrets.SecretError, match=expected):
        await secrets.access_token("w", None)
    memory_keyring.set_password("mailtui", "w", "the-password")  # not a token
    with pytest.raises(secrets.SecretError):
        await secrets.access_token("w", None)
    memory_keyring.set_password("mailtui", "w:oauth2", "tok")
    assert await secrets.access_token("w", None) == "tok"
    assert await secrets.password("w", None) == "the-password"


async def test_password_command_errors_still_say_password_command() -> None:
    with pytest.raises(secrets.SecretError, match="password_command failed with exit code 1"):
        await secrets.password("w", "false")
