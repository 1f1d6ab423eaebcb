"""The wizard's OAuth2 sign-in step, against the suite's local authorization server
(device flow) and the OAuth-enabled Dovecot and SMTP server: discovery says the server
wants OAuth2 (an autoconfig file with ``OAuth2``), the wizard asks the client id, runs
the sign-in on its own screen, checks with the token and saves the account with its
``[oauth]`` table and no secret in the file; the account then syncs. Esc during the
sign-in stops it and leaves nothing in the keyring."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from mailtui.accounts import load_config, specs
from mailtui.config import Config
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.manager import SyncManager
from mailtui.ui.screens.setup import SetupApp, SetupScreen
from tests.integration.discovery_servers import local_options
from tests.integration.discovery_servers import wizard_until as _until
from tests.servers import MailUser
from tests.servers.authorization import AuthorizationServer
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer
from tests.unit.keyrings import MemoryKeyring, memory_keyring  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration


def autoconfig(user: MailUser) -> bytes:
    """The provider's file: IMAP and SMTP at the harness's servers, OAuth2 only."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1"><emailProvider id="oa.test">
  <domain>oa.test</domain><displayName>OAuth Test Mail</displayName>
  <incomingServer type="imap"><hostname>localhost</hostname><port>{user.imaps_port}</port>
    <socketType>SSL</socketType><username>{user.name}</username>
    <authentication>OAuth2</authentication></incomingServer>
  <outgoingServer type="smtp"><hostname>localhost</hostname><port>{user.smtp_port}</port>
    <socketType>STARTTLS</socketType><username>{user.name}</username>
    <authentication>OAuth2</authentication></outgoingServer>
</emailProvider></clientConfig>""".encode()




async def _to_signin(
    pilot: Pilot[object], app: SetupApp, user: MailUser
) -> SetupScreen:
    await pilot.pause()
    await pilot.press("tab", *list("ann@oa.test"), "enter")
    screen = app.screen
    assert isinstance(screen, SetupScreen)
    await _until(pilot, lambda: screen.discovered)
    await pilot.press("enter")  # IMAP, from the provider's autoconfig
    await _until(pilot, lambda: screen.step == "servers")
    screen.query_one("#f-ca_file", Input).value = str(user.ca_path)
    await pilot.press("enter")
    await _until(pilot, lambda: screen.step == "signin")
    return screen


@pytest.fixture
def served(web: WebServer, oauth_user: MailUser) -> str:
    web.route(f"/oa/{oauth_user.name}", autoconfig(oauth_user))
    return web.url(f"/oa/{oauth_user.name}")


async def test_the_wizard_signs_in_with_oauth2_and_the_account_syncs(
    tmp_path: Path,
    dns_server: DnsServer,
    web: WebServer,
    served: str,
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    authz.user = oauth_user.name
    authz.device_answers = ["authorization_pending", "ok"]
    config_path = tmp_path / "config.toml"
    options = local_options(dns_server, web, autoconfig_url=served)
    app = SetupApp(Config(path=config_path), options, oauth_custom=authz.oauth_table())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _to_signin(pilot, app, oauth_user)
        help_text = str(screen.query_one("#signin-help", Static).render())
        assert "signs you in with OAuth2" in help_text and "README" in help_text
        assert not screen.query_one("#password-part").display
        assert screen.query_one("#client-id", Input).value == authz.client_id
        await pilot.press("enter")  # sign in
        await _until(pilot, lambda: "enter " in str(screen.query_one("#signin-log").render()))
        log = str(screen.query_one("#signin-log", Static).render())
        assert "open   " + authz.base in log  # the device flow's page and code, on screen
        await _until(pilot, lambda: screen.step == "check")
        assert "Signed in" in str(screen.query_one("#signin-log", Static).render())
        question = str(screen.query_one("#check-results", Static).render())
        assert "localhost: not in oa.test" in question
        await pilot.press("enter")  # yes, log in there
        await _until(pilot, lambda: screen.checked is not None)
        assert screen.checked is not None and all(c.ok for c in screen.checked), screen.checked
        await _until(pilot, lambda: not screen.query_one("#check-button").has_class("-active"))
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "save")
        await pilot.press("enter")
        await pilot.pause()
    acc = load_config(config_path).account("oa")
    assert acc.auth == "oauth2" and acc.oauth is not None
    assert acc.oauth.client_id == authz.client_id
    text = config_path.read_text()
    assert "[accounts.oa.oauth]" in text
    assert not any(token in text for token in authz.refresh_tokens())
    assert {k for (_, k) in memory_keyring.items} == {"oa:oauth2-refresh", "oa:oauth2-access"}

    oauth_user.deliver(
        b"From: Bo <bo@oa.test>\r\nTo: ann@oa.test\r\nSubject: Signed in\r\n"
        b"Message-ID: <signed@oa.test>\r\n\r\nHello.\r\n"
    )
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        manager = SyncManager(store, await specs(store, load_config(config_path)))
        assert await manager.run_once() == {"oa": AccountStatus.ONLINE}
        inbox = next(f for f in await store.folders() if f.name == "INBOX")
        assert [r.subject for r in await store.window(inbox.id, 0, 10)] == ["Signed in"]
    finally:
        await store.close()


async def test_escape_stops_the_sign_in_and_nothing_is_kept(
    tmp_path: Path,
    dns_server: DnsServer,
    web: WebServer,
    served: str,
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    authz.user = oauth_user.name
    authz.device_answers = ["authorization_pending"] * 1000  # the user never signs in
    config_path = tmp_path / "config.toml"
    options = local_options(dns_server, web, autoconfig_url=served)
    app = SetupApp(Config(path=config_path), options, oauth_custom=authz.oauth_table())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _to_signin(pilot, app, oauth_user)
        await pilot.press("enter")
        await _until(pilot, lambda: "Waiting" in str(screen.query_one("#signin-log").render()))
        await pilot.press("escape")
        await _until(pilot, lambda: screen.step == "servers")
        assert not screen.signing_in
        polls = len(authz.token_requests)
        # Three poll intervals (1 s): a poll going on would come three more times. One
        # request may already have been on its way when Esc cancelled it; the server
        # can record it after the count.
        await pilot.pause(3.5)
        assert len(authz.token_requests) <= polls + 1
        for _ in range(4):
            await pilot.press("escape")
        await pilot.pause()
    assert app.return_value is None
    assert not config_path.exists()
    assert memory_keyring.items == {}
