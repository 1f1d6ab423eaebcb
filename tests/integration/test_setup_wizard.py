"""The setup wizard walked by keys (Textual's Pilot, 80x24), its discovery pointed at the
suite's dnsmasq and HTTP servers: who, discover and choose, servers, sign in, check,
save; Esc goes back a step and nothing is written until the end. The check logs in to
the suite's real Dovecot and SMTP server (found through SRV records, as localhost), and
its failures come from them: a wrong password, a certificate not trusted."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from mailtui.account_setup import Checked
from mailtui.accounts import load_config, specs
from mailtui.config import Config
from mailtui.protocols.net.tls import show_fingerprint
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.manager import SyncManager
from mailtui.ui.screens.setup import DEMO, SetupApp, SetupScreen
from tests.integration.discovery_servers import local_options
from tests.integration.discovery_servers import wizard_until as _until
from tests.servers import MailUser
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer
from tests.unit.keyrings import MemoryKeyring, memory_keyring  # noqa: F401 (a fixture)


@pytest.fixture
def found(mail_user: MailUser) -> Iterator[DnsServer]:
    """SRV records of check.test pointing at the real servers as localhost (the name
    their certificate has)."""
    server = DnsServer(
        srv=[
            f"_imaps._tcp.check.test,localhost,{mail_user.imaps_port},0,0",
            f"_submission._tcp.check.test,localhost,{mail_user.smtp_port},0,0",
        ],
        hosts=["localhost,127.0.0.1"],
    )
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()




async def _released(pilot: Pilot[object], screen: SetupScreen, button: str) -> None:
    """A button just pressed takes no press while it shows the press (-active)."""
    widget = screen.query_one(button)
    await _until(pilot, lambda: not widget.has_class("-active"))


def _screen(app: SetupApp) -> SetupScreen:
    screen = app.screen
    assert isinstance(screen, SetupScreen)
    return screen


async def _type(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*list(text))


async def _to_servers(pilot: Pilot[object], app: SetupApp, email: str) -> SetupScreen:
    await pilot.pause()
    await _type(pilot, "Ann Example")
    await pilot.press("enter")
    await _type(pilot, email)
    await pilot.press("enter")
    screen = _screen(app)
    await _until(pilot, lambda: screen.discovered)
    await pilot.press("enter")  # the first kind found
    await _until(pilot, lambda: screen.step == "servers")
    return screen


async def test_walk_to_an_imap_account_checked_for_real(
    tmp_path: Path,
    found: DnsServer,
    web: WebServer,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    config_path = tmp_path / "config.toml"
    app = SetupApp(Config(path=config_path), local_options(found, web))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _to_servers(pilot, app, "ann@check.test")
        results = str(screen.query_one("#results", Static).render())
        assert "SRV records: found" in results and "provider table: nothing" in results
        assert screen.query_one("#f-host", Input).value == "localhost"
        assert screen.query_one("#f-port", Input).value == str(mail_user.imaps_port)
        assert screen.query_one("#f-smtp-port", Input).value == str(mail_user.smtp_port)
        screen.query_one("#f-username", Input).value = mail_user.name
        screen.query_one("#f-ca_file", Input).value = str(mail_user.ca_path)
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "signin")
        await _type(pilot, mail_user.password)
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "check")
        question = str(screen.query_one("#check-results", Static).render())
        assert "localhost: not in check.test" in question  # asked before any password goes
        assert screen.checked is None
        await pilot.press("enter")  # yes, it is the provider's
        await _until(pilot, lambda: screen.checked is not None)
        checked = screen.checked
        assert checked is not None and [(c.what.split()[0], c.ok) for c in checked] == [
            ("incoming", True),
            ("outgoing", True),
        ]
        assert not config_path.exists()  # nothing written before the end
        assert memory_keyring.items == {}
        await _released(pilot, screen, "#check-button")
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "save")
        await pilot.press("enter")
        await pilot.pause()
    plan = app.return_value
    assert plan is not None and not isinstance(plan, str) and plan.name == "check"
    acc = load_config(config_path).account("check")
    assert (acc.host, acc.port, acc.username) == ("localhost", mail_user.imaps_port, mail_user.name)
    assert acc.display_name == "Ann Example"
    assert acc.smtp is not None and acc.smtp.port == mail_user.smtp_port
    assert memory_keyring.items == {("mailtui", "check"): mail_user.password}
    assert mail_user.password not in config_path.read_text()

    # The account as saved syncs: its password from the keyring, its mail into the store.
    mail_user.deliver(
        b"From: Bo <bo@check.test>\r\nTo: ann@check.test\r\nSubject: Welcome aboard\r\n"
        b"Message-ID: <welcome@check.test>\r\n\r\nHello.\r\n"
    )
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        manager = SyncManager(store, await specs(store, load_config(config_path)))
        assert await manager.run_once() == {"check": AccountStatus.ONLINE}
        inbox = next(f for f in await store.folders() if f.name == "INBOX")
        assert [r.subject for r in await store.window(inbox.id, 0, 10)] == ["Welcome aboard"]
    finally:
        await store.close()


@pytest.mark.parametrize("failure", ["wrong password", "certificate not trusted"])
async def test_a_failed_check_says_why_and_can_go_back(
    tmp_path: Path,
    found: DnsServer,
    web: WebServer,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,  # noqa: F811
    failure: str,
) -> None:
    config_path = tmp_path / "config.toml"
    app = SetupApp(Config(path=config_path), local_options(found, web))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _to_servers(pilot, app, "ann@check.test")
        screen.query_one("#f-username", Input).value = mail_user.name
        if failure == "wrong password":
            screen.query_one("#f-ca_file", Input).value = str(mail_user.ca_path)
        await pilot.press("enter")
        await _type(
            pilot, "not-the-password" if failure == "wrong password" else mail_user.password
        )
        await pilot.press("enter", "enter")
        await _until(pilot, lambda: screen.checked is not None)
        text = str(screen.query_one("#check-results", Static).render())
        assert "FAILED  incoming imap localhost" in text
        if failure == "wrong password":
            assert "login" in text.lower() or "authentication" in text.lower()
            assert "Enter: save anyway" in text
            assert not screen.query_one("#pin-button").display
        else:
            assert "certificate" in text.lower() and "sha256:" in text.lower()
            assert "Pin: trust exactly this certificate" in text
        await pilot.press("escape")
        await _until(pilot, lambda: screen.step == "signin")
        await pilot.press("escape")
        await _until(pilot, lambda: screen.step == "servers")
    assert not config_path.exists()
    assert memory_keyring.items == {}


async def test_a_certificate_not_trusted_is_shown_and_pinned(
    tmp_path: Path,
    found: DnsServer,
    web: WebServer,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    """The harness's self-signed certificate: its subject and SHA-256 shown, pinned by
    an explicit choice, and then the check logs in to both servers (SMTP trusts what
    the account trusts unless its own table says otherwise)."""
    der = ssl.PEM_cert_to_DER_cert(mail_user.ca_path.read_text())
    expected = hashlib.sha256(der).hexdigest()
    config_path = tmp_path / "config.toml"
    app = SetupApp(Config(path=config_path), local_options(found, web))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _to_servers(pilot, app, "ann@check.test")
        screen.query_one("#f-username", Input).value = mail_user.name
        await pilot.press("enter")
        await _type(pilot, mail_user.password)
        await pilot.press("enter", "enter")  # the password, then yes to localhost
        await _until(pilot, lambda: screen.checked is not None)
        text = str(screen.query_one("#check-results", Static).render())
        assert "subject CN=localhost" in text
        assert show_fingerprint(expected) in text
        assert screen.query_one("#pin-button").display
        assert not config_path.exists()
        await _released(pilot, screen, "#pin-button")
        await pilot.press("enter")  # pin
        await _until(pilot, lambda: all(c.ok for c in screen.checked or [Checked("", False, "")]))
        assert not screen.query_one("#pin-button").display
        await _released(pilot, screen, "#check-button")
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "save")
        assert "tls_fingerprint = " + expected in str(screen.query_one("#summary").render())
        await pilot.press("enter")
        await pilot.pause()
    acc = load_config(config_path).account("check")
    assert acc.tls_fingerprint == expected
    assert acc.smtp is not None and acc.smtp.tls_fingerprint is None  # the account's own


async def test_pop3_chosen_and_a_host_changed(
    tmp_path: Path, dns_server: DnsServer, web: WebServer
) -> None:
    config_path = tmp_path / "config.toml"
    options = local_options(dns_server, web, autoconfig_url=web.url("/good"))
    app = SetupApp(Config(path=config_path), options, email="fay@ac.test")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "enter")  # the address was given: on to discovery
        screen = _screen(app)
        await _until(pilot, lambda: screen.discovered)
        await pilot.press("down")  # POP3, found in the provider's autoconfig
        explain = screen.query_one("#explain", Static)
        await _until(pilot, lambda: "downloads your mail" in str(explain.render()))
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "servers")
        host = screen.query_one("#f-host", Input)
        assert host.value == "pop.ac.test"
        host.value = "localhost"  # a name that needs no DNS; nothing listens on 995 here
        assert screen.query_one("#pop3-rows").display
        screen.query_one("#f-delete_after_days", Input).focus()
        await pilot.pause()
        help_line = str(screen.query_one("#field-help", Static).render())
        assert "other devices stop seeing them then" in help_line  # the kind's own help
        screen.query_one("#f-delete_after_days", Input).value = "30"
        screen.query_one("#f-max_message_kb", Input).value = "2048"
        screen.query_one("#f-apop", Input).value = "maybe"
        screen.query_one("#f-host", Input).focus()
        await pilot.press("enter")
        error = screen.query_one("#servers-error", Label)
        await _until(pilot, lambda: "apop: yes or no" in str(error.render()))
        assert screen.step == "servers"  # a bad value is said, nothing goes on
        screen.query_one("#f-apop", Input).value = "no"
        screen.query_one("#f-port", Input).value = str(mail_user_port_closed())
        await pilot.press("enter", "tab")
        await _type(pilot, "printf x")
        await pilot.press("enter")
        await _until(pilot, lambda: screen.checked is not None)
        assert "Connection refused" in str(screen.query_one("#check-results", Static).render())
        await _released(pilot, screen, "#check-button")
        await pilot.press("enter")  # save anyway
        await _until(pilot, lambda: screen.step == "save")
        await pilot.press("enter")
        await pilot.pause()
    acc = load_config(config_path).account("ac")
    assert (acc.kind.value, acc.host, acc.username) == ("pop3", "localhost", "fay@ac.test")
    assert acc.leave_on_server is True
    assert (acc.delete_after_days, acc.max_message_kb, acc.apop) == (30, 2048, False)
    assert "apop" not in config_path.read_text()  # the defaults are not written


async def test_escape_goes_back_and_leaves_without_saving(
    tmp_path: Path, dns_server: DnsServer, web: WebServer
) -> None:
    config_path = tmp_path / "config.toml"
    app = SetupApp(Config(path=config_path), local_options(dns_server, web))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("tab")
        await _type(pilot, "not an address")
        await pilot.press("enter")
        screen = _screen(app)
        error = screen.query_one("#who-error")
        await _until(pilot, lambda: "is not an email address" in str(error.render()))
        assert screen.step == "who"
        screen.query_one("#email", Input).value = "ann@srv.test"
        await pilot.press("enter")
        await _until(pilot, lambda: screen.discovered)
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "servers")
        await pilot.press("escape")
        await _until(pilot, lambda: screen.step == "discover")
        await pilot.press("escape")
        await _until(pilot, lambda: screen.step == "who")
        assert screen.query_one("#email", Input).value == "ann@srv.test"  # kept
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_value is None
    assert not config_path.exists()


async def test_the_demo_is_one_key_away_at_the_first_start(
    tmp_path: Path, dns_server: DnsServer, web: WebServer
) -> None:
    options = local_options(dns_server, web)
    app = SetupApp(Config(path=tmp_path / "config.toml"), options, offer_demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await pilot.pause()
    assert app.return_value == DEMO
    # `mailtui setup` does not offer it: F9 does nothing there.
    app = SetupApp(Config(path=tmp_path / "config.toml"), options)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await pilot.pause()
        assert _screen(app).step == "who"
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_value is None


def mail_user_port_closed() -> int:
    from tests.servers.ports import free_ports

    return free_ports(1)[0]


async def test_walk_to_a_pop3_account_with_its_download_options_and_mail(
    tmp_path: Path,
    web: WebServer,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    """POP3 found through SRV records (the harness's Dovecot), its download options
    set in the wizard, saved with them, then synced: the mail is in the store."""
    dns = DnsServer(
        srv=[
            f"_pop3s._tcp.pop.test,localhost,{mail_user.pop3s_port},0,0",
            f"_submission._tcp.pop.test,localhost,{mail_user.smtp_port},0,0",
        ],
        hosts=["localhost,127.0.0.1"],
    )
    try:
        dns.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    config_path = tmp_path / "config.toml"
    app = SetupApp(Config(path=config_path), local_options(dns, web))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _to_servers(pilot, app, "ann@pop.test")
            assert screen.plan is not None and screen.plan.kind == "pop3"
            screen.query_one("#f-username", Input).value = mail_user.name
            screen.query_one("#f-ca_file", Input).value = str(mail_user.ca_path)
            screen.query_one("#f-delete_after_days", Input).value = "14"
            screen.query_one("#f-delete_when_deleted_here", Input).value = "yes"
            await pilot.press("enter")
            await _type(pilot, mail_user.password)
            await pilot.press("enter", "enter")  # the password; yes, localhost
            await _until(pilot, lambda: screen.checked is not None)
            assert screen.checked is not None and all(c.ok for c in screen.checked)
            await _released(pilot, screen, "#check-button")
            await pilot.press("enter", "enter")
            await pilot.pause()
    finally:
        dns.stop()
    acc = load_config(config_path).account("pop")
    assert (acc.kind.value, acc.leave_on_server) == ("pop3", True)
    assert (acc.delete_after_days, acc.delete_when_deleted_here) == (14, True)
    mail_user.deliver(
        b"From: Bo <bo@pop.test>\r\nTo: ann@pop.test\r\nSubject: Downloaded\r\n"
        b"Message-ID: <downloaded@pop.test>\r\n\r\nHello.\r\n"
    )
    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        manager = SyncManager(store, await specs(store, load_config(config_path)))
        assert await manager.run_once() == {"pop": AccountStatus.ONLINE}
        folders = await store.folders()
        assert [r.subject for f in folders for r in await store.window(f.id, 0, 9)] == [
            "Downloaded"
        ]
    finally:
        await store.close()
