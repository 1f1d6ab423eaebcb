"""A small OAuth 2.0 authorization server for the sign-in tests, on 127.0.0.1.

It hands out the access tokens of an `OAuthTokenServer` (so Dovecot's oauth2 passdb and
the test SMTP server accept them) and keeps its own refresh tokens:

    authz = AuthorizationServer(tokens); authz.start()
    authz.client_id                       # the one registered client
    authz.user = "alice"                  # who "signs in" in the browser
    authz.device_answers = ["authorization_pending", "slow_down", "ok"]
    authz.deny = True                     # the browser's user declines
    authz.revoke_refresh(token)           # a revoked refresh token: invalid_grant

Endpoints (RFC 6749, 7636, 8628): `POST /device` (device authorization), `GET /authorize`
(the browser's page: it approves at once as `user` and redirects to the loopback
`redirect_uri` with code and state; or with error=access_denied when `deny`),
`POST /token` (device_code, authorization_code with the PKCE S256 check,
refresh_token; refresh tokens rotate when `rotate` is set). Every token request's form is
kept in `token_requests` (for assertions).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from .http_thread import serve_in_thread, stop_serving
from .oauth import OAuthTokenServer
from .ports import LOOPBACK


class AuthorizationServer:
    def __init__(self, tokens: OAuthTokenServer, *, expires_in: int = 3600) -> None:
        self.tokens = tokens
        self.client_id = "mailtui-test-" + secrets.token_hex(4)
        self.client_secret: str | None = None  # set: the token endpoint wants it
        self.user = "nobody"
        self.expires_in = expires_in
        self.interval = 1
        self.device_answers: list[str] = ["ok"]
        self.deny = False
        self.rotate = False
        self.token_requests: list[dict[str, str]] = []
        self.device_requests = 0
        self._refresh: dict[str, str] = {}  # refresh token -> user
        self._devices: dict[str, str] = {}  # device code -> user
        # code -> (user, redirect_uri, challenge)
        self._codes: dict[str, tuple[str, str, str]] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ for the tests

    @property
    def base(self) -> str:
        assert self._httpd is not None, "start() first"
        return f"http://{LOOPBACK}:{self._httpd.server_address[1]}"

    def oauth_table(self, *, device: bool = True, loopback: bool = True) -> dict[str, object]:
        """The account's `[accounts.<name>.oauth]` table for this server."""
        table: dict[str, object] = {
            "provider": "custom",
            "client_id": self.client_id,
            "token_url": f"{self.base}/token",
            "scopes": ["mail"],
        }
        if device:
            table["device_authorization_url"] = f"{self.base}/device"
        if loopback:
            table["authorization_url"] = f"{self.base}/authorize"
        if self.client_secret:
            table["client_secret"] = self.client_secret
        return table

    def revoke_refresh(self, token: str) -> None:
        with self._lock:
            self._refresh.pop(token, None)

    def refresh_tokens(self) -> list[str]:
        with self._lock:
            return list(self._refresh)

    # ------------------------------------------------------------------ the endpoints

    def _grant(self, user: str) -> dict[str, object]:
        refresh = "rt-" + secrets.token_urlsafe(24)
        with self._lock:
            self._refresh[refresh] = user
        return {
            "access_token": self.tokens.issue(user),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "scope": "mail",
        }

    def _client_ok(self, form: dict[str, str]) -> bool:
        if form.get("client_id") != self.client_id:
            return False
        return self.client_secret is None or form.get("client_secret") == self.client_secret

    def device(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}
        code = "dc-" + secrets.token_urlsafe(16)
        with self._lock:
            self._devices[code] = self.user
            self.device_requests += 1
        return 200, {
            "device_code": code,
            "user_code": "WDJB-MJHT",
            "verification_uri": f"{self.base}/device-page",
            "verification_uri_complete": f"{self.base}/device-page?user_code=WDJB-MJHT",
            "expires_in": 600,
            "interval": self.interval,
        }

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        with self._lock:
            self.token_requests.append(dict(form))
        if not self._client_ok(form):
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            with self._lock:
                user = self._devices.get(form.get("device_code", ""))
                answer = self.device_answers.pop(0) if self.device_answers else "ok"
            if user is None:
                return 400, {"error": "invalid_grant"}
            if answer == "503":  # the server is having a bad moment
                return 503, {"error": "temporarily_unavailable"}
            if answer != "ok":
                return 400, {"error": answer, "error_description": f"test says {answer}"}
            with self._lock:
                del self._devices[form["device_code"]]
            return 200, self._grant(user)
        if grant == "authorization_code":
            with self._lock:
                entry = self._codes.pop(form.get("code", ""), None)
            if entry is None:
                return 400, {"error": "invalid_grant"}
            user, redirect_uri, challenge = entry
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE failed"}
            if form.get("redirect_uri") != redirect_uri:
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
            return 200, self._grant(user)
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            with self._lock:
                user = self._refresh.get(old)
            if user is None:
                return 400, {"error": "invalid_grant", "error_description": "revoked"}
            if form.get("scope") != "mail":
                return 400, {"error": "invalid_scope"}
            answer: dict[str, object] = {
                "access_token": self.tokens.issue(user),
                "token_type": "Bearer",
                "expires_in": self.expires_in,
            }
            if self.rotate:
                with self._lock:
                    del self._refresh[old]
                answer["refresh_token"] = new = "rt-" + secrets.token_urlsafe(24)
                with self._lock:
                    self._refresh[new] = user
            return 200, answer
        return 400, {"error": "unsupported_grant_type"}

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """(status, Location or error text) for the browser's GET /authorize."""
        if query.get("client_id") != self.client_id:
            return 400, "unknown client"
        redirect = query.get("redirect_uri", "")
        host = urlsplit(redirect).hostname
        if urlsplit(redirect).scheme != "http" or host not in ("127.0.0.1", "localhost"):
            return 400, "not a loopback redirect_uri"
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, "PKCE S256 required"
        state = query.get("state", "")
        if self.deny:
            params = {"error": "access_denied", "error_description": "the user said no"}
        else:
            code = "ac-" + secrets.token_urlsafe(16)
            with self._lock:
                self._codes[code] = (self.user, redirect, query.get("code_challenge", ""))
            params = {"code": code}
        return 302, redirect + "?" + urlencode({**params, "state": state})

    # ------------------------------------------------------------------ the HTTP server

    def start(self) -> None:
        if self._httpd is not None:
            return
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, data: bytes, kind: str, location: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                if location:
                    self.send_header("Location", location)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                form = {k: v[0] for k, v in raw.items()}
                path = urlsplit(self.path).path
                if path == "/device":
                    status, answer = owner.device(form)
                elif path == "/token":
                    status, answer = owner.token(form)
                else:
                    status, answer = 404, {"error": "not_found"}
                self._send(status, json.dumps(answer).encode(), "application/json")

            def do_GET(self) -> None:  # noqa: N802
                target = urlsplit(self.path)
                if target.path != "/authorize":
                    self._send(404, b"not found", "text/plain")
                    return
                query = {k: v[0] for k, v in parse_qs(target.query).items()}
                status, where = owner.authorize(query)
                if status == 302:
                    self._send(302, b"", "text/plain", location=where)
                else:
                    self._send(status, where.encode(), "text/plain")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        # shutdown() waits for one poll: keep stopping quick
        self._thread = serve_in_thread(self._httpd, "test-oauth-authorization", 0.05)

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        thread, self._thread = self._thread, None
        stop_serving(httpd, thread)
