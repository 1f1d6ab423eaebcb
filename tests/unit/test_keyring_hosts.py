"""Hosts without a usable keyring (the common SSH case): found before anything is read
or stored, and every path says what to do instead; a plain-text backend only when named;
password_command and token_command need no keyring at all."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keyring.backend
import pytest
from keyring.backends import fail, null

from mailtui import secrets
from mailtui.auth.client import Client, Tokens
from mailtui.config import parse
from mailtui.login import LoginError, login
from mailtui.protocols.net.credentials import credentials
from tests.unit.keyrings import MemoryKeyring, PlaintextKeyring

SetBackend = Callable[[keyring.backend.KeyringBackend], None]
ACC = '[accounts.w]\nkind = "imap"\nemail = "a@b.c"\nhost = "x"\n'
SMTP = '[accounts.w.smtp]\nhost = "s"\n'
NO_HOST_KEYRING = "this host has no keyring"
INSTEAD = "set password_command (or, with OAuth2, token_command) for the account"


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        (fail.Keyring(), NO_HOST_KEYRING),
        (null.Keyring(), "the null keyring, which keeps nothing"),
        (PlaintextKeyring(), "keeps secrets in a plain file; mailtui uses it only when you"),
    ],
)
async def test_every_keyring_path_says_why_and_what_instead(
    keyring_backend: SetBackend, backend: keyring.backend.KeyringBackend, words: str
) -> None:
    keyring_backend(backend)
    assert words in (secrets.keyring_problem() or "")
    for attempt in (
        lambda: secrets.password("w", None),
        lambda: secrets.access_token("w", None),
        lambda: credentials(parse(ACC).account("w")),
        lambda: credentials(parse(ACC + SMTP).account("w"), smtp=True),
    ):
        with pytest.raises(secrets.SecretError) as info:
            await attempt()
        assert str(info.value).startswith("account 'w': ") and words in str(info.value)
        assert INSTEAD in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(secrets.SecretError, match=words):
        secrets.store_in_keyring("w", "pw")
    with pytest.raises(secrets.SecretError, match=words):
        secrets.store_sign_in("w", Tokens("at", "rt"))


async def test_commands_need_no_keyring(keyring_backend: SetBackend) -> None:
    keyring_backend(fail.Keyring())
    assert await secrets.password("w", "printf pw") == "pw"
    assert await secrets.access_token("w", "printf tok") == "tok"


def test_a_plaintext_keyring_named_by_the_user_is_used(
    keyring_backend: SetBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = PlaintextKeyring()
    keyring_backend(ring)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.unit.keyrings.PlaintextKeyring")
    assert secrets.keyring_problem() is None
    secrets.store_in_keyring("w", "pw")
    assert ring.items == {("mailtui", "w"): "pw"}


def test_a_working_keyring_has_no_problem(memory_keyring: MemoryKeyring) -> None:
    assert secrets.keyring_problem() is None


async def test_login_refuses_before_the_user_signs_in(keyring_backend: SetBackend) -> None:
    """No request to the provider (its URL is unreachable on purpose): the sign-in would
    be lost, so it does not start."""
    keyring_backend(fail.Keyring())
    doc = ACC + 'auth = "oauth2"\n'
    acc = parse(doc).account("w")
    nowhere = "http://127.0.0.1:9"
    client = Client("c", f"{nowhere}/token", ("s",), device_authorization_url=f"{nowhere}/d")
    acc = dataclasses.replace(acc, oauth=client)
    said: list[str] = []
    with pytest.raises(LoginError, match=f"w: {NO_HOST_KEYRING}.*so a sign-in could not be kept"):
        await login(acc, None, said.append)
    assert said == []
