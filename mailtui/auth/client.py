"""The OAuth2 client of one account and the token endpoint (RFC 6749 section 3.2).

``Client`` says where to ask and what for; ``Tokens`` is what the token endpoint
answered. ``token_request`` posts one grant and maps the answer: JSON with an
``access_token`` → ``Tokens``; an OAuth error (``{"error": "invalid_grant"}``) →
``OAuthRefused`` with the code; no answer, a server error or something that is not
OAuth → ``OAuthUnreachable`` (worth another try later). ``refresh`` turns
``invalid_grant`` into ``SignInRequired``: the refresh token was revoked or has expired,
and only a new sign-in helps; nothing retries it.

No token appears in ``repr`` or in an error text.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mailtui.errors import MailtuiError

#: Seconds for one request to the provider (connect, send, answer).
HTTP_TIMEOUT = 30.0


class OAuthError(MailtuiError):
    """A sign-in or a refresh did not give a token; the text says why in plain words."""


class OAuthRefused(OAuthError):
    """The token endpoint answered with an OAuth error code (RFC 6749 5.2)."""

    def __init__(self, error: str, description: str, text: str) -> None:
        super().__init__(text)
        self.error = error
        self.description = description


class SignInRequired(OAuthError):
    """The stored refresh token no longer works (revoked, expired, password changed):
    the user must sign in again (``mailtui login ACCOUNT``)."""


class OAuthUnreachable(OAuthError):
    """The provider could not be asked (network, timeout, a server error): try later."""


@dataclass(frozen=True, slots=True, repr=False)
class Client:
    """One account's OAuth2 client: its registration and the provider's endpoints."""

    client_id: str
    token_url: str
    scopes: tuple[str, ...]
    authorization_url: str | None = None  # the loopback flow needs it
    device_authorization_url: str | None = None  # the device flow needs it
    client_secret: str | None = None  # only for providers that want one (Google)
    redirect_host: str = "127.0.0.1"  # the host of the loopback redirect URI
    redirect_port: int = 0  # 0: any free port
    # Extra parameters of the authorization request (Google: access_type=offline).
    authorize_params: tuple[tuple[str, str], ...] = ()
    provider: str = ""  # a name for messages ("Microsoft"), "" for a custom one

    @property
    def flows(self) -> tuple[str, ...]:
        """The flows this client can run, the preferred first (device: no browser
        needed on this host)."""
        out = []
        if self.device_authorization_url:
            out.append("device")
        if self.authorization_url:
            out.append("loopback")
        return tuple(out)

    @property
    def where(self) -> str:
        """The provider as messages name it."""
        if self.provider:
            return self.provider
        from urllib.parse import urlsplit

        return urlsplit(self.token_url).netloc or self.token_url

    def form(self, **fields: str) -> dict[str, str]:
        """A request body with the client's credentials (client_secret_post)."""
        body = {"client_id": self.client_id, **fields}
        if self.client_secret:
            body["client_secret"] = self.client_secret
        return body

    def __repr__(self) -> str:
        return f"Client({self.where}, client_id={self.client_id!r})"


@dataclass(frozen=True, slots=True, repr=False)
class Tokens:
    """An access token, with the refresh token and expiry when the provider gave them."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # time.time() seconds; None: not said

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - seconds <= (time.time() if now is None else now)

    def to_json(self) -> str:
        return json.dumps(
            {"access_token": self.access_token, "expires_at": self.expires_at}
        )

    def __repr__(self) -> str:
        return f"Tokens(<access>, refresh={'yes' if self.refresh_token else 'no'})"


async def post_form(url: str, form: dict[str, str], what: str) -> tuple[int, Any]:
    """POSTs ``form`` to ``url``: (status, JSON answer). ``OAuthUnreachable`` when there
    is no answer, a server error, or an answer that is not JSON."""
    import httpx  # imported on first use: most runs never sign in

    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as http:
            response = await http.post(url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise OAuthUnreachable(
            f"could not reach the {what} at {url}: {exc.__class__.__name__}"
        ) from None
    if response.status_code >= 500:
        raise OAuthUnreachable(f"the {what} at {url} answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise OAuthUnreachable(
            f"the {what} at {url} answered {response.status_code} without JSON"
        ) from None
    if not isinstance(data, dict):
        raise OAuthUnreachable(f"the {what} at {url} answered something other than an object")
    return response.status_code, data


def refused(data: dict[str, Any], status: int, what: str) -> OAuthRefused | None:
    """The OAuth error in an answer, if it is one."""
    error = data.get("error")
    if status < 400 and error is None:
        return None
    code = error if isinstance(error, str) and error.isprintable() else "unknown_error"
    raw = data.get("error_description")
    description = raw.splitlines()[0][:200] if isinstance(raw, str) and raw else ""
    detail = f": {description}" if description.isprintable() and description else ""
    return OAuthRefused(code[:64], description, f"the {what} refused ({code[:64]}){detail}")


async def token_request(client: Client, form: dict[str, str]) -> Tokens:
    """One grant at the token endpoint → ``Tokens``; ``OAuthRefused`` with the error
    code, ``OAuthUnreachable`` when it could not be asked."""
    status, data = await post_form(client.token_url, client.form(**form), "token endpoint")
    error = refused(data, status, "token endpoint")
    if error is not None:
        raise error
    return tokens_from(data)


def tokens_from(data: dict[str, Any], now: float | None = None) -> Tokens:
    access = data.get("access_token")
    kind = data.get("token_type", "Bearer")
    if not isinstance(access, str) or not access or not _token_chars(access):
        raise OAuthError("the token endpoint answered without a usable access_token")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise OAuthError(f"the token endpoint gave a {str(kind)[:20]!r} token, not a Bearer one")
    refresh_token = data.get("refresh_token")
    if not isinstance(refresh_token, str) or not refresh_token or not _token_chars(refresh_token):
        refresh_token = None
    expires_in = data.get("expires_in")
    if isinstance(expires_in, str) and expires_in.isdigit():  # some servers send a string
        expires_in = int(expires_in)
    expires_at = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        expires_at = (time.time() if now is None else now) + max(0.0, float(expires_in))
    return Tokens(access, refresh_token, expires_at)


def _token_chars(token: str) -> bool:
    return all(c.isprintable() and not c.isspace() for c in token)


async def refresh(client: Client, refresh_token: str) -> Tokens:
    """A new access token from the refresh token (RFC 6749 section 6). The answer keeps
    the old refresh token unless the provider rotated it. ``SignInRequired`` when the
    provider no longer takes the refresh token; ``OAuthUnreachable`` when it could not
    be asked; ``OAuthError`` for anything else it refused (a client setting)."""
    try:
        # The scopes again: optional in RFC 6749, but Microsoft asks for them.
        tokens = await token_request(
            client,
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "scope": " ".join(client.scopes),
            },
        )
    except OAuthRefused as exc:
        if exc.error == "invalid_grant":
            raise SignInRequired(
                f"{client.where} no longer accepts the stored sign-in (revoked or expired)"
            ) from None
        raise OAuthError(f"refreshing the access token failed: {exc}") from None
    if tokens.refresh_token is None:
        tokens = Tokens(tokens.access_token, refresh_token, tokens.expires_at)
    return tokens
