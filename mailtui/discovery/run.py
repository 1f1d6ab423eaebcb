"""Discovery as a whole: every source at once, each result handed on as it arrives,
the whole bounded by a deadline; then the results merged into one proposal per kind.

    async for result in discover("me@example.org", options):
        show(result)                    # provider table first, guessing when it comes
    proposals = merge(results)          # imap / exchange / pop3, best first

A source that fails (a timeout, a 404, bad XML, NXDOMAIN) is one result saying so; the
others go on. At the deadline every source still running is cancelled and reported as
timed out, and the iterator ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from mailtui.discovery import autoconfig, dnslookup, guess, providers
from mailtui.discovery.model import (
    AUTOCONFIG_URLS,
    Email,
    Options,
    Proposal,
    Runner,
    Server,
    Source,
    SourceResult,
    Status,
    clean_text,
    registered_domain,
)


async def _table(email: Email, options: Options) -> SourceResult:
    provider = providers.by_domain(email.domain)
    if provider is None:
        return SourceResult(Source.PROVIDERS, Status.NOTHING, detail=f"{email.domain} not listed")
    return SourceResult(
        Source.PROVIDERS,
        Status.FOUND,
        provider.servers(email, Source.PROVIDERS),
        provider.note,
        provider.name,
    )


async def _autoconfig(email: Email, options: Options) -> SourceResult:
    templates = (options.autoconfig_url,) if options.autoconfig_url else AUTOCONFIG_URLS
    return await autoconfig.lookup(email, options, Source.AUTOCONFIG, templates)


async def _ispdb(email: Email, options: Options) -> SourceResult:
    """The ISPDB by the address's domain; when it has nothing, by the domain of the
    domain's first MX host (a domain hosted at an ISP the ISPDB knows by its own name)."""
    result = await autoconfig.lookup(email, options, Source.ISPDB, (options.ispdb_url,))
    if result.status is not Status.NOTHING:
        return result
    try:
        hosts = await dnslookup.mx_hosts(email, options)
    except Exception:  # no MX, or no DNS: the first answer stands
        return result
    domain = registered_domain(hosts[0]) if hosts else ""
    if not domain or domain == email.domain or "." not in domain:
        return result
    by_mx = await autoconfig.lookup(email, options, Source.ISPDB, (options.ispdb_url,), domain)
    if by_mx.status is not Status.FOUND:
        return result
    return replace(by_mx, detail=f"{by_mx.detail} (by the MX host {clean_text(hosts[0])})")


async def _unavailable(email: Email, options: Options) -> SourceResult:
    return SourceResult(Source.AUTODISCOVER, Status.NOTHING, detail="not asked here")


RUNNERS: dict[Source, Runner] = {
    Source.AUTODISCOVER: _unavailable,  # the caller gives it (Options.runners)
    Source.PROVIDERS: _table,
    Source.AUTOCONFIG: _autoconfig,
    Source.ISPDB: _ispdb,
    Source.MX: dnslookup.mx,
    Source.SRV: dnslookup.srv,
    Source.GUESS: guess.guess,
}


async def _guarded(source: Source, runner: Runner, email: Email, options: Options) -> SourceResult:
    """The runner's result; any error becomes a FAILED result in plain words."""
    try:
        return await runner(email, options)
    except Exception as exc:  # one source's trouble never stops the others
        text = clean_text(str(exc), 120) or type(exc).__name__
        return SourceResult(source, Status.FAILED, detail=text)


async def discover(
    address: str | Email, options: Options | None = None
) -> AsyncIterator[SourceResult]:
    """Every source's result as it arrives, within ``options.deadline`` seconds; the
    sources still running then are reported as TIMED_OUT. Raises DiscoveryError (before
    anything runs) for an address that is not one or a bad ``options.dns``."""
    options = options or Options()
    email = address if isinstance(address, Email) else Email.parse(address)
    options.dns_server()  # a bad --dns is the caller's error, said once, not per source
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.deadline
    tasks = {
        asyncio.create_task(
            _guarded(source, options.runners.get(source, RUNNERS[source]), email, options)
        ): source
        for source in sorted(options.sources)
    }
    pending = set(tasks)
    try:
        while pending:
            left = deadline - loop.time()
            if left <= 0:
                break
            done, pending = await asyncio.wait(
                pending, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            for task in sorted(done, key=lambda t: tasks[t]):
                yield task.result()
        for task in sorted(pending, key=lambda t: tasks[t]):
            yield SourceResult(
                tasks[task],
                Status.TIMED_OUT,
                detail=f"no answer within {options.deadline:g} s",
            )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything discovery found for one address."""

    email: Email
    results: tuple[SourceResult, ...]  # as they arrived
    proposals: tuple[Proposal, ...]  # best first; empty when nothing was found


async def find(
    address: str | Email,
    options: Options | None = None,
    on_result: Callable[[SourceResult], None] | None = None,
) -> Findings:
    """``discover`` run to its end, then ``merge``d; ``on_result`` sees each result as
    it arrives."""
    email = address if isinstance(address, Email) else Email.parse(address)
    results = []
    async for result in discover(email, options):
        results.append(result)
        if on_result is not None:
            on_result(result)
    return Findings(email, tuple(results), merge(results))


_KINDS = ("imap", "exchange", "pop3")  # the order proposals are offered in


def merge(results: Iterable[SourceResult]) -> tuple[Proposal, ...]:
    """One proposal per kind some source found an incoming server for: the incoming
    server from the best source that has one (provider table, autoconfig, ISPDB, MX,
    SRV, guessing), the SMTP server likewise; each the first its source lists."""
    found = sorted((r for r in results if r.status is Status.FOUND), key=lambda r: r.source)
    smtp = _first(found, "smtp")
    proposals = []
    for kind in _KINDS:
        incoming = _first(found, kind)
        if incoming is None:
            continue
        origin = next(r for r in found if r.source == incoming.source)
        note = origin.detail if origin.source is Source.PROVIDERS else ""
        outgoing = None if kind == "exchange" else smtp
        proposals.append(Proposal(kind, incoming, outgoing, origin.provider, note))
    # Best source first; for one source, IMAP before Exchange before POP3.
    return tuple(sorted(proposals, key=lambda p: (p.incoming.source, _KINDS.index(p.kind))))


def _first(results: Sequence[SourceResult], protocol: str) -> Server | None:
    for result in results:
        for server in result.servers:
            if server.protocol == protocol:
                return server
    return None
