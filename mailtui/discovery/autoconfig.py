"""Autoconfig files (Thunderbird's ``clientConfig`` format, version 1.1): the provider's
own (``autoconfig.<domain>``, ``<domain>/.well-known/autoconfig``) and the ISPDB's.

Fetched over HTTPS with a time limit and a size limit (a response larger than
``Options.max_xml_bytes`` is refused while it is read, never held whole), and parsed
safely: a document with a DTD or an entity declaration is refused before the parser sees
it, and the parser itself resolves no entities, loads no DTD and reads nothing from the
network (docs/decisions.md, "Finding an account's settings")."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any
from urllib.parse import quote

import httpx
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from mailtui.config.reader import DEFAULT_PORTS
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

NOT_FOUND = "host not found"
_SOCKET = {"ssl": "tls", "tls": "tls", "starttls": "starttls", "plain": "none"}
_TYPES = {"imap": "imap", "pop3": "pop3", "exchange": "exchange", "smtp": "smtp"}


class Refused(Exception):
    """A document not read: too large, not XML, a DTD; ``str()`` says why in plain words.
    Never leaves this package (it becomes a FAILED result)."""


def urls(template: str, email: Email, domain: str | None = None) -> str:
    return template.replace("{domain}", domain or email.domain).replace(
        "{email}", quote(email.address, safe="@")
    )


def ssl_context(options: Options) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if options.ca_file is not None:
        context.load_verify_locations(cafile=str(options.ca_file))
    return context


async def fetch(client: httpx.AsyncClient, url: str, limit: int) -> bytes | None:
    """The body at ``url``; None for 404/410 (nothing there). Raises Refused, httpx.HTTPError."""
    headers = {"Accept-Encoding": "identity"}  # the size limit counts what is held
    async with client.stream("GET", url, headers=headers) as response:
        if url.startswith("https:") and response.url.scheme != "https":
            raise Refused(f"{url}: redirected to plain HTTP, refused")
        if response.status_code in (404, 410):
            return None
        if response.status_code != 200:
            raise Refused(f"HTTP {response.status_code} from {url}")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise Refused(f"{url}: compressed ({clean_text(encoding, 20)}), refused")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise Refused(f"{url}: larger than {limit // 1024} KiB")
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > limit:
                raise Refused(f"{url}: larger than {limit // 1024} KiB")
        return bytes(body)


def parser() -> Any:
    """lxml's parser as discovery uses it: no entity is resolved, no DTD loaded, nothing
    read from the network, no huge trees (the second line of defence behind the refusal
    of any DTD in ``parse``)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse(data: bytes, email: Email, source: Source) -> tuple[str, tuple[Server, ...]]:
    """(provider name, servers in the file's order). Raises Refused."""
    head = data.lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise Refused("refused: the document declares a DTD or entities")
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as exc:
        raise Refused(f"not valid XML ({clean_text(str(exc), 60)})") from None
    if root.tag != "clientConfig":
        raise Refused(f"not an autoconfig document (root element {clean_text(str(root.tag))})")
    provider = root.find("emailProvider")
    if provider is None:
        return "", ()
    name = clean_text(provider.findtext("displayName") or provider.get("id") or "")
    servers = []
    for element in provider:
        if element.tag not in ("incomingServer", "outgoingServer"):
            continue
        server = _server(element, email, source)
        if server is not None:
            servers.append(server)
    return name, tuple(servers)


def _server(element: Any, email: Email, source: Source) -> Server | None:
    protocol = _TYPES.get(element.get("type", ""))
    if protocol is None:
        return None  # ews, owa, graph, jmap …: kinds mailtui does not have
    host = _fill(element.findtext("hostname") or "", email).strip()
    security = _SOCKET.get((element.findtext("socketType") or "").strip().lower())
    if security is None or not is_host_name(host):
        return None
    port_text = (element.findtext("port") or "").strip()
    port = int(port_text) if port_text.isdigit() else DEFAULT_PORTS[(protocol, security)]
    if not 0 < port < 65536:
        return None
    username = clean_text(_fill(element.findtext("username") or "%EMAILADDRESS%", email), 200)
    methods = [(m.text or "").strip().lower() for m in element.findall("authentication")]
    auth = "oauth2" if methods and all(m == "oauth2" for m in methods) else "password"
    return Server(protocol, host.lower(), port, security, username or email.address, source, auth)


def _fill(text: str, email: Email) -> str:
    return (
        text.replace("%EMAILADDRESS%", email.address)
        .replace("%EMAILLOCALPART%", email.local)
        .replace("%EMAILDOMAIN%", email.domain)
    )


async def lookup(
    email: Email,
    options: Options,
    source: Source,
    templates: tuple[str, ...],
    domain: str | None = None,
) -> SourceResult:
    """The first of ``templates`` (in order) that has a document; each URL is asked at
    once. A 404 everywhere is NOTHING; a refusal or an error with nothing found, FAILED.
    ``domain`` replaces the address's in the URLs (the ISPDB asked by MX host)."""
    timeout = httpx.Timeout(options.deadline, connect=min(3.0, options.deadline))
    async with httpx.AsyncClient(
        verify=ssl_context(options),
        timeout=timeout,
        follow_redirects=True,
        max_redirects=3,
        trust_env=False,
    ) as client:
        targets = [urls(t, email, domain) for t in templates]
        answers = await asyncio.gather(
            *(fetch(client, url, options.max_xml_bytes) for url in targets),
            return_exceptions=True,
        )
    problems = []
    absent = []
    for url, answer in zip(targets, answers, strict=True):
        if answer is None:
            absent.append("404")
            continue
        if isinstance(answer, httpx.ConnectError) and _connect_words(answer) == NOT_FOUND:
            absent.append(NOT_FOUND)  # no autoconfig.<domain>: the common case, not a failure
            continue
        if isinstance(answer, BaseException):
            problems.append(_problem(url, answer))
            continue
        try:
            name, servers = parse(answer, email, source)
        except Refused as exc:
            problems.append(f"{url}: {exc}")
            continue
        if servers:
            return SourceResult(source, Status.FOUND, servers, f"from {url}", name)
        problems.append(f"{url}: no server mailtui can use")
    if problems:
        return SourceResult(source, Status.FAILED, detail="; ".join(problems))
    reasons = ", ".join(dict.fromkeys(absent))
    what = "no ISPDB entry" if source is Source.ISPDB else "no autoconfig file"
    return SourceResult(source, Status.NOTHING, detail=f"{what} ({reasons})")


def _problem(url: str, exc: BaseException) -> str:
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return f"{url}: timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"{url}: {_connect_words(exc)}"
    return f"{url}: {clean_text(type(exc).__name__ + ' ' + str(exc), 100)}"


def _connect_words(exc: httpx.ConnectError) -> str:
    """Why a connection failed, in plain words."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return NOT_FOUND
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate not trusted ({clean_text(cause.verify_message or '', 60)})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = clean_text(str(exc), 80)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate not trusted"
    return text or "cannot connect"
