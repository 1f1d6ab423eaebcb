"""Discovery's pure parts: the provider table, addresses, autoconfig parsing, merging
sources by precedence, and the values an account gets. The sources themselves run
against real servers in tests/integration/test_discovery.py."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from mailtui.config.reader import parse as parse_config
from mailtui.discovery import Email, Options, Proposal, Server, Source, SourceResult, Status, merge
from mailtui.discovery.autoconfig import Refused, parse, parser
from mailtui.discovery.providers import by_domain, by_mx, table
from mailtui.discovery.providers import parse as parse_table
from mailtui.errors import DiscoveryError

ANN = Email.parse("ann@example.org")

# ------------------------------------------------------------------ the provider table


def test_the_shipped_table_covers_the_big_providers() -> None:
    names = {p.name for p in table()}
    for name in (
        "Gmail",
        "Outlook.com",
        "Microsoft 365",
        "Yahoo Mail",
        "iCloud Mail",
        "Fastmail",
        "GMX",
        "Zoho Mail",
        "Yandex Mail",
        "Mail.ru",
    ):
        assert name in names
    for provider in table():
        protocols = {e[0] for e in provider.endpoints}
        assert {"imap", "smtp"} <= protocols, provider.key
    domains = [d for p in table() for d in p.domains]
    assert len(domains) == len(set(domains)), "a domain belongs to one provider"


def test_providers_by_domain_with_their_username_forms() -> None:
    icloud = by_domain("me.com")
    assert icloud is not None
    servers = icloud.servers(Email.parse("joe@me.com"), Source.PROVIDERS)
    assert [(s.protocol, s.username) for s in servers] == [
        ("imap", "joe"),
        ("smtp", "joe@me.com"),
    ]
    gmail = by_domain("gmail.com")
    assert gmail is not None and gmail.auth == "password"  # app passwords work
    outlook = by_domain("hotmail.com")
    assert outlook is not None and outlook.auth == "oauth2"  # nothing but OAuth2
    assert by_domain("example.org") is None


def test_mx_rules_take_the_most_specific_suffix() -> None:
    outlook = by_mx(["example-com.olc.protection.outlook.com"])
    m365 = by_mx(["example-com.mail.protection.outlook.com"])
    assert outlook is not None and outlook.name == "Outlook.com"
    assert m365 is not None and m365.name == "Microsoft 365"
    google = by_mx(["mx.example.org", "ASPMX.L.GOOGLE.COM."])
    assert google is not None and google.name == "Gmail"
    assert by_mx(["mx.example.org"]) is None
    assert by_mx(["notgoogle.com"]) is None  # a suffix is a whole label


@pytest.mark.parametrize(
    "entry",
    [
        'imap = ["imap.x.test:993:ssl"]',
        'imap = ["imap x.test:993:tls"]',
        'imap = ["imap.x.test:0:tls"]',
        'imap = ["imap.x.test:993:tls"]\nusername = "login"',
    ],
)
def test_a_bad_table_entry_is_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_table(f'[x]\nname = "X"\n{entry}\n')


# ------------------------------------------------------------------ addresses, options


def test_addresses() -> None:
    e = Email.parse("  Zoë@Bücher.Example ")
    assert (e.address, e.local, e.domain) == ("Zoë@Bücher.Example", "Zoë", "xn--bcher-kva.example")
    for bad in ("ann", "ann@", "@example.org", "ann@example", "an n@example.org", "a@b\x1b.org"):
        with pytest.raises(DiscoveryError):
            Email.parse(bad)


def test_dns_option() -> None:
    assert Options(dns="127.0.0.1:5353").dns_server() == ("127.0.0.1", 5353)
    assert Options(dns="[::1]:53").dns_server() == ("::1", 53)
    assert Options(dns="10.0.0.1").dns_server() == ("10.0.0.1", 53)
    assert Options().dns_server() is None
    for bad in ("127.0.0.1:x", ":53", "127.0.0.1:70000"):
        with pytest.raises(DiscoveryError, match="HOST:PORT"):
            Options(dns=bad).dns_server()


# ------------------------------------------------------------------ autoconfig parsing


def _doc(servers: str, name: str = "Example Mail") -> bytes:
    return (
        f'<clientConfig version="1.1"><emailProvider id="example.org">'
        f"<displayName>{name}</displayName>{servers}</emailProvider></clientConfig>"
    ).encode()


def test_placeholders_ports_and_auth() -> None:
    name, servers = parse(
        _doc(
            "<incomingServer type='imap'><hostname>mail.%EMAILDOMAIN%</hostname>"
            "<socketType>STARTTLS</socketType><username>%EMAILLOCALPART%</username>"
            "<authentication>OAuth2</authentication>"
            "<authentication>password-cleartext</authentication></incomingServer>"
            "<incomingServer type='ews'><url>https://x/ews</url></incomingServer>"
            "<outgoingServer type='smtp'><hostname>SMTP.Example.org</hostname><port>465</port>"
            "<socketType>SSL</socketType><authentication>OAuth2</authentication>"
            "</outgoingServer>"
        ),
        ANN,
        Source.AUTOCONFIG,
    )
    assert name == "Example Mail"
    imap, smtp = servers
    assert (imap.host, imap.port, imap.security, imap.username, imap.auth) == (
        "mail.example.org",
        143,  # no <port>: the usual one for STARTTLS
        "starttls",
        "ann",
        "password",  # OAuth2 offered, not required
    )
    assert (smtp.host, smtp.port, smtp.security, smtp.username, smtp.auth) == (
        "smtp.example.org",
        465,
        "tls",
        "ann@example.org",
        "oauth2",
    )


def test_hostile_text_never_reaches_a_server_or_the_screen() -> None:
    # XML allows the C1 controls (U+009B is CSI, a terminal's escape), not ESC itself.
    name, servers = parse(
        _doc(
            "<incomingServer type='imap'><hostname>evil&#155;2J.example.org</hostname>"
            "<socketType>SSL</socketType></incomingServer>"
            "<incomingServer type='imap'><hostname>evil example.org</hostname>"
            "<socketType>SSL</socketType></incomingServer>"
            "<incomingServer type='imap'><hostname>ok.example.org</hostname><port>99999</port>"
            "<socketType>SSL</socketType></incomingServer>"
            "<incomingServer type='imap'><hostname>ok.example.org</hostname>"
            "<socketType>carrier-pigeon</socketType></incomingServer>",
            name="Evil&#155;2J&#10;Mail",
        ),
        ANN,
        Source.AUTOCONFIG,
    )
    assert servers == ()
    assert name == "Evil 2J Mail"


@pytest.mark.parametrize(
    "doc",
    [
        b'<!DOCTYPE clientConfig SYSTEM "http://127.0.0.1:1/x.dtd"><clientConfig/>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><clientConfig/>',
        b"<!doctype clientConfig><clientConfig/>",
    ],
)
def test_any_dtd_is_refused(doc: bytes) -> None:
    with pytest.raises(Refused, match="DTD"):
        parse(doc, ANN, Source.ISPDB)


def test_the_parser_itself_resolves_nothing() -> None:
    """Behind the refusal of any DTD: lxml as configured expands no entity, reads no
    file and asks no server, even for a document that gets past the refusal."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"FETCHED")

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/entity"
        doc = (
            f'<!DOCTYPE r [<!ENTITY f SYSTEM "file:///etc/passwd">'
            f'<!ENTITY n SYSTEM "{url}"><!ENTITY l "LOL">]><r>&f;|&n;|&l;</r>'
        ).encode()
        root = etree.fromstring(doc, parser())
        text = "".join(root.itertext())
        assert "root:" not in text and "FETCHED" not in text and "LOL" not in text
        dtd_doc = f'<!DOCTYPE r SYSTEM "{url}"><r/>'.encode()
        etree.fromstring(dtd_doc, parser())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert asked == []


def test_not_autoconfig() -> None:
    with pytest.raises(Refused, match="not valid XML"):
        parse(b"<clientConfig><emailProvider>", ANN, Source.ISPDB)
    with pytest.raises(Refused, match="not an autoconfig document"):
        parse(b"<html/>", ANN, Source.ISPDB)
    assert parse(b"<clientConfig/>", ANN, Source.ISPDB) == ("", ())


# ------------------------------------------------------------------ merging


def _server(protocol: str, host: str, source: Source, security: str = "tls") -> Server:
    return Server(protocol, host, 993, security, "ann@example.org", source)


def _found(source: Source, *servers: Server, provider: str = "") -> SourceResult:
    return SourceResult(source, Status.FOUND, servers, provider=provider)


def test_higher_sources_win_for_each_protocol() -> None:
    results = [
        _found(
            Source.GUESS, _server("imap", "g", Source.GUESS), _server("smtp", "gs", Source.GUESS)
        ),
        _found(Source.SRV, _server("imap", "s", Source.SRV), _server("pop3", "sp", Source.SRV)),
        SourceResult(Source.ISPDB, Status.FAILED, detail="not valid XML"),
        _found(Source.AUTOCONFIG, _server("imap", "a", Source.AUTOCONFIG), provider="Ex"),
        SourceResult(Source.PROVIDERS, Status.NOTHING),
    ]
    imap, pop3 = merge(results)
    assert (imap.kind, imap.incoming.host, imap.provider) == ("imap", "a", "Ex")
    assert imap.outgoing is not None and imap.outgoing.host == "gs"  # only guessing had SMTP
    assert (pop3.kind, pop3.incoming.host) == ("pop3", "sp")


def test_the_best_sources_kind_comes_first() -> None:
    results = [
        _found(Source.GUESS, _server("imap", "g", Source.GUESS)),
        _found(Source.AUTOCONFIG, _server("pop3", "p", Source.AUTOCONFIG)),
    ]
    assert [p.kind for p in merge(results)] == ["pop3", "imap"]
    exchange = _found(
        Source.PROVIDERS,
        _server("pop3", "x", Source.PROVIDERS),
        _server("exchange", "x", Source.PROVIDERS),
        _server("imap", "x", Source.PROVIDERS),
        _server("smtp", "x", Source.PROVIDERS),
    )
    proposals = merge([exchange])
    assert [p.kind for p in proposals] == ["imap", "exchange", "pop3"]
    assert proposals[1].outgoing is None  # Exchange sends itself
    assert merge([SourceResult(Source.SRV, Status.TIMED_OUT)]) == ()


def test_a_proposal_as_config_values() -> None:
    email = "joe@me.com"
    imap = Server("imap", "imap.mail.me.com", 993, "tls", "joe", Source.PROVIDERS)
    smtp = Server("smtp", "smtp.mail.me.com", 587, "starttls", email, Source.PROVIDERS)
    values = Proposal("imap", imap, smtp).values(email)
    assert values == {
        "email": email,
        "host": "imap.mail.me.com",
        "port": 993,
        "security": "tls",
        "username": "joe",
        "smtp.host": "smtp.mail.me.com",
        "smtp.port": 587,
        "smtp.security": "starttls",
        "smtp.username": email,
    }
    oauth = Server("imap", "imap.gmail.com", 993, "tls", "a@gmail.com", Source.MX, "oauth2")
    assert Proposal("imap", oauth, None).values("a@gmail.com") == {
        "email": "a@gmail.com",
        "host": "imap.gmail.com",
        "port": 993,
        "security": "tls",
        "auth": "oauth2",
    }
    # What the reader makes of it: the account as proposed.
    toml = "[accounts.x]\nkind = 'imap'\n" + "".join(
        f"{k} = {v!r}\n".replace("'", '"') for k, v in values.items() if "." not in k
    )
    acc = parse_config(toml).account("x")
    assert (acc.host, acc.port, acc.username) == ("imap.mail.me.com", 993, "joe")


# ------------------------------------------------------------------ the account to write


def test_account_names_after_the_domain() -> None:
    from mailtui.account_setup import account_name

    assert account_name("gmail.com") == "gmail"
    assert account_name("mail.example.co.uk") == "example"
    assert account_name("yahoo.com.au") == "yahoo"
    assert account_name("xn--bcher-kva.example") == "xn--bcher-kva"
    assert account_name("gmail.com", ["gmail", "gmail-2"]) == "gmail-3"


def test_registered_domains() -> None:
    from mailtui.discovery.model import registered_domain

    assert registered_domain("mx1.mail.example.org.") == "example.org"
    assert registered_domain("mx.example.co.uk") == "example.co.uk"
    assert registered_domain("ASPMX.L.GOOGLE.COM") == "google.com"
