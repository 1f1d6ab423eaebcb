"""Contract tests of ActiveSync Autodiscover (``mailtui.protocols.eas.autodiscover``): the
answers are written from [MS-ASCMD] 2.2.1.1 and 4.2 (the POX request and its mobilesync
response schema) and from the shape Microsoft 365's JSON endpoint answers in, served by
scripted HTTPS servers on 127.0.0.1 with the suite's test certificate: good answers,
redirects within and out of the domain, a redirect to plain http, the HTTP redirect
method, malicious (an external entity), huge, broken and slow answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.protocols.eas.autodiscover import (
    JSON_V2,
    POX,
    AskUser,
    Endpoints,
    Found,
    NotFound,
    autodiscover,
)
from tests.servers.http_replay import Answer, ReplayServer
from tests.servers.ports import free_ports
from tests.servers.tls import TLSFiles, make_self_signed_cert

EMAIL = "chris@woodgrovebank.com"
EAS_URL = "https://loandept.woodgrovebank.com/Microsoft-Server-ActiveSync"
XML = {"Content-Type": "text/xml; charset=utf-8"}


def pox_answer(inner: str) -> Answer:
    return Answer(200, XML, (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        '<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">'
        f"<Culture>en:us</Culture>{inner}</Response></Autodiscover>"
    ).encode())  # fmt: skip


# [MS-ASCMD] 4.2.4 "Response - Case Server Settings"
SETTINGS = pox_answer(
    "<User><DisplayName>Chris Gray</DisplayName><EMailAddress>chris@woodgrovebank.com"
    "</EMailAddress></User><Action><Settings><Server><Type>MobileSync</Type>"
    f"<Url>{EAS_URL}</Url><Name>{EAS_URL}</Name></Server><Server><Type>CertEnroll</Type>"
    "<Url>https://cert.woodgrovebank.com/CertEnroll</Url><Name /><ServerData>"
    "CertEnrollTemplate</ServerData></Server></Settings></Action>"
)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_self_signed_cert(tmp_path_factory.mktemp("autodiscover-tls"))


@pytest.fixture
def https(cert: TLSFiles) -> Iterator[type[ReplayServer]]:
    class Https(ReplayServer):
        def __init__(self, answers: list[Answer]) -> None:
            super().__init__(answers, cert=(cert.cert_path, cert.key_path))

    yield Https


def at(server: ReplayServer, host: str = "127.0.0.1", path: str = "/autodiscover/autodiscover.xml") -> str:  # noqa: E501
    return f"{server.scheme}://{host}:{server.port}{path}"


async def discover(cert: TLSFiles, **kw: object) -> object:
    return await autodiscover(EMAIL, password="sécret", ca_file=cert.ca_path, timeout=3.0,
                              **kw)  # type: ignore[arg-type]  # fmt: skip


def only_pox(*urls: str) -> Endpoints:
    return Endpoints(pox=urls, redirect_probe=None, json=None)


async def test_the_pox_request_and_the_settings_answer(
    cert: TLSFiles, https: type[ReplayServer]
) -> None:
    with https([SETTINGS]) as server:
        found = await discover(cert, endpoints=only_pox(at(server)))
    assert found == Found(EAS_URL, at(server), "Chris Gray", other_domain=False)
    [request] = server.requests
    assert request.method == "POST" and request.headers["content-type"].startswith("text/xml")
    body = request.body.decode()
    assert f"<EMailAddress>{EMAIL}</EMailAddress>" in body
    assert ("<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
            "mobilesync/responseschema/2006</AcceptableResponseSchema>") in body  # fmt: skip
    auth = request.headers["authorization"].removeprefix("Basic ")
    assert base64.b64decode(auth).decode() == f"{EMAIL}:sécret"


async def test_the_next_address_when_one_fails(cert: TLSFiles, https: type[ReplayServer]) -> None:
    closed = f"https://127.0.0.1:{free_ports(1)[0]}/autodiscover/autodiscover.xml"
    with https([Answer(404)]) as missing, https([SETTINGS]) as good:
        found = await discover(cert, endpoints=only_pox(closed, at(missing), at(good)))
    assert isinstance(found, Found) and found.source == at(good)


async def test_a_redirect_to_another_domain_asks_first_and_sends_no_password(
    cert: TLSFiles, https: type[ReplayServer]
) -> None:
    with https([SETTINGS]) as elsewhere:
        target = at(elsewhere, host="localhost")
        with https([Answer(302, {"Location": target})] * 2) as first:
            asked = await discover(cert, endpoints=only_pox(at(first)))
            assert asked == AskUser(target, "localhost", asked.reason)  # type: ignore[union-attr]
            assert elsewhere.requests == []  # not a byte, let alone the password
            # The user said yes: the same call with that host trusted follows it.
            found = await discover(cert, endpoints=only_pox(at(first)),
                                   trusted_hosts=frozenset({"localhost"}))  # fmt: skip
    assert isinstance(found, Found) and found.url == EAS_URL
    assert "authorization" in elsewhere.requests[0].headers


async def test_a_redirect_to_plain_http_is_not_followed(
    cert: TLSFiles, https: type[ReplayServer]
) -> None:
    with (
        ReplayServer([SETTINGS]) as plain,
        https([Answer(301, {"Location": at(plain)})]) as first,
    ):
        result = await discover(cert, endpoints=only_pox(at(first)))
    assert isinstance(result, NotFound) and "not https" in result.tried[0]
    assert plain.requests == []


async def test_the_http_redirect_method(cert: TLSFiles, https: type[ReplayServer]) -> None:
    """A GET over http without the password; its redirect to https is then asked."""
    with (
        https([SETTINGS]) as good,
        ReplayServer([Answer(302, {"Location": at(good)})]) as probe,
    ):
        found = await discover(
            cert, endpoints=Endpoints(pox=(), redirect_probe=at(probe), json=None)
        )
    assert isinstance(found, Found) and found.url == EAS_URL
    [get] = probe.requests
    assert get.method == "GET" and "authorization" not in get.headers


async def test_a_pox_redirect_to_another_address(
    cert: TLSFiles, https: type[ReplayServer]
) -> None:
    same = pox_answer("<Action><Redirect>chris.gray@woodgrovebank.com</Redirect></Action>")
    other = pox_answer("<Action><Redirect>chris@fabrikam.com</Redirect></Action>")
    with https([same, SETTINGS]) as server:
        found = await discover(cert, endpoints=only_pox(at(server)))
        assert isinstance(found, Found)
        assert b"<EMailAddress>chris.gray@woodgrovebank.com<" in server.requests[1].body
    with https([other]) as server:
        asked = await discover(cert, endpoints=only_pox(at(server)))
    assert isinstance(asked, AskUser) and asked.host == "fabrikam.com"


async def test_json_v2_as_microsoft_365_answers(
    cert: TLSFiles, https: type[ReplayServer]
) -> None:
    answer = {"Protocol": "ActiveSync",
              "Url": "https://outlook.office365.com/Microsoft-Server-ActiveSync"}  # fmt: skip
    with https([Answer(200, {"Content-Type": "application/json"},
                       json.dumps(answer).encode())]) as server:  # fmt: skip
        template = at(server, path="/autodiscover/autodiscover.json/v1.0/{email}"
                      "?Protocol=ActiveSync")  # fmt: skip
        found = await discover(cert, endpoints=Endpoints(pox=(), redirect_probe=None,
                                                         json=template))  # fmt: skip
    assert found == Found(answer["Url"], template.replace("{email}", EMAIL), other_domain=True)
    [request] = server.requests
    assert request.path == f"/autodiscover/autodiscover.json/v1.0/{EMAIL}"
    assert request.query == [("Protocol", "ActiveSync")] and "authorization" not in request.headers


async def test_a_json_error_is_said(cert: TLSFiles, https: type[ReplayServer]) -> None:
    error = {"ErrorCode": "InvalidUser", "ErrorMessage": "The given SMTP address is invalid."}
    with https([Answer(400, {}, json.dumps(error).encode())]) as server:
        result = await discover(cert, endpoints=Endpoints(pox=(), redirect_probe=None,
                                                          json=at(server)))  # fmt: skip
    assert isinstance(result, NotFound) and "The given SMTP address is invalid." in result.tried[0]


async def test_malicious_huge_broken_and_slow_answers(
    cert: TLSFiles, https: type[ReplayServer], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = Answer(200, XML, (
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        "<Response>&x;</Response></Autodiscover>"
    ).encode())  # fmt: skip
    huge = Answer(200, XML, b"<a>" + b"x" * 2_000_000 + b"</a>", chunked=True)
    broken = Answer(200, XML, b"<Autodiscover><Response><Action>")
    error = Answer(200, XML, (
        b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        b"<Response><Error><ErrorCode>600</ErrorCode><Message>Invalid Request</Message>"
        b"</Error></Response></Autodiscover>"
    ))  # fmt: skip
    slow = Answer(200, XML, SETTINGS.body, delay=5.0)
    servers = [https([a]) for a in (xxe, huge, broken, error, slow)]
    for s in servers:
        s.__enter__()
    try:
        result = await discover(cert, endpoints=only_pox(*(at(s) for s in servers)))
    finally:
        for s in servers:
            s.__exit__(None, None, None)
    assert isinstance(result, NotFound)
    words = [t.split(": ", 1)[1] for t in result.tried]
    assert words[0] == "refused: the answer declares a DTD or entities"
    assert words[1].startswith("an answer larger than 256 KB")
    assert words[2] == "not an Autodiscover answer (not XML)"
    assert words[3] == "the server says: Invalid Request"
    assert words[4] == "no answer in time"
    assert "TOP-SECRET" not in repr(result)


async def test_a_deadline_for_the_whole_search(
    cert: TLSFiles, https: type[ReplayServer]
) -> None:
    slow = Answer(200, XML, SETTINGS.body, delay=3.0)
    with https([slow]) as first, https([SETTINGS]) as second:
        result = await discover(cert, endpoints=only_pox(at(first), at(second)), deadline=0.5)
    assert isinstance(result, NotFound)
    assert result.tried == (
        f"{at(first)}: not tried, or not finished, within 0.5 s",
        f"{at(second)}: not tried, or not finished, within 0.5 s",
    )


def test_the_default_addresses() -> None:
    assert POX == ("https://{domain}/autodiscover/autodiscover.xml",
                   "https://autodiscover.{domain}/autodiscover/autodiscover.xml")  # fmt: skip
    assert JSON_V2 == ("https://autodiscover-s.outlook.com/autodiscover/autodiscover.json/"
                       "v1.0/{email}?Protocol=ActiveSync")  # fmt: skip
    assert Endpoints().redirect_probe == "http://autodiscover.{domain}/autodiscover/autodiscover.xml"


async def test_not_an_email_address() -> None:
    with pytest.raises(ValueError, match="not an email address"):
        await autodiscover("woodgrovebank.com")
