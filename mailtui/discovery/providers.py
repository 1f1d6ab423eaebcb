"""The built-in table of the big providers (``providers.toml`` beside this file): by the
address's domain, or by the domain's MX hosts (a custom domain hosted at Google or
Microsoft gets that provider's settings)."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from mailtui.config.reader import SECURITY_MODES
from mailtui.discovery.model import Email, Server, Source, is_host_name

PROTOCOLS = ("imap", "pop3", "exchange", "smtp")


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    name: str
    domains: tuple[str, ...]
    mx: tuple[str, ...]  # MX host name suffixes
    endpoints: tuple[tuple[str, str, int, str], ...]  # (protocol, host, port, security)
    username: str  # "email" | "localpart"
    smtp_username: str
    auth: str  # "password" | "oauth2"
    note: str

    def servers(self, email: Email, source: Source) -> tuple[Server, ...]:
        out = []
        for protocol, host, port, security in self.endpoints:
            form = self.smtp_username if protocol == "smtp" else self.username
            user = email.local if form == "localpart" else email.address
            out.append(Server(protocol, host, port, security, user, source, self.auth))
        return tuple(out)

    def serves_mx(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == s or host.endswith("." + s) for s in self.mx)


def _endpoint(key: str, protocol: str, text: str) -> tuple[str, str, int, str]:
    host, port, security = text.split(":")
    if not is_host_name(host) or security not in SECURITY_MODES or not 0 < int(port) < 65536:
        raise ValueError(f"providers.toml [{key}] {protocol}: bad entry {text!r}")
    return protocol, host, int(port), security


def parse(text: str) -> tuple[Provider, ...]:
    """The table in ``text`` (the format of providers.toml). Raises ValueError for an
    entry that is not right (tests/unit/test_discovery_parts.py reads the shipped
    one)."""
    out = []
    for key, entry in tomllib.loads(text).items():
        endpoints = tuple(
            _endpoint(key, protocol, item)
            for protocol in PROTOCOLS
            for item in entry.get(protocol, ())
        )
        username = entry.get("username", "email")
        if username not in ("email", "localpart") or entry.get("auth", "password") not in (
            "password",
            "oauth2",
        ):
            raise ValueError(f"providers.toml [{key}]: bad username or auth")
        out.append(
            Provider(
                key=key,
                name=entry["name"],
                domains=tuple(d.lower() for d in entry.get("domains", ())),
                mx=tuple(m.lower() for m in entry.get("mx", ())),
                endpoints=endpoints,
                username=username,
                smtp_username=entry.get("smtp_username", username),
                auth=entry.get("auth", "password"),
                note=entry.get("note", ""),
            )
        )
    return tuple(out)


@functools.cache
def table() -> tuple[Provider, ...]:
    """The shipped table."""
    text = resources.files("mailtui.discovery").joinpath("providers.toml").read_text("utf-8")
    return parse(text)


def by_domain(domain: str, providers: Sequence[Provider] | None = None) -> Provider | None:
    for provider in table() if providers is None else providers:
        if domain in provider.domains:
            return provider
    return None


def by_mx(hosts: Sequence[str], providers: Sequence[Provider] | None = None) -> Provider | None:
    """The provider that the first MX host (by preference) that any provider claims
    belongs to; the longest matching suffix wins (Outlook.com's MX is a sub-domain of
    Microsoft 365's)."""
    candidates = table() if providers is None else providers
    for host in hosts:
        matches = [p for p in candidates if p.serves_mx(host)]
        if matches:
            return max(matches, key=lambda p: max(len(s) for s in p.mx if _ends(host, s)))
    return None


def _ends(host: str, suffix: str) -> bool:
    host = host.lower().rstrip(".")
    return host == suffix or host.endswith("." + suffix)
