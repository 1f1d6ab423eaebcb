"""The connect functions every line protocol shares (mailtui/protocols/net/connect.py):
the error each failure maps to, and an untrusted certificate's error naming the one the
server presented."""

from __future__ import annotations

import socket
import ssl

import pytest

from mailtui.errors import ConfigError, TransientError
from mailtui.models import Security
from mailtui.protocols.net import connect


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_transient() -> None:
    port = free_port()  # nothing listens there any more
    with pytest.raises(TransientError, match=f"cannot connect to 127.0.0.1:{port}: "):
        await connect.open_stream(
            "127.0.0.1", port, Security.NONE, None, timeout=5.0, limit=1 << 16
        )


def ssl_error(kind: type[ssl.SSLError], **attributes: str) -> ssl.SSLError:
    """An error as the ssl module raises it (it sets these attributes itself)."""
    error = kind(1, "handshake failed")
    for name, value in attributes.items():
        setattr(error, name, value)
    return error


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (
            ssl_error(ssl.SSLCertVerificationError, verify_message="self-signed certificate"),
            connect.CertificateNotTrusted,
            "the certificate of mail.example is not trusted (self-signed certificate); if "
            "this is your own server, set ca_file",
        ),
        (
            ssl_error(ssl.SSLError, reason="WRONG_VERSION_NUMBER"),
            ConfigError,
            "TLS with mail.example failed: WRONG_VERSION_NUMBER",
        ),
    ],
)
def test_tls_errors_are_config_errors(
    error: ssl.SSLError, kind: type[ConfigError], text: str
) -> None:
    mapped = connect.tls_error("mail.example", error)
    assert type(mapped) is kind and str(mapped).startswith(text)


@pytest.mark.parametrize("presented", ["ab" * 32, None])
async def test_an_untrusted_certificate_names_the_presented_one(presented: str | None) -> None:
    async def opening() -> str:
        raise connect.CertificateNotTrusted("the certificate of x is not trusted")

    async def probe() -> str | None:
        return presented

    with pytest.raises(connect.CertificateNotTrusted) as info:
        await connect.naming_presented_certificate(opening(), probe)
    text = str(info.value)
    assert text.startswith("the certificate of x is not trusted")
    if presented is None:
        assert "presented" not in text
    else:
        assert "the server presented sha256:AB:AB:" in text


async def test_an_opening_that_works_is_not_probed() -> None:
    async def opening() -> str:
        return "open"

    async def probe() -> str | None:
        raise AssertionError("probed")

    assert await connect.naming_presented_certificate(opening(), probe) == "open"


def test_no_context_without_tls() -> None:
    assert connect.client_context(Security.NONE, None, None) is None
    assert isinstance(connect.client_context(Security.STARTTLS, None, None), ssl.SSLContext)
