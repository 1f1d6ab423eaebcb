"""Autodiscover for ActiveSync: the account's ActiveSync address from its email address,
for the setup wizard ([MS-ASCMD] 2.2.1.1 Autodiscover, the POX request with the
mobilesync response schema; and the JSON "v2" endpoint Microsoft 365 answers).

Tried in this order; the first that names an ActiveSync address wins:

    1. POST https://DOMAIN/autodiscover/autodiscover.xml            (the POX request,
    2. POST https://autodiscover.DOMAIN/autodiscover/autodiscover.xml  with the password)
    3. GET  http://autodiscover.DOMAIN/autodiscover/autodiscover.xml  (the HTTP redirect
       method: no password; only an answer that redirects to https counts, and is then
       asked with the POX request)
    4. GET  https://autodiscover-s.outlook.com/autodiscover/autodiscover.json/v1.0/EMAIL
       ?Protocol=ActiveSync                                          (JSON, no password)

(DNS SRV ``_autodiscover._tcp`` is not tried.) Every address can be replaced
(``Endpoints``): tests and private deployments point them at their own servers.

The password goes only over https and only to hosts of the email's domain (the domain
and its subdomains) or of the endpoints the caller gave. A redirect (HTTP 301/302/307/
308, or the POX ``Redirect`` to another address) that leads elsewhere is not followed:
the outcome is ``AskUser``, and the wizard asks before calling again with that host in
``trusted_hosts``. A redirect to plain http is never followed. ``Found.other_domain``
says when the ActiveSync address itself is outside the email's domain (Microsoft 365):
the wizard asks before it sends the password there.

``allow_http``: the caller chose a plain-http Autodiscover address itself (a private
deployment, as ``--autoconfig-url http://…`` may): it is asked, and may name a plain-http
ActiveSync address, but only without a password (none goes over plain http, ever).

Answers are read with a size limit and a time limit each, and the XML is parsed without
a DTD, entities or network access (a document that declares any is refused unread).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from mailtui.protocols.net import tls

REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
OUTER_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
POX = ("https://{domain}/autodiscover/autodiscover.xml",
       "https://autodiscover.{domain}/autodiscover/autodiscover.xml")  # fmt: skip
REDIRECT_PROBE = "http://autodiscover.{domain}/autodiscover/autodiscover.xml"
JSON_V2 = (
    "https://autodiscover-s.outlook.com/autodiscover/autodiscover.json/v1.0/{email}"
    "?Protocol=ActiveSync"
)
MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where to look, ``{domain}`` and ``{email}`` filled in; None or () skips a way."""

    pox: tuple[str, ...] = POX
    redirect_probe: str | None = REDIRECT_PROBE
    json: str | None = JSON_V2


@dataclass(frozen=True, slots=True)
class Found:
    url: str  # the ActiveSync address
    source: str  # the Autodiscover address that named it
    display_name: str = ""
    #: The address is outside the email's domain: ask before sending a password there.
    other_domain: bool = False


@dataclass(frozen=True, slots=True)
class AskUser:
    """Autodiscover leads to another domain; ask, then call again with ``host`` trusted."""

    url: str
    host: str
    reason: str


@dataclass(frozen=True, slots=True)
class NotFound:
    tried: tuple[str, ...]  # "URL: why", one per address tried


Outcome = Found | AskUser | NotFound


class _Skip(Exception):
    """This address gave nothing; ``str()`` says why. Never leaves the module."""


@dataclass
class _Run:
    email: str
    username: str
    password: str | None
    trusted: frozenset[str]
    client: httpx.AsyncClient
    max_bytes: int
    allow_http: bool = False
    tried: list[str] = field(default_factory=list)
    asks: list[AskUser] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()

    def own(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.trusted or host == self.domain or host.endswith("." + self.domain)


def _fill(template: str, email: str) -> str:
    domain = email.rpartition("@")[2].lower()
    return template.replace("{domain}", domain).replace("{email}", quote(email, safe="@"))


async def autodiscover(
    email: str,
    *,
    username: str | None = None,
    password: str | None = None,
    endpoints: Endpoints | None = None,
    trusted_hosts: frozenset[str] = frozenset(),
    ca_file: Path | None = None,
    timeout: float = 10.0,
    max_bytes: int = MAX_BYTES,
    deadline: float | None = None,
    allow_http: bool = False,
) -> Outcome:
    """The ActiveSync address of ``email`` (see the module docstring). ``timeout`` is
    per request, ``deadline`` (seconds) for the whole search: what was not tried by
    then is said in ``NotFound``. Never raises for what a server does; a bad email
    address is a ValueError."""
    if email.count("@") != 1 or not email.partition("@")[0] or "." not in email:
        raise ValueError(f"{email!r} is not an email address")
    ends = endpoints or Endpoints()
    given = [_fill(u, email) for u in (*ends.pox, ends.redirect_probe or "", ends.json or "")]
    trusted = set(trusted_hosts) | {urlsplit(u).hostname or "" for u in given if u}
    if endpoints is None:  # the defaults name the email's domain, and Microsoft's JSON
        trusted = set(trusted_hosts)
    context: ssl.SSLContext = tls.client_context(ca_file)
    async with httpx.AsyncClient(
        verify=context, timeout=timeout, trust_env=False, follow_redirects=False
    ) as client:
        run = _Run(email, username or email, password, frozenset(h.lower() for h in trusted),
                   client, max_bytes, allow_http and password is None)  # fmt: skip
        ways: list[tuple[str, _Way]] = [(_fill(t, email), _pox) for t in ends.pox]
        if ends.redirect_probe:
            ways.append((_fill(ends.redirect_probe, email), _probe))
        if ends.json:
            ways.append((_fill(ends.json, email), _json))
        done = 0
        try:
            async with asyncio.timeout(deadline):
                for url, how in ways:
                    found = await _attempt(run, url, how)
                    done += 1
                    if found is not None:
                        return found
        except TimeoutError:
            run.tried += [f"{url}: not tried, or not finished, within {deadline:g} s"
                          for url, _ in ways[done:]]  # fmt: skip
    if run.asks:
        return run.asks[0]
    return NotFound(tuple(run.tried))


_Way = Callable[[_Run, str], Awaitable[Found | None]]


async def _attempt(run: _Run, url: str, how: _Way) -> Found | None:
    try:
        found: Found | None = await how(run, url)
    except _Skip as exc:
        run.tried.append(f"{url}: {exc}")
        return None
    return found


async def _get(run: _Run, method: str, url: str, **kw: Any) -> tuple[int, httpx.Headers, bytes]:
    """One request, its answer read up to ``max_bytes``. Raises _Skip."""
    try:
        async with run.client.stream(method, url, **kw) as response:
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > run.max_bytes:
                raise _Skip(f"an answer larger than {run.max_bytes // 1024} KB")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > run.max_bytes:
                    raise _Skip(f"an answer larger than {run.max_bytes // 1024} KB")
            return response.status_code, response.headers, bytes(body)
    except httpx.TimeoutException:
        raise _Skip("no answer in time") from None
    except httpx.HTTPError as exc:
        cause = exc.__cause__ or exc.__context__
        why = "certificate not trusted" if isinstance(cause, ssl.SSLError) else "cannot connect"
        raise _Skip(f"{why} ({exc.__class__.__name__})") from None


def _redirect(run: _Run, url: str, headers: httpx.Headers) -> str | AskUser:
    """Where an HTTP redirect leads, if it may be followed with the password."""
    location = headers.get("location")
    if not location:
        raise _Skip("a redirect that says nowhere")
    target = str(urljoin(url, location))
    parts = urlsplit(target)
    if parts.scheme != "https" or not parts.hostname:
        raise _Skip(f"a redirect to {target}, which is not https")
    if not run.own(parts.hostname):
        return AskUser(target, parts.hostname,
                       f"Autodiscover for {run.domain} sends to {parts.hostname}")  # fmt: skip
    return target


def _request(email: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<Autodiscover xmlns="{REQUEST_NS}"><Request>'
        f"<EMailAddress>{_escape(email)}</EMailAddress>"
        f"<AcceptableResponseSchema>{RESPONSE_NS}</AcceptableResponseSchema>"
        "</Request></Autodiscover>"
    ).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def _pox(run: _Run, url: str, hops: int = 0) -> Found | None:
    """The POX request at ``url`` with the password (https only); follows redirects
    within the trusted hosts."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme != "https" and not (
        run.allow_http and parts.scheme == "http"
    ):
        raise _Skip("not https: the password is not sent there")
    if not run.own(parts.hostname):
        run.asks.append(AskUser(url, parts.hostname, f"Autodiscover leads to {parts.hostname}"))
        raise _Skip(f"{parts.hostname} is not of {run.domain}: asking first")
    auth = httpx.BasicAuth(run.username, run.password) if run.password is not None else None
    status, headers, body = await _get(
        run, "POST", url, content=_request(run.email),
        headers={"Content-Type": "text/xml; charset=utf-8"}, auth=auth,
    )  # fmt: skip
    if status in (301, 302, 303, 307, 308):
        if hops >= MAX_REDIRECTS:
            raise _Skip("too many redirects")
        target = _redirect(run, url, headers)
        if isinstance(target, AskUser):
            run.asks.append(target)
            raise _Skip(f"redirects to {target.host}: asking first")
        return await _pox(run, target, hops + 1)
    if status == 401:
        raise _Skip("the server refused the user name or password (HTTP 401)")
    if status != 200:
        raise _Skip(f"HTTP {status}")
    kind, value, name = parse_pox(body, run.allow_http)
    if kind == "settings":
        return Found(value, url, name, other_domain=not run.own(urlsplit(value).hostname or ""))
    # A Redirect names another email address to ask about.
    new_domain = value.rpartition("@")[2].lower()
    if hops >= MAX_REDIRECTS or value.casefold() == run.email.casefold():
        raise _Skip("a redirect loop")
    if not run.own(new_domain):
        run.asks.append(AskUser(value, new_domain, f"Autodiscover sends to the address {value}"))
        raise _Skip(f"redirects to the address {value}: asking first")
    run.email = value
    return await _pox(run, url, hops + 1)


async def _probe(run: _Run, url: str) -> Found | None:
    """The HTTP redirect method: a GET without the password whose redirect to https is
    then asked with the POX request."""
    status, headers, _ = await _get(run, "GET", url)
    if status not in (301, 302, 307, 308):
        raise _Skip(f"no redirect (HTTP {status})")
    target = _redirect(run, url, headers)
    if isinstance(target, AskUser):
        run.asks.append(target)
        raise _Skip(f"redirects to {target.host}: asking first")
    return await _pox(run, target)


async def _json(run: _Run, url: str) -> Found | None:
    """The JSON endpoint (no password): ``{"Protocol": "ActiveSync", "Url": …}``."""
    status, _, body = await _get(run, "GET", url, headers={"Accept": "application/json"})
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        raise _Skip(f"not JSON (HTTP {status})") from None
    if not isinstance(data, dict):
        raise _Skip(f"HTTP {status}")
    if status != 200 or "Url" not in data:
        error = str(data.get("ErrorMessage") or data.get("ErrorCode") or f"HTTP {status}")
        raise _Skip(error[:200])
    value = data.get("Url")
    if not isinstance(value, str) or urlsplit(value).scheme != "https":
        raise _Skip("an ActiveSync address that is not https")
    if str(data.get("Protocol", "ActiveSync")).lower() != "activesync":
        raise _Skip("an answer for another protocol")
    return Found(value, url, other_domain=not run.own(urlsplit(value).hostname or ""))


def _parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_pis=True)  # fmt: skip


def parse_pox(body: bytes, allow_http: bool = False) -> tuple[str, str, str]:
    """("settings", ActiveSync URL, display name) or ("redirect", email, "") from a POX
    answer (a plain-http URL only with ``allow_http``). Raises _Skip with the server's
    error or why the document is refused."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise _Skip("refused: the answer declares a DTD or entities")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        raise _Skip("not an Autodiscover answer (not XML)") from None
    m = f"{{{RESPONSE_NS}}}"
    response = root.find(f"{m}Response")
    if root.tag != f"{{{OUTER_NS}}}Autodiscover" or response is None:
        error = root.findtext(f".//{{{OUTER_NS}}}Message")
        raise _Skip(f"the server says: {error.strip()[:200]}" if error else
                    "not an ActiveSync Autodiscover answer")  # fmt: skip
    action = response.find(f"{m}Action")
    if action is None:
        raise _Skip("an answer without an action")
    redirect = (action.findtext(f"{m}Redirect") or "").strip()
    if redirect:
        if redirect.count("@") != 1:
            raise _Skip("a redirect to something that is not an email address")
        return "redirect", redirect, ""
    for server in action.iterfind(f"{m}Settings/{m}Server"):
        if (server.findtext(f"{m}Type") or "").strip() == "MobileSync":
            url = (server.findtext(f"{m}Url") or server.findtext(f"{m}Name") or "").strip()
            if urlsplit(url).scheme == "https" or allow_http and url.startswith("http://"):
                name = (response.findtext(f"{m}User/{m}DisplayName") or "").strip()
                return "settings", url, name[:200]
            raise _Skip("an ActiveSync address that is not https")
    message = action.findtext(f"{m}Error/{m}Message")
    if message:
        raise _Skip(f"the server says: {message.strip()[:200]}")
    raise _Skip("no ActiveSync (MobileSync) address in the answer")


__all__ = ["AskUser", "Endpoints", "Found", "NotFound", "Outcome", "autodiscover", "parse_pox"]
