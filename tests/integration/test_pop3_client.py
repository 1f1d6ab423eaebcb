"""The POP3 wire client (mailtui.protocols.pop3.client) against the real Dovecot POP3
server: login, implicit TLS and STLS, UIDL/LIST/TOP/RETR byte for byte as delivered
(dot-stuffing included), DELE final only at QUIT, pipelined RETR and TOP."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator

import pytest

from mailtui.errors import AuthError, ConfigError
from mailtui.models import Security
from mailtui.protocols.net.connect import CertificateNotTrusted, client_context, ssl_object
from mailtui.protocols.pop3.client import Fetched, MessageTooLarge, Pop3Client
from tests.servers import MailUser, OAuthTokenServer


def message(i: int, body: str = "hello\r\n") -> bytes:
    return (
        f"From: Sender {i} <s{i}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: message {i}\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <p{i}@example.org>\r\n\r\n{body}"
    ).encode()


#: Lines that a POP3 server must dot-stuff: the client has to take one dot off each.
DOTTED = message(
    2,
    ".\r\n..\r\n.leading dot\r\n...three\r\nmiddle . dot\r\n. \r\n.\r\nlast\r\n",
)


def context(user: MailUser) -> ssl.SSLContext:
    ctx = client_context(Security.TLS, user.ca_path, None)
    assert ctx is not None
    return ctx


async def open_tls(user: MailUser) -> Pop3Client:
    return await Pop3Client.open(user.host, user.pop3s_port, Security.TLS, context(user), 10.0)


@pytest.fixture
async def client(mail_user: MailUser) -> AsyncIterator[Pop3Client]:
    conn = await open_tls(mail_user)
    await conn.login(mail_user.name, mail_user.password)
    yield conn
    await conn.abort()


async def logged_in(user: MailUser) -> Pop3Client:
    conn = await open_tls(user)
    await conn.login(user.name, user.password)
    return conn


async def test_login_over_implicit_tls(mail_user: MailUser) -> None:
    conn = await open_tls(mail_user)
    assert ssl_object(conn._stream) is not None
    assert {"UIDL", "TOP", "PIPELINING"} <= set(conn.capabilities)
    await conn.login(mail_user.name, mail_user.password)
    assert conn.logged_in
    assert await conn.stat() == (0, 0)
    await conn.quit()


async def test_wrong_password_is_an_auth_error_with_the_servers_text(
    mail_user: MailUser,
) -> None:
    conn = await open_tls(mail_user)
    with pytest.raises(AuthError, match="Authentication failed"):
        await conn.login(mail_user.name, "not the password")
    await conn.abort()


async def test_user_pass_when_sasl_is_not_used(mail_user: MailUser) -> None:
    conn = await open_tls(mail_user)
    conn.capabilities.pop("SASL")  # as a server that offers USER only
    await conn.login(mail_user.name, mail_user.password)
    assert await conn.stat() == (0, 0)
    await conn.quit()


async def test_stls_upgrades_and_reads_capa_again(mail_user: MailUser) -> None:
    conn = await Pop3Client.open(
        mail_user.host, mail_user.pop3_port, Security.STARTTLS, context(mail_user), 10.0
    )
    assert ssl_object(conn._stream) is not None
    assert conn.capa_known and "STLS" not in conn.capabilities  # the list after TLS
    await conn.login(mail_user.name, mail_user.password)
    assert await conn.stat() == (0, 0)
    await conn.quit()


async def test_bytes_after_the_stls_go_ahead_are_refused() -> None:
    """A line injected in the clear behind the server's STLS go-ahead would be read as if
    it had come over TLS: opening fails with a ConfigError, before any TLS or login."""
    received: list[bytes] = []

    async def fake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK fake ready\r\n")
        while line := await reader.readline():
            received.append(line)
            if line.upper().startswith(b"CAPA"):
                writer.write(b"+OK\r\nSTLS\r\nUSER\r\n.\r\n")
            elif line.upper().startswith(b"STLS"):
                writer.write(b"+OK Begin TLS\r\n+OK injected\r\n")
            else:
                writer.write(b"-ERR no\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(fake, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ConfigError, match="sent data after agreeing to STARTTLS"):
            await Pop3Client.open(
                "127.0.0.1", port, Security.STARTTLS, ssl.create_default_context(), 10.0
            )
    finally:
        server.close()
        await server.wait_closed()
    assert [line.split()[0].upper() for line in received] == [b"CAPA", b"STLS"]


async def test_uidl_list_top_retr_byte_for_byte(mail_user: MailUser) -> None:
    raws = [message(1), DOTTED, message(3, "x" * 5000 + "\r\n")]
    mail_user.deliver_many(raws)
    conn = await logged_in(mail_user)
    assert await conn.stat() == (3, sum(map(len, raws)))
    uids = await conn.uidl()
    assert sorted(uids) == [1, 2, 3] and len(set(uids.values())) == 3
    for n in (1, 2, 3):
        assert await conn.uidl_one(n) == uids[n]
    assert await conn.list() == {n: len(raw) for n, raw in enumerate(raws, 1)}
    assert await conn.list_one(2) == len(DOTTED)
    for n, raw in enumerate(raws, 1):
        assert await conn.retr(n) == raw
        header = raw[: raw.index(b"\r\n\r\n") + 4]
        assert await conn.top(n, 0) == header
    assert await conn.top(2, 2) == DOTTED[: DOTTED.index(b"\r\n\r\n") + 4] + b".\r\n..\r\n"
    await conn.noop()
    await conn.quit()


async def test_dele_is_final_only_at_quit(mail_user: MailUser) -> None:
    raws = [message(i) for i in range(1, 5)]
    mail_user.deliver_many(raws)
    conn = await logged_in(mail_user)
    uids = await conn.uidl()
    await conn.dele(1)
    await conn.dele(2)
    assert (await conn.stat())[0] == 2  # marked ones are not counted any more
    await conn.abort()  # a connection that ends without QUIT: nothing removed

    conn = await logged_in(mail_user)
    assert await conn.uidl() == uids
    await conn.dele(1)
    await conn.rset()
    await conn.dele(3)
    await conn.quit()

    conn = await logged_in(mail_user)
    left = await conn.uidl()
    assert sorted(left.values()) == sorted(uids[n] for n in (1, 2, 4))
    assert [await conn.retr(n) for n in sorted(left)] == [raws[0], raws[1], raws[3]]
    await conn.quit()


@pytest.mark.parametrize("pipelining", [True, False])
async def test_dele_many_pipelined_with_refusals_final_at_quit(
    mail_user: MailUser, pipelining: bool
) -> None:
    raws = [message(i) for i in range(1, 101)]
    mail_user.deliver_many(raws)
    conn = await logged_in(mail_user)
    if not pipelining:
        conn.capabilities.pop("PIPELINING")
    refused = await conn.dele_many([*range(1, 91), 500, 3])  # 500: none; 3: twice
    assert sorted(refused) == [3, 500]
    assert await conn.stat() == (10, sum(map(len, raws[90:])))
    await conn.quit()
    conn = await logged_in(mail_user)
    assert [await conn.retr(n) for n in range(1, 11)] == raws[90:]
    await conn.quit()


async def test_pipelined_retr_and_top_of_many_messages(mail_user: MailUser) -> None:
    raws = [message(i, f"body {i}\r\n" + ".dot\r\n" * (i % 3)) for i in range(1, 301)]
    mail_user.deliver_many(raws)
    conn = await logged_in(mail_user)
    assert conn.pipelining
    numbers = list(range(300, 0, -1))  # newest first, as the backend asks
    got = [f async for f in conn.retrieve(numbers)]
    assert [f.number for f in got] == numbers
    assert all(f.data == raws[f.number - 1] for f in got)
    headers = [f async for f in conn.retrieve(numbers[:50], top_lines=0)]
    assert all(f.data == raws[f.number - 1].split(b"\r\n\r\n")[0] + b"\r\n\r\n" for f in headers)
    await conn.noop()  # the connection is in step after the pipeline
    await conn.quit()


async def test_a_refused_retr_in_a_pipeline_fails_alone(mail_user: MailUser) -> None:
    raws = [message(i) for i in range(1, 4)]
    mail_user.deliver_many(raws)
    conn = await logged_in(mail_user)
    await conn.dele(2)
    got = [f async for f in conn.retrieve([1, 2, 3])]
    assert got[0] == Fetched(1, raws[0]) and got[2] == Fetched(3, raws[2])
    assert got[1].number == 2 and got[1].data is None and got[1].refused
    await conn.quit()


async def test_message_over_the_limit_is_refused_and_left_on_the_server(
    mail_user: MailUser,
) -> None:
    raw = message(1, "y" * 2000 + "\r\n")
    mail_user.deliver(raw)
    conn = await logged_in(mail_user)
    with pytest.raises(MessageTooLarge, match="larger than 1000 bytes"):
        await conn.retr(1, max_size=1000)
    assert conn.broken
    conn = await logged_in(mail_user)
    assert await conn.retr(1) == raw
    await conn.quit()


async def test_oauth_login_and_a_refused_token(
    oauth_user: MailUser, oauth_tokens: OAuthTokenServer
) -> None:
    """OAUTHBEARER (preferred; Dovecot offers XOAUTH2 too) over POP3 AUTH: a good token
    logs in; a revoked one gets Dovecot's JSON error challenge, answered, then AuthError."""
    good = oauth_tokens.issue(oauth_user.name)
    offset = oauth_user.dovecot.log_size()
    conn = await open_tls(oauth_user)
    assert {"OAUTHBEARER", "XOAUTH2"} <= set(conn.capabilities["SASL"])
    await conn.login_oauth(oauth_user.name, good, oauth_user.pop3s_port)
    assert await conn.stat() == (0, 0)
    await conn.quit()
    log = oauth_user.dovecot.log_text(offset)
    assert f"pop3-login: Info: Login: user=<{oauth_user.name}>, method=OAUTHBEARER" in log

    bad = oauth_tokens.issue(oauth_user.name)
    oauth_tokens.revoke(bad)
    conn = await open_tls(oauth_user)
    with pytest.raises(AuthError, match="refused the OAuth access token") as caught:
        await conn.login_oauth(oauth_user.name, bad, oauth_user.pop3s_port)
    assert "(invalid_token)" in str(caught.value) and bad not in str(caught.value)
    await conn.abort()


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
async def test_certificate_pinning_and_an_untrusted_certificate(
    mail_user: MailUser, security: Security
) -> None:
    """tls_fingerprint: the right one connects without any trusted CA, a wrong one is
    refused before a password is sent; without a pin, a certificate the system does not
    trust is refused with the fingerprint the server presented."""
    port = mail_user.pop3s_port if security is Security.TLS else mail_user.pop3_port
    der = ssl.PEM_cert_to_DER_cert(mail_user.ca_path.read_text())
    right = hashlib.sha256(der).hexdigest()
    wrong = hashlib.sha256(b"another certificate").hexdigest()

    pinned = client_context(security, None, right)
    conn = await Pop3Client.open(mail_user.host, port, security, pinned, 10.0, fingerprint=right)
    await conn.login(mail_user.name, mail_user.password)
    await conn.quit()

    with pytest.raises(ConfigError) as caught:
        await Pop3Client.open(mail_user.host, port, security, pinned, 10.0, fingerprint=wrong)
    assert right[:8].upper() in str(caught.value).replace(":", "").upper()

    system = client_context(security, None, None)
    with pytest.raises(CertificateNotTrusted, match="not trusted") as untrusted:
        await Pop3Client.open(mail_user.host, port, security, system, 10.0)
    assert "the server presented" in str(untrusted.value)
