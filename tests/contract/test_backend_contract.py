"""What the sync worker relies on from every backend (mailtui/sync/contract.py), checked
against the server itself: connect, folders, pull in batches, bodies, each op, push or
poll, reconnect. Fixtures and the backends they run against: conftest.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

import pytest

from mailtui.errors import AuthError, OpRejected
from mailtui.models import Flag, FolderBatch, FolderRole, OpKind, PendingOp, RemoteFolder
from mailtui.sync.contract import Backend, WindowFetcher
from tests.contract.contract_servers import KEPT_FLAGS, ContractServer, Kind, message_id_of

# ---------------------------------------------------------------------- helpers


def message(n: int, subject: str = "", body: str = "hello\r\n") -> bytes:
    """A test message: CRLF line ends, a Message-ID the tests name it by, a Date n
    minutes after a fixed start (message n+1 is newer than message n)."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1_767_225_600 + n * 60))
    return (
        f"From: Sender {n} <s{n}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: {subject or f'message {n}'}\r\nDate: {date}\r\n"
        f"Message-ID: <m{n}.contract@example.org>\r\n\r\n{body}"
    ).encode()


def mid(n: int) -> str:
    return f"<m{n}.contract@example.org>"


async def folders(backend: Backend) -> dict[FolderRole, RemoteFolder]:
    """The folders by role, as the worker lists them before every round of pulls."""
    listed = await backend.list_folders()
    return {f.role: f for f in listed if f.role is not FolderRole.NONE}


async def pull(
    backend: Backend, folder: RemoteFolder, state: Mapping[str, Any]
) -> list[FolderBatch]:
    batches = [batch async for batch in backend.pull(folder, state)]
    assert batches, "a pull yields at least the batch that says complete"
    assert [b.complete for b in batches] == [False] * (len(batches) - 1) + [True]
    for b in batches:
        json.dumps(b.state)  # the store keeps it as JSON
    return batches


def state_after(batches: list[FolderBatch], before: Mapping[str, Any]) -> dict[str, Any]:
    """The folder's state once ``batches`` are committed (a batch's None: unchanged)."""
    states = [b.state for b in batches if b.state is not None]
    return dict(states[-1] if states else before)


def added(batches: list[FolderBatch]) -> list[str]:
    """Message-IDs of the added messages, in the order they came."""
    return [m.envelope.message_id for b in batches for m in b.added]


def remote_ids(batches: list[FolderBatch]) -> dict[str, str]:
    """Message-ID -> remote id of the added messages."""
    return {m.envelope.message_id: m.remote_id for b in batches for m in b.added}


def flag_changes(batches: list[FolderBatch]) -> dict[str, Flag]:
    return {rid: flags for b in batches for rid, flags in b.flags}


def removed(batches: list[FolderBatch]) -> set[str]:
    return {rid for b in batches for rid in b.removed}


def gone(backend: Backend, batches: list[FolderBatch], expunged: set[str]) -> set[str]:
    """What a pull must remove after another client expunged ``expunged``: those, or
    for a ``local`` account nothing (its copy may be the only one), the download ledger
    marking them gone instead."""
    if not backend.capabilities.local:
        return expunged
    assert {c.server_id for b in batches for c in b.ledger if c.gone} == expunged
    return set()


async def in_step(backend: Backend, folder: RemoteFolder) -> tuple[dict[str, Any], dict[str, str]]:
    """Pull ``folder`` from scratch: (its state, Message-ID -> remote id)."""
    batches = await pull(backend, folder, {})
    assert batches[-1].state, "a first pull ends with a state to go on from"
    return batches[-1].state, remote_ids(batches)


def in_order(kind: Kind, got: list[str], newest_first: list[str]) -> bool:
    """``got`` is ``newest_first`` (each once), in that order where the kind promises it."""
    if kind.has("newest_first"):
        return got == newest_first
    return sorted(got) == sorted(newest_first)


def same_message(kind: Kind, got: bytes, raw: bytes) -> bool:
    """``got`` is the message ``raw``: byte for byte where the kind promises it, else its
    Message-ID and the text of its first part are there (a server's own rendering)."""
    if kind.has("verbatim"):
        return got == raw
    text = raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")[0]
    return message_id_of(raw).encode() in got and text in got


def op(kind: OpKind, source: RemoteFolder | None, rid: str | None, **payload: Any) -> PendingOp:
    """A pending op as the store hands it to the worker."""
    return PendingOp(
        id=1,
        account_id=1,
        kind=kind,
        message_id=1,
        folder_id=1 if source else None,
        folder_name=source.name if source else None,
        remote_id=rid,
        payload=payload,
    )


# ---------------------------------------------------------------------- connect


async def test_connect_and_close(kind: Kind, server: ContractServer) -> None:
    backend = server.backend()
    assert isinstance(backend, Backend)
    await backend.close()  # never connected: close still never raises
    assert backend.capabilities == kind.capabilities
    await backend.connect()
    assert (await folders(backend))[FolderRole.INBOX].name == server.inbox
    await backend.close()
    await backend.close()  # twice: still never raises


@pytest.mark.needs("login")
async def test_a_wrong_password_is_an_auth_error(server: ContractServer) -> None:
    wrong = "not-the-password-7q3"
    backend = server.backend(password=wrong)
    with pytest.raises(AuthError) as refused:
        await backend.connect()
    assert wrong not in str(refused.value)
    await backend.close()


# ---------------------------------------------------------------------- folders


async def test_folders_have_names_and_roles(backend: Backend, server: ContractServer) -> None:
    listed = await backend.list_folders()
    names = [f.name for f in listed]
    assert len(names) == len(set(names))
    roles = [f.role for f in listed if f.role is not FolderRole.NONE]
    assert len(roles) == len(set(roles)), "each role names one folder"
    by_role = {f.role: f for f in listed}
    assert by_role[FolderRole.INBOX].name == server.inbox
    assert by_role[FolderRole.INBOX].selectable
    if backend.capabilities.folders and not backend.capabilities.local:
        assert {FolderRole.SENT, FolderRole.DRAFTS, FolderRole.TRASH} <= set(roles)
    else:  # one folder, or (local) the others live in the store only
        assert names == [server.inbox]
    assert all(f.display_name for f in listed)


# ---------------------------------------------------------------------- pull


async def test_pull_comes_in_batches_newest_first(
    kind: Kind, backend: Backend, server: ContractServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.make_batches_small(monkeypatch)
    count = 25
    for n in range(count):  # oldest first, as mail arrives
        await server.deliver(message(n), flags=Flag.SEEN if n % 3 == 0 else Flag.NONE)
    inbox = (await folders(backend))[FolderRole.INBOX]

    batches = await pull(backend, inbox, {})

    carrying = [b for b in batches if b.added]
    assert len(carrying) >= 3, [len(b.added) for b in batches]
    assert all(b.folder == inbox.name for b in batches)
    # Newest first where the kind promises it; a first pull may bring the oldest screenful
    # early, right after the first batches (the end key then reaches the real oldest
    # message early): the batch that holds the oldest message moved there.
    newest_first = [mid(n) for n in reversed(range(count))]
    oldest = next(b for b in carrying if newest_first[-1] in added([b]))
    moved = added([oldest])
    assert in_order(kind, added(batches), newest_first) or (
        kind.has("newest_first")
        and oldest is not carrying[0]
        and [m for m in added(batches) if m not in moved] + moved == newest_first
    )
    ids = [m.remote_id for b in batches for m in b.added]
    assert len(set(ids)) == count and all(isinstance(i, str) and i for i in ids)
    for b in batches:
        for m in b.added:
            n = int(m.envelope.message_id.removeprefix("<m").split(".")[0])
            assert m.envelope.subject == f"message {n}"
            assert m.flags & KEPT_FLAGS == kept(backend, Flag.SEEN if n % 3 == 0 else Flag.NONE)
            if m.raw is not None:
                assert same_message(kind, bytes(m.raw), message(n))
    assert batches[-1].progress == (count, count)
    # A backend that tells the folder's listing (for the list's placeholders during a
    # first pass) tells it with the first batch: every message, newest first, as the
    # pass's ids.
    listings = [b.listing for b in batches if b.listing is not None]
    assert listings in ([], [batches[0].listing])
    if listings:
        assert set(listings[0]) == set(ids) and len(listings[0]) == count
        by_id = {m.remote_id: m.envelope.message_id for b in batches for m in b.added}
        assert [by_id[r] for r in listings[0]] == newest_first
    if isinstance(backend, WindowFetcher):
        # The window on demand: some of them again, header only, whatever the order; a
        # backend whose window is a batch (POP3, with its ledger rows) downloads nothing
        # twice: after the pull, none of them.
        some = ids[5:8] + ids[-2:]
        got = await backend.fetch_window(inbox.name, some)
        if isinstance(got, FolderBatch):
            assert got.added == [] and got.ledger == []
        else:
            assert sorted(m.remote_id for m in got) == sorted(some)
            assert all(m.raw is None and m.envelope.subject for m in got)


@pytest.mark.needs("window")
async def test_the_window_between_two_batches_of_a_first_pull(
    backend: Backend, server: ContractServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker asks, between two batches of a first pull that told its listing, for
    placeholders the list shows (``WindowFetcher``): they come at once, header only, the
    messages of those positions; the pull then goes on and ends whole."""
    assert isinstance(backend, WindowFetcher)
    server.make_batches_small(monkeypatch)
    count = 25
    for n in range(count):
        await server.deliver(message(n))
    inbox = (await folders(backend))[FolderRole.INBOX]
    batches: list[FolderBatch] = []
    window: list[str] = []
    async for batch in backend.pull(inbox, {}):
        batches.append(batch)
        if len(batches) > 1:
            continue
        listing = batch.listing
        assert listing is not None and len(listing) == count
        handed = {m.remote_id for m in batch.added}
        wanted = [r for r in listing if r not in handed][-3:]  # the oldest ones
        assert wanted
        got = await backend.fetch_window(inbox.name, wanted)
        fetched = got.added if isinstance(got, FolderBatch) else got
        assert sorted(m.remote_id for m in fetched) == sorted(wanted)
        for m in fetched:  # the message of its position: listing is newest first
            assert m.raw is None
            assert m.envelope.message_id == mid(count - 1 - listing.index(m.remote_id))
        if isinstance(got, FolderBatch):
            # Its own batch, committed with what goes with it: never carried again.
            assert {c.server_id for c in got.ledger} >= set(wanted)
            window = wanted
    assert batches[-1].complete
    later = [m.remote_id for b in batches[1:] for m in b.added]
    assert not set(window) & set(later)
    everything = {m.remote_id for b in batches for m in b.added} | set(window)
    assert len(everything) == count
    if window:  # their bodies come with the pull, as those of the first screen
        assert set(window) <= {rid for b in batches for rid, _ in b.bodies}


def kept(backend: Backend, flags: Flag) -> Flag:
    """The flags another client set, as a backend reports them: a server that keeps no
    flags for us (``Capabilities.flags`` false) reports none."""
    return flags & KEPT_FLAGS if backend.capabilities.flags else Flag.NONE


async def test_a_pull_from_the_returned_state_yields_only_the_changes(
    kind: Kind, backend: Backend, server: ContractServer
) -> None:
    for n in range(5):
        await server.deliver(message(n))
    inbox = (await folders(backend))[FolderRole.INBOX]
    # The inbox stays selected on the connection: its STATUS, unlike any other folder's,
    # may come from the connection's older view (RFC 3501 6.3.10), so it cannot tell
    # the backend that nothing changed.
    state, ids = await in_step(backend, inbox)

    # Another client: two new messages, a flag, a deletion.
    await server.deliver(message(5))
    await server.deliver(message(6))
    await server.set_flags(inbox.name, mid(1), Flag.FLAGGED, Flag.NONE)
    await server.expunge(inbox.name, mid(2))
    inbox = (await folders(backend))[FolderRole.INBOX]
    batches = await pull(backend, inbox, state)

    assert in_order(kind, added(batches), [mid(6), mid(5)])
    assert not any(b.reset for b in batches)
    assert removed(batches) == gone(backend, batches, {ids[mid(2)]})
    flags = flag_changes(batches)
    if backend.capabilities.flags:
        assert flags[ids[mid(1)]] & KEPT_FLAGS == Flag.FLAGGED
    else:
        assert flags == {}
    unchanged = {ids[mid(n)] for n in (0, 3, 4)}
    # A backend may repeat flags that did not change (IMAP without CONDSTORE): as they are.
    assert all(flags[rid] & KEPT_FLAGS == Flag.NONE for rid in unchanged & set(flags))

    # In step: the next pull finds nothing new.
    inbox = (await folders(backend))[FolderRole.INBOX]
    again = await pull(backend, inbox, state_after(batches, state))
    assert added(again) == [] and removed(again) == set()
    now = {**ids, **remote_ids(batches)}
    expected = {now[mid(1)]: kept(backend, Flag.FLAGGED)}
    for rid, now_flags in flag_changes(again).items():
        assert now_flags & KEPT_FLAGS == expected.get(rid, Flag.NONE)


# ---------------------------------------------------------------------- bodies

_RICH = (
    "From: =?utf-8?q?Zo=C3=AB?= <zoe@example.org>\r\nTo: me@mailtui.test\r\n"
    "Subject: body\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n"
    "Message-ID: <rich.contract@example.org>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Grüße, 山田 — a line of eight-bit text.\r\n"
    "--b1\r\nContent-Type: application/octet-stream; name=data.bin\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQoLDA0ODw==\r\n--b1--\r\n"
).encode()


async def test_fetch_body_returns_the_bytes_delivered(
    kind: Kind, backend: Backend, server: ContractServer
) -> None:
    await server.deliver(_RICH)
    inbox = (await folders(backend))[FolderRole.INBOX]
    _, ids = await in_step(backend, inbox)

    got = await backend.fetch_body(inbox.name, ids["<rich.contract@example.org>"])
    assert same_message(kind, got, _RICH) and (kind.has("verbatim") or b"data.bin" in got)


async def test_fetch_bodies_streams_many_and_leaves_out_the_gone(
    kind: Kind, backend: Backend, server: ContractServer
) -> None:
    raws = {n: message(n, body=f"body of {n}\r\n" * (n + 1)) for n in range(7)}
    for raw in raws.values():
        await server.deliver(raw)
    inbox = (await folders(backend))[FolderRole.INBOX]
    _, ids = await in_step(backend, inbox)
    await server.expunge(inbox.name, mid(3))

    wanted = list(ids.values())
    got = {rid: bytes(raw) async for rid, raw in backend.fetch_bodies(inbox.name, wanted)}

    wanted_raws = {ids[mid(n)]: raw for n, raw in raws.items() if n != 3}
    assert set(got) == set(wanted_raws)
    assert all(same_message(kind, got[rid], raw) for rid, raw in wanted_raws.items())
    with pytest.raises(OpRejected):
        await backend.fetch_body(inbox.name, ids[mid(3)])


# ---------------------------------------------------------------------- ops


@pytest.mark.needs("op:set_flags")
async def test_set_flags_adds_and_removes_on_the_server(
    backend: Backend, server: ContractServer
) -> None:
    await server.deliver(message(1))
    inbox = (await folders(backend))[FolderRole.INBOX]
    state, ids = await in_step(backend, inbox)
    rid = ids[mid(1)]

    await backend.apply(
        op(OpKind.SET_FLAGS, inbox, rid, add=int(Flag.SEEN | Flag.FLAGGED), remove=0), None
    )
    assert (await server.contents(inbox.name))[mid(1)][0] & KEPT_FLAGS == Flag.SEEN | Flag.FLAGGED
    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert flag_changes(batches)[rid] & KEPT_FLAGS == Flag.SEEN | Flag.FLAGGED

    await backend.apply(op(OpKind.SET_FLAGS, inbox, rid, add=0, remove=int(Flag.SEEN)), None)
    assert (await server.contents(inbox.name))[mid(1)][0] & KEPT_FLAGS == Flag.FLAGGED
    again = await pull(
        backend, (await folders(backend))[FolderRole.INBOX], state_after(batches, state)
    )
    assert flag_changes(again)[rid] & KEPT_FLAGS == Flag.FLAGGED


async def _move_or_copy(
    kind: Kind, backend: Backend, server: ContractServer, kind_of_op: OpKind
) -> None:
    await server.deliver(message(1))
    await server.deliver(message(2))
    roles = await folders(backend)
    inbox, target = roles[FolderRole.INBOX], roles[FolderRole.TRASH]
    inbox_state, ids = await in_step(backend, inbox)
    target_state, _ = await in_step(backend, target)

    result = await backend.apply(op(kind_of_op, inbox, ids[mid(1)], to_folder=2), target.name)

    in_inbox, in_target = await server.contents(inbox.name), await server.contents(target.name)
    assert set(in_target) == {mid(1)} and in_target[mid(1)][1] == message(1)
    moved = kind_of_op is OpKind.MOVE
    assert set(in_inbox) == ({mid(2)} if moved else {mid(1), mid(2)})
    roles = await folders(backend)
    source = await pull(backend, roles[FolderRole.INBOX], inbox_state)
    assert removed(source) == ({ids[mid(1)]} if moved else set())
    assert added(source) == []
    pulled = await pull(backend, roles[FolderRole.TRASH], target_state)
    assert added(pulled) == [mid(1)]
    new_id = remote_ids(pulled)[mid(1)]
    if result.new_remote_id is not None:
        assert result.new_remote_id == new_id
    assert same_message(kind, await backend.fetch_body(target.name, new_id), message(1))


@pytest.mark.needs("op:move")
async def test_move_puts_the_message_in_the_target_only(
    kind: Kind, backend: Backend, server: ContractServer
) -> None:
    await _move_or_copy(kind, backend, server, OpKind.MOVE)


@pytest.mark.needs("op:copy")
async def test_copy_puts_the_message_in_both_folders(
    kind: Kind, backend: Backend, server: ContractServer
) -> None:
    await _move_or_copy(kind, backend, server, OpKind.COPY)


@pytest.mark.needs("op:delete")
async def test_delete_expunges_one_message_and_is_safe_to_repeat(
    backend: Backend, server: ContractServer
) -> None:
    for n in (1, 2):
        await server.deliver(message(n))
    inbox = (await folders(backend))[FolderRole.INBOX]
    state, ids = await in_step(backend, inbox)

    await backend.apply(op(OpKind.DELETE, inbox, ids[mid(1)]), None)
    assert set(await server.contents(inbox.name)) == {mid(2)}
    # The worker sends an op again when the connection died before the answer.
    await backend.apply(op(OpKind.DELETE, inbox, ids[mid(1)]), None)
    assert set(await server.contents(inbox.name)) == {mid(2)}

    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert removed(batches) == {ids[mid(1)]} and added(batches) == []


@pytest.mark.needs("op:append")
async def test_append_files_the_bytes_in_the_folder(
    backend: Backend, server: ContractServer
) -> None:
    sent = (await folders(backend))[FolderRole.SENT]
    state, _ = await in_step(backend, sent)
    raw = message(9, "filed copy")

    result = await backend.apply(op(OpKind.APPEND, None, None, folder=3, raw=raw), sent.name)

    on_server = await server.contents(sent.name)
    assert set(on_server) == {mid(9)} and on_server[mid(9)][1] == raw
    batches = await pull(backend, (await folders(backend))[FolderRole.SENT], state)
    assert added(batches) == [mid(9)]
    new_id = remote_ids(batches)[mid(9)]
    if result.new_remote_id is not None:
        assert result.new_remote_id == new_id
    assert await backend.fetch_body(sent.name, new_id) == raw


@pytest.mark.needs("local")
async def test_a_local_account_sends_no_op(backend: Backend, server: ContractServer) -> None:
    """Capabilities.local: the store completes every op; one that reached the backend
    anyway is refused and changes nothing on the server."""
    await server.deliver(message(1))
    inbox = (await folders(backend))[FolderRole.INBOX]
    _, ids = await in_step(backend, inbox)
    rid = ids[mid(1)]
    for kind_of_op, payload in (
        (OpKind.DELETE, {}),
        (OpKind.SET_FLAGS, {"add": int(Flag.SEEN), "remove": 0}),
        (OpKind.MOVE, {"to_folder": 2}),
        (OpKind.APPEND, {"folder": 3, "raw": message(9)}),
    ):
        with pytest.raises(OpRejected):
            await backend.apply(op(kind_of_op, inbox, rid, **payload), "Trash")
    assert set(await server.contents(inbox.name)) == {mid(1)}


# ---------------------------------------------------------------------- push or poll


async def test_wait_times_out_cleanly_when_nothing_happens(
    backend: Backend, server: ContractServer
) -> None:
    await server.deliver(message(1))
    inbox = (await folders(backend))[FolderRole.INBOX]
    state, _ = await in_step(backend, inbox)

    assert await backend.wait_for_changes(0.5) == set()

    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert added(batches) == [] and removed(batches) == set()


@pytest.mark.needs("hears_others")
async def test_wait_returns_when_another_client_adds_a_message(
    backend: Backend, server: ContractServer
) -> None:
    inbox = (await folders(backend))[FolderRole.INBOX]
    state, _ = await in_step(backend, inbox)
    waiting = asyncio.create_task(backend.wait_for_changes(60))
    await asyncio.sleep(0.3)  # most likely waiting by now; if not, it must find it anyway
    assert not waiting.done()

    await server.deliver(message(1))
    changed = await waiting

    assert server.inbox in changed  # 60 s is the timeout: set() would mean it never heard
    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert added(batches) == [mid(1)]


async def test_a_change_while_waiting_is_found_by_the_pull_that_follows(
    backend: Backend, server: ContractServer
) -> None:
    """Push or poll: what wait_for_changes returns, the worker pulls (every folder for
    an empty set); the new message must be in that pull."""
    inbox = (await folders(backend))[FolderRole.INBOX]
    state, _ = await in_step(backend, inbox)
    await server.deliver(message(1))

    changed = await backend.wait_for_changes(1.0)

    assert changed == set() or server.inbox in changed
    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert added(batches) == [mid(1)]


async def test_a_cancelled_wait_leaves_the_backend_usable(
    kind: Kind, backend: Backend, server: ContractServer
) -> None:
    await server.deliver(message(0))
    inbox = (await folders(backend))[FolderRole.INBOX]
    state, ids = await in_step(backend, inbox)
    waiting = asyncio.create_task(backend.wait_for_changes(60))
    await asyncio.sleep(0.3)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    # What the worker does after a wake-up: bodies, a pull, then it waits again.
    assert same_message(kind, await backend.fetch_body(inbox.name, ids[mid(0)]), message(0))
    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert added(batches) == [] and removed(batches) == set()
    state = state_after(batches, state)
    await server.deliver(message(1))
    changed = await backend.wait_for_changes(1.0)
    assert changed == set() or server.inbox in changed
    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert added(batches) == [mid(1)]


# ---------------------------------------------------------------------- reconnect


async def test_state_stays_valid_across_reconnects(server: ContractServer) -> None:
    for n in range(3):
        await server.deliver(message(n))
    backend = server.backend()
    await backend.connect()
    inbox = (await folders(backend))[FolderRole.INBOX]
    state, ids = await in_step(backend, inbox)

    # The same backend, closed and connected again.
    await backend.close()
    await server.deliver(message(3))
    await backend.connect()
    batches = await pull(backend, (await folders(backend))[FolderRole.INBOX], state)
    assert added(batches) == [mid(3)] and not any(b.reset for b in batches)
    state = state_after(batches, state)
    await backend.close()

    # A new backend (what the worker makes for each session), with the stored state.
    await server.deliver(message(4))
    await server.expunge(inbox.name, mid(0))
    fresh = server.backend()
    await fresh.connect()
    try:
        batches = await pull(fresh, (await folders(fresh))[FolderRole.INBOX], state)
        assert added(batches) == [mid(4)] and not any(b.reset for b in batches)
        assert removed(batches) == gone(fresh, batches, {ids[mid(0)]})
        assert await fresh.fetch_body(inbox.name, ids[mid(1)]) == message(1)
    finally:
        await fresh.close()
