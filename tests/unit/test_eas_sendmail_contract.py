"""Contract tests of sending over ActiveSync (``mailtui.protocols.eas.sendmail`` and the
Provision it runs on HTTP 449): request/response pairs written from [MS-ASCMD]
(SendMail, SmartReply, SmartForward, their ComposeMail Status codes), [MS-ASPROV] (the
two-step Provision) and [MS-ASHTTP] (449, 503, the 12.1 query form), replayed by a
scripted HTTP server on 127.0.0.1. SOGo covers the real server path
(tests/integration/test_eas_send.py); these cover what SOGo never answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui.errors import ConfigError
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.provision import provision
from mailtui.protocols.eas.sendmail import EasSubmission, client_id, recipients_in_mime
from mailtui.protocols.eas.wbxml import Element, decode, encode
from mailtui.protocols.net.credentials import Credentials
from mailtui.protocols.smtp import (
    SmtpConfigError,
    SmtpRejected,
    SmtpTransientError,
    SmtpUncertain,
)
from mailtui.sync.contract import Original
from tests.servers.http_replay import Answer, ReplayServer

DATA = Path(__file__).resolve().parents[1] / "data" / "eas" / "sogo-5.8"
WBXML = {"Content-Type": "application/vnd.ms-sync.wbxml"}
RAW = b"From: me@x.org\r\nTo: you@x.org\r\nSubject: hi\r\n\r\nHello.\r\n"


def options(version: str = "14.1") -> Answer:
    return Answer(200, {"MS-ASProtocolVersions": f"12.1,14.0,{version}",
                        "MS-ASProtocolCommands": "Sync,SendMail,SmartReply,SmartForward,"
                                                 "Provision,FolderSync"})  # fmt: skip


def status(command: str, code: str) -> Answer:
    doc = Element(f"ComposeMail:{command}", [Element("ComposeMail:Status", code)])
    return Answer(200, WBXML, encode(doc))


def provision_answer(policy: list[Element], code: str = "1") -> Answer:
    doc = Element(
        "Provision:Provision",
        [Element("Provision:Status", code),
         Element("Provision:Policies", [Element("Provision:Policy", policy)])],
    )  # fmt: skip
    return Answer(200, WBXML, encode(doc))


def policy(key: str, code: str = "1", doc: list[Element] | None = None) -> list[Element]:
    out = [Element("Provision:PolicyType", "MS-EAS-Provisioning-WBXML"),
           Element("Provision:Status", code), Element("Provision:PolicyKey", key)]  # fmt: skip
    if doc is not None:
        out.append(Element("Provision:Data", [Element("Provision:EASProvisionDoc", doc)]))
    return out


async def submission(server: ReplayServer) -> EasSubmission:
    http = EasHttp(
        server.url,
        username="ann",
        credentials=Credentials(password="pw"),
        device_id="dev1",
        allow_plain=True,
        timeout=5.0,
        keepalive=False,
    )
    info = await http.options()
    return EasSubmission(http, info.commands)


async def test_sendmail_as_ms_ascmd_describes_it() -> None:
    """ClientId, SaveInSentItems, the MIME as opaque data; success is an empty 200.
    ``before_data`` runs after OPTIONS and before the message goes."""
    with ReplayServer([options(), Answer(200)]) as server:
        sub = await submission(server)
        seen: list[int] = []

        async def before() -> None:
            seen.append(len(server.requests))

        reply = await sub.submit("me@x.org", ["you@x.org"], RAW, before_data=before)
        await sub.close()
    assert reply == "accepted by 127.0.0.1 (SendMail)" and seen == [1]
    sent = server.requests[1]
    assert dict(sent.query)["Cmd"] == "SendMail"
    assert sent.headers["ms-asprotocolversion"] == "14.1"
    doc = decode(sent.body)
    assert [c.tag for c in doc.children] == [
        "ComposeMail:ClientId", "ComposeMail:SaveInSentItems", "ComposeMail:Mime"
    ]
    assert doc.findtext("ClientId") == client_id(RAW)
    mime = doc.find("Mime")
    assert mime is not None and mime.opaque and mime.data == RAW


async def test_smartreply_and_smartforward_name_the_original_and_replace_the_mime() -> None:
    with ReplayServer([options(), Answer(200), Answer(200)]) as server:
        sub = await submission(server)
        for forward in (False, True):
            await sub.submit("me@x.org", ["you@x.org"], RAW,
                             original=Original("mail%2FINBOX", "82", forward))  # fmt: skip
        await sub.close()
    for request, command in zip(server.requests[1:], ("SmartReply", "SmartForward"), strict=True):
        doc = decode(request.body)
        assert doc.tag == f"ComposeMail:{command}"
        assert [c.tag.split(":")[1] for c in doc.children] == [
            "ClientId", "Source", "SaveInSentItems", "ReplaceMime", "Mime"
        ]
        assert doc.findtext("Source/FolderId") == "mail%2FINBOX"
        assert doc.findtext("Source/ItemId") == "82"


async def test_an_original_the_server_lost_goes_as_sendmail() -> None:
    """Status 150 (ItemNotFound) refuses the SmartReply before anything is sent."""
    with ReplayServer([options(), status("SmartReply", "150"), Answer(200)]) as server:
        sub = await submission(server)
        reply = await sub.submit("me@x.org", ["you@x.org"], RAW,
                                 original=Original("mail%2FINBOX", "9", False))  # fmt: skip
        await sub.close()
    assert reply.endswith("(SendMail)")
    assert [dict(r.query).get("Cmd") for r in server.requests] == [
        None, "SmartReply", "SendMail"
    ]


async def test_449_provisions_then_sends_once_more_with_the_key() -> None:
    """[MS-ASPROV] 4.1: the policy fetched (a temporary key), acknowledged (the final
    key), and the SendMail repeated with X-MS-PolicyKey."""
    doc = [Element("Provision:DevicePasswordEnabled", "0"),
           Element("Provision:AllowHTMLEmail", "1")]  # fmt: skip
    answers = [options(), Answer(449), provision_answer(policy("1307199584", doc=doc)),
               provision_answer(policy("3942919513")), Answer(200)]  # fmt: skip
    with ReplayServer(answers) as server:
        sub = await submission(server)
        await sub.submit("me@x.org", ["you@x.org"], RAW)
        await sub.close()
    commands = [dict(r.query).get("Cmd") for r in server.requests]
    assert commands == [None, "SendMail", "Provision", "Provision", "SendMail"]
    ack = decode(server.requests[3].body)
    assert ack.findtext("Policies/Policy/PolicyKey") == "1307199584"
    assert ack.findtext("Policies/Policy/Status") == "1"
    assert server.requests[4].headers["x-ms-policykey"] == "3942919513"


async def test_a_policy_mailtui_cannot_meet_is_said_and_nothing_sent() -> None:
    """Device encryption required: never acknowledged; the message stays unsent with a
    reason that says why."""
    doc = [Element("Provision:RequireDeviceEncryption", "1"),
           Element("Provision:DevicePasswordEnabled", "1")]  # fmt: skip
    answers = [options(), Answer(449), provision_answer(policy("11", doc=doc))]
    with ReplayServer(answers) as server:
        sub = await submission(server)
        with pytest.raises(SmtpConfigError, match="encrypt the device's storage.*cannot enforce"):
            await sub.submit("me@x.org", ["you@x.org"], RAW)
        await sub.close()
    commands = [dict(r.query).get("Cmd") for r in server.requests]
    assert commands == [None, "SendMail", "Provision"]  # no acknowledgement, no resend


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (status("SendMail", "111"), SmtpTransientError, "failed for now"),
        (status("SendMail", "113"), SmtpRejected, "the mailbox is full"),
        (status("SendMail", "115"), SmtpRejected, "may not send more mail"),
        (Answer(503, {"Retry-After": "30"}), SmtpTransientError, "busy"),
        (Answer(500), SmtpTransientError, "server error"),
        (Answer(0, drop=True), SmtpUncertain, "may or may not have been sent"),
        (Answer(200, {"Content-Type": "text/html"}, b"<html>"), SmtpUncertain, "cannot be read"),
    ],
)
async def test_outcomes_in_the_outbox_classes(
    answer: Answer, error: type[Exception], words: str
) -> None:
    with ReplayServer([options(), answer]) as server:
        sub = await submission(server)
        with pytest.raises(error, match=words):
            await sub.submit("me@x.org", ["you@x.org"], RAW)
        await sub.close()
    assert len(server.requests) == 2  # never sent twice by itself


async def test_status_118_says_it_was_sent_before() -> None:
    with ReplayServer([options(), status("SendMail", "118")]) as server:
        sub = await submission(server)
        reply = await sub.submit("me@x.org", ["you@x.org"], RAW)
        await sub.close()
    assert "sent before" in reply


async def test_12_1_sends_the_mime_as_the_body_with_the_query_form() -> None:
    with ReplayServer([options("12.1"), Answer(200)]) as server:
        sub = await submission(server)
        sub.http.protocol_version = "12.1"
        await sub.submit("me@x.org", ["you@x.org"], RAW,
                         original=Original("5", "17", True))  # fmt: skip
        await sub.close()
    request = server.requests[1]
    assert dict(request.query) | {"DeviceId": ""} == {
        "Cmd": "SmartForward", "User": "ann", "DeviceId": "", "DeviceType": "mailtui",
        "SaveInSent": "T", "ItemId": "17", "CollectionId": "5",
    }  # fmt: skip
    assert request.headers["content-type"] == "message/rfc822" and request.body == RAW


async def test_recipients_the_mime_does_not_name_are_added_as_bcc() -> None:
    assert recipients_in_mime(RAW, ["you@x.org"]) == RAW
    more = recipients_in_mime(RAW, ["you@x.org", "hidden@x.org"])
    assert more.startswith(b"Bcc: hidden@x.org\r\n") and more.endswith(RAW)
    with pytest.raises(SmtpRejected, match="you@x.org is not among the recipients"):
        recipients_in_mime(RAW, ["other@x.org"])
    with ReplayServer([options()]) as server:
        sub = await submission(server)
        called: list[bool] = []

        async def before() -> None:
            called.append(True)

        with pytest.raises(SmtpRejected):
            await sub.submit("me@x.org", ["other@x.org"], RAW, before_data=before)
        await sub.close()
    assert called == [] and len(server.requests) == 1


async def test_provision_against_sogos_recorded_answer_and_a_remote_wipe() -> None:
    """SOGo 5.8's real answer (tests/data/eas/sogo-5.8): no policy for this client, so
    no key and nothing to acknowledge. A RemoteWipe is refused in words."""
    sogo = (DATA / "provision-response.wbxml").read_bytes()
    wipe = Element("Provision:Provision", [Element("Provision:Status", "1"),
                                           Element("Provision:RemoteWipe")])  # fmt: skip
    with ReplayServer([Answer(200, WBXML, sogo), Answer(200, WBXML, encode(wipe))]) as server:
        http = EasHttp(server.url, username="ann", credentials=Credentials(password="pw"),
                       device_id="dev1", allow_plain=True, timeout=5.0)  # fmt: skip
        assert await provision(http) is None and http.policy_key is None
        with pytest.raises(ConfigError, match="wiped from afar"):
            await provision(http)
        await http.aclose()


def test_the_endpoint_of_an_account() -> None:
    from mailtui.config import parse
    from mailtui.protocols.eas.sendmail import endpoint

    def acc(extra: str) -> str:
        text = '[accounts.x]\nkind = "exchange"\nemail = "a@b.org"\nhost = "mail.b.org"\n'
        return endpoint(parse(text + extra).account("x"))

    assert acc("") == "https://mail.b.org/Microsoft-Server-ActiveSync"
    assert acc("port = 8443\n") == "https://mail.b.org:8443/Microsoft-Server-ActiveSync"
    assert acc('security = "none"\n') == "http://mail.b.org/Microsoft-Server-ActiveSync"
    sogo = "https://mail.b.org/SOGo/Microsoft-Server-ActiveSync"
    assert acc(f'url = "{sogo}"\n') == sogo


async def test_a_key_got_by_provisioning_is_written_back_for_the_backend(
    tmp_path: Path,
) -> None:
    """The sender provisions on 449 and writes the new PolicyKey into the account state
    in the store; a backend started from that state then sends it with its first command
    instead of getting a 449 and provisioning once more."""
    from mailtui.accounts import _StoredState
    from mailtui.models import AccountKind
    from mailtui.protocols.eas.backend import EasBackend
    from mailtui.store import Store
    from tests.unit.test_eas_backend_contract import account

    store = await Store.open(tmp_path / "mail.sqlite")
    try:
        acc = await store.ensure_account("work", AccountKind.EXCHANGE, "ann@example.org")
        kept = _StoredState(store, acc.id)
        await kept.setdefault("device_id", "dev1")
        answers = [options(), Answer(449), provision_answer(policy("11")),
                   provision_answer(policy("3942919513")), Answer(200)]  # fmt: skip
        with ReplayServer(answers) as server:
            sub = await submission(server)
            sub.state = kept
            await sub.submit("me@x.org", ["you@x.org"], RAW)
            await sub.close()
        state = await store.account_state(acc.id)
        assert state == {"device_id": "dev1", "policy_key": "3942919513", "provisioned": True}

        folder_sync = Answer(200, WBXML, encode(Element("FolderHierarchy:FolderSync", [
            Element("FolderHierarchy:Status", "1"),
            Element("FolderHierarchy:SyncKey", "1")])))  # fmt: skip
        with ReplayServer([options(), folder_sync]) as server:
            backend = EasBackend(account(server.url))
            backend.restore(state)
            await backend.connect()
            await backend.list_folders()
            await backend.close()
        assert [dict(r.query).get("Cmd") for r in server.requests] == [None, "FolderSync"]
        assert server.requests[1].headers["x-ms-policykey"] == "3942919513"
        assert dict(server.requests[1].query)["DeviceId"] == "dev1"
    finally:
        await store.close()
