"""Contract tests of ActiveSync's HTTP layer (mailtui/protocols/eas/http.py): request and
response pairs written from [MS-ASHTTP] (section 4.1 FolderSync, 4.2 the 451 redirect,
3.1.5.2 the HTTP errors, the OPTIONS example) and what Exchange Online answers (16.1,
Bearer), replayed by a scripted HTTP(S) server on 127.0.0.1 (tests/servers/http_replay.py)
through the real client, httpx and TLS included. No local server speaks 16.x or
redirects like Exchange: the SOGo suite covers the rest against a real server."""

from __future__ import annotations

import asyncio
import base64
import socket

import pytest

from mailtui.errors import AuthError, ConfigError, OpRejected, TransientError
from mailtui.protocols.eas.http import (
    WBXML,
    EasHttp,
    Redirected,
    ServerBusy,
    best_version,
    new_device_id,
    retry_after,
)
from mailtui.protocols.eas.status import ProvisionRequired
from mailtui.protocols.eas.wbxml import Element, WbxmlError, encode
from mailtui.protocols.net import tls as net_tls
from mailtui.protocols.net.connect import CertificateNotTrusted
from mailtui.protocols.net.credentials import Credentials
from tests.servers.http_replay import Answer, ReplayServer
from tests.servers.tls import TLSFiles, make_self_signed_cert

PASSWORD = Credentials(password="sécret")
TOKEN = Credentials(oauth_token="eyJ0eXAi.token")

# [MS-ASHTTP] section 4.1: the FolderSync response, 25 bytes of WBXML.
FOLDER_SYNC_RESPONSE = bytes.fromhex(
    "03 01 6A 00 00 07 56 4C 03 31 00 01 52 03 33 00 01 4E 57 03 30 00 01 01 01"
)
# [MS-ASHTTP] the OPTIONS example (Exchange 2010), headers folded as the server sends them.
OPTIONS_ANSWER = Answer(
    200,
    {
        "Allow": "OPTIONS,POST",
        "MS-Server-ActiveSync": "14.00.0536.000",
        "MS-ASProtocolVersions": "2.0,2.1,2.5,12.0,12.1,14.0",
        "MS-ASProtocolCommands": "Sync,SendMail,SmartForward,SmartReply,GetAttachment,"
        "GetHierarchy, CreateCollection,DeleteCollection,MoveCollection,FolderSync,"
        "FolderCreate, FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,"
        "Search, Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert",
        "Public": "OPTIONS,POST",
    },
)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_self_signed_cert(tmp_path_factory.mktemp("eas-tls"))


def client(server: ReplayServer, credentials: Credentials = PASSWORD, **kwargs: object) -> EasHttp:
    options: dict[str, object] = {
        "username": "fakename",
        "credentials": credentials,
        "device_id": "v140Device",
        "device_type": "SmartPhone",
        "allow_plain": server.scheme == "http",
        "timeout": 10.0,
    }
    options.update(kwargs)
    return EasHttp(server.url, **options)  # type: ignore[arg-type]


def folder_sync(key: str) -> Element:
    return Element("FolderHierarchy:FolderSync", [Element("FolderHierarchy:SyncKey", key)])


# OPTIONS and versions


async def test_options_reads_versions_and_commands_and_chooses_the_best() -> None:
    with ReplayServer([OPTIONS_ANSWER]) as server:
        eas = client(server)
        info = await eas.options()
        await eas.aclose()
    assert info.versions == ("2.0", "2.1", "2.5", "12.0", "12.1", "14.0")
    assert info.version == "14.0" and eas.protocol_version == "14.0"
    assert {"Sync", "CreateCollection", "Provision", "ValidateCert"} <= info.commands
    assert "Find" not in info.commands
    assert info.server == "14.00.0536.000"
    (request,) = server.requests
    assert request.method == "OPTIONS"
    assert request.path == "/Microsoft-Server-ActiveSync"
    expected = base64.b64encode("fakename:sécret".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"


async def test_exchange_online_offers_16_1_and_takes_a_bearer_token() -> None:
    versions = "2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1"
    answers = [
        Answer(200, {"MS-ASProtocolVersions": versions,
                     "MS-ASProtocolCommands": "Sync,FolderSync,Find,Ping"}),
        Answer(200, {"Content-Type": WBXML}, FOLDER_SYNC_RESPONSE),
    ]  # fmt: skip
    with ReplayServer(answers) as server:
        eas = client(server, TOKEN)
        info = await eas.options()
        response = await eas.post("FolderSync", folder_sync("0"))
        await eas.aclose()
    assert info.version == "16.1" and "Find" in info.commands
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer eyJ0eXAi.token"] * 2
    assert server.requests[1].headers["ms-asprotocolversion"] == "16.1"
    assert response.document is not None


def test_best_version() -> None:
    assert best_version("2.5,12.0,12.1,14.0,14.1") == "14.1"  # SOGo
    assert best_version(" 16.0 , 12.1") == "16.0"
    assert best_version("16.1,16.0") == "16.1"
    with pytest.raises(ConfigError, match="offers ActiveSync versions 2.5, 12.0; mailtui needs"):
        best_version("2.5,12.0")
    with pytest.raises(ConfigError, match="does not offer ActiveSync"):
        best_version(None)


async def test_a_web_server_without_activesync_is_a_clear_error() -> None:
    with ReplayServer([Answer(200, {"Allow": "GET, HEAD, OPTIONS"})]) as server:
        eas = client(server)
        with pytest.raises(ConfigError, match="does not offer ActiveSync"):
            await eas.options()
        await eas.aclose()
    not_found = Answer(404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>")
    with ReplayServer([not_found]) as server:
        eas = client(server)
        with pytest.raises(ConfigError, match="there is no ActiveSync at .* check url"):
            await eas.options()
        await eas.aclose()


# A command


async def test_folder_sync_request_and_response_as_in_ms_ashttp_4_1() -> None:
    answer = Answer(200, {"Content-Type": WBXML, "Date": "Thu, 12 Mar 2009 19:34:31 GMT"},
                    FOLDER_SYNC_RESPONSE)  # fmt: skip
    with ReplayServer([answer]) as server:
        eas = client(server, protocol_version="14.0", user_agent="ASOM")
        response = await eas.post("FolderSync", folder_sync("2"))
        await eas.aclose()
    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/Microsoft-Server-ActiveSync"
    assert request.query == [("Cmd", "FolderSync"), ("User", "fakename"),
                             ("DeviceId", "v140Device"), ("DeviceType", "SmartPhone")]  # fmt: skip
    assert request.headers["content-type"] == "application/vnd.ms-sync.wbxml"
    assert request.headers["ms-asprotocolversion"] == "14.0"
    assert request.headers["user-agent"] == "ASOM"
    assert "x-ms-policykey" not in request.headers
    assert request.body == encode(folder_sync("2"))
    document = response.document
    assert document is not None and document.tag == "FolderHierarchy:FolderSync"
    assert document.findtext("Status") == "1"
    assert document.findtext("SyncKey") == "3"
    assert document.findtext("Changes/Count") == "0"


async def test_policy_key_extra_parameters_and_raw_bodies() -> None:
    answers = [Answer(200), Answer(200)]
    with ReplayServer(answers) as server:
        eas = client(server, policy_key="1307199584", protocol_version="12.1")
        response = await eas.post(
            "SendMail", b"From: a@example.test\r\n\r\nhi\r\n",
            params={"SaveInSent": "T"}, content_type="message/rfc822",
        )  # fmt: skip
        assert response.document is None  # 200 with an empty body
        eas.policy_key = None
        await eas.post("Ping")
        await eas.aclose()
    first, second = server.requests
    assert first.headers["x-ms-policykey"] == "1307199584"
    assert first.headers["content-type"] == "message/rfc822"
    assert first.body == b"From: a@example.test\r\n\r\nhi\r\n"
    assert first.query[-1] == ("SaveInSent", "T")
    assert "x-ms-policykey" not in second.headers
    assert "content-type" not in second.headers and second.body == b""


async def test_a_user_name_with_a_domain_is_sent_encoded() -> None:
    with ReplayServer([Answer(200)]) as server:
        eas = client(server, username="CONTOSO\\fake name")
        await eas.post("Ping")
        await eas.aclose()
    assert ("User", "CONTOSO\\fake name") in server.requests[0].query


# What the server answers instead


async def test_451_redirect_as_in_ms_ashttp_4_2() -> None:
    location = "https://mail.contoso.com/Microsoft-Server-ActiveSync"
    answer = Answer(451, {"Date": "Thu, 12 Mar 2009 20:16:22 GMT", "X-MS-Location": location})
    with ReplayServer([answer]) as server:
        eas = client(server)
        with pytest.raises(Redirected) as caught:
            await eas.post("FolderSync", folder_sync("2"))
        await eas.aclose()
    assert caught.value.location == location
    assert not caught.value.same_host  # another host: the caller asks before sending there
    assert "HTTP 451" in str(caught.value)


async def test_451_on_the_same_host_and_bad_redirects() -> None:
    answers = [
        Answer(451, {"X-MS-Location": "https://127.0.0.1/Microsoft-Server-ActiveSync"}),
        Answer(451, {"X-MS-Location": "http://mail.contoso.com/Microsoft-Server-ActiveSync"}),
        Answer(451),
    ]
    with ReplayServer(answers) as server:
        eas = client(server, allow_plain=True)
        with pytest.raises(Redirected) as caught:
            await eas.options()
        assert caught.value.same_host
        eas._allow_plain = False  # an https account is never sent to http
        with pytest.raises(ConfigError, match="not https"):
            await eas.post("Sync")
        with pytest.raises(TransientError, match="without saying where"):
            await eas.post("Sync")
        await eas.aclose()


async def test_449_asks_to_provision_again() -> None:
    with ReplayServer([Answer(449)]) as server:
        eas = client(server, policy_key="0")
        with pytest.raises(ProvisionRequired, match="HTTP 449"):
            await eas.post("Sync", Element("AirSync:Sync"))
        await eas.aclose()


@pytest.mark.parametrize(
    ("credentials", "answer", "message"),
    [
        (PASSWORD, Answer(401, {"WWW-Authenticate": 'Basic realm="x"'}),
         "refused the user name or password"),
        (PASSWORD, Answer(401, {"WWW-Authenticate": 'Bearer client_id="00000002"'}),
         'OAuth sign-in only: set auth = "oauth2"'),
        (TOKEN, Answer(401), "refused the access token"),
        (PASSWORD, Answer(403), "ActiveSync may be turned off for this account"),
    ],
)  # fmt: skip
async def test_401_and_403_say_what_was_refused(
    credentials: Credentials, answer: Answer, message: str
) -> None:
    with ReplayServer([answer]) as server:
        eas = client(server, credentials)
        with pytest.raises(AuthError, match=message):
            await eas.post("FolderSync", folder_sync("0"))
        await eas.aclose()


async def test_503_with_retry_after() -> None:
    answers = [Answer(503, {"Retry-After": "30"}),
               Answer(503, {"Retry-After": "Fri, 31 Dec 1999 23:59:59 GMT"}), Answer(503)]
    with ReplayServer(answers) as server:
        eas = client(server)
        waits = []
        for _ in answers:
            with pytest.raises(ServerBusy) as caught:
                await eas.post("Sync")
            waits.append(caught.value.retry_after)
        await eas.aclose()
    assert waits == [30.0, 0.0, None]
    assert issubclass(ServerBusy, TransientError)


def test_retry_after_forms() -> None:
    now = 1_000_000_000.0  # 2001-09-09T01:46:40Z
    assert retry_after("120") == 120.0
    assert retry_after("Sun, 09 Sep 2001 01:48:40 GMT", now) == 120.0
    assert retry_after("9999999") == 86400.0
    assert retry_after("soon") is None and retry_after(None) is None and retry_after("") is None


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (Answer(500), TransientError, "server error \\(HTTP 500\\)"),
        (Answer(502), TransientError, "HTTP 502"),
        (Answer(507), TransientError, "out of storage"),
        (Answer(501), ConfigError, "does not implement Sync"),
        (Answer(400), OpRejected, "refused the request \\(HTTP 400\\)"),
        (Answer(302, {"Location": "https://login.example/"}), ConfigError,
         "sends to https://login.example/ .*not an ActiveSync address"),
    ],
)  # fmt: skip
async def test_other_http_errors(answer: Answer, error: type[Exception], message: str) -> None:
    with ReplayServer([answer]) as server:
        eas = client(server)
        with pytest.raises(error, match=message):
            await eas.post("Sync")
        await eas.aclose()


async def test_a_body_that_is_not_wbxml() -> None:
    answers = [
        Answer(200, {"Content-Type": "text/html"}, b"<html>Sign in</html>"),
        Answer(200, {"Content-Type": WBXML}, b"\x03\x01\x6a\x00\x45"),
    ]
    with ReplayServer(answers) as server:
        eas = client(server)
        html = await eas.post("Sync")
        with pytest.raises(WbxmlError, match="answered text/html"):
            _ = html.document
        cut = await eas.post("Sync")
        with pytest.raises(WbxmlError, match="cut short"):
            _ = cut.document
        await eas.aclose()


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_response_larger_than_the_limit(chunked: bool) -> None:
    big = Answer(200, {"Content-Type": WBXML}, b"\x00" * 300_000, chunked=chunked)
    with ReplayServer([big, Answer(200, {}, b"x" * 1000)]) as server:
        eas = client(server, max_response=200_000)
        with pytest.raises(TransientError, match="larger than"):
            await eas.post("Sync")
        assert (await eas.post("Sync")).body == b"x" * 1000
        await eas.aclose()


# Connections and trust


async def test_no_server_and_a_silent_server() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    eas = EasHttp(f"http://127.0.0.1:{port}/x", username="u", credentials=PASSWORD,
                  device_id="d", allow_plain=True)  # fmt: skip
    with pytest.raises(TransientError, match=f"cannot reach 127.0.0.1:{port}"):
        await eas.post("Ping")
    await eas.aclose()
    with socket.socket() as silent:  # accepts (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/x"
        eas = EasHttp(url, username="u", credentials=PASSWORD, device_id="d",
                      allow_plain=True, timeout=0.3)  # fmt: skip
        with pytest.raises(TransientError, match="did not answer in time"):
            await eas.post("Ping")
        await eas.aclose()


async def test_a_kept_alive_connection_closed_by_the_server_is_tried_once_more() -> None:
    """SOGo closes a kept-alive connection every few dozen requests without saying so:
    the next request fails before any answer, and goes again on a new connection."""
    answers = [Answer(200), Answer(0, drop=True), Answer(200, {}, b"ok"),
               Answer(0, drop=True), Answer(0, drop=True)]  # fmt: skip
    with ReplayServer(answers) as server:
        eas = client(server)
        await eas.post("Ping")
        assert (await eas.post("FolderSync", folder_sync("0"))).body == b"ok"
        with pytest.raises(TransientError, match="the connection to 127.0.0.1:.* broke"):
            await eas.post("FolderSync", folder_sync("1"))  # twice in a row: not again
        await eas.aclose()
    bodies = [r.body for r in server.requests]
    assert bodies == [b"", *[encode(folder_sync("0"))] * 2, *[encode(folder_sync("1"))] * 2]


async def test_a_long_poll_with_its_own_timeout_and_a_cancelled_one() -> None:
    """Ping holds the request up to the heartbeat: its own timeout, not the client's; a
    cancelled wait (the worker has something to do) leaves the client usable."""
    status = encode(Element("Ping:Ping", [Element("Ping:Status", "1")]))
    ping = Answer(200, {"Content-Type": WBXML}, status, delay=0.5)
    answers = [ping, Answer(200, {}, b"", delay=0.5), Answer(200, {}, b"x", delay=1),
               Answer(200, {}, b"after")]  # fmt: skip
    with ReplayServer(answers) as server:
        eas = client(server, timeout=0.2)
        response = await eas.post("Ping", timeout=10)
        assert response.document is not None and response.document.findtext("Status") == "1"
        with pytest.raises(TransientError, match="did not answer in time"):
            await eas.post("Ping")
        waiting = asyncio.create_task(eas.post("Ping", timeout=60))
        while len(server.requests) < 3:
            await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert (await eas.post("Sync", timeout=10)).body == b"after"
        await eas.aclose()


async def test_extra_headers() -> None:
    with ReplayServer([Answer(200)]) as server:
        eas = client(server)
        await eas.post("ItemOperations", headers={"MS-ASAcceptMultiPart": "T"})
        await eas.aclose()
    assert server.requests[0].headers["ms-asacceptmultipart"] == "T"


def test_device_ids() -> None:
    first, second = new_device_id(), new_device_id()
    assert first != second and len(first) == 32 and first.isalnum()
    for key, value in (("device_id", "has space"), ("device_id", ""), ("device_type", "x" * 33)):
        with pytest.raises(ConfigError, match=f"{key}: .* letters and digits"):
            EasHttp("https://mail.example/x", username="u", credentials=PASSWORD,
                    **{"device_id": "abc", key: value})  # type: ignore[arg-type]


def test_plain_http_only_when_the_account_allows_it() -> None:
    with pytest.raises(ConfigError, match='plain http.*security = "none"'):
        EasHttp("http://mail.example/x", username="u", credentials=PASSWORD, device_id="d")
    with pytest.raises(ConfigError, match="not an http"):
        EasHttp("ftp://mail.example/x", username="u", credentials=PASSWORD, device_id="d")


async def test_https_with_the_servers_own_certificate(cert: TLSFiles) -> None:
    with ReplayServer([OPTIONS_ANSWER], cert=(cert.cert_path, cert.key_path)) as server:
        eas = client(server, ca_file=cert.ca_path)
        assert (await eas.options()).version == "14.0"
        await eas.aclose()


async def test_https_not_trusted_names_the_certificate_and_sends_nothing(cert: TLSFiles) -> None:
    with ReplayServer([OPTIONS_ANSWER], cert=(cert.cert_path, cert.key_path)) as server:
        eas = client(server)  # the system store does not know the test certificate
        with pytest.raises(CertificateNotTrusted) as caught:
            await eas.options()
        await eas.aclose()
    assert server.requests == []
    der = net_tls.ssl.PEM_cert_to_DER_cert(cert.cert_path.read_text())
    shown = net_tls.show_fingerprint(net_tls.fingerprint_of(der))
    assert "is not trusted" in str(caught.value) and shown in str(caught.value)
    assert "ca_file" in str(caught.value)


async def test_a_pinned_certificate(cert: TLSFiles) -> None:
    der = net_tls.ssl.PEM_cert_to_DER_cert(cert.cert_path.read_text())
    pin = net_tls.fingerprint_of(der)
    with ReplayServer([OPTIONS_ANSWER], cert=(cert.cert_path, cert.key_path)) as server:
        eas = client(server, tls_fingerprint=pin)
        assert (await eas.options()).version == "14.0"
        await eas.aclose()
        other = client(server, tls_fingerprint="ab" * 32)
        with pytest.raises(ConfigError, match="does not match tls_fingerprint") as caught:
            await other.options()
        await other.aclose()
    assert len(server.requests) == 1  # the wrong pin: not a byte of HTTP, no password
    assert net_tls.show_fingerprint(pin) in str(caught.value)

