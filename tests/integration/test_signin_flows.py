"""The OAuth2 sign-in flows (mailtui/auth) against a local authorization server
(tests/servers/authorization.py) on 127.0.0.1: the device flow with each answer of
RFC 8628, the loopback flow with a test playing the browser, and the PKCE code exchange.
The tokens are those the harness's introspection endpoint (and so Dovecot) accepts."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from mailtui.auth.client import Client, OAuthError, OAuthRefused
from mailtui.auth.device import poll_device, request_device_code
from mailtui.auth.loopback import LoopbackSignIn
from mailtui.config.oauth import client as oauth_client
from tests.servers import OAuthTokenServer
from tests.servers.authorization import AuthorizationServer
from tests.servers.ports import free_ports


def client_of(authz: AuthorizationServer, **extra: object) -> Client:
    return oauth_client("[accounts.w.oauth]", {**authz.oauth_table(), **extra}, ("imap",))


class Sleeps:
    """Stands in for asyncio.sleep: records each wait, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def device_polls(authz: AuthorizationServer) -> int:
    return sum(
        r["grant_type"].endswith("device_code") for r in authz.token_requests
    )


async def test_device_flow_waits_through_pending_and_slow_down(
    authz: AuthorizationServer, oauth_tokens: OAuthTokenServer
) -> None:
    authz.user = "dora"
    authz.interval = 2
    authz.device_answers = ["authorization_pending", "slow_down", "authorization_pending", "ok"]
    client = client_of(authz)
    code = await request_device_code(client)
    assert code.user_code == "WDJB-MJHT"
    assert code.verification_uri.endswith("/device-page")
    assert code.verification_uri_complete is not None
    assert "dc-" not in repr(code)  # the device code is not for display
    sleeps = Sleeps()
    tokens = await poll_device(client, code, sleep=sleeps)
    # interval, interval, +5 after slow_down from then on (RFC 8628 3.5)
    assert sleeps.waits == [2, 2, 7, 7]
    assert device_polls(authz) == 4
    assert oauth_tokens.user_for(tokens.access_token) == "dora"
    assert tokens.refresh_token in authz.refresh_tokens()
    assert tokens.expires_at is not None
    assert tokens.access_token not in repr(tokens)
    # The scope asked for was the account's.
    assert authz.token_requests[-1]["client_id"] == authz.client_id


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["authorization_pending", "expired_token"], "the code expired"),
        (["access_denied"], "the sign-in was declined"),
        (["invalid_scope"], r"the sign-in failed: .*\(invalid_scope\): test says invalid_scope"),
    ],
)
async def test_device_flow_ends_with_a_clear_error(
    authz: AuthorizationServer, answers: list[str], expected: str
) -> None:
    authz.device_answers = list(answers)
    client = client_of(authz)
    code = await request_device_code(client)
    with pytest.raises(OAuthError, match=expected):
        await poll_device(client, code, sleep=Sleeps())
    assert device_polls(authz) == len(answers)  # and not one request more


async def test_device_flow_gives_up_when_the_code_has_expired_locally(
    authz: AuthorizationServer,
) -> None:
    """A server that says "pending" for ever: the poller stops after expires_in (600 s)
    of waits, at the longest interval it accepts (60 s)."""
    authz.interval = 3600
    authz.device_answers = ["authorization_pending"] * 100
    client = client_of(authz)
    sleeps = Sleeps()
    with pytest.raises(OAuthError, match="the code expired"):
        await poll_device(client, await request_device_code(client), sleep=sleeps)
    assert sleeps.waits == [60] * 10 and device_polls(authz) == 10


async def test_device_flow_rides_out_a_server_error_but_not_three(
    authz: AuthorizationServer, oauth_tokens: OAuthTokenServer
) -> None:
    from mailtui.auth.client import OAuthUnreachable

    authz.user = "dora"
    authz.device_answers = ["503", "authorization_pending", "503", "503", "ok"]
    client = client_of(authz)
    tokens = await poll_device(client, await request_device_code(client), sleep=Sleeps())
    assert oauth_tokens.user_for(tokens.access_token) == "dora"
    authz.device_answers = ["503", "503", "503", "ok"]
    with pytest.raises(OAuthUnreachable, match="answered 503"):
        await poll_device(client, await request_device_code(client), sleep=Sleeps())
    assert authz.device_answers == ["ok"]


async def test_device_flow_refused_for_an_unknown_client(authz: AuthorizationServer) -> None:
    client = client_of(authz, client_id="not-registered")
    expected = r"device authorization endpoint refused \(invalid_client\)"
    with pytest.raises(OAuthRefused, match=expected):
        await request_device_code(client)


async def test_device_flow_needs_a_device_endpoint(authz: AuthorizationServer) -> None:
    client = oauth_client(
        "[accounts.w.oauth]", authz.oauth_table(device=False), ("imap",)
    )
    assert client.flows == ("loopback",)
    with pytest.raises(OAuthError, match="does not offer the device flow"):
        await request_device_code(client)


async def test_unreachable_provider_is_its_own_error(authz: AuthorizationServer) -> None:
    from mailtui.auth.client import OAuthUnreachable

    client = client_of(authz)
    authz.stop()
    with pytest.raises(OAuthUnreachable, match="could not reach the device authorization"):
        await request_device_code(client)


# ---------------------------------------------------------------------- loopback


async def browser(url: str) -> httpx.Response:
    """The user's browser: opens the URL and follows one redirect (to the listener)."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
        page = await http.get(url)
        if page.status_code != 302:
            return page
        return await http.get(page.headers["location"])


async def test_loopback_flow_signs_in_through_the_browser(
    authz: AuthorizationServer, oauth_tokens: OAuthTokenServer
) -> None:
    authz.user = "lou"
    async with LoopbackSignIn(client_of(authz)) as flow:
        url = httpx.URL(flow.url)
        assert url.params["code_challenge_method"] == "S256"
        assert url.params["redirect_uri"] == f"http://127.0.0.1:{flow.port}/"
        assert url.params["state"] == flow.state and url.params["scope"] == "mail"
        assert flow.port > 0
        landing = await browser(flow.url)
        assert landing.status_code == 200 and "Signed in" in landing.text
        tokens = await flow.finish()
    assert oauth_tokens.user_for(tokens.access_token) == "lou"
    exchange = authz.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["redirect_uri"] == f"http://127.0.0.1:{flow.port}/"
    assert len(exchange["code_verifier"]) >= 43  # RFC 7636: 43 to 128 characters


async def test_loopback_listener_refuses_a_wrong_state_and_keeps_waiting(
    authz: AuthorizationServer, oauth_tokens: OAuthTokenServer
) -> None:
    authz.user = "lou"
    async with LoopbackSignIn(client_of(authz)) as flow, httpx.AsyncClient() as http:
        base = f"http://127.0.0.1:{flow.port}/"
        forged = await http.get(base, params={"code": "ac-forged", "state": "not-it"})
        assert forged.status_code == 400 and "state mismatch" in forged.text
        assert (await http.get(base, params={"code": "x"})).status_code == 400  # no state
        assert (await http.get(base + "favicon.ico")).status_code == 404
        assert flow.refused == 2
        landing = await browser(flow.url)  # the real answer still gets through
        assert landing.status_code == 200
        tokens = await flow.finish()
    assert oauth_tokens.user_for(tokens.access_token) == "lou"
    # Nothing of the forged request reached the token endpoint.
    assert [r.get("code") for r in authz.token_requests if r.get("code") == "ac-forged"] == []


async def test_a_localhost_redirect_is_answered_on_both_loopbacks(
    authz: AuthorizationServer, oauth_tokens: OAuthTokenServer
) -> None:
    """Microsoft's redirect URI names localhost, which a browser may try as ::1 first:
    the listener takes the answer on either."""
    import socket

    authz.user = "lou"
    client = dataclasses.replace(client_of(authz), redirect_host="localhost")
    has_ipv6 = socket.has_ipv6
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        has_ipv6 = False
    async with LoopbackSignIn(client) as flow, httpx.AsyncClient() as http:
        assert flow.redirect_uri == f"http://localhost:{flow.port}/"
        page = await http.get(flow.url)
        location = page.headers["location"]
        assert location.startswith(f"http://localhost:{flow.port}/?")
        host = "[::1]" if has_ipv6 else "127.0.0.1"
        landing = await http.get(location.replace("localhost", host, 1))
        assert landing.status_code == 200
        tokens = await flow.finish()
    assert oauth_tokens.user_for(tokens.access_token) == "lou"


async def test_loopback_flow_declined_in_the_browser(authz: AuthorizationServer) -> None:
    authz.deny = True
    async with LoopbackSignIn(client_of(authz)) as flow:
        landing = await browser(flow.url)
        assert landing.status_code == 200 and "did not complete" in landing.text
        with pytest.raises(OAuthError, match="the sign-in was declined: the user said no"):
            await flow.finish()
    assert authz.token_requests == []


async def test_loopback_flow_times_out(authz: AuthorizationServer) -> None:
    async with LoopbackSignIn(client_of(authz), timeout=0.05) as flow:
        with pytest.raises(OAuthError, match="no answer from the browser"):
            await flow.finish()


async def test_loopback_port_can_be_fixed_for_ssh_forwarding(authz: AuthorizationServer) -> None:
    [port] = free_ports(1)
    client = client_of(authz, redirect_port=port)
    async with LoopbackSignIn(client) as flow:
        assert flow.port == port and flow.redirect_uri == f"http://127.0.0.1:{port}/"
        with pytest.raises(OAuthError, match=f"could not listen on 127.0.0.1:{port}"):
            async with LoopbackSignIn(client):
                pass
        await browser(flow.url)
        await flow.finish()


async def test_a_code_is_exchanged_only_with_its_verifier(authz: AuthorizationServer) -> None:
    """The PKCE check of the test server is real: the code exchanged with a verifier
    other than the one of its challenge is refused (what stops an intercepted code)."""
    from mailtui.auth.client import token_request
    from mailtui.auth.loopback import pkce_pair

    client = client_of(authz)
    async with LoopbackSignIn(client) as flow, httpx.AsyncClient() as http:
        page = await http.get(flow.url)
        code = httpx.URL(page.headers["location"]).params["code"]
        with pytest.raises(OAuthRefused, match="PKCE failed"):
            await token_request(
                client,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": flow.redirect_uri,
                    "code_verifier": pkce_pair()[0],
                },
            )
