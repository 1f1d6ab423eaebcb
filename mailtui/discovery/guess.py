"""Guessing: is there a mail server on imap./mail./pop./smtp. hosts of the domain, on
the usual ports? Each candidate is connected to at once, with a short time limit, and
counts when it greets as its protocol does (``* OK``, ``+OK``, ``220``). Nothing is
sent but a polite goodbye: no login, no password.

Over implicit TLS the certificate is checked as the account would check it; a server
whose certificate is not trusted still counts (it is there), with a note saying so,
and the setup's check step asks before anything is sent to it."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from mailtui.config.reader import DEFAULT_PORTS
from mailtui.discovery import dnslookup
from mailtui.discovery.autoconfig import ssl_context
from mailtui.discovery.model import Email, Options, Server, Source, SourceResult, Status

#: (protocol, host prefix, security) in the order a found server is preferred.
CANDIDATES = (
    ("imap", "imap", "tls"),
    ("imap", "mail", "tls"),
    ("imap", "imap", "starttls"),
    ("imap", "mail", "starttls"),
    ("pop3", "pop3", "tls"),
    ("pop3", "pop", "tls"),
    ("pop3", "mail", "tls"),
    ("pop3", "pop3", "starttls"),
    ("pop3", "pop", "starttls"),
    ("pop3", "mail", "starttls"),
    ("smtp", "smtp", "tls"),
    ("smtp", "mail", "tls"),
    ("smtp", "smtp", "starttls"),
    ("smtp", "mail", "starttls"),
)
_GREETING = {"imap": (b"* OK", b"* PREAUTH"), "pop3": (b"+OK",), "smtp": (b"220",)}
_GOODBYE = {"imap": b"a LOGOUT\r\n", "pop3": b"QUIT\r\n", "smtp": b"QUIT\r\n"}
UNTRUSTED = "certificate not trusted"


async def guess(email: Email, options: Options) -> SourceResult:
    context = ssl_context(options)
    probes = []
    for protocol, prefix, security in CANDIDATES:
        port = options.guess_ports.get((protocol, security), DEFAULT_PORTS[(protocol, security)])
        host = f"{prefix}.{email.domain}"
        probes.append(Server(protocol, host, port, security, email.address, Source.GUESS))
    answers = await asyncio.gather(
        *(_probe(p, options, context) for p in probes), return_exceptions=True
    )
    found: list[Server] = []
    for probe, answer in zip(probes, answers, strict=True):
        if isinstance(answer, str):
            found.append(probe if answer == "" else _noted(probe, answer))
    if not found:
        return SourceResult(
            Source.GUESS,
            Status.NOTHING,
            detail=f"no mail server answered on imap./mail./pop./smtp.{email.domain}",
        )
    # One server per protocol and security is enough to propose.
    seen: set[tuple[str, str]] = set()
    chosen = []
    for server in found:
        if (server.protocol, server.security) not in seen:
            seen.add((server.protocol, server.security))
            chosen.append(server)
    return SourceResult(Source.GUESS, Status.FOUND, tuple(chosen))


def _noted(server: Server, note: str) -> Server:
    return Server(
        server.protocol,
        server.host,
        server.port,
        server.security,
        server.username,
        server.source,
        server.auth,
        note,
    )


async def _probe(server: Server, options: Options, context: ssl.SSLContext) -> str:
    """ "" when the server greeted, a note when it greeted with a remark; raises when
    nothing mail-like answered."""
    address = server.host
    if options.dns is not None:
        address = (await dnslookup.addresses(server.host, options))[0]
    tls = server.security == "tls"
    try:
        async with asyncio.timeout(options.guess_timeout):
            note = await _greet(server, address, context if tls else None)
    except ssl.SSLCertVerificationError:
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        async with asyncio.timeout(options.guess_timeout):
            await _greet(server, address, insecure)
        note = UNTRUSTED
    return note


async def _greet(server: Server, address: str, context: ssl.SSLContext | None) -> str:
    reader, writer = await asyncio.open_connection(
        address,
        server.port,
        ssl=context,
        server_hostname=server.host if context is not None else None,
        limit=4096,
    )
    try:
        line = await reader.readline()
        if not line.startswith(_GREETING[server.protocol]):
            raise ConnectionError(f"{server.host}:{server.port} is not {server.protocol}")
        writer.write(_GOODBYE[server.protocol])
        with contextlib.suppress(OSError):
            await writer.drain()
        return ""
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
