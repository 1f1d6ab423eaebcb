"""Contract tests of a first Exchange sync by ``FilterType`` steps (``pull.FILTER_STEPS``,
the real ones: nothing here patches them) against what no local server does: a server
that refuses some steps. [MS-ASCMD] 2.2.3.68.2 lists FilterType 6 (3 months) and 7
(6 months) for calendars only; SOGo takes them for mail, a strict server may answer such
a Sync with a status (4, "malformed", here). The answers are written from MS-ASCMD and
replayed by a scripted HTTP server on 127.0.0.1 (tests/servers/http_replay.py) through
the real ``EasBackend``; SOGo's own answers to the steps are in
tests/integration/test_eas_newest_first.py."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mailtui.errors import OpRejected
from mailtui.models import FolderBatch
from mailtui.protocols.eas import pull as eas_pull
from mailtui.protocols.eas.wbxml import Element as E
from mailtui.protocols.eas.wbxml import decode
from tests.servers.http_replay import Answer, ReplayServer
from tests.unit.test_eas_backend_contract import (
    ESTIMATE,
    INBOX,
    PROVISIONED,
    connected,
    options,
    wbxml,
)

#: An empty 200: "nothing new" (what SOGo answers; MS-ASCMD allows it for a Sync).
NOTHING = Answer(200)


def add(server_id: str, day: int) -> E:
    mime = (f"Subject: {server_id}\r\nMessage-ID: <{server_id}@x>\r\n"
            f"Date: Thu, {day:02d} Oct 2026 10:00:00 +0000\r\n\r\nhi\r\n")  # fmt: skip
    return E("AirSync:Add", [
        E("AirSync:ServerId", server_id),
        E("AirSync:ApplicationData", [
            E("Email:DateReceived", f"2026-10-{day:02d}T10:00:00.000Z"),
            E("Email:Read", "0"),
            E("AirSyncBase:Body", [E("AirSyncBase:Type", "4"), E("AirSyncBase:Data", mime)]),
        ]),
    ])  # fmt: skip


def answer(key: str, ids: Sequence[str] = (), status: str = "1", more: bool = False) -> Answer:
    collection = [E("AirSync:SyncKey", key), E("AirSync:CollectionId", "5"),
                  E("AirSync:Status", status)]  # fmt: skip
    if more:
        collection.append(E("AirSync:MoreAvailable"))
    if ids:
        collection.append(E("AirSync:Commands", [add(i, 1 + n % 28) for n, i in enumerate(ids)]))
    return wbxml(
        E("AirSync:Sync", [E("AirSync:Collections", [E("AirSync:Collection", collection)])])
    )


def syncs(server: ReplayServer) -> list[E]:
    """The Collection of each Sync the backend sent."""
    out = []
    for request in server.requests:
        if dict(request.query).get("Cmd") == "Sync":
            c = decode(request.body).find("Collections/Collection")
            assert c is not None
            out.append(c)
    return out


def asked(server: ReplayServer) -> list[tuple[str, str | None]]:
    """(SyncKey, FilterType) of each Sync the backend sent."""
    return [(c.findtext("SyncKey") or "", c.findtext("Options/FilterType")) for c in syncs(server)]


async def pull(server: ReplayServer) -> list[FolderBatch]:
    backend = await connected(server, dict(PROVISIONED))
    try:
        return [b async for b in backend.pull(INBOX, {})]
    finally:
        await backend.close()


def test_the_steps_are_the_documented_email_values_then_all() -> None:
    """The test below walks the real steps; it is written for these."""
    assert eas_pull.FILTER_STEPS == ("1", "2", "3", "4", "5", "6", "7", "0")


async def test_refused_steps_are_skipped_and_the_pull_ends_with_the_whole_folder() -> None:
    answers = [
        options(),
        answer("k0"),  # Sync "0", FilterType 1
        ESTIMATE,
        answer("k1", ["day"]),  # 1 day
        answer("k2", ["3days"]),  # 3 days
        NOTHING,  # 1 week: nothing more, same key
        answer("k4", ["2weeks"]),  # 2 weeks
        answer("k5", ["month"]),  # 1 month
        answer("k5", status="4"),  # 3 months: refused
        answer("k5", status="4"),  # 6 months: refused
        answer("k8", ["old1", "old2"]),  # all
        NOTHING,  # the Sync that brings nothing ends the pull
    ]
    with ReplayServer(answers) as server:
        batches = await pull(server)
    assert asked(server) == [
        ("0", "1"), ("k0", "1"), ("k1", "2"), ("k2", "3"), ("k2", "4"), ("k4", "5"),
        ("k5", "6"), ("k5", "7"), ("k5", "0"), ("k8", "0"),
    ]  # fmt: skip
    got = [m.remote_id for b in batches for m in b.added]
    assert got == ["day", "3days", "2weeks", "month", "old1", "old2"]
    # Each batch commits the step the next Sync asks, with its key; the end has neither.
    states = [b.state for b in batches if b.state is not None]
    assert states[0] == {"key": "k1", "filter": "2"}
    assert {"key": "k5", "filter": "6"} in states
    assert states[-1] == {"key": "k8"}
    assert batches[-1].complete
    # The account state no longer holds the folder as stepping.
    account = batches[-1].account_state
    assert account is not None and "5" not in account.get("filters", {})


async def test_a_refusal_of_the_whole_folder_is_an_error() -> None:
    """Status 4 for FilterType 0 is not a step to skip: the folder cannot sync."""
    answers = [options(), answer("k0"), ESTIMATE, answer("k0", status="4")]
    answers += [answer("k0", status="4")] * 7
    with ReplayServer(answers) as server, pytest.raises(OpRejected, match="status 4"):
        await pull(server)
    assert [f for _, f in asked(server)] == ["1", "1", "2", "3", "4", "5", "6", "7", "0"]


async def test_a_first_sync_asks_a_screenful_until_one_is_in() -> None:
    """The first rows come after one short answer; then the usual window."""
    first = [f"m{n}" for n in range(eas_pull.FIRST_WINDOW)]
    answers = [options(), answer("k0"), ESTIMATE, answer("k1", first, more=True)]
    answers += [answer("k2", ["last"])] + [NOTHING] * 7  # steps 3 days … 6 months, all
    with ReplayServer(answers) as server:
        batches = await pull(server)
    windows = [c.findtext("WindowSize") for c in syncs(server)]
    assert windows[:3] == [None, str(eas_pull.FIRST_WINDOW), str(eas_pull.WINDOW)]
    assert set(windows[2:]) == {str(eas_pull.WINDOW)}
    assert eas_pull.FIRST_WINDOW < eas_pull.WINDOW
    assert [m.remote_id for b in batches for m in b.added] == [*first, "last"]
    assert batches[-1].complete
