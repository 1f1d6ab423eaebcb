"""A signed-in OAuth2 account end to end: tokens from the device or loopback flow of a
local authorization server, kept in a keyring (in memory), refreshed before expiry and
once after a refused login, a revoked sign-in ending in "sign in again"; real IMAP logins
to the harness's Dovecot (its oauth2 passdb asks the introspection endpoint) and real
SMTP logins to the harness's SMTP server."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mailtui import secrets
from mailtui.auth.client import Client, Tokens
from mailtui.auth.device import poll_device, request_device_code
from mailtui.config import AccountConfig
from mailtui.config.oauth import client as oauth_client
from mailtui.models import AccountKind
from mailtui.protocols.smtp import SmtpAuthError, SmtpConfigError
from mailtui.store import Store
from mailtui.sync import outbox
from mailtui.sync.contract import AccountStatus
from tests.integration.test_imap_sync import msg, sync
from tests.integration.test_oauth import oauth_account
from tests.servers import MailUser, OAuthTokenServer
from tests.servers.authorization import AuthorizationServer
from tests.unit.keyrings import MemoryKeyring


async def no_wait(seconds: float) -> None:
    pass


def signed_in_account(user: MailUser, authz: AuthorizationServer, **kw: Any) -> AccountConfig:
    """An account with auth = "oauth2", an [oauth] table for `authz` and no
    token_command: its tokens come from the stored sign-in."""
    client = oauth_client("[accounts.work.oauth]", authz.oauth_table(), ("imap", "smtp"))
    acc = oauth_account(user, "unused", token_command=None, **kw)
    return replace(acc, oauth=client)


async def sign_in(acc: AccountConfig, authz: AuthorizationServer, user: MailUser) -> Tokens:
    """The device flow, as `mailtui login` runs it, ending with the tokens stored."""
    assert acc.oauth is not None
    authz.user = user.name
    authz.device_answers = ["authorization_pending", "ok"]
    code = await request_device_code(acc.oauth)
    tokens = await poll_device(acc.oauth, code, sleep=no_wait)
    secrets.store_sign_in(acc.name, tokens)
    return tokens


def grants(authz: AuthorizationServer, kind: str) -> int:
    return sum(r.get("grant_type") == kind for r in authz.token_requests)


async def test_signed_in_account_syncs_and_sends_without_a_helper(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    oauth_user.deliver(msg(1, "after signing in"))
    acc = signed_in_account(oauth_user, authz)
    tokens = await sign_in(acc, authz, oauth_user)
    stored = {k for (_, k) in memory_keyring.items}
    assert stored == {"work:oauth2-refresh", "work:oauth2-access"}
    offset = oauth_user.dovecot.log_size()
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    inbox = next(f for f in await store.folders() if f.name == "INBOX")
    assert [r.subject for r in await store.window(inbox.id, 0, 10)] == ["after signing in"]
    assert tokens.access_token in oauth_tokens.requests  # Dovecot asked about this token
    log = oauth_user.dovecot.log_text(offset)
    assert f"Login: user=<{oauth_user.name}>, method=OAUTHBEARER" in log
    assert grants(authz, "refresh_token") == 0  # the stored token was still good

    conn = await outbox.connector(acc)()
    try:
        await conn.send(oauth_user.email, [oauth_user.email], msg(2, "sent signed in"))
    finally:
        await conn.close()
    assert oauth_user.smtp.oauth_logins[-1] == ("OAUTHBEARER", oauth_user.name)
    assert [m.login for m in oauth_user.smtp.messages_to(oauth_user.email)] == [oauth_user.name]


async def test_an_access_token_near_its_expiry_is_refreshed_first(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    authz.expires_in = 60  # inside REFRESH_MARGIN: refreshed before each use
    authz.rotate = True
    acc = signed_in_account(oauth_user, authz)
    first = await sign_in(acc, authz, oauth_user)
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert grants(authz, "refresh_token") >= 1
    # The first access token was never shown to the server; a refreshed one was.
    assert first.access_token not in oauth_tokens.requests
    # The rotated refresh token replaced the first one in the keyring.
    kept = memory_keyring.get_password("mailtui", "work:oauth2-refresh")
    assert kept != first.refresh_token and kept in authz.refresh_tokens()


async def test_a_refused_token_is_refreshed_once_and_the_login_goes_on(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    acc = signed_in_account(oauth_user, authz)
    tokens = await sign_in(acc, authz, oauth_user)
    oauth_tokens.revoke(tokens.access_token)  # refused though not expired
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert grants(authz, "refresh_token") == 1
    # SMTP likewise: its stored token is revoked, one refresh, then it logs in.
    fresh = secrets.stored_access("work")
    assert fresh is not None
    oauth_tokens.revoke(fresh[0])
    conn = await outbox.connector(acc)()
    await conn.close()
    assert grants(authz, "refresh_token") == 2
    assert oauth_user.smtp.oauth_logins[-1] == ("OAUTHBEARER", oauth_user.name)


async def test_a_revoked_sign_in_says_sign_in_again_and_stops_asking(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    acc = signed_in_account(oauth_user, authz)
    tokens = await sign_in(acc, authz, oauth_user)
    assert tokens.refresh_token is not None
    oauth_tokens.revoke(tokens.access_token)
    authz.revoke_refresh(tokens.refresh_token)
    status, worker = await sync(store, acc)
    assert status is AccountStatus.AUTH_FAILED
    text = worker.status_text
    assert "no longer accepts the stored sign-in" in text
    assert "sign in again: mailtui login work" in text
    assert tokens.access_token not in text and tokens.refresh_token not in text
    assert grants(authz, "refresh_token") == 1
    assert memory_keyring.items == {}  # the dead sign-in is forgotten
    # Again: no request to the provider at all, the same advice.
    status, worker = await sync(store, acc)
    assert status is AccountStatus.AUTH_FAILED
    assert "'work' is not signed in; sign in again: mailtui login work" in worker.status_text
    assert grants(authz, "refresh_token") == 1
    with pytest.raises(SmtpConfigError, match="mailtui login work"):
        await outbox.connector(acc)()


async def test_a_token_command_is_not_refreshed(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
) -> None:
    """With token_command the helper owns the token: a refused one is an error, and
    mailtui asks no provider."""
    token = oauth_tokens.issue(oauth_user.name)
    oauth_tokens.revoke(token)
    acc = replace(oauth_account(oauth_user, token), oauth=None)
    with pytest.raises(SmtpAuthError):
        await outbox.connector(acc)()
    assert authz.token_requests == []


async def test_provider_down_is_transient_not_a_refused_login(
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    authz.expires_in = 0  # every use needs a refresh
    acc = signed_in_account(oauth_user, authz)
    await sign_in(acc, authz, oauth_user)
    authz.stop()
    status, worker = await sync(store, acc)
    assert status is AccountStatus.OFFLINE, worker.status_text
    assert "could not reach the token endpoint" in worker.status_text
    assert ("mailtui", "work:oauth2-refresh") in memory_keyring.items  # kept for later


def test_client_repr_hides_the_secret() -> None:
    client = Client("id", "https://t", ("s",), client_secret="shh")
    assert "shh" not in repr(client)


async def test_a_pop3_login_with_a_refused_token_is_refreshed_once(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    """POP3 takes the stored sign-in as IMAP does: a refused access token is refreshed
    once and the login made again on a new connection; the download goes on."""
    from tests.integration.test_pop3_sync import sync as pop3_sync

    oauth_user.deliver(msg(1, "over pop3, signed in"))
    imap = signed_in_account(oauth_user, authz)
    acc = replace(
        imap, kind=AccountKind.POP3, port=oauth_user.pop3s_port, folders="subscribed"
    )
    tokens = await sign_in(acc, authz, oauth_user)
    oauth_tokens.revoke(tokens.access_token)  # refused though not expired
    offset = oauth_user.dovecot.log_size()
    status, worker = await pop3_sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert grants(authz, "refresh_token") == 1
    log = oauth_user.dovecot.log_text(offset)
    logins = [line for line in log.splitlines() if "pop3-login: Info: Login:" in line]
    assert logins and all("method=OAUTHBEARER" in line for line in logins)
    inbox = next(f for f in await store.folders() if f.name == "INBOX")
    assert [r.subject for r in await store.window(inbox.id, 0, 10)] == ["over pop3, signed in"]


async def test_an_exchange_bearer_token_refused_is_refreshed_once(
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
) -> None:
    """ActiveSync sends the stored sign-in's token as Bearer; a 401 to it gets one new
    token from the authorization server and one more OPTIONS (a contract test for the
    ActiveSync side: no local ActiveSync server takes OAuth)."""
    from mailtui.protocols.eas.backend import EasBackend
    from tests.servers.http_replay import Answer, ReplayServer
    from tests.unit.test_eas_backend_contract import PROVISIONED, options

    imap = signed_in_account(oauth_user, authz)
    with ReplayServer([Answer(401), options("16.1")]) as server:
        acc = replace(
            imap, kind=AccountKind.EXCHANGE, url=server.url, security="none", port=0
        )
        tokens = await sign_in(acc, authz, oauth_user)
        backend = EasBackend(acc)
        backend.restore(dict(PROVISIONED))
        await backend.connect()
        await backend.close()
    first, second = (r.headers["authorization"] for r in server.requests)
    assert first == f"Bearer {tokens.access_token}"
    assert second.startswith("Bearer ") and second != first
    assert grants(authz, "refresh_token") == 1
