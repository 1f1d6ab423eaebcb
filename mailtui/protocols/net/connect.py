"""Opening a connection for a line protocol (IMAP, POP3): TCP or TLS from the first byte,
STARTTLS on a connection already open, the account's trust, and one error mapping.

    connection refused/reset, no answer in time          TransientError
    certificate not trusted (CertificateNotTrusted),     ConfigError
    not the pinned one, TLS handshake refused

The protocol itself (greeting, its STARTTLS command, login) stays with the protocol: it
calls ``open_stream``, then for ``starttls`` sends its command and calls ``start_tls``,
and calls ``check_pin`` after each handshake, before a byte of the protocol (let alone a
password) goes over TLS. ``naming_presented_certificate`` wraps the whole opening so that
an untrusted certificate's error says which one the server presented, and
``presented_fingerprint`` is how a protocol finds that out (its own opening, unverified).

Trust (``mailtui.protocols.net.tls``): the system store, exactly ``ca_file``, or, with
``tls_fingerprint``, only the pinned certificate.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TypeVar

from mailtui.errors import ConfigError, SyncError, TransientError
from mailtui.models import Security
from mailtui.protocols.net import tls
from mailtui.protocols.net.linereader import LineReader

T = TypeVar("T")


class Opened(Protocol):
    """A protocol's connection as ``presented_fingerprint`` needs it."""

    @property
    def line_reader(self) -> LineReader: ...

    async def abort(self) -> None: ...


C = TypeVar("C", bound=Opened)

#: How long asking an untrusted server which certificate it has may take.
PROBE_TIMEOUT = 10.0


class CertificateNotTrusted(ConfigError):
    """The server's certificate failed verification (system store or ``ca_file``)."""


def tls_error(host: str, exc: ssl.SSLError) -> ConfigError:
    """A failed handshake in words for the user, with what to set when it is the
    certificate."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or str(exc)
        return CertificateNotTrusted(
            f"the certificate of {host} is not trusted ({why}); if this is your own "
            "server, set ca_file to its certificate, or tls_fingerprint to its SHA-256 "
            "fingerprint"
        )
    return ConfigError(f"TLS with {host} failed: {exc.reason or exc}")


def presented_note(presented: str) -> str:
    """What an untrusted certificate's error adds: which certificate the server presented
    (``presented``: its fingerprint), for the user to compare with the server's own
    before trusting it."""
    return (
        f"the server presented {tls.show_fingerprint(presented)}: check that this is your "
        "server's certificate before trusting it"
    )


def not_trusted_presenting(exc: CertificateNotTrusted, presented: str) -> CertificateNotTrusted:
    """``exc`` with ``presented_note``."""
    return CertificateNotTrusted(f"{exc}; {presented_note(presented)}")


async def naming_presented_certificate(
    opening: Awaitable[T], probe: Callable[[], Awaitable[str | None]]
) -> T:
    """The result of ``opening``. When the server's certificate is not trusted, the
    error also names the certificate it presented, for the user to compare with the
    server's own before trusting it: ``probe`` gives its fingerprint (a second handshake
    that verifies nothing and logs in to nothing), None if that cannot be had."""
    try:
        return await opening
    except CertificateNotTrusted as exc:
        presented = await probe()
        if presented is None:
            raise
        raise not_trusted_presenting(exc, presented) from None


def client_context(
    security: Security | str, ca_file: Path | None, fingerprint: str | None
) -> ssl.SSLContext | None:
    """The TLS context for an account's trust; None without TLS."""
    if security == Security.NONE:
        return None
    return tls.client_context(ca_file, fingerprint)


async def open_stream(
    host: str,
    port: int,
    security: Security | str,
    ssl_context: ssl.SSLContext | None,
    *,
    timeout: float,
    limit: int,
) -> LineReader:
    """A connection to ``host:port``: TLS from the first byte for ``Security.TLS``, else
    plain TCP (STARTTLS comes later: ``start_tls``). ``timeout`` bounds the connecting
    and, as the reader's ``idle_timeout``, each silence after it; ``limit`` is the
    longest line."""
    implicit = security == Security.TLS
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, stream = await loop.create_connection(
                lambda: LineReader(limit, idle_timeout=timeout),
                host,
                port,
                ssl=ssl_context if implicit else None,
                server_hostname=host if implicit else None,
            )
    except ssl.SSLError as exc:
        raise tls_error(host, exc) from None
    except TimeoutError:
        raise TransientError(f"{host}:{port} did not answer in time") from None
    except OSError as exc:
        # asyncio's own text ("Connect call failed ('127.0.0.1', 993)") says less than
        # the system's for the same errno ("Connection refused").
        why = os.strerror(exc.errno) if exc.errno else exc.strerror or exc
        raise TransientError(f"cannot connect to {host}:{port}: {why}") from None
    return stream


async def start_tls(
    stream: LineReader, host: str, ssl_context: ssl.SSLContext, timeout: float
) -> None:
    """TLS over the open connection, once the server agreed to STARTTLS; the reader
    goes on over the encrypted transport."""
    transport = stream.transport
    assert transport is not None
    if stream.buffered:
        # Bytes that came after the server's go-ahead but before TLS: sent in the clear,
        # they would be read as if they had come over TLS (a man in the middle's way to
        # inject answers, CVE-2011-0411 and its kin). Nothing happens between this check
        # and the pause of the transport inside ``loop.start_tls``.
        raise ConfigError(
            f"{host} sent data after agreeing to STARTTLS, before TLS began: refused, since "
            "someone on the way may have added it; if this goes on, use security = \"tls\""
        )
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            upgraded = await loop.start_tls(transport, stream, ssl_context, server_hostname=host)
    except ssl.SSLError as exc:
        raise tls_error(host, exc) from None
    except (OSError, TimeoutError) as exc:
        raise TransientError(f"TLS with {host} failed: {exc}") from None
    if upgraded is None:
        raise TransientError(f"TLS with {host} failed: the connection was closed")
    stream.connection_made(upgraded)


def ssl_object(stream: LineReader) -> ssl.SSLObject | None:
    """The TLS side of the connection, None before TLS."""
    transport = stream.transport
    found = None if transport is None else transport.get_extra_info("ssl_object")
    return found if isinstance(found, ssl.SSLObject) else None


def check_pin(stream: LineReader, fingerprint: str | None, host: str) -> None:
    """With a pinned ``fingerprint``: ConfigError unless the server's certificate has it."""
    if fingerprint is None:
        return
    try:
        tls.check_pin(ssl_object(stream), fingerprint, host)
    except tls.PinMismatch as exc:
        raise ConfigError(str(exc)) from None


async def presented_fingerprint(
    security: Security | str, open_unverified: Callable[[ssl.SSLContext], Awaitable[C]]
) -> str | None:
    """The SHA-256 fingerprint of the certificate a server presents, from a connection
    ``open_unverified`` opens with the context it is given (one that verifies nothing),
    aborted at once, before any login; None without TLS or when that cannot be had."""
    if security == Security.NONE:
        return None
    try:
        conn = await open_unverified(tls.pinned_context())
    except (SyncError, ConfigError, OSError):
        return None
    try:
        return tls.peer_fingerprint(ssl_object(conn.line_reader))
    finally:
        await conn.abort()
