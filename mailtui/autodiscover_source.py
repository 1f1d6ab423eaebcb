"""Exchange Autodiscover as one of discovery's sources.

Discovery (``mailtui.discovery``) and the Exchange kind (``mailtui.protocols.eas``) are
layers that do not import each other; this module, above both, turns the kind's
``autodiscover`` into a discovery runner and hands it over in ``Options.runners``:

    options = with_autodiscover(Options(dns=…, autodiscover_url=…))
    findings = await discovery.find(email, options)

Discovery sends no password, so neither does this source: it asks without one (an
Autodiscover that wants the password before it says anything answers "nothing"; the
user then gives the ActiveSync address in the servers step). Without
``autodiscover_url`` the domain's usual addresses are asked (POX at DOMAIN and
autodiscover.DOMAIN, the http redirect probe); Microsoft's JSON endpoint is not: it
would tell Microsoft every address anyone sets up, and the MX rules already find
domains hosted there. A redirect to another domain is followed only for a host in
``Options.trusted_hosts`` or with ``Options.trust_redirects``; else the result names
it in ``ask_host`` for the wizard to ask about.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from mailtui.discovery import Email, Options, Server, Source, SourceResult, Status
from mailtui.discovery.model import clean_text, is_host_name
from mailtui.protocols.eas import autodiscover as ad

#: How many redirects to other domains ``--trust-hosts`` follows.
MAX_FOLLOWED = 3


def with_autodiscover(options: Options) -> Options:
    """``options`` with the Autodiscover runner added."""
    return replace(options, runners={**options.runners, Source.AUTODISCOVER: run})


def endpoints(options: Options) -> ad.Endpoints:
    if options.autodiscover_url:
        return ad.Endpoints(pox=(options.autodiscover_url,), redirect_probe=None, json=None)
    return ad.Endpoints(pox=ad.POX, redirect_probe=ad.REDIRECT_PROBE, json=None)


async def run(email: Email, options: Options) -> SourceResult:
    """Autodiscover asked for ``email``, as a discovery result (never raises for what a
    server does)."""
    trusted = set(options.trusted_hosts)
    given = endpoints(options)
    plain = bool(options.autodiscover_url and options.autodiscover_url.startswith("http://"))
    for _ in range(MAX_FOLLOWED + 1):
        outcome = await ad.autodiscover(
            email.address,
            endpoints=given,
            trusted_hosts=frozenset(trusted),
            ca_file=options.ca_file,
            timeout=options.deadline,
            deadline=options.deadline,
            allow_http=plain,
        )
        if isinstance(outcome, ad.AskUser) and options.trust_redirects:
            if outcome.host.lower() in trusted:
                break
            trusted.add(outcome.host.lower())
            continue
        return _result(email, outcome)
    return SourceResult(Source.AUTODISCOVER, Status.FAILED, detail="too many redirects")


def _result(email: Email, outcome: ad.Outcome) -> SourceResult:
    if isinstance(outcome, ad.NotFound):
        why = "; ".join(clean_text(t, 160) for t in outcome.tried[:3])
        return SourceResult(Source.AUTODISCOVER, Status.NOTHING, detail=why or "nothing")
    if isinstance(outcome, ad.AskUser):
        host = outcome.host if is_host_name(outcome.host) else ""
        return SourceResult(
            Source.AUTODISCOVER,
            Status.NOTHING,
            detail=clean_text(f"{outcome.reason}: not followed without asking"),
            ask_host=host.lower(),
        )
    parts = urlsplit(outcome.url)
    host = parts.hostname or ""
    if not is_host_name(host):
        return SourceResult(
            Source.AUTODISCOVER, Status.FAILED, detail="an ActiveSync address with a bad host"
        )
    https = parts.scheme == "https"
    note = f"not in {email.domain}" if outcome.other_domain else ""
    server = Server(
        "exchange",
        host,
        parts.port or (443 if https else 80),
        "tls" if https else "none",
        email.address,
        Source.AUTODISCOVER,
        note=note,
        url=clean_text(outcome.url, 400),
    )
    name = clean_text(outcome.display_name)
    detail = f"ActiveSync at {server.url}" + (f" ({name})" if name else "")
    return SourceResult(Source.AUTODISCOVER, Status.FOUND, (server,), detail=detail)
