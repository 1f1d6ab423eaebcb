"""Exchange ActiveSync against a real server, SOGo (tests/servers/sogo.py), through
``EasBackend``: FolderSync, first and incremental Sync with changes made by another client
over IMAP, ItemOperations, the user's changes seen over IMAP, Ping, and the errors a
user must understand (wrong password, no ActiveSync at the address)."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import mailtui.protocols.eas.pull as eas_pull
from mailtui.errors import AuthError, ConfigError, OpRejected, TransientError
from mailtui.models import Flag, FolderKind, FolderRole, OpKind, PendingOp
from mailtui.protocols.eas.backend import EasBackend
from tests.integration.eas_support import (
    by_role,
    connected,
    flags_of,
    imap_folder,
    message,
    pull_all,
    uid_of,
)
from tests.servers import EASUser

pytestmark = pytest.mark.integration


def op(kind: OpKind, folder: str, rid: str, **payload: int) -> PendingOp:
    return PendingOp(1, 1, kind, 1, 1, folder, rid, dict(payload))


async def test_folder_sync_lists_every_folder_with_roles_and_kinds(eas_user: EASUser) -> None:
    async with connected(eas_user) as backend:
        folders = await backend.list_folders()
        roles = {f.role for f in folders if f.kind is FolderKind.MAIL}
        assert {FolderRole.INBOX, FolderRole.DRAFTS, FolderRole.SENT, FolderRole.TRASH} <= roles
        kinds = {f.kind for f in folders}
        assert {FolderKind.CONTACTS, FolderKind.CALENDAR, FolderKind.TASKS} <= kinds
        state = backend.take_account_state()
        assert state is not None and state["device_id"] and state["provisioned"]
        assert backend.take_account_state() is None  # committed: unchanged since
        key = state["folders"]["key"]

        # Another client makes a folder: the next FolderSync, from the kept key, has it.
        conn = eas_user.imap()
        conn.create("Projects")
        conn.logout()
        again = await backend.list_folders()
        assert "Projects" in {f.display_name for f in again}
        assert len(again) == len(folders) + 1
        assert backend.take_account_state()["folders"]["key"] != key  # type: ignore[index]


async def test_first_then_incremental_sync_with_another_clients_changes(
    eas_user: EASUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eas_pull, "WINDOW", 3)
    for n in range(7):
        eas_user.append(message(n))
    async with connected(eas_user) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        batches, state = await pull_all(backend, inbox, {})
        added = [m for b in batches for m in b.added]
        assert sorted(m.envelope.message_id for m in added) == sorted(
            f"<m{n}@example.org>" for n in range(7)
        )
        assert len([b for b in batches if b.added]) >= 3  # windows of 3
        assert batches[-1].complete and not batches[0].complete
        assert all(m.raw and b"body of message" in m.raw for m in added)  # MIME, whole
        assert all(b.account_state and b.account_state["keys"][inbox.name] == b.state["key"]
                   for b in batches if b.state)  # fmt: skip
        ids = {m.envelope.message_id: m.remote_id for m in added}
        kept = backend.current_state()

    # Another client: one new, one flagged and read, one deleted.
    eas_user.append(message(7))
    with imap_folder(eas_user) as conn:
        conn.uid("STORE", uid_of(conn, "<m1@example.org>"), "+FLAGS", r"(\Flagged \Seen)")
        conn.uid("STORE", uid_of(conn, "<m2@example.org>"), "+FLAGS", r"(\Deleted)")
        conn.expunge()
    async with connected(eas_user, state=kept) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        seen: dict[str, Flag] = {}
        removed: set[str] = set()
        new: list[str] = []
        for _ in range(3):  # SOGo may spread the changes over more than one Sync
            batches, state = await pull_all(backend, inbox, state)
            for b in batches:
                seen.update(b.flags)
                removed.update(b.removed)
                new += [m.envelope.message_id for m in b.added]
        assert new == ["<m7@example.org>"]
        assert removed == {ids["<m2@example.org>"]}
        assert (
            seen[ids["<m1@example.org>"]] & (Flag.SEEN | Flag.FLAGGED) == Flag.SEEN | Flag.FLAGGED
        )


async def test_item_operations_fetch_bodies_on_demand(eas_user: EASUser) -> None:
    for n in range(3):
        eas_user.append(message(n))
    async with connected(eas_user) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        batches, _ = await pull_all(backend, inbox, {})
        rids = {m.envelope.message_id: m.remote_id for b in batches for m in b.added}
        one = await backend.fetch_body(inbox.name, rids["<m1@example.org>"])
        assert b"body of message 1" in one and b"Subject: message 1" in one
        got = dict([x async for x in backend.fetch_bodies(inbox.name, [*rids.values(), "999999"])])
        assert set(got) == set(rids.values())  # the one not there is left out
        assert all(b"body of message" in bytes(raw) for raw in got.values())


async def test_item_operations_brings_a_large_body_as_a_multipart_part(
    eas_user: EASUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SOGo answers ``MS-ASAcceptMultiPart: T`` with the multipart form ([MS-ASCMD]
    2.2.2.10.1): the body is a raw part beside the WBXML, and comes byte for byte."""
    from mailtui.protocols.eas import items
    from mailtui.protocols.eas.http import EasHttp, Response

    big = (
        b"From: a@example.org\r\nTo: me@mailtui.test\r\nSubject: big\r\n"
        b"Message-ID: <big@example.org>\r\n\r\n" + b"\xe2\x82\xac line of text\r\n" * 40_000
    )
    eas_user.append(big)
    async with connected(eas_user) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        batches, _ = await pull_all(backend, inbox, {})
        (rid,) = [m.remote_id for b in batches for m in b.added]
        answers: list[Response] = []
        post = EasHttp.post

        async def watched(self: EasHttp, *args: Any, **kw: Any) -> Response:
            answers.append(await post(self, *args, **kw))
            return answers[-1]

        monkeypatch.setattr(EasHttp, "post", watched)
        got = await items.fetch(backend.http, inbox.name, [rid])
    assert got == {rid: big}
    assert answers[-1].multipart and len(answers[-1].parts) == 2


async def test_read_flag_delete_and_move_are_seen_over_imap(eas_user: EASUser) -> None:
    for n in range(4):
        eas_user.append(message(n))
    async with connected(eas_user) as backend:
        folders = await backend.list_folders()
        inbox, trash = by_role(folders, FolderRole.INBOX), by_role(folders, FolderRole.TRASH)
        batches, state = await pull_all(backend, inbox, {})
        rids = {m.envelope.message_id: m.remote_id for b in batches for m in b.added}
        add = int(Flag.SEEN | Flag.FLAGGED)
        await backend.apply(
            op(OpKind.SET_FLAGS, inbox.name, rids["<m0@example.org>"], add=add), None
        )
        await backend.apply(op(OpKind.DELETE, inbox.name, rids["<m1@example.org>"]), None)
        moved = await backend.apply(
            op(OpKind.MOVE, inbox.name, rids["<m2@example.org>"]), trash.name
        )
        assert moved.new_remote_id
        # Repeated after a lost answer: nothing breaks, nothing doubles.
        await backend.apply(op(OpKind.DELETE, inbox.name, rids["<m1@example.org>"]), None)
        await backend.apply(op(OpKind.MOVE, inbox.name, rids["<m2@example.org>"]), trash.name)
        # The server's changes the ops' Syncs brought come with the next pull.
        await pull_all(backend, inbox, state)
    with imap_folder(eas_user) as conn:
        assert {r"\Seen", r"\Flagged"} <= flags_of(conn, uid_of(conn, "<m0@example.org>") or "")
        assert uid_of(conn, "<m1@example.org>") is None
        assert uid_of(conn, "<m2@example.org>") is None
        assert uid_of(conn, "<m3@example.org>") is not None
    with imap_folder(eas_user, "Trash") as conn:
        assert uid_of(conn, "<m2@example.org>") is not None


async def test_unflag_and_unread_are_seen_over_imap(eas_user: EASUser) -> None:
    eas_user.append(message(0), flags=(r"\Seen", r"\Flagged"))
    async with connected(eas_user) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        batches, _ = await pull_all(backend, inbox, {})
        (first,) = [m for b in batches for m in b.added]
        assert first.flags & (Flag.SEEN | Flag.FLAGGED) == Flag.SEEN | Flag.FLAGGED
        remove = int(Flag.SEEN | Flag.FLAGGED)
        await backend.apply(op(OpKind.SET_FLAGS, inbox.name, first.remote_id, remove=remove), None)
    with imap_folder(eas_user) as conn:
        assert not {r"\Seen", r"\Flagged"} & flags_of(conn, uid_of(conn, "<m0@example.org>") or "")


async def test_ping_hears_a_new_message(eas_user: EASUser) -> None:
    async with connected(eas_user) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        _, state = await pull_all(backend, inbox, {})
        arrived: list[str] = []
        for attempt in range(6):
            waiting = asyncio.create_task(backend.wait_for_changes(30))
            if attempt == 0:
                # The first Ping asks more than the server grants and is refused with its
                # limit (status 5); the message arrives while the next Ping waits.
                while backend.heartbeat_limit is None and not waiting.done():
                    await asyncio.sleep(0.05)
                await asyncio.to_thread(eas_user.append, message(42))
            changed = await waiting
            if inbox.name in changed or not changed:
                batches, state = await pull_all(backend, inbox, state)
                arrived += [m.envelope.message_id for b in batches for m in b.added]
            if arrived:
                break
        assert arrived == ["<m42@example.org>"]
        assert backend.heartbeat_limit == eas_user.server.ping_max  # the server's own limit


async def test_a_wrong_password_is_an_auth_error(eas_user: EASUser) -> None:
    backend = EasBackend(eas_user.account("not-the-password"))
    backend.restore({})
    with pytest.raises(AuthError, match="user name or password"):
        await backend.connect()
    await backend.close()


@pytest.fixture
def web_server() -> Iterator[str]:
    """A plain web server that knows no ActiveSync (404 for everything)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_OPTIONS(self) -> None:  # noqa: N802
            self.send_error(404)

        do_POST = do_GET = do_OPTIONS  # noqa: N815

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/Microsoft-Server-ActiveSync"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_server_without_activesync_is_a_clear_error(
    eas_user: EASUser, web_server: str
) -> None:
    from dataclasses import replace

    backend = EasBackend(replace(eas_user.account(), url=web_server))
    backend.restore({})
    with pytest.raises(ConfigError, match="no ActiveSync"):
        await backend.connect()
    await backend.close()
    # An IMAP server's port answers no HTTP at all: a clear error, no traceback.
    imap_url = f"http://127.0.0.1:{eas_user.server.imap_port}/Microsoft-Server-ActiveSync"
    backend = EasBackend(replace(eas_user.account(), url=imap_url))
    backend.restore({})
    with pytest.raises((TransientError, ConfigError)) as info:
        await asyncio.wait_for(backend.connect(), 60)
    assert f"127.0.0.1:{eas_user.server.imap_port}" in str(info.value)
    await backend.close()


async def test_folders_made_renamed_and_deleted_are_seen_over_imap(eas_user: EASUser) -> None:
    async with connected(eas_user) as backend:
        made = await backend.create_folder("Projects")
        sub = await backend.create_folder("Projects/Alpha")
        listed = {f.name: f for f in await backend.list_folders()}
        assert listed[made].display_name == "Projects" and listed[sub].depth == 1
        assert await backend.rename_folder(sub, "Projects/Beta") == sub
        with pytest.raises(OpRejected):
            await backend.create_folder("Nowhere/Child")
        # The folder below first: SOGo answers success to a FolderDelete of a folder
        # with folders below it, which Dovecot refused (the next FolderSync has it).
        await backend.delete_folder(sub)
        await backend.delete_folder(made)
        after = {f.display_name for f in await backend.list_folders()}
    assert "Projects" not in after and "Beta" not in after
    conn = eas_user.imap()
    try:
        typ, data = conn.list('""', "*")
        names = b" ".join(line for line in data if isinstance(line, bytes))
    finally:
        conn.logout()
    assert typ == "OK" and b"Projects" not in names
