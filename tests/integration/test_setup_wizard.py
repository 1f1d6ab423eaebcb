"""The setup wizard walked by keys (Textual's Pilot, 80x24), its discovery pointed at the
suite's dnsmasq and HTTP servers: who, discover and choose, servers, sign in, save; Esc
goes back a step and nothing is written until the end."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from mailtui.accounts import load_config
from mailtui.config import Config
from mailtui.ui.screens.setup import DEMO, SetupApp, SetupScreen
from tests.integration.discovery_servers import local_options
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer


async def _until(pilot: Pilot[object], what: object, tries: int = 400) -> None:
    for _ in range(tries):
        if callable(what) and what():
            return
        await pilot.pause(0.02)
    raise AssertionError("the wizard never got there")


def _screen(app: SetupApp) -> SetupScreen:
    screen = app.screen
    assert isinstance(screen, SetupScreen)
    return screen


async def _type(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*list(text))


async def test_walk_to_an_imap_account(
    tmp_path: Path, dns_server: DnsServer, web: WebServer
) -> None:
    config_path = tmp_path / "config.toml"
    app = SetupApp(Config(path=config_path), local_options(dns_server, web))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _type(pilot, "Ann Example")
        await pilot.press("enter")
        await _type(pilot, "ann@srv.test")
        await pilot.press("enter")
        screen = _screen(app)
        await _until(pilot, lambda: screen.discovered)
        results = str(screen.query_one("#results", Static).render())
        assert "SRV records: found" in results and "provider table: nothing" in results
        kinds = screen.query_one("#kinds", OptionList)
        assert [kinds.get_option_at_index(i).id for i in range(kinds.option_count)] == [
            "imap",
            "pop3",
            "exchange",
        ]
        assert "every device" in str(screen.query_one("#explain", Static).render())
        assert not config_path.exists()

        await pilot.press("enter")  # IMAP, as found
        assert screen.query_one("#f-host", Input).value == "imaps.srv.test"
        assert screen.query_one("#f-port", Input).value == "10993"
        assert screen.query_one("#f-smtp-host", Input).value == "smtp.srv.test"
        await pilot.press("enter")  # the servers as found
        assert screen.step == "signin"
        await pilot.press("tab")
        await _type(pilot, "pass show mail")
        await pilot.press("enter")
        assert screen.step == "save"
        assert not config_path.exists()  # nothing written before the end
        await pilot.press("enter")
        await pilot.pause()
    plan = app.return_value
    assert plan is not None and plan.name == "srv"
    acc = load_config(config_path).account("srv")
    assert (acc.kind.value, acc.host, acc.port, acc.security) == (
        "imap",
        "imaps.srv.test",
        10993,
        "tls",
    )
    assert acc.password_command == "pass show mail"
    assert acc.display_name == "Ann Example"
    assert acc.smtp is not None and acc.smtp.host == "smtp.srv.test"


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
        assert "downloads your mail" in str(screen.query_one("#explain", Static).render())
        await pilot.press("enter")
        host = screen.query_one("#f-host", Input)
        assert host.value == "pop.ac.test"
        host.value = "pop3.ac.test"
        await pilot.press("enter", "tab")
        await _type(pilot, "cat pw")
        await pilot.press("enter", "enter")
        await pilot.pause()
    acc = load_config(config_path).account("ac")
    assert (acc.kind.value, acc.host, acc.port, acc.username) == (
        "pop3",
        "pop3.ac.test",
        995,
        "fay@ac.test",
    )


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
        assert screen.step == "who"
        assert "is not an email address" in str(screen.query_one("#who-error").render())
        screen.query_one("#email", Input).value = "ann@srv.test"
        await pilot.press("enter")
        await _until(pilot, lambda: screen.discovered)
        await pilot.press("enter")
        assert screen.step == "servers"
        await pilot.press("escape")
        assert screen.step == "discover"
        await pilot.press("escape")
        assert screen.step == "who"
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
