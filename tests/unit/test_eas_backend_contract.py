"""Contract tests of the Exchange backend for what no local server does: request/response
pairs written from MS-ASCMD, MS-ASPROV and MS-ASHTTP (a policy that requires device
encryption or a remote wipe, HTTP 449 and status 144 in the middle of a sync, Exchange
Online's 451 redirect and its 16.1 protocol, an invalid Sync key, Ping's heartbeat
limit), replayed by a scripted HTTP server on 127.0.0.1 (tests/servers/http_replay.py)
through the real ``EasBackend``."""

from __future__ import annotations

import pytest

from mailtui.config import AccountConfig
from mailtui.errors import ConfigError
from mailtui.models import AccountKind, FolderKind, FolderRole, RemoteFolder
from mailtui.protocols.eas import pull as eas_pull
from mailtui.protocols.eas.backend import EasBackend
from mailtui.protocols.eas.provision import PolicyNotMet
from mailtui.protocols.eas.wbxml import Element as E
from mailtui.protocols.eas.wbxml import decode, encode
from tests.servers.http_replay import Answer, ReplayServer

WBXML = {"Content-Type": "application/vnd.ms-sync.wbxml"}
COMMANDS = "Sync,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,Ping,ItemOperations,Provision,SendMail"  # noqa: E501


def options(version: str = "14.1") -> Answer:
    return Answer(
        200,
        {"MS-ASProtocolVersions": f"12.1,14.0,14.1,{version}", "MS-ASProtocolCommands": COMMANDS},
    )


def wbxml(root: E) -> Answer:
    return Answer(200, WBXML, encode(root))


def provision_answer(key: str, settings: list[E] | None = None, wipe: bool = False) -> Answer:
    policy = [E("Provision:PolicyType", "MS-EAS-Provisioning-WBXML"), E("Provision:Status", "1"),
              E("Provision:PolicyKey", key)]  # fmt: skip
    if settings is not None:
        policy.append(E("Provision:Data", [E("Provision:EASProvisionDoc", settings)]))
    root = [E("Provision:Status", "1"), E("Provision:Policies", [E("Provision:Policy", policy)])]
    if wipe:
        root.append(E("Provision:RemoteWipe"))
    return wbxml(E("Provision:Provision", root))


def account(url: str) -> AccountConfig:
    return AccountConfig(
        name="work", kind=AccountKind.EXCHANGE, email="ann@example.org", username="ann",
        host="127.0.0.1", port=0, security="none", password_command="printf secret", url=url,
        body_days=36500,
    )  # fmt: skip


async def connected(server: ReplayServer, state: dict[str, object] | None = None) -> EasBackend:
    backend = EasBackend(account(server.url))
    backend.restore(state or {})
    await backend.connect()
    return backend


@pytest.fixture(autouse=True)
def _whole_folder_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """These scripts answer a first sync that takes the whole folder in one window, as
    a folder synced before the FilterType steps does; the steps have their own tests
    (tests/integration/test_eas_newest_first.py, test_eas_sync_answer.py)."""
    monkeypatch.setattr(eas_pull, "FILTER_STEPS", ("0",))


INBOX = RemoteFolder("5", "Inbox", FolderRole.INBOX, kind=FolderKind.MAIL)
PROVISIONED = {"device_id": "abc123", "provisioned": True, "policy_key": "1"}


#: GetItemEstimate after a Sync from "0": an empty answer (progress unknown).
ESTIMATE = Answer(200)


def sync_answer(key: str, adds: int = 0, status: str = "1", more: bool = False) -> Answer:
    commands = [
        E("AirSync:Add", [
            E("AirSync:ServerId", f"5:{n}"),
            E("AirSync:ApplicationData", [
                E("Email:DateReceived", "2026-10-01T10:00:00.000Z"),
                E("Email:Read", "1"),
                E("AirSyncBase:Body", [
                    E("AirSyncBase:Type", "4"),
                    E("AirSyncBase:Data", f"Subject: n{n}\r\nMessage-ID: <n{n}@x>\r\n\r\nhi\r\n"),
                ]),
            ]),
        ])
        for n in range(adds)
    ]  # fmt: skip
    collection = [E("AirSync:SyncKey", key), E("AirSync:CollectionId", "5"),
                  E("AirSync:Status", status)]  # fmt: skip
    if more:
        collection.append(E("AirSync:MoreAvailable"))
    if commands:
        collection.append(E("AirSync:Commands", commands))
    return wbxml(
        E("AirSync:Sync", [E("AirSync:Collections", [E("AirSync:Collection", collection)])])
    )


@pytest.mark.parametrize(
    ("settings", "wipe", "words"),
    [
        ([E("Provision:RequireDeviceEncryption", "1")], False, "encrypt the device"),
        ([E("Provision:DevicePasswordEnabled", "1")], False, "lock the device with a password"),
        ([], True, "wiped from afar"),
    ],
)
async def test_a_policy_mailtui_cannot_meet_fails_the_account_honestly(
    settings: list[E], wipe: bool, words: str
) -> None:
    with ReplayServer([options(), provision_answer("999", settings, wipe)]) as server:
        backend = EasBackend(account(server.url))
        backend.restore({})
        with pytest.raises(PolicyNotMet, match=words) as info:
            await backend.connect()
        assert "cannot enforce" in str(info.value)
        assert isinstance(info.value, ConfigError)
        await backend.close()
        # Never acknowledged: the one Provision asked for the policy, nothing more.
        assert [dict(r.query).get("Cmd") for r in server.requests] == [None, "Provision"]


async def test_a_policy_it_can_meet_is_acknowledged_and_its_key_kept() -> None:
    settings = [E("Provision:AllowCamera", "1"), E("Provision:RequireDeviceEncryption", "0")]
    with ReplayServer(
        [options(), provision_answer("111", settings), provision_answer("222")]
    ) as server:
        backend = await connected(server)
        state = backend.take_account_state()
        await backend.close()
    assert state is not None and state["policy_key"] == "222" and state["provisioned"]
    first = decode(server.requests[1].body)  # 14.1: the device says what it is
    assert first.findtext("Settings:DeviceInformation/Set/Model") == "mailtui"
    ack = decode(server.requests[2].body)
    assert ack.find("Settings:DeviceInformation") is None
    assert ack.findtext("Policies/Policy/PolicyKey") == "111"
    assert ack.findtext("Policies/Policy/Status") == "1"
    assert server.requests[2].headers["x-ms-policykey"] == "111"


async def test_449_and_status_144_provision_again_and_repeat_the_command() -> None:
    answers = [
        options(),
        Answer(449),  # the Sync: provision first
        provision_answer("7"), provision_answer("8"),
        sync_answer("0", status="144"),  # the repeated Sync: the key is outdated
        provision_answer("9"), provision_answer("10"),
        sync_answer("k1"), ESTIMATE, sync_answer("k2", adds=2),
        sync_answer("k2"),  # nothing more: in step
    ]  # fmt: skip
    with ReplayServer(answers) as server:
        backend = await connected(server, dict(PROVISIONED))
        batches = [b async for b in backend.pull(INBOX, {})]
        await backend.close()
    assert [m.remote_id for b in batches for m in b.added] == ["5:0", "5:1"]
    assert backend.current_state()["policy_key"] == "10"
    assert server.requests[-1].headers["x-ms-policykey"] == "10"


async def test_an_invalid_sync_key_resyncs_that_folder_only() -> None:
    answers = [
        options(),
        sync_answer("old", status="3"),
        sync_answer("n1"),
        ESTIMATE,
        sync_answer("n2", adds=1),
        sync_answer("n2"),
    ]
    with ReplayServer(answers) as server:
        backend = await connected(server, {**PROVISIONED, "keys": {"5": "old"}})
        batches = [b async for b in backend.pull(INBOX, {"key": "old"})]
        await backend.close()
    assert batches[0].reset and batches[0].state == {"key": "n1"}
    assert [m.remote_id for b in batches for m in b.added] == ["5:0"]
    assert batches[-1].state == {"key": "n2"} and batches[-1].complete


async def test_exchange_online_redirect_451_is_followed_on_the_same_host_and_kept() -> None:
    with ReplayServer([]) as server:
        moved = server.url.replace("Microsoft-Server-ActiveSync", "new/Microsoft-Server-ActiveSync")
        server.answers += [Answer(451, {"X-MS-Location": moved}), options("16.1")]
        backend = await connected(server, dict(PROVISIONED))
        state = backend.take_account_state()
        await backend.close()
    assert state is not None and state["url"] == moved
    assert server.requests[1].path.startswith("/new/")


async def test_a_451_to_another_host_is_not_followed_with_the_password() -> None:
    answers = [
        Answer(451, {"X-MS-Location": "https://elsewhere.example/Microsoft-Server-ActiveSync"})
    ]
    with ReplayServer(answers) as server:
        backend = EasBackend(account(server.url))
        backend.restore(dict(PROVISIONED))
        with pytest.raises(ConfigError, match="another host"):
            await backend.connect()
        await backend.close()
    assert len(server.requests) == 1


async def test_16_1_is_spoken_when_offered() -> None:
    with ReplayServer(
        [
            options("16.1"),
            sync_answer("k1"),
            ESTIMATE,
            sync_answer("k2", adds=1),
            sync_answer("k2"),
        ]  # fmt: skip
    ) as server:
        backend = await connected(server, dict(PROVISIONED))
        batches = [b async for b in backend.pull(INBOX, {})]
        await backend.close()
    assert [m.remote_id for b in batches for m in b.added] == ["5:0"]
    assert {r.headers.get("ms-asprotocolversion") for r in server.requests[1:]} == {"16.1"}


async def test_ping_honours_the_servers_heartbeat_limit() -> None:
    limit = wbxml(E("Ping:Ping", [E("Ping:Status", "5"), E("Ping:HeartbeatInterval", "2")]))
    changed = wbxml(E("Ping:Ping", [E("Ping:Status", "2"),
                                    E("Ping:Folders", [E("Ping:Folder", "5")])]))  # fmt: skip
    folders = wbxml(E("FolderHierarchy:FolderSync", [
        E("FolderHierarchy:Status", "1"), E("FolderHierarchy:SyncKey", "f1"),
        E("FolderHierarchy:Changes", [E("FolderHierarchy:Add", [
            E("FolderHierarchy:ServerId", "5"), E("FolderHierarchy:ParentId", "0"),
            E("FolderHierarchy:DisplayName", "Inbox"), E("FolderHierarchy:Type", "2"),
        ])]),
    ]))  # fmt: skip
    with ReplayServer([options(), folders, limit, changed]) as server:
        backend = await connected(server, dict(PROVISIONED))
        await backend.list_folders()
        assert await backend.wait_for_changes(600) == {"5"}
        await backend.close()
    beats = [decode(r.body).findtext("HeartbeatInterval") for r in server.requests[2:]]
    assert int(beats[0] or 0) > 2 and beats[1] == "2"
    assert backend.heartbeat_limit == 2


async def test_what_the_server_lacks_is_hidden_and_without_ping_it_polls() -> None:
    bare = Answer(
        200, {"MS-ASProtocolVersions": "14.1", "MS-ASProtocolCommands": "Sync,FolderSync"}
    )
    with ReplayServer([bare]) as server:
        backend = await connected(server, dict(PROVISIONED))
        assert not backend.capabilities.server_move and not backend.capabilities.push
        assert backend.capabilities.flags and backend.capabilities.folders
        assert await backend.wait_for_changes(0.2) == set()  # slept: a poll follows
        await backend.close()
    assert len(server.requests) == 1  # OPTIONS only: no Ping was sent


async def test_an_oauth_account_sends_its_token_as_bearer() -> None:
    from dataclasses import replace

    with ReplayServer([options("16.1")]) as server:
        oauth = replace(account(server.url), auth="oauth2", token_command="printf tok-123")
        backend = EasBackend(oauth)
        backend.restore(dict(PROVISIONED))
        await backend.connect()
        await backend.close()
    assert server.requests[0].headers["authorization"] == "Bearer tok-123"


def folder_sync_answer(key: str, adds: list[tuple[str, str, str]]) -> Answer:
    """A FolderSync answer adding (ServerId, DisplayName, Type) at the top."""
    changes = [
        E("FolderHierarchy:Add", [
            E("FolderHierarchy:ServerId", server_id), E("FolderHierarchy:ParentId", "0"),
            E("FolderHierarchy:DisplayName", name), E("FolderHierarchy:Type", kind),
        ])
        for server_id, name, kind in adds
    ]  # fmt: skip
    root = [E("FolderHierarchy:Status", "1"), E("FolderHierarchy:SyncKey", key)]
    if changes:
        root.append(E("FolderHierarchy:Changes", changes))
    return wbxml(E("FolderHierarchy:FolderSync", root))


async def test_status_12_is_answered_with_a_folder_sync_and_the_sync_retried() -> None:
    """[MS-ASCMD] 2.2.3.177.17, Sync Status 12: "The folder hierarchy has changed ...
    Perform a FolderSync command and then retry the Sync command." The new tree goes with
    the batch's account state, committed with its messages."""
    answers = [
        options(),
        folder_sync_answer("f1", [("5", "Inbox", "2")]),
        sync_answer("k1", status="12"),
        folder_sync_answer("f2", [("9", "Projects", "12")]),
        sync_answer("k2", adds=1),
        sync_answer("k2"),
    ]
    with ReplayServer(answers) as server:
        backend = await connected(server, {**PROVISIONED, "keys": {"5": "k1"}})
        await backend.list_folders()
        batches = [b async for b in backend.pull(INBOX, {"key": "k1"})]
        await backend.close()
    commands = [dict(r.query).get("Cmd") for r in server.requests]
    assert commands == [None, "FolderSync", "Sync", "FolderSync", "Sync", "Sync"]
    assert decode(server.requests[3].body).findtext("SyncKey") == "f1"
    assert decode(server.requests[4].body).findtext("Collections/Collection/SyncKey") == "k1"
    assert [m.remote_id for b in batches for m in b.added] == ["5:0"]
    assert not batches[0].reset
    state = batches[0].account_state
    assert state is not None and state["folders"]["key"] == "f2"
    assert "9" in str(state["folders"])
    assert batches[-1].complete


async def test_status_12_twice_is_a_transient_error() -> None:
    """The folder gone, or the server still says 12: a retry later, no loop."""
    from mailtui.errors import TransientError

    answers = [options(), sync_answer("k1", status="12"), folder_sync_answer("f2", []),
               sync_answer("k1", status="12")]  # fmt: skip
    with ReplayServer(answers) as server:
        backend = await connected(server, {**PROVISIONED, "keys": {"5": "k1"}})
        with pytest.raises(TransientError, match="folder list changed"):
            _ = [b async for b in backend.pull(INBOX, {"key": "k1"})]
        await backend.close()
    assert len(server.requests) == 4
