"""``[accounts.<name>.oauth]``: presets (scopes by kind and SMTP, tenants, Google's
secret), a provider of one's own, and the mistakes named by file, table and key. And
the pure parts of the token endpoint's answers (mailtui/auth/client.py)."""

from __future__ import annotations

import pytest

from mailtui.auth.client import OAuthError, tokens_from
from mailtui.auth.providers import PROVIDERS
from mailtui.config import parse
from mailtui.errors import ConfigError

ACC = '[accounts.w]\nkind = "{kind}"\nemail = "a@b.c"\nhost = "x"\nauth = "oauth2"\n'
SMTP = '[accounts.w.smtp]\nhost = "smtp.x"\n'
MS = '[accounts.w.oauth]\nprovider = "microsoft"\nclient_id = "id-1"\n'
OUTLOOK = "https://outlook.office.com/"


@pytest.mark.parametrize(
    ("kind", "smtp", "scopes"),
    [
        ("imap", True, ["IMAP.AccessAsUser.All", "SMTP.Send"]),
        ("imap", False, ["IMAP.AccessAsUser.All"]),
        ("pop3", True, ["POP.AccessAsUser.All", "SMTP.Send"]),
        ("exchange", False, ["EAS.AccessAsUser.All"]),
    ],
)
def test_microsoft_scopes_follow_the_protocols(kind: str, smtp: bool, scopes: list[str]) -> None:
    doc = ACC.format(kind=kind) + (SMTP if smtp else "") + MS
    client = parse(doc).account("w").oauth
    assert client is not None
    assert client.scopes == (*(OUTLOOK + s for s in scopes), "offline_access")
    assert client.flows == ("device", "loopback")
    base = "https://login.microsoftonline.com/common/oauth2/v2.0/"
    assert client.token_url == base + "token"
    assert client.device_authorization_url == base + "devicecode"
    assert client.authorization_url == base + "authorize"
    assert client.redirect_host == "localhost" and client.client_secret is None


def test_tenant_and_fixed_port() -> None:
    doc = ACC.format(kind="imap") + MS + 'tenant = "organizations"\nredirect_port = 8765\n'
    client = parse(doc).account("w").oauth
    assert client is not None
    assert client.token_url.startswith("https://login.microsoftonline.com/organizations/")
    assert client.redirect_port == 8765


def test_google_is_loopback_only_and_wants_its_secret() -> None:
    doc = ACC.format(kind="imap") + SMTP + '[accounts.w.oauth]\nprovider = "google"\n'
    doc += 'client_id = "x.apps.googleusercontent.com"\n'
    with pytest.raises(ConfigError, match="client_secret: Google wants the client secret"):
        parse(doc)
    client = parse(doc + 'client_secret = "GOCSPX-1"\n').account("w").oauth
    assert client is not None
    assert client.flows == ("loopback",)
    assert client.scopes == ("https://mail.google.com/",)
    assert dict(client.authorize_params) == {"access_type": "offline", "prompt": "consent"}
    assert "GOCSPX-1" not in repr(client)
    assert client.form(code="c")["client_secret"] == "GOCSPX-1"


def test_custom_provider() -> None:
    doc = ACC.format(kind="imap") + (
        '[accounts.w.oauth]\nprovider = "custom"\nclient_id = "c"\n'
        'token_url = "https://id.example/token"\n'
        'device_authorization_url = "https://id.example/device"\nscopes = ["mail", "offline"]\n'
    )
    client = parse(doc).account("w").oauth
    assert client is not None
    assert client.flows == ("device",) and client.scopes == ("mail", "offline")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (ACC.format(kind="imap").replace('auth = "oauth2"\n', "") + MS,
         r'\[accounts.w.oauth\]: only used with auth = "oauth2"'),
        (ACC.format(kind="imap") + 'token_command = "t"\n' + MS,
         "token_command and an oauth table are two ways to get a token"),
        (ACC.format(kind="imap") + '[accounts.w.oauth]\nprovider = "yahoo"\nclient_id = "c"\n',
         r'provider: expected one of "microsoft", "google", "custom"'),
        (ACC.format(kind="imap") + '[accounts.w.oauth]\nprovider = "microsoft"\n',
         r"client_id: missing; register an application"),
        (ACC.format(kind="imap") + MS + 'clientid = "c"\n', "unknown key 'clientid'"),
        (ACC.format(kind="imap") + MS + 'token_url = "https://x"\n',
         'token_url: only with provider = "custom"'),
        (ACC.format(kind="imap") + MS + "redirect_port = 0\n",
         "redirect_port: expected a whole number from 1 to 65535"),
        (ACC.format(kind="exchange") + '[accounts.w.oauth]\nprovider = "google"\n'
         'client_id = "c"\nclient_secret = "s"\n',
         "Google offers no OAuth2 access for exchange"),
        (ACC.format(kind="imap") + '[accounts.w.oauth]\nprovider = "google"\nclient_id = "c"\n'
         'client_secret = "s"\ntenant = "t"\n', "tenant: Google has no tenants"),
        (ACC.format(kind="imap") + '[accounts.w.oauth]\nprovider = "custom"\nclient_id = "c"\n'
         'token_url = "https://t"\nscopes = ["a"]\n', "set authorization_url"),
        (ACC.format(kind="imap") + '[accounts.w.oauth]\nprovider = "custom"\nclient_id = "c"\n'
         'token_url = "ftp://t"\n', "token_url: expected an http"),
        (ACC.format(kind="imap") + '[accounts.w.oauth]\nprovider = "custom"\nclient_id = "c"\n'
         'token_url = "https://t"\nauthorization_url = "https://a"\nscopes = "a b"\n',
         "scopes: expected a list of scope names"),
    ],
)
def test_mistakes_are_named(doc: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse(doc)


def test_smtp_alone_may_use_oauth() -> None:
    doc = (
        ACC.format(kind="imap").replace('auth = "oauth2"\n', 'password_command = "p"\n')
        + SMTP + 'auth = "oauth2"\n' + MS
    )
    client = parse(doc).account("w").oauth
    assert client is not None and client.scopes == (OUTLOOK + "SMTP.Send", "offline_access")


def test_no_preset_ships_a_client_id() -> None:
    """Every user registers their own application: the presets hold none."""
    from mailtui.auth import providers

    data = [line for line in providers._DATA.read_text().splitlines() if not line.startswith("#")]
    assert not any("client_id" in line or "client_secret =" in line for line in data)
    assert set(PROVIDERS) == {"microsoft", "google"}
    for provider in PROVIDERS.values():
        assert provider.token_url.startswith("https://")


def test_token_answers() -> None:
    t = tokens_from({"access_token": "a", "token_type": "bearer", "expires_in": "3600"}, now=100)
    assert (t.access_token, t.refresh_token, t.expires_at) == ("a", None, 3700)
    assert t.expires_within(300, now=3500) and not t.expires_within(300, now=3300)
    t = tokens_from({"access_token": "a", "refresh_token": "r"}, now=0)
    assert t.expires_at is None and t.refresh_token == "r" and not t.expires_within(300)
    for bad in ({}, {"access_token": ""}, {"access_token": "a b"}, {"access_token": 5}):
        with pytest.raises(OAuthError, match="without a usable access_token"):
            tokens_from(bad)
    with pytest.raises(OAuthError, match="a 'mac' token, not a Bearer one"):
        tokens_from({"access_token": "a", "token_type": "mac"})
