"""Exchange Autodiscover as a discovery source, against real local servers: the suite's
HTTP(S) servers answer the POX request as an Exchange server would (SOGo has no
Autodiscover), and the ActiveSync address they name is the suite's real SOGo, so
``mailtui setup --non-interactive --check`` ends with an account whose mail syncs. A
redirect to another domain is not followed unasked, and is with ``--trust-hosts``."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from mailtui import discovery
from mailtui.accounts import load_config, specs
from mailtui.autodiscover_source import with_autodiscover
from mailtui.config import Config
from mailtui.discovery import Source, Status
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.manager import SyncManager
from mailtui.ui.screens.setup import SetupApp, SetupScreen
from tests.integration.discovery_servers import local_options
from tests.integration.discovery_servers import wizard_until as _until
from tests.integration.eas_support import message
from tests.servers import EASUser, TLSFiles
from tests.servers.cli import run_mailtui
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer
from tests.unit.keyrings import MemoryKeyring, memory_keyring  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration


def pox(url: str, name: str = "Ann Example") -> bytes:
    """An Autodiscover (mobilesync) answer naming ``url`` as the ActiveSync address."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
 <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
  <Culture>en:us</Culture>
  <User><DisplayName>{name}</DisplayName><EMailAddress>ann@ad.test</EMailAddress></User>
  <Action><Settings><Server><Type>MobileSync</Type><Url>{url}</Url>
   <Name>{url}</Name></Server></Settings></Action>
 </Response>
</Autodiscover>""".encode()


@pytest.fixture(scope="module")
def autodiscover(server_tls: TLSFiles) -> Iterator[WebServer]:
    """HTTPS, the suite's certificate (for localhost and 127.0.0.1)."""
    server = WebServer(tls=server_tls)
    server.route("/ad", pox("https://eas.ad.test/Microsoft-Server-ActiveSync"))
    server.route("/elsewhere", pox("https://eas.elsewhere.test/Microsoft-Server-ActiveSync"))
    with server:
        # A redirect to another host name (localhost: not of ad.test) on the same server.
        target = server.url("/elsewhere").replace("127.0.0.1", "localhost")
        server.route("/moved", status=302, headers=(("Location", target),))
        yield server


async def _find(options: discovery.Options, email: str = "ann@ad.test") -> discovery.Findings:
    return await discovery.find(email, with_autodiscover(options))


async def test_autodiscover_proposes_exchange_alongside_the_others(
    dns_server: DnsServer, web: WebServer, autodiscover: WebServer, server_tls: TLSFiles
) -> None:
    options = local_options(
        dns_server, web, autodiscover_url=autodiscover.url("/ad"), ca_file=server_tls.ca_path
    )
    findings = await _find(options)
    got = {r.source: r for r in findings.results}
    assert set(got) == set(Source)  # every source answered, Autodiscover among them
    result = got[Source.AUTODISCOVER]
    assert result.status is Status.FOUND, result.describe()
    assert "Ann Example" in result.detail
    (exchange,) = [p for p in findings.proposals if p.kind == "exchange"]
    values = exchange.values("ann@ad.test")
    assert values["url"] == "https://eas.ad.test/Microsoft-Server-ActiveSync"
    assert (values["host"], values["port"], values["security"]) == ("eas.ad.test", 443, "tls")
    assert exchange.outgoing is None  # Exchange sends through the server
    assert autodiscover.requests[-1] == "/ad"


async def test_a_redirect_elsewhere_is_asked_about_and_followed_when_trusted(
    dns_server: DnsServer, web: WebServer, autodiscover: WebServer, server_tls: TLSFiles
) -> None:
    options = local_options(
        dns_server, web, autodiscover_url=autodiscover.url("/moved"), ca_file=server_tls.ca_path
    )
    asked = {r.source: r for r in (await _find(options)).results}[Source.AUTODISCOVER]
    assert asked.status is Status.NOTHING
    assert asked.ask_host == "localhost"
    assert "/elsewhere" not in autodiscover.requests  # not followed

    for trusted in (
        options.__class__(**{**_fields(options), "trust_redirects": True}),
        options.__class__(**{**_fields(options), "trusted_hosts": frozenset({"localhost"})}),
    ):
        findings = await _find(trusted)
        result = {r.source: r for r in findings.results}[Source.AUTODISCOVER]
        assert result.status is Status.FOUND, result.describe()
        assert result.servers[0].host == "eas.elsewhere.test"
        assert result.servers[0].note == "not in ad.test"


def _fields(options: discovery.Options) -> dict[str, object]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


async def test_an_autodiscover_that_fails_leaves_the_others_working(
    dns_server: DnsServer, web: WebServer
) -> None:
    options = local_options(dns_server, web, autodiscover_url=web.url("/bad"))
    findings = await _find(options, "a@srv.test")
    got = {r.source: r for r in findings.results}
    assert got[Source.AUTODISCOVER].status is Status.NOTHING
    assert "not an Autodiscover answer" in got[Source.AUTODISCOVER].detail
    assert got[Source.SRV].status is Status.FOUND


@pytest.fixture
def plain_autodiscover(eas_user: EASUser) -> Iterator[WebServer]:
    """A private deployment's Autodiscover over plain http, naming the real SOGo."""
    server = WebServer()
    server.route("/autodiscover/autodiscover.xml", pox(eas_user.url))
    with server:
        yield server


def test_setup_check_finds_sogo_through_autodiscover_and_the_account_syncs(
    eas_user: EASUser,
    plain_autodiscover: WebServer,
    dns_server: DnsServer,
    web: WebServer,
    tmp_path: Path,
) -> None:
    for n in range(3):
        eas_user.append(message(n))
    env = eas_user.cli_home(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("")  # no account yet
    secret = tmp_path / "pw"
    secret.write_text(eas_user.password)
    p = run_mailtui(
        env,
        "setup",
        "--email",
        eas_user.email,
        "--name",
        "work",
        "--username",
        eas_user.name,
        "--password-command",
        f"cat {secret}",
        "--dns",
        dns_server.address,
        "--autoconfig-url",
        web.url("/missing/{domain}"),
        "--ispdb-url",
        web.url("/missing/{domain}"),
        "--autodiscover-url",
        plain_autodiscover.url("/autodiscover/autodiscover.xml"),
        "--check",
        "--trust-hosts",  # SOGo at 127.0.0.1 is not in mailtui.test
        "--non-interactive",
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert "Exchange Autodiscover: found" in p.stdout
    assert "Chose exchange from the Exchange Autodiscover" in p.stdout
    assert "logged in" in p.stdout
    acc = load_config(config).account("work")
    assert (acc.kind.value, acc.url, acc.security) == ("exchange", eas_user.url, "none")
    assert eas_user.password not in config.read_text()

    p = run_mailtui(env, "sync", "--once")
    assert p.returncode == 0, p.stderr
    with sqlite3.connect(tmp_path / "data" / "mail.sqlite") as db:
        ids = sorted(r[0] for r in db.execute("SELECT message_id FROM messages"))
    assert ids == sorted(f"<m{n}@example.org>" for n in range(3))


def test_setup_follows_a_redirect_elsewhere_only_with_trust_hosts(
    autodiscover: WebServer,
    dns_server: DnsServer,
    web: WebServer,
    server_tls: TLSFiles,
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(config),
    }
    args = ["setup", "--email", "ann@ad.test", "--dns", dns_server.address]
    args += ["--autoconfig-url", web.url("/missing/{domain}")]
    args += ["--ispdb-url", web.url("/missing/{domain}"), "--ca-file", str(server_tls.ca_path)]
    args += ["--autodiscover-url", autodiscover.url("/moved"), "--non-interactive"]
    p = run_mailtui(env, *args)
    assert p.returncode != 0
    assert "Traceback" not in p.stdout + p.stderr
    assert "localhost is not in ad.test: --trust-hosts follows it" in p.stdout
    assert "no mail server found for ad.test" in p.stderr
    assert not config.exists() or "ann@ad.test" not in config.read_text()

    p = run_mailtui(env, *args, "--trust-hosts")
    assert p.returncode == 0, p.stdout + p.stderr
    acc = load_config(config).account("ad")
    assert (acc.kind.value, acc.host) == ("exchange", "eas.elsewhere.test")
    assert acc.url == "https://eas.elsewhere.test/Microsoft-Server-ActiveSync"
    assert "eas.elsewhere.test is not in ad.test" in p.stdout  # said before any password


# ------------------------------------------------------------------ the wizard (Pilot)




async def _discovered(pilot: Pilot[object], app: SetupApp, email: str) -> SetupScreen:
    await pilot.pause()
    await pilot.press("tab", *list(email), "enter")
    screen = app.screen
    assert isinstance(screen, SetupScreen)
    await _until(pilot, lambda: screen.discovered)
    return screen


async def test_the_wizard_follows_a_redirect_only_when_asked_to(
    tmp_path: Path,
    dns_server: DnsServer,
    web: WebServer,
    autodiscover: WebServer,
    server_tls: TLSFiles,
) -> None:
    options = local_options(
        dns_server, web, autodiscover_url=autodiscover.url("/moved"), ca_file=server_tls.ca_path
    )
    app = SetupApp(Config(path=tmp_path / "config.toml"), with_autodiscover(options))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _discovered(pilot, app, "ann@ad.test")
        kinds = screen.query_one("#kinds", OptionList)
        labels = [str(kinds.get_option_at_index(i).prompt) for i in range(kinds.option_count)]
        assert "Follow Autodiscover to localhost (not in ad.test)" in labels
        assert "EXCHANGE: not found, set up by hand" in labels
        kinds.highlighted = labels.index("Follow Autodiscover to localhost (not in ad.test)")
        explain = screen.query_one("#explain", Static)  # the highlight reaches it a hop later
        await _until(pilot, lambda: "sends to localhost, another domain" in str(explain.render()))
        await pilot.press("enter")
        await _until(pilot, lambda: str(kinds.get_option_at_index(0).prompt) == "EXCHANGE")
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "servers")
        assert screen.query_one("#f-host", Input).value == "eas.elsewhere.test"
        assert screen.plan is not None
        assert screen.plan.values["url"] == "https://eas.elsewhere.test/Microsoft-Server-ActiveSync"


async def test_the_wizard_sets_up_sogo_through_autodiscover_and_it_syncs(
    tmp_path: Path,
    dns_server: DnsServer,
    web: WebServer,
    plain_autodiscover: WebServer,
    eas_user: EASUser,
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    for n in range(2):
        eas_user.append(message(n))
    config_path = tmp_path / "config.toml"
    url = plain_autodiscover.url("/autodiscover/autodiscover.xml")
    options = with_autodiscover(local_options(dns_server, web, autodiscover_url=url))
    app = SetupApp(Config(path=config_path), options)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _discovered(pilot, app, eas_user.email)
        results = str(screen.query_one("#results", Static).render())
        assert "Exchange Autodiscover: found" in results
        await pilot.press("enter")  # EXCHANGE, the only kind found
        await _until(pilot, lambda: screen.step == "servers")
        assert screen.query_one("#f-security", Input).value == "none"
        screen.query_one("#f-username", Input).value = eas_user.name
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "signin")
        await pilot.press(*list(eas_user.password), "enter")
        await _until(pilot, lambda: screen.step == "check")
        text = str(screen.query_one("#check-results", Static).render())
        assert "127.0.0.1: not in mailtui.test" in text  # asked before the password goes
        await pilot.press("enter")
        await _until(pilot, lambda: screen.checked is not None)
        assert screen.checked is not None and all(c.ok for c in screen.checked), screen.checked
        await _until(pilot, lambda: not screen.query_one("#check-button").has_class("-active"))
        await pilot.press("enter")
        await _until(pilot, lambda: screen.step == "save")
        await pilot.press("enter")
        await pilot.pause()
    acc = load_config(config_path).account("mailtui")
    assert (acc.kind.value, acc.url, acc.username) == ("exchange", eas_user.url, eas_user.name)
    assert memory_keyring.items == {("mailtui", "mailtui"): eas_user.password}

    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        manager = SyncManager(store, await specs(store, load_config(config_path)))
        assert await manager.run_once() == {"mailtui": AccountStatus.ONLINE}
        inbox = next(f for f in await store.folders() if f.role == "inbox")
        subjects = sorted(r.subject for r in await store.window(inbox.id, 0, 50))
        assert subjects == ["message 0", "message 1"]
    finally:
        await store.close()
