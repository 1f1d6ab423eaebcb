"""TLS settings shared by IMAP and SMTP: which certificates an account trusts.

- Default: the system store, and the certificate must name the host.
- ``ca_file``: exactly the certificates in that file (a self-hosted server's own cert).
- ``tls_fingerprint`` (pinning): exactly the one certificate whose SHA-256 over its DER
  bytes is the configured value; neither a CA nor the host name matters then. The
  handshake cannot check that by itself, so ``pinned_context`` verifies nothing and the
  caller calls ``check_pin`` right after the handshake, before a byte of the protocol
  (let alone a password) is sent.

Fingerprints are kept as 64 lower-case hex digits (``mailtui.config`` normalises what the
user wrote) and shown as ``sha256:AB:CD:…``, the form ``openssl x509 -fingerprint
-sha256`` prints.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from pathlib import Path
from typing import Any


class PinMismatch(Exception):
    """The server presented a certificate other than the pinned one; ``str()`` says
    which one, for the user to compare."""

    def __init__(self, host: str, presented: str, key: str) -> None:
        self.presented = presented
        super().__init__(
            f"the certificate of {host} does not match {key}: the server presented "
            f"{presented}; if the server's certificate was renewed, check the new one "
            f"and put its fingerprint in {key}"
        )


def show_fingerprint(hex_digest: str) -> str:
    """``"abcd…"`` → ``"sha256:AB:CD:…"``."""
    pairs = [hex_digest[i : i + 2].upper() for i in range(0, len(hex_digest), 2)]
    return "sha256:" + ":".join(pairs)


def fingerprint_of(der: bytes) -> str:
    """The SHA-256 fingerprint of a certificate's DER bytes, as 64 lower-case hex digits."""
    return hashlib.sha256(der).hexdigest()


def client_context(ca_file: Path | None = None, fingerprint: str | None = None) -> ssl.SSLContext:
    """The client context for an account's settings (see the module docstring)."""
    if fingerprint:
        return pinned_context()
    # With a cafile, create_default_context trusts exactly that file (no system CAs).
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def pinned_context() -> ssl.SSLContext:
    """Modern TLS without chain or host name checks: ``check_pin`` does the checking."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def peer_fingerprint(ssl_object: Any) -> str | None:
    """The fingerprint of the certificate the server presented, None if there is none."""
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return fingerprint_of(der) if der else None


def check_pin(ssl_object: Any, expected: str, host: str, key: str = "tls_fingerprint") -> None:
    """Raises PinMismatch unless the peer's certificate has the ``expected`` fingerprint."""
    presented = peer_fingerprint(ssl_object)
    if presented is None:
        raise PinMismatch(host, "no certificate at all", key)
    if not hmac.compare_digest(presented, expected.lower()):
        raise PinMismatch(host, show_fingerprint(presented), key)
