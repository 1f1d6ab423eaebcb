"""The sign-in in the keyring (mailtui/secrets/signin.py) where no provider is asked:
a stored token still good is used as is; without a refresh token an expired one means
"sign in again"; a provider that cannot be reached is SecretUnavailable, the entries
kept. (The refresh itself: tests/integration/test_signin_accounts.py.)"""

from __future__ import annotations

import time

import pytest

from mailtui import secrets
from mailtui.auth.client import Client, Tokens
from tests.unit.keyrings import MemoryKeyring

NOWHERE = Client("c", "http://127.0.0.1:9/token", ("s",))  # port 9: nothing listens


async def test_a_good_stored_token_is_used_without_asking(memory_keyring: MemoryKeyring) -> None:
    secrets.store_sign_in("w", Tokens("at-1", "rt-1", time.time() + 3600))
    assert await secrets.access_token("w", None, NOWHERE) == "at-1"
    secrets.store_sign_in("w", Tokens("at-2", "rt-1", None))  # no expiry given
    assert await secrets.access_token("w", None, NOWHERE) == "at-2"


async def test_without_a_refresh_token_an_expired_token_means_sign_in_again(
    memory_keyring: MemoryKeyring,
) -> None:
    secrets.store_sign_in("w", Tokens("at-1", None, time.time() + 60))  # inside the margin
    assert ("mailtui", "w:oauth2-refresh") not in memory_keyring.items
    with pytest.raises(secrets.SignInAgain) as info:
        await secrets.access_token("w", None, NOWHERE)
    assert str(info.value) == (
        "the access token of account 'w' has run out and there is no refresh token; "
        "sign in again: mailtui login w"
    )
    memory_keyring.items.clear()
    with pytest.raises(secrets.SignInAgain, match="account 'w' is not signed in"):
        await secrets.access_token("w", None, NOWHERE)


async def test_an_unreachable_provider_keeps_the_sign_in(memory_keyring: MemoryKeyring) -> None:
    secrets.store_sign_in("w", Tokens("at-1", "rt-1", time.time() - 1))
    with pytest.raises(secrets.SecretUnavailable, match="could not reach the token endpoint"):
        await secrets.access_token("w", None, NOWHERE)
    assert memory_keyring.get_password("mailtui", "w:oauth2-refresh") == "rt-1"
    # A damaged access entry is not fatal: it is refreshed (here: tried).
    memory_keyring.set_password("mailtui", "w:oauth2-access", "{not json")
    with pytest.raises(secrets.SecretUnavailable):
        await secrets.access_token("w", None, NOWHERE)
