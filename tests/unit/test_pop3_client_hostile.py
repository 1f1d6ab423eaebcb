"""Contract-style tests of the POP3 client (mailtui.protocols.pop3.client) against a tiny
scripted asyncio POP3 server on 127.0.0.1, for what the real Dovecot never does: over-long
lines, a multi-line answer cut off without its terminator, garbage UIDL lines, silence,
no STLS, no UIDL, APOP, login refused "for now". Each must end in a clear SyncError within
the timeout, never a hang or a traceback of another kind."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from mailtui.errors import AuthError, ConfigError, SyncError, TransientError
from mailtui.models import Security
from mailtui.protocols.pop3.client import (
    LINE_LIMIT,
    CommandRefused,
    Fetched,
    MessageTooLarge,
    Pop3Client,
    ProtocolViolation,
    UidlUnsupported,
)

CAPA = b"+OK\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\n.\r\n"
#: What the server does for a command: bytes to send, CLOSE to hang up after sending,
#: SILENT to say nothing more.
CLOSE = b"\x00close"
SILENT = b"\x00silent"
Reply = bytes | list[bytes]


@dataclass
class ScriptedServer:
    """Answers each command line (exact, else by its first word) from ``replies``;
    records every line it received."""

    replies: dict[str, Reply]
    greeting: bytes = b"+OK ready\r\n"
    received: list[str] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(self.greeting)
            while line := await reader.readline():
                command = line.decode().rstrip("\r\n")
                self.received.append(command)
                reply = self.replies.get(command, self.replies.get(command.split(" ")[0].upper()))
                parts = reply if isinstance(reply, list) else [reply or b"-ERR unknown\r\n"]
                for part in parts:
                    if part == SILENT:
                        await asyncio.sleep(3600)
                    if part == CLOSE:
                        return
                    writer.write(part)
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


Serve = Callable[..., Awaitable[ScriptedServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(
        replies: dict[str, Reply], greeting: bytes = b"+OK ready\r\n"
    ) -> ScriptedServer:
        script = ScriptedServer({"CAPA": CAPA, "QUIT": b"+OK bye\r\n", **replies}, greeting)
        server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
        servers.append(server)
        script.port = server.sockets[0].getsockname()[1]
        return script

    yield start
    for server in servers:
        server.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await server.wait_closed()


LOGIN = {"USER": b"+OK\r\n", "PASS": b"+OK logged in\r\n"}


async def connect(
    script: ScriptedServer, timeout: float = 5.0, line_limit: int = LINE_LIMIT
) -> Pop3Client:
    return await Pop3Client.open(
        "127.0.0.1", script.port, Security.NONE, None, timeout, line_limit=line_limit
    )


async def logged_in(
    script: ScriptedServer, timeout: float = 5.0, line_limit: int = LINE_LIMIT
) -> Pop3Client:
    conn = await connect(script, timeout, line_limit)
    await conn.login("me", "secret")
    return conn


async def test_over_long_line_is_a_protocol_violation(serve: Serve) -> None:
    script = await serve({**LOGIN, "UIDL": [b"+OK\r\n1 ", b"a" * 5000]})
    conn = await logged_in(script, line_limit=1024)
    with pytest.raises(ProtocolViolation, match="longer than 1024 bytes"):
        await conn.uidl()
    assert conn.broken


async def test_missing_terminator_then_close_is_a_transient_error(serve: Serve) -> None:
    script = await serve({**LOGIN, "RETR": [b"+OK\r\nSubject: x\r\n\r\nbody\r\n", CLOSE]})
    conn = await logged_in(script)
    with pytest.raises(TransientError, match="closed the connection in the middle of"):
        await conn.retr(1)


async def test_missing_terminator_in_a_pipeline(serve: Serve) -> None:
    script = await serve(
        {**LOGIN, "RETR 1": b"+OK\r\nA: b\r\n\r\nx\r\n.\r\n", "RETR 2": [b"+OK\r\nA: b\r\n", CLOSE]}
    )
    conn = await logged_in(script)
    got = []
    with pytest.raises(TransientError, match="in the middle of message 2"):
        async for fetched in conn.retrieve([1, 2, 3]):
            got.append(fetched.number)
    assert got == [1]


@pytest.mark.parametrize(
    "listing",
    [
        b"garbage\r\n",
        b"1 ok\r\nnot a number\r\n",
        b"-5 abc\r\n",
        b"99999999999 abc\r\n",
        b"1 a\r\n1 b\r\n",
        b"1 \x1b[2J\r\n",
    ],
)
async def test_garbage_uidl_is_a_protocol_violation(serve: Serve, listing: bytes) -> None:
    script = await serve({**LOGIN, "UIDL": b"+OK\r\n" + listing + b".\r\n"})
    conn = await logged_in(script)
    with pytest.raises(ProtocolViolation) as caught:
        await conn.uidl()
    assert "\x1b" not in str(caught.value)
    await conn.abort()


async def test_garbage_status_line(serve: Serve) -> None:
    script = await serve({}, greeting=b"HTTP/1.1 400 Bad Request\r\n")
    with pytest.raises(ProtocolViolation, match="not POP3: 'HTTP/1.1 400 Bad Request'"):
        await connect(script)


async def test_bad_stat_and_list_numbers(serve: Serve) -> None:
    script = await serve({**LOGIN, "STAT": b"+OK many 12\r\n", "LIST 3": b"+OK 4 100\r\n"})
    conn = await logged_in(script)
    with pytest.raises(ProtocolViolation, match="message count"):
        await conn.stat()
    with pytest.raises(ProtocolViolation, match="LIST 3 for message 4"):
        await conn.list_one(3)


async def test_a_silent_server_times_out(serve: Serve) -> None:
    script = await serve({**LOGIN, "RETR": [b"+OK\r\nSubject: x\r\n", SILENT]})
    conn = await logged_in(script, timeout=0.5)
    # A hang would be stopped by the suite's timeout; the error says which it was.
    with pytest.raises(TransientError, match="did not answer in time"):
        await conn.retr(1)
    assert conn.broken


async def test_silent_greeting_times_out(serve: Serve) -> None:
    script = await serve({}, greeting=b"")
    with pytest.raises(TransientError, match="did not answer in time"):
        await connect(script, timeout=0.5)


async def test_message_over_the_limit(serve: Serve) -> None:
    script = await serve({**LOGIN, "RETR": [b"+OK\r\n", b"x" * 100 + b"\r\n", SILENT]})
    conn = await logged_in(script)
    with pytest.raises(MessageTooLarge, match="larger than 50 bytes"):
        await conn.retr(1, max_size=50)
    assert conn.broken


async def test_stls_account_refused_when_the_server_has_no_stls(serve: Serve) -> None:
    script = await serve({})
    ctx = ssl.create_default_context()
    with pytest.raises(ConfigError, match="does not offer STLS; refusing"):
        await Pop3Client.open("127.0.0.1", script.port, Security.STARTTLS, ctx, 5.0)
    assert script.received == ["CAPA"]  # nothing else went out in plain text


async def test_stls_refused_by_the_server(serve: Serve) -> None:
    capa = b"+OK\r\nSTLS\r\nUSER\r\n.\r\n"
    script = await serve({"CAPA": capa, "STLS": b"-ERR not now\r\n"})
    with pytest.raises(ConfigError, match="refused STLS: not now"):
        await Pop3Client.open(
            "127.0.0.1", script.port, Security.STARTTLS, ssl.create_default_context(), 5.0
        )
    assert script.received == ["CAPA", "STLS"]


async def test_wrong_password_and_not_now(serve: Serve) -> None:
    script = await serve({"USER": b"+OK\r\n", "PASS": b"-ERR [AUTH] Invalid login\r\n"})
    conn = await connect(script)
    with pytest.raises(AuthError, match="^Invalid login$"):
        await conn.login("me", "wrong")
    assert "PASS wrong" in script.received  # (USER/PASS in plain text: Security.NONE)

    busy = await serve({"USER": b"+OK\r\n", "PASS": b"-ERR [IN-USE] mailbox locked\r\n"})
    conn = await connect(busy)
    with pytest.raises(TransientError, match="cannot log in now: mailbox locked") as caught:
        await conn.login("me", "secret")
    assert not isinstance(caught.value, AuthError)


async def test_apop_rfc_1939_example(serve: Serve) -> None:
    digest = "c4c9334bac560ecc979e58001b3e22fb"
    script = await serve(
        {"CAPA": b"-ERR\r\n", f"APOP mrose {digest}": b"+OK maildrop has 1 message\r\n"},
        greeting=b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
    )
    conn = await connect(script)
    await conn.login("mrose", "tanstaaf", apop=True)
    assert conn.logged_in and "tanstaaf" not in " ".join(script.received)


async def test_apop_when_user_is_not_offered(serve: Serve) -> None:
    script = await serve(
        {"CAPA": b"+OK\r\nUIDL\r\n.\r\n", "APOP": b"-ERR [AUTH] bad digest\r\n"},
        greeting=b"+OK hi <1.2@host>\r\n",
    )
    conn = await connect(script)
    with pytest.raises(AuthError, match="bad digest"):
        await conn.login("me", "secret")
    assert [c.split()[0] for c in script.received] == ["CAPA", "APOP"]


async def test_apop_asked_but_not_offered(serve: Serve) -> None:
    script = await serve({})
    conn = await connect(script)
    with pytest.raises(ConfigError, match="does not offer APOP"):
        await conn.login("me", "secret", apop=True)


async def test_sasl_plain_and_oauth(serve: Serve) -> None:
    plain = base64.b64encode(b"\0me\0secret").decode()
    capa = b"+OK\r\nUIDL\r\nSASL PLAIN XOAUTH2\r\n.\r\n"
    script = await serve({"CAPA": capa, f"AUTH PLAIN {plain}": b"+OK welcome\r\n"})
    conn = await connect(script)
    await conn.login("me", "secret")
    assert script.received[1] == f"AUTH PLAIN {plain}"

    error = base64.b64encode(b'{"status":"401"}')
    refused = await serve(
        {"CAPA": capa, "AUTH": b"+ " + error + b"\r\n", "": b"-ERR [AUTH] no\r\n"}
    )
    conn = await connect(refused)
    with pytest.raises(AuthError, match=r"refused the OAuth access token for me \(401\): no"):
        await conn.login_oauth("me", "tok", 995)
    assert refused.received[1].startswith("AUTH XOAUTH2 ") and refused.received[2] == ""


async def test_no_uidl(serve: Serve) -> None:
    script = await serve({**LOGIN, "CAPA": b"+OK\r\nUSER\r\n.\r\n"})
    conn = await logged_in(script)
    assert conn.has_uidl is False
    with pytest.raises(UidlUnsupported):
        await conn.uidl()
    assert "UIDL" not in script.received

    old = await serve({**LOGIN, "CAPA": b"-ERR what\r\n", "UIDL": b"-ERR unknown command UIDL\r\n"})
    conn = await logged_in(old)
    assert conn.has_uidl is None
    with pytest.raises(UidlUnsupported, match="does not offer UIDL"):
        await conn.uidl()


async def test_refused_command_keeps_the_connection(serve: Serve) -> None:
    script = await serve({**LOGIN, "DELE": b"-ERR no such message\r\n", "NOOP": b"+OK\r\n"})
    conn = await logged_in(script)
    with pytest.raises(CommandRefused, match="DELE 9: no such message") as caught:
        await conn.dele(9)
    assert isinstance(caught.value, SyncError)
    await conn.noop()
    await conn.quit()
    assert script.received[-1] == "QUIT"


async def test_endless_listing_is_a_protocol_violation(serve: Serve) -> None:
    script = await serve({**LOGIN, "LIST": [b"+OK\r\n", b"1 100\r\n" * 200, SILENT]})
    conn = await logged_in(script)
    conn.max_listing = 1000
    with pytest.raises(ProtocolViolation, match="answer to LIST is larger than 1000"):
        await conn.list()
    assert conn.broken


async def test_apop_timestamp_after_a_long_banner(serve: Serve) -> None:
    stamp = "<77.1234@mail.example.org>"
    banner = "+OK " + "welcome to a very chatty server " * 8 + stamp + "\r\n"
    script = await serve({"CAPA": b"+OK\r\nUIDL\r\n.\r\n"}, greeting=banner.encode())
    script.replies["APOP me 4646994f18bcd5795ef203fecd7b4a83"] = b"+OK\r\n"  # md5(stamp+secret)
    conn = await connect(script)
    assert conn.timestamp == stamp and len(banner) > 200
    await conn.login("me", "secret")
    assert conn.logged_in and script.received[-2].startswith("APOP me ")


async def test_line_breaks_in_a_user_name_are_never_sent(serve: Serve) -> None:
    script = await serve(LOGIN)
    conn = await connect(script)
    with pytest.raises(ConfigError, match="line breaks"):
        await conn.login("me\r\nDELE 1", "secret")
    with pytest.raises(ConfigError, match="^PASS: line breaks"):
        await conn.login("me", "sec\nret")
    assert script.received == ["CAPA", "USER me"]


async def test_capa_refused_after_login_keeps_what_it_said_before(serve: Serve) -> None:
    answers = iter([CAPA, b"-ERR not now\r\n"])
    script = await serve({**LOGIN})
    script.replies["CAPA"] = next(answers)
    conn = await connect(script)
    script.replies["CAPA"] = next(answers)
    await conn.login("me", "secret")
    assert conn.capa_known and conn.has_uidl and conn.pipelining


async def test_retrieve_one_at_a_time_without_pipelining(serve: Serve) -> None:
    script = await serve(
        {
            **LOGIN,
            "CAPA": b"+OK\r\nUIDL\r\nUSER\r\n.\r\n",
            "RETR 1": b"+OK\r\nA: 1\r\n\r\n..dot\r\n...\r\n.\r\n",
            "RETR 2": b"-ERR gone\r\n",
            "RETR 3": b"+OK\r\nA: 3\r\n\r\n.\r\n",
        }
    )
    conn = await logged_in(script)
    assert not conn.pipelining
    got = [f async for f in conn.retrieve([1, 2, 3])]
    assert got == [
        Fetched(1, b"A: 1\r\n\r\n.dot\r\n..\r\n"),
        Fetched(2, None, "gone"),
        Fetched(3, b"A: 3\r\n\r\n"),
    ]
    await conn.quit()
