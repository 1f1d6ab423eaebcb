"""Provider presets (``providers.toml``): endpoints, scopes per protocol, which flows.

``Provider.client(...)`` makes the ``Client`` of one account from its preset, the
user's own registration (client id, secret) and the protocols the account uses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailtui.auth.client import Client

_DATA = Path(__file__).with_name("providers.toml")


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    label: str
    token_url: str
    authorization_url: str | None
    device_authorization_url: str | None
    scopes: Mapping[str, tuple[str, ...]]  # protocol (imap, pop3, smtp, exchange, always)
    tenant: str | None = None
    redirect_host: str = "127.0.0.1"
    needs_secret: bool = False
    authorize_params: tuple[tuple[str, str], ...] = ()

    def protocols(self) -> tuple[str, ...]:
        return tuple(p for p in self.scopes if p != "always")

    def client(
        self,
        client_id: str,
        *,
        protocols: tuple[str, ...],
        client_secret: str | None = None,
        tenant: str | None = None,
        redirect_port: int = 0,
    ) -> Client:
        """The client for an account using ``protocols`` (e.g. ``("imap", "smtp")``);
        ValueError names a protocol the provider has no scope for."""
        wanted: list[str] = []
        for protocol in (*protocols, "always"):
            if protocol not in self.scopes:
                raise ValueError(f"{self.label} offers no OAuth2 access for {protocol}")
            wanted += [s for s in self.scopes[protocol] if s not in wanted]
        where = tenant or self.tenant or ""

        def fill(url: str | None) -> str | None:
            return url.replace("{tenant}", where) if url else None

        token_url = fill(self.token_url)
        assert token_url is not None
        return Client(
            client_id=client_id,
            token_url=token_url,
            scopes=tuple(wanted),
            authorization_url=fill(self.authorization_url),
            device_authorization_url=fill(self.device_authorization_url),
            client_secret=client_secret,
            redirect_host=self.redirect_host,
            redirect_port=redirect_port,
            authorize_params=self.authorize_params,
            provider=self.label,
        )


def _provider(name: str, data: Mapping[str, Any]) -> Provider:
    scopes = {k: tuple(v) for k, v in data.get("scopes", {}).items()}
    return Provider(
        name=name,
        label=str(data["label"]),
        token_url=str(data["token_url"]),
        authorization_url=data.get("authorization_url"),
        device_authorization_url=data.get("device_authorization_url"),
        scopes=scopes,
        tenant=data.get("tenant"),
        redirect_host=str(data.get("redirect_host", "127.0.0.1")),
        needs_secret=bool(data.get("needs_secret", False)),
        authorize_params=tuple(
            (str(k), str(v)) for k, v in data.get("authorize_params", {}).items()
        ),
    )


def _load() -> dict[str, Provider]:
    with _DATA.open("rb") as f:
        raw = tomllib.load(f)
    return {name: _provider(name, data) for name, data in raw.items()}


PROVIDERS: Mapping[str, Provider] = _load()
