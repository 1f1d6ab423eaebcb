"""Discovery against real servers on 127.0.0.1: dnsmasq with SRV, MX and host records,
HTTP and HTTPS servers serving autoconfig files (good, malicious, huge, slow, missing,
broken), and the harness's Dovecot and SMTP server for guessing.

Every test points every source at these servers (``_options``): nothing leaves the
machine. Outcomes are asserted, never elapsed times."""

from __future__ import annotations

import pytest

from mailtui.discovery import Options, Source, SourceResult, Status, discover, find
from mailtui.discovery.guess import UNTRUSTED
from tests.integration.discovery_servers import local_options
from tests.servers import MailUser, TLSFiles
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer


async def _results(address: str, options: Options) -> dict[Source, SourceResult]:
    out: dict[Source, SourceResult] = {}
    async for result in discover(address, options):
        assert result.source not in out, "one result per source"
        out[result.source] = result
    assert set(out) == set(options.sources)
    return out


# ------------------------------------------------------------------ DNS


async def test_srv_records_in_rfc_8314_order(dns_server: DnsServer, web: WebServer) -> None:
    got = await _results("ann@srv.test", local_options(dns_server, web))
    srv = got[Source.SRV]
    assert srv.status is Status.FOUND
    assert [(s.protocol, s.host, s.port, s.security) for s in srv.servers] == [
        ("imap", "imaps.srv.test", 10993, "tls"),
        ("imap", "imap.srv.test", 10143, "starttls"),
        ("smtp", "smtp.srv.test", 10587, "starttls"),  # priority 10 before 20
        ("smtp", "smtp2.srv.test", 20587, "starttls"),
    ]
    assert all(s.username == "ann@srv.test" for s in srv.servers)
    assert not any(s.protocol == "pop3" for s in srv.servers)  # "." means not offered
    for source in (Source.PROVIDERS, Source.AUTOCONFIG, Source.ISPDB, Source.MX, Source.GUESS):
        assert got[source].status is Status.NOTHING, got[source]

    findings = await find("ann@srv.test", local_options(dns_server, web))
    (imap,) = findings.proposals
    assert imap.kind == "imap"
    assert (imap.incoming.host, imap.incoming.port, imap.incoming.source) == (
        "imaps.srv.test",
        10993,
        Source.SRV,
    )
    assert imap.outgoing is not None and imap.outgoing.host == "smtp.srv.test"


async def test_mx_at_google_or_microsoft_gives_their_settings(
    dns_server: DnsServer, web: WebServer
) -> None:
    google = await _results("bob@hosted.test", local_options(dns_server, web))
    assert google[Source.MX].status is Status.FOUND
    assert google[Source.MX].provider == "Gmail"
    assert ("imap", "imap.gmail.com", 993) in [
        (s.protocol, s.host, s.port) for s in google[Source.MX].servers
    ]
    assert all(s.username == "bob@hosted.test" for s in google[Source.MX].servers)

    microsoft = await find("cy@m365.test", local_options(dns_server, web))
    assert [p.kind for p in microsoft.proposals] == ["imap", "exchange", "pop3"]
    imap = microsoft.proposals[0]
    assert imap.provider == "Microsoft 365"
    assert (imap.incoming.host, imap.incoming.auth) == ("outlook.office365.com", "oauth2")
    assert imap.outgoing is not None and imap.outgoing.host == "smtp.office365.com"

    plain = await _results("dee@plain.test", local_options(dns_server, web))
    assert plain[Source.MX].status is Status.NOTHING
    assert "mx.plain.test" in plain[Source.MX].detail


async def test_nxdomain_is_nothing_and_the_iterator_ends(
    dns_server: DnsServer, web: WebServer
) -> None:
    got = await _results("eve@nowhere.test", local_options(dns_server, web))
    assert {s: r.status for s, r in got.items()} == dict.fromkeys(Source, Status.NOTHING)
    assert "no MX records" in got[Source.MX].detail
    findings = await find("eve@nowhere.test", local_options(dns_server, web))
    assert findings.proposals == ()


# ------------------------------------------------------------------ autoconfig, ISPDB


async def test_autoconfig_over_https_with_the_test_ca(
    dns_server: DnsServer, web: WebServer, https: WebServer, server_tls: TLSFiles
) -> None:
    template = https.url("/mail/config-v1.1.xml?emailaddress={email}&d={domain}")
    options = local_options(dns_server, web, autoconfig_url=template, ca_file=server_tls.ca_path)
    got = await _results("fay@ac.test", options)
    result = got[Source.AUTOCONFIG]
    assert result.status is Status.FOUND
    assert result.provider == "Autoconfig Test Mail"
    assert https.requests[-1] == "/mail/config-v1.1.xml?emailaddress=fay@ac.test&d=ac.test"
    imap, pop3, smtp = result.servers
    assert (imap.protocol, imap.host, imap.port, imap.security, imap.username) == (
        "imap",
        "imap.ac.test",
        993,
        "tls",
        "fay",
    )
    assert (pop3.protocol, pop3.username) == ("pop3", "fay@ac.test")
    assert (smtp.host, smtp.security, smtp.auth) == ("smtp.ac.test", "starttls", "oauth2")

    # The SRV records of ac.test lose to the provider's own file.
    findings = await find("fay@ac.test", options)
    assert [p.kind for p in findings.proposals] == ["imap", "pop3"]
    assert findings.proposals[0].incoming.source is Source.AUTOCONFIG
    assert findings.proposals[0].outgoing == smtp
    assert got[Source.SRV].status is Status.FOUND  # found, and outranked


async def test_https_with_an_untrusted_certificate_fails_in_plain_words(
    dns_server: DnsServer, web: WebServer, https: WebServer
) -> None:
    options = local_options(dns_server, web, autoconfig_url=https.url("/mail/config-v1.1.xml"))
    got = await _results("fay@ac.test", options)
    assert got[Source.AUTOCONFIG].status is Status.FAILED
    assert "certificate" in got[Source.AUTOCONFIG].detail.lower()
    assert got[Source.SRV].status is Status.FOUND  # the others go on


async def test_a_downgrade_to_plain_http_is_refused(
    dns_server: DnsServer, web: WebServer, https: WebServer, server_tls: TLSFiles
) -> None:
    options = local_options(
        dns_server, web, autoconfig_url=https.url("/downgrade"), ca_file=server_tls.ca_path
    )
    got = await _results("fay@ac.test", options)
    assert got[Source.AUTOCONFIG].status is Status.FAILED
    assert "redirected to plain HTTP, refused" in got[Source.AUTOCONFIG].detail


async def test_a_compressed_answer_is_refused(dns_server: DnsServer, web: WebServer) -> None:
    got = await _results(
        "fay@ac.test", local_options(dns_server, web, autoconfig_url=web.url("/gzip"))
    )
    assert got[Source.AUTOCONFIG].status is Status.FAILED
    assert "compressed (gzip), refused" in got[Source.AUTOCONFIG].detail


async def test_ispdb_from_its_base_url(dns_server: DnsServer, web: WebServer) -> None:
    got = await _results("gus@ispdb.test", local_options(dns_server, web))
    assert got[Source.ISPDB].status is Status.FOUND
    assert got[Source.ISPDB].provider == "ISPDB Test Mail"
    assert got[Source.ISPDB].servers[0].host == "imap.ispdb-host.test"
    assert got[Source.AUTOCONFIG].status is Status.NOTHING  # 404


async def test_ispdb_by_the_mx_hosts_domain(dns_server: DnsServer, web: WebServer) -> None:
    got = await _results("hy@isp-hosted.test", local_options(dns_server, web))
    result = got[Source.ISPDB]
    assert result.status is Status.FOUND
    assert result.detail.endswith("/ispdb/ispdb.test (by the MX host mx1.mail.ispdb.test)")
    assert result.servers[0].username == "hy"
    assert "/ispdb/isp-hosted.test" in web.requests  # its own domain first
    assert got[Source.MX].status is Status.NOTHING  # not a provider of the table


async def test_an_external_entity_is_never_resolved(dns_server: DnsServer, web: WebServer) -> None:
    options = local_options(dns_server, web, autoconfig_url=web.url("/xxe"))
    got = await _results("hal@srv.test", options)
    result = got[Source.AUTOCONFIG]
    assert result.status is Status.FAILED
    assert "DTD" in result.detail
    assert result.servers == ()
    assert "root:" not in result.describe()
    assert "/canary" not in web.requests  # the parser fetched nothing
    assert got[Source.SRV].status is Status.FOUND


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
async def test_a_huge_document_is_refused(dns_server: DnsServer, web: WebServer, path: str) -> None:
    got = await _results(
        "ivy@srv.test", local_options(dns_server, web, autoconfig_url=web.url(path))
    )
    assert got[Source.AUTOCONFIG].status is Status.FAILED
    assert "larger than 256 KiB" in got[Source.AUTOCONFIG].detail
    assert got[Source.SRV].status is Status.FOUND


@pytest.mark.parametrize(
    ("path", "words"),
    [("/bad", "not valid XML"), ("/wrong-root", "not an autoconfig document")],
)
async def test_bad_xml_fails_and_the_others_work(
    dns_server: DnsServer, web: WebServer, path: str, words: str
) -> None:
    got = await _results(
        "jo@srv.test", local_options(dns_server, web, autoconfig_url=web.url(path))
    )
    assert got[Source.AUTOCONFIG].status is Status.FAILED
    assert words in got[Source.AUTOCONFIG].detail
    assert got[Source.SRV].status is Status.FOUND


async def test_a_source_that_never_answers_times_out_and_the_rest_arrive(
    dns_server: DnsServer, web: WebServer
) -> None:
    # Every other source answers in milliseconds; 5 s leaves them room on a busy machine
    # to come before the deadline (at 2 s they might not).
    options = local_options(dns_server, web, autoconfig_url=web.url("/slow"), deadline=5.0)
    order = []
    got: dict[Source, SourceResult] = {}
    async for result in discover("kim@srv.test", options):
        order.append(result.source)
        got[result.source] = result
    assert got[Source.AUTOCONFIG].status is Status.TIMED_OUT
    assert "no answer within 5 s" in got[Source.AUTOCONFIG].detail
    assert order[-1] is Source.AUTOCONFIG  # reported when the deadline came, last
    assert got[Source.SRV].status is Status.FOUND
    assert set(got) == set(Source)
    findings = await find("kim@srv.test", options)
    assert findings.proposals[0].incoming.source is Source.SRV


# ------------------------------------------------------------------ guessing


async def test_guessing_finds_the_real_servers(
    dns_server: DnsServer, web: WebServer, mail_user: MailUser
) -> None:
    ports = {
        ("imap", "tls"): mail_user.imaps_port,
        ("imap", "starttls"): mail_user.imap_port,
        ("pop3", "tls"): mail_user.pop3s_port,
        ("pop3", "starttls"): mail_user.pop3_port,
        ("smtp", "tls"): mail_user.smtps_port,
        ("smtp", "starttls"): mail_user.smtp_port,
    }
    options = local_options(dns_server, web, guess_ports=ports, ca_file=mail_user.ca_path)
    got = await _results("lou@guess.test", options)
    result = got[Source.GUESS]
    assert result.status is Status.FOUND
    found = {(s.protocol, s.host, s.security): s for s in result.servers}
    assert set(found) == {
        ("imap", "imap.guess.test", "tls"),
        ("imap", "imap.guess.test", "starttls"),
        ("pop3", "pop.guess.test", "tls"),
        ("pop3", "pop.guess.test", "starttls"),
        ("smtp", "smtp.guess.test", "tls"),
        ("smtp", "smtp.guess.test", "starttls"),
    }
    # The test certificate names localhost, not imap.guess.test: there, but not trusted.
    assert found[("imap", "imap.guess.test", "tls")].note == UNTRUSTED
    assert found[("imap", "imap.guess.test", "starttls")].note == ""
    findings = await find("lou@guess.test", options)
    assert [p.kind for p in findings.proposals] == ["imap", "pop3"]
    assert findings.proposals[0].incoming.security == "tls"


async def test_guessing_with_nothing_listening_finds_nothing(
    dns_server: DnsServer, web: WebServer
) -> None:
    # imap.guess.test resolves, but nothing listens on these ports.
    from tests.servers.ports import free_ports

    kinds = [(p, s) for p in ("imap", "pop3", "smtp") for s in ("tls", "starttls")]
    ports = dict(zip(kinds, free_ports(len(kinds)), strict=True))
    options = local_options(dns_server, web, guess_ports=ports, sources=frozenset({Source.GUESS}))
    got = await _results("max@guess.test", options)
    assert got[Source.GUESS].status is Status.NOTHING


async def test_a_caller_that_stops_early_leaves_no_source_running(
    dns_server: DnsServer, web: WebServer
) -> None:
    import asyncio
    import contextlib

    options = local_options(dns_server, web, autoconfig_url=web.url("/slow"), deadline=60.0)
    before = asyncio.all_tasks()
    async with contextlib.aclosing(discover("kim@srv.test", options)) as results:
        async for result in results:
            assert result.source is Source.PROVIDERS  # the table answers first
            break
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == []  # the slow autoconfig request was cancelled, not left behind
