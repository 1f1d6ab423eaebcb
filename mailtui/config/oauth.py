"""``[accounts.<name>.oauth]``: the account's OAuth2 client, for ``mailtui login`` and
for refreshing access tokens without an outside helper.

    [accounts.work.oauth]
    provider = "microsoft"          # a preset of mailtui/auth/providers.toml, or "custom"
    client_id = "…"                 # the user's own registration (README)
    client_secret = "…"             # only where the provider wants one (Google)
    tenant = "organizations"        # Microsoft: common (default), organizations, an id
    redirect_port = 8765            # fixed loopback port (for ssh -L); default any free

With ``provider = "custom"``: ``token_url``, ``scopes`` (a list), and
``authorization_url`` and/or ``device_authorization_url``. The scopes of a preset are
those of the account's kind and, when its SMTP server takes OAuth too, of SMTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailtui.auth.client import Client
from mailtui.auth.providers import PROVIDERS
from mailtui.errors import ConfigError

KEYS = (
    "provider", "client_id", "client_secret", "tenant", "redirect_port", "token_url",
    "authorization_url", "device_authorization_url", "scopes",
)
_CUSTOM_ONLY = ("token_url", "authorization_url", "device_authorization_url", "scopes")
CUSTOM = "custom"


def _text(where: str, data: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where} {key}: missing; expected a text value")
        return None
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise ConfigError(f"{where} {key}: expected a text value")
    return value.strip()


def _url(where: str, data: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = _text(where, data, key, required)
    if value is not None and not value.startswith(("https://", "http://")):
        raise ConfigError(f"{where} {key}: expected an http(s):// URL")
    return value


def client(where: str, data: Any, protocols: tuple[str, ...]) -> Client:
    """The ``Client`` of one ``oauth`` table; ``protocols`` those that use the token
    (the account's kind, ``smtp``). ConfigError names the key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table")
    for key in data:
        if key not in KEYS:
            raise ConfigError(f"{where} unknown key {key!r} (known: {', '.join(KEYS)})")
    names = (*PROVIDERS, CUSTOM)
    provider = _text(where, data, "provider", required=True)
    if provider not in names:
        raise ConfigError(
            f"{where} provider: expected one of " + ", ".join(f'"{n}"' for n in names)
        )
    client_id = _text(where, data, "client_id")
    if client_id is None:
        raise ConfigError(
            f"{where} client_id: missing; register an application with the provider and "
            "put its client id here (README, \"Signing in with OAuth2\")"
        )
    secret = _text(where, data, "client_secret")
    port = data.get("redirect_port", 0)  # unset: 0, any free port
    lowest = 1 if "redirect_port" in data else 0
    if not isinstance(port, int) or isinstance(port, bool) or not lowest <= port <= 65535:
        raise ConfigError(f"{where} redirect_port: expected a whole number from 1 to 65535")
    if provider == CUSTOM:
        return _custom(where, data, client_id, secret, port)
    for key in _CUSTOM_ONLY:
        if key in data:
            raise ConfigError(f'{where} {key}: only with provider = "custom"')
    preset = PROVIDERS[provider]
    if preset.needs_secret and secret is None:
        raise ConfigError(
            f"{where} client_secret: {preset.label} wants the client secret of the "
            "registration too"
        )
    tenant = _text(where, data, "tenant")
    if tenant is not None and preset.tenant is None:
        raise ConfigError(f"{where} tenant: {preset.label} has no tenants")
    try:
        return preset.client(
            client_id, protocols=protocols, client_secret=secret, tenant=tenant,
            redirect_port=port,
        )
    except ValueError as exc:
        raise ConfigError(f"{where} provider: {exc}") from None


def _custom(
    where: str, data: Mapping[str, Any], client_id: str, secret: str | None, port: int
) -> Client:
    if "tenant" in data:
        raise ConfigError(f'{where} tenant: not used with provider = "custom"')
    token_url = _url(where, data, "token_url", required=True)
    assert token_url is not None
    authorization_url = _url(where, data, "authorization_url")
    device_url = _url(where, data, "device_authorization_url")
    if authorization_url is None and device_url is None:
        raise ConfigError(
            f"{where}: set authorization_url (browser sign-in) or device_authorization_url "
            "(device code sign-in), or both"
        )
    scopes = data.get("scopes")
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s and " " not in s for s in scopes)
    ):
        raise ConfigError(f"{where} scopes: expected a list of scope names")
    return Client(
        client_id=client_id,
        token_url=token_url,
        scopes=tuple(scopes),
        authorization_url=authorization_url,
        device_authorization_url=device_url,
        client_secret=secret,
        redirect_port=port,
    )
