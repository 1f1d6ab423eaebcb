"""A tiny OAuth 2.0 token introspection endpoint (RFC 7662) for the test servers.

Dovecot's `oauth2` passdb (`introspection_mode = post`) POSTs `token=…` to
`introspection_url` for every XOAUTH2 / OAUTHBEARER login and accepts the user when the
JSON answer has `"active": true` and a `username` equal to the login name. The test SMTP
server asks `user_for(token)` directly (same tokens).

    tokens = OAuthTokenServer(); tokens.start()
    token = tokens.issue("alice")          # valid until revoke(token)
    tokens.introspection_url               # http://127.0.0.1:PORT/introspect

Plain HTTP on 127.0.0.1 (stdlib `http.server` in a thread); nothing leaves the machine.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from .http_thread import serve_in_thread, stop_serving
from .ports import LOOPBACK


class OAuthTokenServer:
    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._ever: list[str] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[str] = []  # the tokens asked about, in order

    @property
    def introspection_url(self) -> str:
        assert self._httpd is not None, "start() first"
        return f"http://{LOOPBACK}:{self._httpd.server_address[1]}/introspect"

    def issue(self, user: str) -> str:
        """A new access token for `user` (the login name, as Dovecot sees it)."""
        token = "tok-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = user
            self._ever.append(token)
        return token

    def issued(self) -> list[str]:
        """Every token handed out, revoked or not (to search output for)."""
        with self._lock:
            return list(self._ever)

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def user_for(self, token: str) -> str | None:
        with self._lock:
            return self._tokens.get(token)

    def start(self) -> None:
        if self._httpd is not None:
            return
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                token = form.get("token", [""])[0]
                with owner._lock:
                    owner.requests.append(token)
                user = owner.user_for(token)
                answer: dict[str, object] = (
                    {"active": True, "username": user, "scope": "mail"}
                    if user is not None
                    else {"active": False}
                )
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._thread = serve_in_thread(self._httpd, "test-oauth-introspection")

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        thread, self._thread = self._thread, None
        stop_serving(httpd, thread)
