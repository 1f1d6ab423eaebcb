"""DNS: SRV records for mail (RFC 6186, RFC 8314) and MX-based rules, asked of the
system's resolver or of the server ``Options.dns`` names (dnspython)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from mailtui.discovery import providers
from mailtui.discovery.model import (
    Email,
    Options,
    Server,
    Source,
    SourceResult,
    Status,
    clean_text,
    is_host_name,
)

#: SRV service -> (protocol, security), in the order RFC 8314 prefers: implicit TLS first.
SERVICES = (
    ("_imaps._tcp", "imap", "tls"),
    ("_imap._tcp", "imap", "starttls"),
    ("_pop3s._tcp", "pop3", "tls"),
    ("_pop3._tcp", "pop3", "starttls"),
    ("_submissions._tcp", "smtp", "tls"),
    ("_submission._tcp", "smtp", "starttls"),
)


def resolver(options: Options) -> dns.asyncresolver.Resolver:
    """The resolver for ``options``: the server it names, else the system's. Raises
    DiscoveryError for a bad ``dns``; dns.resolver.NoResolverConfiguration when the
    system has none."""
    server = options.dns_server()
    if server is None:
        r = dns.asyncresolver.Resolver()
    else:
        r = dns.asyncresolver.Resolver(configure=False)
        r.nameservers = [server[0]]
        r.port = server[1]
    r.lifetime = options.deadline
    r.timeout = min(2.0, options.deadline)
    return r


class Gone(Exception):
    """The name does not exist, or has no record of the type: nothing, not a failure.
    Never leaves this package."""


async def _query(r: dns.asyncresolver.Resolver, name: str, rdtype: str) -> list[object]:
    try:
        answer = await r.resolve(name, rdtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        raise Gone(name) from None
    return list(answer)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return "the DNS server did not answer"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "the DNS server refused or failed the query"
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return "no DNS server configured on this machine"
    return clean_text(f"{type(exc).__name__}: {exc}", 100)


async def srv(email: Email, options: Options) -> SourceResult:
    r = resolver(options)
    names = [f"{service}.{email.domain}" for service, _, _ in SERVICES]
    answers = await asyncio.gather(
        *(_query(r, name, "SRV") for name in names), return_exceptions=True
    )
    servers: list[Server] = []
    failures: list[str] = []
    for (service, protocol, security), answer in zip(SERVICES, answers, strict=True):
        if isinstance(answer, Gone):
            continue
        if isinstance(answer, BaseException):
            failures.append(f"{service}: {_failure(answer)}")
            continue
        records = sorted(answer, key=lambda a: (a.priority, -a.weight))  # type: ignore[attr-defined]
        for record in records:
            target = str(record.target).rstrip(".")  # type: ignore[attr-defined]
            if not target or not is_host_name(target):  # "." : the service is not offered
                continue
            port = int(record.port)  # type: ignore[attr-defined]
            if not 0 < port < 65536:
                continue
            servers.append(
                Server(protocol, target.lower(), port, security, email.address, Source.SRV)
            )
    # Implicit TLS before STARTTLS within a protocol (RFC 8314), SERVICES' order kept.
    if servers:
        return SourceResult(Source.SRV, Status.FOUND, tuple(servers))
    if failures:
        return SourceResult(Source.SRV, Status.FAILED, detail="; ".join(failures))
    detail = f"no mail SRV records for {email.domain}"
    return SourceResult(Source.SRV, Status.NOTHING, detail=detail)


async def mx_hosts(email: Email, options: Options) -> list[str]:
    """The domain's MX hosts, most preferred first. Raises Gone, dns errors."""
    records = await _query(resolver(options), email.domain, "MX")
    ordered = sorted(records, key=lambda a: a.preference)  # type: ignore[attr-defined]
    return [str(a.exchange).rstrip(".").lower() for a in ordered]  # type: ignore[attr-defined]


async def mx(email: Email, options: Options) -> SourceResult:
    try:
        hosts = await mx_hosts(email, options)
    except Gone:
        return SourceResult(Source.MX, Status.NOTHING, detail=f"no MX records for {email.domain}")
    except dns.exception.DNSException as exc:
        return SourceResult(Source.MX, Status.FAILED, detail=_failure(exc))
    provider = providers.by_mx(hosts)
    shown = ", ".join(clean_text(h) for h in hosts[:3])
    if provider is None:
        return SourceResult(Source.MX, Status.NOTHING, detail=f"MX {shown}: no known provider")
    return SourceResult(
        Source.MX,
        Status.FOUND,
        provider.servers(email, Source.MX),
        f"MX {shown}",
        provider.name,
    )


async def addresses(name: str, options: Options) -> Sequence[str]:
    """IPv4 addresses of ``name`` from the resolver of ``options`` (for guessing with a
    DNS server of its own). Raises Gone, dns errors."""
    return [str(a) for a in await _query(resolver(options), name, "A")]
