"""The device authorization grant (RFC 8628): sign in on another device's browser.

``request_device_code`` asks the device authorization endpoint for a user code and the
page to enter it on; the caller shows them; ``poll_device`` asks the token endpoint
every ``interval`` seconds until the user has answered:

    authorization_pending   not yet: ask again after ``interval``
    slow_down               ask again, 5 s more between requests from now on (3.5)
    expired_token           the code expired: OAuthError, sign in again
    access_denied           the user declined: OAuthError
    anything else           OAuthError with the provider's words
    no answer, 5xx          ask again; the third time in a row, OAuthUnreachable

The poller also gives up by itself once ``expires_in`` seconds were spent waiting.
``sleep`` is passed in so that a test can count the waits instead of waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mailtui.auth.client import (
    Client,
    OAuthError,
    OAuthRefused,
    OAuthUnreachable,
    Tokens,
    post_form,
    refused,
    token_request,
)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5  # seconds, when the provider does not say (RFC 8628 3.2)
SLOW_DOWN_STEP = 5  # seconds added on slow_down (RFC 8628 3.5)
MAX_INTERVAL = 60  # a provider asking for longer waits is read as asking for this
MAX_UNREACHABLE = 3  # polls in a row without an answer before the flow gives up


@dataclass(frozen=True, slots=True, repr=False)
class DeviceCode:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int

    def __repr__(self) -> str:
        return f"DeviceCode(user_code={self.user_code!r}, uri={self.verification_uri!r})"


def _text(data: dict[str, object], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value and value.isprintable():
            return value
    return None


def _seconds(value: object, default: int) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return default


async def request_device_code(client: Client) -> DeviceCode:
    """A user code and where to enter it. ``OAuthError`` when the provider refuses (a
    client id not allowed the device flow, say), ``OAuthUnreachable`` when it could not
    be asked."""
    url = client.device_authorization_url
    if not url:
        raise OAuthError(f"{client.where} does not offer the device flow for this account")
    status, data = await post_form(
        url, client.form(scope=" ".join(client.scopes)), "device authorization endpoint"
    )
    error = refused(data, status, "device authorization endpoint")
    if error is not None:
        raise error
    device_code = _text(data, "device_code")
    user_code = _text(data, "user_code")
    # verification_url: the name Google used before RFC 8628.
    uri = _text(data, "verification_uri", "verification_url")
    if device_code is None or user_code is None or uri is None:
        raise OAuthError(
            "the device authorization endpoint answered without device_code, user_code "
            "and verification_uri"
        )
    return DeviceCode(
        device_code=device_code,
        user_code=user_code,
        verification_uri=uri,
        verification_uri_complete=_text(data, "verification_uri_complete"),
        expires_in=_seconds(data.get("expires_in"), 900),
        interval=min(_seconds(data.get("interval"), DEFAULT_INTERVAL), MAX_INTERVAL),
    )


async def poll_device(
    client: Client,
    code: DeviceCode,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Tokens:
    """Waits for the user to finish signing in on the other device (module docstring)."""
    interval = code.interval
    waited = 0
    unreachable = 0  # polls in a row without an answer
    while True:
        if waited + interval > code.expires_in:
            raise OAuthError(_EXPIRED)
        await sleep(interval)
        waited += interval
        try:
            return await token_request(
                client, {"grant_type": GRANT_TYPE, "device_code": code.device_code}
            )
        except OAuthUnreachable:
            # A blip during a sign-in that may take minutes: ask again, but not for ever.
            unreachable += 1
            if unreachable >= MAX_UNREACHABLE:
                raise
            continue
        except OAuthRefused as exc:
            unreachable = 0
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval = min(interval + SLOW_DOWN_STEP, MAX_INTERVAL)
                continue
            if exc.error == "expired_token":
                raise OAuthError(_EXPIRED) from None
            if exc.error == "access_denied":
                raise OAuthError(
                    "the sign-in was declined on the provider's page; nothing was stored"
                ) from None
            raise OAuthError(f"the sign-in failed: {exc}") from None


_EXPIRED = (
    "the code expired before the sign-in was finished; run the sign-in again for a new code"
)
