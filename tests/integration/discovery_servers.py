"""The servers the discovery tests point every source at: dnsmasq with SRV, MX and
host records for zones under .test, a plain HTTP server with good and bad autoconfig
files, an HTTPS one with the suite's test certificate (module-scoped fixtures, imported
by the test modules that use them)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from textual.pilot import Pilot

from mailtui.discovery import Options
from tests.servers import TLSFiles
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer

GOOD = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="ac.test">
    <domain>ac.test</domain>
    <displayName>Autoconfig Test Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.ac.test</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.ac.test</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""

ISPDB = GOOD.replace(b"imap.%EMAILDOMAIN%", b"imap.ispdb-host.test").replace(
    b"Autoconfig Test Mail", b"ISPDB Test Mail"
)


def _xxe(canary: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE clientConfig [
  <!ENTITY secret SYSTEM "file:///etc/passwd">
  <!ENTITY remote SYSTEM "{canary}">
]>
<clientConfig version="1.1"><emailProvider id="x">
  <incomingServer type="imap"><hostname>&secret;&remote;</hostname><port>993</port>
  <socketType>SSL</socketType></incomingServer>
</emailProvider></clientConfig>""".encode()


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer(
        srv=[
            "_imaps._tcp.srv.test,imaps.srv.test,10993,0,0",
            "_imap._tcp.srv.test,imap.srv.test,10143,0,0",
            "_pop3._tcp.srv.test",  # target ".": no POP3 here (RFC 2782)
            "_submission._tcp.srv.test,smtp.srv.test,10587,10,0",
            "_submission._tcp.srv.test,smtp2.srv.test,20587,20,0",
            "_submissions._tcp.ac.test,smtp-srv.ac.test,465,0,0",
            "_imaps._tcp.ac.test,imap-srv.ac.test,993,0,0",
        ],
        mx=[
            "hosted.test,aspmx.l.google.com,10",
            "hosted.test,alt1.aspmx.l.google.com,20",
            "m365.test,m365-test.mail.protection.outlook.com,0",
            "plain.test,mx.plain.test,10",
            "isp-hosted.test,mx1.mail.ispdb.test,10",
        ],
        hosts=[
            "imap.guess.test,127.0.0.1",
            "pop.guess.test,127.0.0.1",
            "smtp.guess.test,127.0.0.1",
            "mx.plain.test,127.0.0.1",
        ],
    )
    try:
        server.start()
    except RuntimeError as exc:  # dnsmasq missing or not starting: a failure, not a skip
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def web() -> Iterator[WebServer]:
    server = WebServer()
    server.route("/good", GOOD)
    server.route("/ispdb/ispdb.test", ISPDB)
    server.route("/huge", b"<clientConfig>" + b" " * (2 * 1024 * 1024), length=False)
    server.route("/huge-declared", b"<clientConfig>" + b" " * (1024 * 1024))
    server.route("/bad", b"<clientConfig><emailProvider><incomingServer>")
    server.route("/wrong-root", b"<html><body>hello</body></html>")
    server.route("/slow", hold=True)
    server.route("/canary", b"")
    server.route("/gzip", gzip.compress(GOOD), headers=(("Content-Encoding", "gzip"),))
    with server:
        server.route("/xxe", _xxe(server.url("/canary")))
        yield server


@pytest.fixture(scope="module")
def https(server_tls: TLSFiles, web: WebServer) -> Iterator[WebServer]:
    server = WebServer(tls=server_tls)
    server.route("/mail/config-v1.1.xml", GOOD)
    with server:
        # A redirect from HTTPS to plain HTTP (where an answer could be forged).
        server.route("/downgrade", status=302, headers=(("Location", web.url("/good")),))
        yield server


def local_options(dns_server: DnsServer, web: WebServer, **kw: object) -> Options:
    """Every source pointed at the test servers; the autoconfig file missing (404)
    unless ``autoconfig_url`` says otherwise.

    The deadline and the guesses' timeout are bounds for answers that come in
    milliseconds here (a loopback server, a name that does not resolve): generous, as
    the suite runs on two busy cores, where a TLS greeting from a Dovecot login process
    forked just then can take seconds. A test of the deadline itself sets its own."""
    base = Options(
        deadline=20.0,
        dns=dns_server.address,
        autoconfig_url=web.url("/missing/{domain}"),
        ispdb_url=web.url("/ispdb/{domain}"),
        guess_timeout=10.0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


async def wizard_until(
    pilot: Pilot[object], what: Callable[[], object], timeout: float = 30.0
) -> None:
    """Wait for ``what`` in a setup wizard test: a key's effect comes through the
    wizard's messages (an option list's choice reaches the screen a hop later) or a
    worker (discovery, the check on the real servers). 30 s of wall-clock time:
    generous, for a suite on two busy cores."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("the wizard never got there")
        await pilot.pause(0.02)
