"""The authorization code grant with PKCE and a loopback redirect (RFC 8252, RFC 7636).

    async with LoopbackSignIn(client) as flow:
        print(flow.url)                  # the user opens it in a browser
        tokens = await flow.finish()     # the browser comes back to 127.0.0.1:PORT

A one-shot HTTP listener on 127.0.0.1 (the configured ``redirect_port``, else a free
one; also on ::1 with the same port when the redirect URI says ``localhost``, as
Microsoft's does) takes the browser's redirect: an answer whose ``state`` is not this sign-in's is
refused (400) and the listener keeps waiting, so a stray or forged request cannot end
it; ``error=…`` with the right state ends the sign-in with that error; the ``code`` is
exchanged at the token endpoint with the PKCE verifier (S256). Any other path (a
favicon) gets a 404.

Over SSH the browser runs on the user's own machine: ``ssh -L PORT:127.0.0.1:PORT host``
carries the redirect to this listener (the README shows it), which is why the port can
be fixed in the config.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
from types import TracebackType
from urllib.parse import parse_qs, urlencode, urlsplit

from mailtui.auth.client import Client, OAuthError, OAuthRefused, Tokens, token_request

LISTEN_HOST = "127.0.0.1"
SIGN_IN_TIMEOUT = 600.0  # seconds the listener waits for the browser
_HEAD_LIMIT = 16384  # bytes of a request head read at most
_READ_TIMEOUT = 10.0  # seconds to read one request


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) with the S256 method: 86 random URL-safe
    characters and the unpadded base64url of their SHA-256."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LoopbackSignIn:
    """One sign-in through the browser (module docstring)."""

    def __init__(self, client: Client, *, timeout: float = SIGN_IN_TIMEOUT) -> None:
        if not client.authorization_url:
            raise OAuthError(f"{client.where} has no authorization endpoint configured")
        self.client = client
        self.timeout = timeout
        self.state = secrets.token_urlsafe(24)
        self._verifier, self._challenge = pkce_pair()
        self._server: asyncio.Server | None = None
        self._server6: asyncio.Server | None = None
        self._answer: asyncio.Future[str] | None = None
        self.port = 0
        self.refused = 0  # requests turned away for a wrong state

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.client.redirect_host}:{self.port}/"

    @property
    def url(self) -> str:
        """The authorization URL for the user's browser."""
        assert self.client.authorization_url is not None
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.client.scopes),
            "state": self.state,
            "code_challenge": self._challenge,
            "code_challenge_method": "S256",
            **dict(self.client.authorize_params),
        }
        base = self.client.authorization_url
        return base + ("&" if "?" in base else "?") + urlencode(params)

    async def __aenter__(self) -> LoopbackSignIn:
        self._answer = asyncio.get_running_loop().create_future()
        try:
            self._server = await asyncio.start_server(
                self._serve, LISTEN_HOST, self.client.redirect_port
            )
        except OSError as exc:
            raise OAuthError(
                f"could not listen on {LISTEN_HOST}:{self.client.redirect_port} for the "
                f"browser's answer ({exc.strerror or exc}); set another redirect_port"
            ) from None
        self.port = int(self._server.sockets[0].getsockname()[1])
        if self.client.redirect_host == "localhost":
            # A browser may try ::1 first for "localhost": listen there too when the
            # host has IPv6 (the same port; without it, browsers fall back to IPv4).
            with contextlib.suppress(OSError):
                self._server6 = await asyncio.start_server(self._serve, "::1", self.port)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        answer = self._answer
        if answer is not None and answer.done() and not answer.cancelled():
            answer.exception()  # seen, even when finish() was not reached
        servers = (self._server, self._server6)
        self._server = self._server6 = None
        for server in servers:
            if server is not None:
                server.close()
                with contextlib.suppress(Exception):
                    await server.wait_closed()

    async def finish(self) -> Tokens:
        """Waits for the browser's answer, then exchanges the code for tokens."""
        assert self._answer is not None, "use LoopbackSignIn as `async with`"
        try:
            async with asyncio.timeout(self.timeout):
                code = await asyncio.shield(self._answer)
        except TimeoutError:
            raise OAuthError(
                f"no answer from the browser within {self.timeout / 60:.0f} minutes; "
                "run the sign-in again"
            ) from None
        try:
            return await token_request(
                self.client,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "code_verifier": self._verifier,
                },
            )
        except OAuthRefused as exc:
            raise OAuthError(f"the sign-in failed: {exc}") from None

    # ------------------------------------------------------------------ the listener

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            writer.close()
            return
        status, text = self._judge(head[:_HEAD_LIMIT])
        body = (
            "<!doctype html><meta charset=utf-8><title>mailtui</title>"
            f"<p>{text}</p>"
        ).encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "Cache-Control: no-store\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    def _judge(self, head: bytes) -> tuple[str, str]:
        """(HTTP status, page text) for one request; settles the answer when it is one."""
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "GET":
            return "405 Method Not Allowed", "Not a sign-in answer."
        target = urlsplit(parts[1])
        if target.path != "/":
            return "404 Not Found", "Not here."
        query = parse_qs(target.query)
        state = query.get("state", [""])[0]
        if not secrets.compare_digest(state.encode(), self.state.encode()):
            self.refused += 1
            return (
                "400 Bad Request",
                "This answer does not belong to the sign-in mailtui is waiting for "
                "(state mismatch); it was ignored.",
            )
        assert self._answer is not None
        if self._answer.done():
            return "200 OK", "mailtui already has its answer; you can close this page."
        if "error" in query:
            error = query["error"][0][:64]
            detail = query.get("error_description", [""])[0].splitlines()
            words = f": {detail[0][:200]}" if detail and detail[0].isprintable() else ""
            declined = "declined" if error == "access_denied" else f"refused ({error})"
            self._answer.set_exception(
                OAuthError(f"the sign-in was {declined}{words}; nothing was stored")
            )
            return "200 OK", "The sign-in did not complete. You can close this page."
        code = query.get("code", [""])[0]
        if not code:
            return "400 Bad Request", "The answer has no code."
        self._answer.set_result(code)
        return "200 OK", "Signed in. You can close this page and go back to mailtui."
