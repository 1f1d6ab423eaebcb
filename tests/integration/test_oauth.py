"""OAuth2 login (auth = "oauth2") against a real Dovecot whose `oauth2` passdb checks
tokens at the harness's RFC 7662 introspection endpoint, and against the harness SMTP
server with the same tokens. The token comes from token_command."""

from __future__ import annotations

import base64
import json
import shlex
import socket
from dataclasses import replace
from typing import Any

import pytest

from mailtui.config import AccountConfig, SmtpConfig
from mailtui.errors import AuthError
from mailtui.protocols.imap.connection import ImapConnection
from mailtui.protocols.smtp import SmtpAuthError
from mailtui.store import Store
from mailtui.sync import outbox
from mailtui.sync.contract import AccountStatus
from tests.integration.test_imap_sync import account, msg, sync
from tests.servers import MailUser, OAuthTokenServer


def oauth_account(user: MailUser, token: str, security: str = "tls", **kw: Any) -> AccountConfig:
    """`account()` of test_imap_sync, logging in with a token instead of the password."""
    values: dict[str, Any] = {
        "password_command": None,
        "auth": "oauth2",
        "token_command": f"printf '%s\\n' {shlex.quote(token)}",
        "smtp": SmtpConfig(
            host=user.host, port=user.smtp_port, security="starttls", username=user.name
        ),
    }
    values.update(kw)
    return account(user, security, **values)


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_oauth_account_syncs_with_a_token_from_token_command(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    store: Store,
    security: str,
) -> None:
    oauth_user.deliver(msg(1, "by token"))
    token = oauth_tokens.issue(oauth_user.name)
    offset = oauth_user.dovecot.log_size()
    status, worker = await sync(store, oauth_account(oauth_user, token, security))
    assert status is AccountStatus.ONLINE, worker.status_text
    inbox = next(f for f in await store.folders() if f.name == "INBOX")
    assert [r.subject for r in await store.window(inbox.id, 0, 10)] == ["by token"]
    assert token in oauth_tokens.requests  # Dovecot asked the introspection endpoint
    # OAUTHBEARER is preferred when offered (Dovecot offers both).
    assert f"Login: user=<{oauth_user.name}>, method=OAUTHBEARER" in oauth_user.dovecot.log_text(
        offset
    )


async def test_rejected_token_stops_with_a_plain_auth_error(
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    store: Store,
) -> None:
    token = oauth_tokens.issue(oauth_user.name)
    oauth_tokens.revoke(token)  # expired, say
    status, worker = await sync(store, oauth_account(oauth_user, token))
    assert status is AccountStatus.AUTH_FAILED
    text = worker.status_text
    assert text.startswith(
        f"login refused: {oauth_user.host} refused the OAuth access token for "
        f"{oauth_user.name} (invalid_token): "
    )
    assert "token_command" in text and token not in text and "\n" not in text
    # A token for someone else is no better.
    other = oauth_tokens.issue("someone_else")
    status, worker = await sync(store, oauth_account(oauth_user, other))
    assert status is AccountStatus.AUTH_FAILED


async def raw_authenticate(user: MailUser, mechanism: str, initial: bytes) -> list[bytes]:
    """What the server says, line by line, to AUTHENTICATE with a bad token, answering
    its error challenge the way ``ImapConnection`` does."""
    lines = []
    with socket.create_connection((user.host, user.imap_port), timeout=10) as sock:
        f = sock.makefile("rwb")
        f.readline()
        f.write(b"a1 AUTHENTICATE " + mechanism.encode() + b" " + base64.b64encode(initial))
        f.write(b"\r\n")
        f.flush()
        lines.append(f.readline())
        if lines[-1].startswith(b"+"):
            answer = b"" if mechanism == "XOAUTH2" else base64.b64encode(b"\x01")
            f.write(answer + b"\r\n")
            f.flush()
            lines.append(f.readline())
    return lines


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
async def test_each_mechanism_logs_in_and_answers_the_error_challenge(
    oauth_user: MailUser, oauth_tokens: OAuthTokenServer, mechanism: str
) -> None:
    """Both mechanisms against Dovecot through ``ImapConnection`` itself: a good token
    logs in; a bad one gets Dovecot's JSON error challenge, which the client answers
    (XOAUTH2: an empty line; OAUTHBEARER: %x01) so that the server ends with NO."""
    good = oauth_tokens.issue(oauth_user.name)
    bad = "tok-revoked"
    for token, ok in ((good, True), (bad, False)):
        conn = await ImapConnection.open(
            oauth_user.host, oauth_user.imap_port, "starttls", oauth_user.ssl_context()
        )
        conn.capabilities -= {"AUTH=OAUTHBEARER", "AUTH=XOAUTH2"} - {f"AUTH={mechanism}"}
        try:
            if ok:
                await conn.login_oauth(oauth_user.name, token, oauth_user.imap_port)
                _, untagged = await conn.command(b"SELECT", b"INBOX")
                assert any(r.kind == "EXISTS" for r in untagged)
            else:
                with pytest.raises(AuthError, match="refused the OAuth access token"):
                    await conn.login_oauth(oauth_user.name, token, oauth_user.imap_port)
                expected = "401" if mechanism == "XOAUTH2" else "invalid_token"
                assert conn.oauth_status == expected  # what Dovecot's challenge said
                assert not conn.broken  # the exchange ended cleanly with NO
        finally:
            await conn.logout()
    # The same exchange on the wire: challenge, answer, tagged NO.
    initial = (
        f"user={oauth_user.name}\x01auth=Bearer {bad}\x01\x01"
        if mechanism == "XOAUTH2"
        else f"n,a={oauth_user.name},\x01auth=Bearer {bad}\x01\x01"
    ).encode()
    challenge, final = await raw_authenticate(oauth_user, mechanism, initial)
    assert "status" in json.loads(base64.b64decode(challenge[2:].strip()))
    assert final.startswith(b"a1 NO [AUTHENTICATIONFAILED]")


async def test_no_token_at_all_says_how_to_get_one(
    oauth_user: MailUser,
    store: Store,
) -> None:
    acc = oauth_account(oauth_user, "x", token_command='sh -c "exit 2"')
    status, worker = await sync(store, acc)
    assert status is AccountStatus.AUTH_FAILED
    assert "token_command failed with exit code 2" in worker.status_text


async def test_smtp_sends_with_oauthbearer_else_xoauth2(
    oauth_user: MailUser, oauth_tokens: OAuthTokenServer
) -> None:
    token = oauth_tokens.issue(oauth_user.name)
    acc = oauth_account(oauth_user, token)
    smtp = oauth_user.smtp
    conn = await outbox.connector(acc)()
    try:
        await conn.send(oauth_user.email, [oauth_user.email], msg(1, "sent with a token"))
    finally:
        await conn.close()
    [accepted] = smtp.messages_to(oauth_user.email)
    assert accepted.login == oauth_user.name and accepted.tls
    assert smtp.oauth_logins[-1] == ("OAUTHBEARER", oauth_user.name)

    # A server offering only XOAUTH2 gets that (the client picks from the EHLO list).
    from mailtui.protocols import smtp as smtp_module

    class XOAuth2Only(smtp_module.SmtpConnection):
        async def _login(self, credentials: smtp_module.Credentials) -> None:
            auth = self._client.esmtp_extensions["auth"]
            self._client.esmtp_extensions["auth"] = auth.replace("OAUTHBEARER", "")
            await super()._login(credentials)

    settings = outbox.smtp_settings(acc)
    credentials = await outbox.smtp_credentials(acc)
    conn = await XOAuth2Only.open(settings, credentials)
    await conn.close()
    assert smtp.oauth_logins[-1] == ("XOAUTH2", oauth_user.name)


@pytest.mark.parametrize("only", ["OAUTHBEARER", "XOAUTH2"])
async def test_smtp_rejected_token_is_a_plain_auth_error(
    oauth_user: MailUser, oauth_tokens: OAuthTokenServer, only: str
) -> None:
    from mailtui.protocols import smtp as smtp_module

    class OnlyOne(smtp_module.SmtpConnection):
        async def _login(self, credentials: smtp_module.Credentials) -> None:
            self._client.esmtp_extensions["auth"] = only
            await super()._login(credentials)

    acc = oauth_account(oauth_user, "tok-not-issued")
    with pytest.raises(SmtpAuthError) as info:
        await OnlyOne.open(outbox.smtp_settings(acc), await outbox.smtp_credentials(acc))
    text = str(info.value)
    assert f"refused the OAuth access token for {oauth_user.name!r}: 535 5.7.8" in text
    assert "tok-not-issued" not in text


async def test_password_still_works_on_the_oauth_server(
    oauth_user: MailUser,
    store: Store,
) -> None:
    """The oauth2 passdb sits beside the password one; auth = "password" is unchanged."""
    acc = replace(
        oauth_account(oauth_user, "unused"),
        auth="password",
        token_command=None,
        password_command=f"printf '%s' {shlex.quote(oauth_user.password)}",
    )
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
