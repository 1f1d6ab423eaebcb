"""IMAP accounts against the real Dovecot of the harness: the worker, a real store, and a
plain ``imaplib`` session as "another client" on the same mailbox."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import shlex
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from mailtui.config import AccountConfig
from mailtui.errors import TransientError
from mailtui.models import AccountKind, Flag, FolderBatch, FolderRole, RemoteFolder
from mailtui.protocols.imap import ImapBackend, pull
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.sync.manager import SyncManager, WorkerSpec
from mailtui.sync.worker import Worker, WorkerOptions
from tests.servers import MailUser


def msg(i: int, subject: str = "", days_ago: float = 1.0, size: int = 0) -> bytes:
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - days_ago * 86400))
    body = ("line of text\r\n" * (size // 14 + 1)) if size else "hello\r\n"
    return (
        f"From: Sender {i} <s{i}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: {subject or f'message {i}'}\r\nDate: {date}\r\n"
        f"Message-ID: <m{i}@example.org>\r\n\r\n{body}"
    ).encode()


def account(user: MailUser, security: str = "starttls", **kw: Any) -> AccountConfig:
    port = user.imaps_port if security == "tls" else user.imap_port
    values: dict[str, Any] = {
        "name": "work",
        "kind": AccountKind.IMAP,
        "email": user.email,
        "username": user.name,
        "host": user.host,
        "port": port,
        "security": security,
        "password_command": f"printf '%s\\n' {shlex.quote(user.password)}",
        "ca_file": user.ca_path,
        "body_days": 36500,
    }
    values.update(kw)
    return AccountConfig(**values)


async def sync(
    store: Store, acc: AccountConfig, backend: type[ImapBackend] = ImapBackend, **kw: Any
) -> tuple[AccountStatus, Worker]:
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    worker = Worker(
        row,
        lambda: backend(acc, **kw),
        store,
        lambda e: None,
        WorkerOptions(body_days=acc.body_days, backoff_initial=0.01, backoff_max=0.05),
    )
    status = await worker.run(once=True)
    return status, worker


@pytest.fixture
def imap(mail_user: MailUser) -> Iterator[imaplib.IMAP4_SSL]:
    client = imaplib.IMAP4_SSL(
        mail_user.host, mail_user.imaps_port, ssl_context=mail_user.ssl_context()
    )
    client.login(mail_user.name, mail_user.password)
    yield client
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        client.logout()


def store_account_id(store: Store) -> int:
    con = sqlite3.connect(store.path)
    try:
        return int(con.execute("SELECT id FROM accounts").fetchone()[0])
    finally:
        con.close()


async def folders(store: Store) -> dict[str, Any]:
    return {f.name: f for f in await store.folders()}


async def subjects(store: Store, folder_id: int) -> dict[str, Flag]:
    rows = await store.window(folder_id, 0, 100_000)
    return {r.subject: r.flags for r in rows}


def server_subjects(client: imaplib.IMAP4_SSL, folder: str) -> dict[str, str]:
    _, count = client.select(folder)
    if count == [b"0"]:  # Dovecot answers BAD to FETCH 1:* in an empty folder
        return {}
    typ, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out: dict[str, str] = {}
    if typ != "OK" or data == [None]:
        return out
    for part in data:
        if isinstance(part, tuple):
            subject = part[1].decode().split(":", 1)[1].strip()
            out[subject] = part[0].decode()
    return out


# ---------------------------------------------------------------------- initial sync


class Recording(ImapBackend):
    batches: list[FolderBatch] = []

    async def _record(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        async for batch in super().pull(folder, state):
            type(self).batches.append(batch)
            yield batch

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._record(folder, state)


async def test_initial_sync_newest_first_with_folders_roles_flags_bodies(
    mail_user: MailUser, store: Store
) -> None:
    # Messages 551-1300 are up to 30 days old (the body window), 1-550 more than 33 days
    # (clear of the window's edge, which SEARCH SINCE only knows by the day).
    ages = {i: (1300 - i) / 25 + (0.01 if i > 550 else 3) for i in range(1, 1301)}
    raws = [msg(i, days_ago=ages[i]) for i in range(1, 1301)]
    for i, raw in enumerate(raws, start=1):  # arrived when they were sent, as on a server
        arrived = time.time() - ages[i] * 86400
        mail_user.deliver(raw, flags="S" if i > 650 else "", internaldate=arrived)
    mail_user.deliver(msg(9001, "archived"), folder="Archive", flags=["\\Flagged", "$Forwarded"])
    mail_user.create_folder("Work/Projekte Ä", subscribe=True)
    mail_user.create_folder("Not subscribed")
    Recording.batches = []
    status, _ = await sync(store, account(mail_user, body_days=30), Recording)
    assert status is AccountStatus.ONLINE

    first, listed = Recording.batches[:2]
    assert first.folder == "INBOX" and len(first.added) == pull.SCREEN
    uids = [int(m.remote_id.split(":")[1]) for m in first.added]
    assert sorted(uids) == list(range(1201, 1301))  # the newest screen, as the first batch
    # The listing with it, then the next 500.
    assert first.listing is not None and len(first.listing) == 1300
    uids += [int(m.remote_id.split(":")[1]) for m in listed.added]
    assert sorted(uids) == list(range(701, 1301)) and listed.listing is None

    f = await folders(store)
    assert set(f) == {
        "INBOX",
        "Drafts",
        "Sent",
        "Trash",
        "Junk",
        "Archive",
        "Work",
        "Work/Projekte &AMQ-",
        "Not subscribed",  # listed, to be shown greyed, and not synced
    }
    assert [name for name, folder in f.items() if not folder.subscribed] == ["Not subscribed"]
    assert f["Work/Projekte &AMQ-"].display_name == "Projekte Ä"
    assert f["Sent"].role is FolderRole.SENT and f["Trash"].role is FolderRole.TRASH
    assert (f["INBOX"].total, f["INBOX"].unread) == (1300, 650)
    assert await subjects(store, f["Archive"].id) == {"archived": Flag.FLAGGED | Flag.FORWARDED}
    # Bodies: the last 30 days (750 messages) downloaded, byte for byte; older ones not.
    # The first screen came as headers, its bodies right after it in the same pass
    # (with the next batch); the rest of the window came whole with its envelopes, and
    # the older ones as headers.
    rows = await store.window(f["INBOX"].id, 0, 2000)
    cached = {r.subject for r in rows if (await store.message(r.id)).raw is not None}  # type: ignore[union-attr]
    assert cached == {f"message {i}" for i in range(551, 1301)}
    newest = await store.message(rows[0].id)
    assert newest is not None and newest.raw == raws[-1]
    oldest_cached = await store.message(rows[749].id)
    assert oldest_cached is not None and oldest_cached.raw == raws[550]
    assert all(m.raw is None for m in [*first.added, *listed.added])
    whole = {
        int(m.remote_id.split(":")[1])
        for b in Recording.batches[1:]
        if b.folder == "INBOX"
        for m in b.added
        if m.raw is not None
    }
    assert whole == set(range(551, 701))
    screen = [b for b in Recording.batches if b.folder == "INBOX" and b.bodies]
    assert len(screen) == 1 and screen[0] is Recording.batches[2]
    assert sorted(int(r.split(":")[1]) for r, _ in screen[0].bodies) == sorted(uids)
    assert dict(screen[0].bodies)[first.added[0].remote_id] == raws[-1]
    # Their text went into the search index after the download (``_index_bodies``).
    found = await store.search("hello", 2000, f["INBOX"].id)
    assert {r.subject for r in found} == cached
    assert await store.bodies_to_index(store_account_id(store), 10) == []


async def test_resync_without_changes_selects_nothing(mail_user: MailUser, store: Store) -> None:
    mail_user.deliver_many([msg(i) for i in range(20)])
    acc = account(mail_user)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    Recording.batches = []
    assert (await sync(store, acc, Recording))[0] is AccountStatus.ONLINE
    assert Recording.batches and all(
        not b.added and not b.flags and not b.removed and b.complete for b in Recording.batches
    )


async def test_the_space_of_expunged_mail_is_given_back(
    mail_user: MailUser, tmp_path: Path, imap: imaplib.IMAP4_SSL
) -> None:
    raws = [msg(i, size=20_000) for i in range(1, 7)]
    mail_user.deliver_many(raws)
    acc = account(mail_user)
    path = tmp_path / "mail.sqlite"
    async with await Store.open(path) as s:
        assert (await sync(s, acc))[0] is AccountStatus.ONLINE
    packs = path.with_name(path.name + "-bodies")
    assert len(list(packs.glob("*.pack"))) == 1

    imap.select("INBOX")
    imap.store("1:4", "+FLAGS", "(\\Deleted)")
    imap.expunge()
    # The next sync (the app, or `sync --once` from cron) finds the pack two-thirds dead.
    async with await Store.open(path) as s:
        assert (await sync(s, acc))[0] is AccountStatus.ONLINE
        inbox = (await folders(s))["INBOX"].id
        rows = await s.window(inbox, 0, 10)
        assert sorted(r.subject for r in rows) == ["message 5", "message 6"]
        for r in rows:
            detail = await s.message(r.id)
            assert detail is not None and detail.raw == raws[int(r.subject[-1]) - 1]
    on_disk = sum(p.stat().st_size for p in packs.glob("*.pack"))
    assert on_disk == len(raws[4]) + len(raws[5]) + 2 * 24  # the two records, nothing dead


# ---------------------------------------------------------------------- incremental


@pytest.mark.parametrize("qresync", [True, False], ids=["qresync", "uid-flags-fallback"])
async def test_incremental_sees_another_clients_changes(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL, qresync: bool
) -> None:
    mail_user.deliver_many([msg(i) for i in range(1, 11)])
    acc = account(mail_user)
    assert (await sync(store, acc, use_qresync=qresync))[0] is AccountStatus.ONLINE

    imap.select("INBOX")
    imap.store("1", "+FLAGS", "(\\Flagged \\Seen)")
    imap.store("3", "+FLAGS", "(\\Deleted)")
    imap.expunge()  # message 3 gone
    imap.copy("4", "Archive")  # message 5 (now seq 4) moved by COPY+EXPUNGE
    imap.store("4", "+FLAGS", "(\\Deleted)")
    imap.expunge()
    mail_user.deliver(msg(11, "brand new"))

    assert (await sync(store, acc, use_qresync=qresync))[0] is AccountStatus.ONLINE
    f = await folders(store)
    inbox = await subjects(store, f["INBOX"].id)
    assert set(inbox) == {f"message {i}" for i in (1, 2, 4, 6, 7, 8, 9, 10)} | {"brand new"}
    assert inbox["message 1"] == Flag.FLAGGED | Flag.SEEN
    assert inbox["message 2"] == Flag.NONE
    assert set(await subjects(store, f["Archive"].id)) == {"message 5"}

    imap.select("INBOX")
    imap.store("1", "-FLAGS", "(\\Flagged)")
    assert (await sync(store, acc, use_qresync=qresync))[0] is AccountStatus.ONLINE
    assert (await subjects(store, f["INBOX"].id))["message 1"] == Flag.SEEN


async def test_uidvalidity_change_resyncs_that_folder_only(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.create_folder("Lists", subscribe=True)
    mail_user.deliver_many([msg(i, f"old {i}") for i in range(3)], folder="Lists")
    mail_user.deliver_many([msg(i) for i in range(3)])
    acc = account(mail_user)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    f = await folders(store)
    lists = await store.window(f["Lists"].id, 0, 10)
    inbox = await store.window(f["INBOX"].id, 0, 10)
    await store.set_flags([lists[0].id], Flag.FLAGGED, Flag.NONE)  # about a message that goes
    await store.set_flags([inbox[0].id], Flag.FLAGGED, Flag.NONE)  # must survive

    # Another client recreates the folder: same name, new UIDVALIDITY, UIDs start at 1 again.
    assert imap.delete("Lists")[0] == "OK"
    assert imap.create("Lists")[0] == "OK"
    imap.subscribe("Lists")
    for i in range(2):
        imap.append("Lists", "", imaplib.Time2Internaldate(time.time()), msg(50 + i, f"new {i}"))

    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    f = await folders(store)
    assert set(await subjects(store, f["Lists"].id)) == {"new 0", "new 1"}
    assert await store.pending_ops((await store.accounts())[0].id, 10) == []
    server = server_subjects(imap, "Lists")
    assert all("Flagged" not in flags for flags in server.values())  # old op not replayed
    assert "\\Flagged" in server_subjects(imap, "INBOX")[inbox[0].subject]


# ---------------------------------------------------------------------- push


async def test_idle_brings_a_new_message_without_waiting_for_the_poll(
    mail_user: MailUser, store: Store
) -> None:
    mail_user.deliver_many([msg(i) for i in range(5)])
    acc = account(mail_user, poll_interval=300)
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    spec = WorkerSpec(row, lambda: ImapBackend(acc), WorkerOptions(poll_interval=300))
    manager = SyncManager(store, [spec])
    await manager.start()
    try:
        for _ in range(200):
            if manager.status()["work"][0] is AccountStatus.ONLINE:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # in IDLE by now
        inbox = (await folders(store))["INBOX"].id
        for round_ in range(2):  # twice: IDLE is re-entered after the first arrival
            mail_user.deliver(msg(100 + round_, f"pushed {round_}"))
            started = time.monotonic()
            while f"pushed {round_}" not in await subjects(store, inbox):
                # The poll is 300 s away: only IDLE brings it this soon. 20 s, not the 2 s
                # it takes on an idle machine: the suite runs on two busy cores.
                assert time.monotonic() - started < 20.0, "not pushed to the store"
                await asyncio.sleep(0.02)
    finally:
        await manager.stop()


async def test_idle_cancelled_leaves_the_connection_usable(mail_user: MailUser) -> None:
    mail_user.deliver(msg(1))
    backend = ImapBackend(account(mail_user))
    await backend.connect()
    try:
        await backend.list_folders()
        task = asyncio.create_task(backend.wait_for_changes(60))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        raw = await backend.fetch_body("INBOX", f"{backend._selected.uidvalidity}:1")  # type: ignore[union-attr]
        assert raw.startswith(b"From: Sender 1")
    finally:
        await backend.close()


# ---------------------------------------------------------------------- ops


class DropsAfterApplying(ImapBackend):
    """Applies ops on the server, but the connection dies before the OK is seen for the
    ``drop_at``-th op (the worst case for exactly-once)."""

    applied = 0
    drop_at = 3

    async def apply(self, op: Any, target_folder: str | None) -> Any:
        result = await super().apply(op, target_folder)
        type(self).applied += 1
        if type(self).applied == self.drop_at:
            self.conn._stream.abort()  # the OK is lost with the connection
            await asyncio.sleep(0.05)
            raise TransientError("the server closed the connection")  # what the layer raises
        return result


async def test_ops_applied_exactly_once_across_a_disconnect_mid_batch(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.deliver_many([msg(i) for i in range(1, 9)])
    acc = account(mail_user)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    f = await folders(store)
    rows = {r.subject: r.id for r in await store.window(f["INBOX"].id, 0, 20)}
    await store.set_flags([rows["message 1"]], Flag.SEEN | Flag.FLAGGED, Flag.NONE)
    await store.move([rows["message 2"]], f["Archive"].id)
    await store.move([rows["message 3"]], f["Archive"].id)  # the OK of this one is lost
    await store.delete([rows["message 4"]])  # to Trash
    await store.set_flags([rows["message 5"]], Flag.SEEN, Flag.NONE)
    DropsAfterApplying.applied = 0

    status, _ = await sync(store, acc, DropsAfterApplying)
    assert status is AccountStatus.OFFLINE
    assert len(await store.pending_ops((await store.accounts())[0].id, 10)) == 3
    status, _ = await sync(store, acc)  # reconnect: the rest, and the cut-off op again
    assert status is AccountStatus.ONLINE
    assert await store.pending_ops((await store.accounts())[0].id, 10) == []

    inbox = server_subjects(imap, "INBOX")
    assert set(inbox) == {f"message {i}" for i in (1, 5, 6, 7, 8)}
    assert "\\Flagged" in inbox["message 1"] and "\\Seen" in inbox["message 1"]
    assert "\\Seen" in inbox["message 5"]
    assert sorted(server_subjects(imap, "Archive")) == ["message 2", "message 3"]  # once each
    assert list(server_subjects(imap, "Trash")) == ["message 4"]
    f = await folders(store)
    assert sorted(await subjects(store, f["Archive"].id)) == ["message 2", "message 3"]
    assert list(await subjects(store, f["Trash"].id)) == ["message 4"]


async def test_ops_survive_a_server_crash(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.deliver_many([msg(i) for i in range(1, 4)])
    acc = account(mail_user)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    f = await folders(store)
    rows = {r.subject: r.id for r in await store.window(f["INBOX"].id, 0, 20)}
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    manager = SyncManager(
        store,
        [
            WorkerSpec(
                row,
                lambda: ImapBackend(acc, timeout=5),
                WorkerOptions(backoff_initial=0.1, backoff_max=0.3),
            )
        ],
    )
    await manager.start()
    try:
        for _ in range(100):
            if manager.status()["work"][0] is AccountStatus.ONLINE:
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(mail_user.dovecot.restart, graceful=False)
        await store.move([rows["message 1"]], f["Archive"].id)
        await store.set_flags([rows["message 2"]], Flag.FLAGGED, Flag.NONE)
        manager.kick(row.id)

        def on_server() -> tuple[list[str], str]:
            fresh = imaplib.IMAP4_SSL(
                mail_user.host, mail_user.imaps_port, ssl_context=mail_user.ssl_context()
            )
            fresh.login(mail_user.name, mail_user.password)
            try:
                archive = list(server_subjects(fresh, "Archive"))
                return archive, server_subjects(fresh, "INBOX").get("message 2", "")
            finally:
                fresh.logout()

        # pending_ops lists only ops not yet claimed: an op on the wire (claimed, not yet
        # done) is not in it, so wait for the server to show both, then for the store.
        for _ in range(200):
            archive, flags = await asyncio.to_thread(on_server)
            if archive == ["message 1"] and "\\Flagged" in flags:
                break
            await asyncio.sleep(0.05)
        for _ in range(200):
            if not await store.pending_ops(row.id, 10):
                break
            await asyncio.sleep(0.05)
        assert await store.pending_ops(row.id, 10) == []
    finally:
        await manager.stop()
    archive, flags = on_server()
    assert archive == ["message 1"]
    assert "\\Flagged" in flags


async def test_another_client_sees_read_and_move(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.deliver_many([msg(1, "read me"), msg(2, "move me")])
    acc = account(mail_user)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    f = await folders(store)
    rows = {r.subject: r.id for r in await store.window(f["INBOX"].id, 0, 20)}
    await store.set_flags([rows["read me"]], Flag.SEEN, Flag.NONE)
    await store.move([rows["move me"]], f["Archive"].id)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    inbox = server_subjects(imap, "INBOX")
    assert list(inbox) == ["read me"] and "\\Seen" in inbox["read me"]
    assert list(server_subjects(imap, "Archive")) == ["move me"]
    # The moved row got its new identity from COPYUID (no duplicate after the next pull).
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    assert list(await subjects(store, f["Archive"].id)) == ["move me"]


async def test_op_refused_for_good_is_rolled_back(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.create_folder("Gone", subscribe=True)
    mail_user.deliver(msg(1, "stays"))
    acc = account(mail_user)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    f = await folders(store)
    row = (await store.window(f["INBOX"].id, 0, 1))[0]
    await store.move([row.id], f["Gone"].id)
    imap.delete("Gone")  # the target vanishes before the op is sent
    events: list[SyncEvent] = []
    account_row = (await store.accounts())[0]
    spec = WorkerSpec(account_row, lambda: ImapBackend(acc))
    manager = SyncManager(store, [spec])
    manager.add_listener(events.append)
    assert (await manager.run_once())["work"] is AccountStatus.ONLINE
    assert any(e.kind.value == "op_failed" for e in events)
    f = await folders(store)
    assert "stays" in await subjects(store, f["INBOX"].id)  # rolled back
    assert list(server_subjects(imap, "INBOX")) == ["stays"]


async def test_append_is_idempotent_and_reports_appenduid(
    mail_user: MailUser, imap: imaplib.IMAP4_SSL
) -> None:
    backend = ImapBackend(account(mail_user))
    await backend.connect()
    try:
        await backend.list_folders()
        first = await backend.append("Sent", msg(7, "sent copy"), Flag.SEEN)
        again = await backend.append("Sent", msg(7, "sent copy"), Flag.SEEN)
    finally:
        await backend.close()
    assert first.new_remote_id is not None and first.new_remote_id == again.new_remote_id
    sent = server_subjects(imap, "Sent")
    assert list(sent) == ["sent copy"] and "\\Seen" in sent["sent copy"]


async def test_folder_create_rename_delete(mail_user: MailUser, imap: imaplib.IMAP4_SSL) -> None:
    backend = ImapBackend(account(mail_user))
    await backend.connect()
    try:
        name = await backend.create_folder("Reisen/Zürich")
        assert name == "Reisen/Z&APw-rich"
        names = {f.name: f for f in await backend.list_folders()}
        assert names[name].display_name == "Zürich"
        renamed = await backend.rename_folder(name, "Reisen/Genève")
        names = {f.name for f in await backend.list_folders()}
        assert renamed in names and name not in names
        await backend.delete_folder(renamed)
        assert renamed not in {f.name for f in await backend.list_folders()}
    finally:
        await backend.close()


# ---------------------------------------------------------------------- refusals


async def test_wrong_password_stops_with_auth_failed(mail_user: MailUser, store: Store) -> None:
    acc = account(mail_user, password_command="echo not-the-password")
    status, worker = await sync(store, acc)
    assert status is AccountStatus.AUTH_FAILED
    assert "login refused" in worker.status_text


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_untrusted_certificate_is_refused_clearly(
    mail_user: MailUser, store: Store, tmp_path: Path, security: str
) -> None:
    from tests.servers import make_self_signed_cert

    other = make_self_signed_cert(tmp_path / "other-ca")
    for ca in (None, other.ca_path):  # the system store, and a different certificate
        status, worker = await sync(store, account(mail_user, security, ca_file=ca))
        assert status is AccountStatus.ERROR
        assert "not trusted" in worker.status_text and "ca_file" in worker.status_text


async def test_implicit_tls_and_starttls_both_sync(mail_user: MailUser, store: Store) -> None:
    mail_user.deliver(msg(1))
    for security in ("tls", "starttls"):
        assert (await sync(store, account(mail_user, security)))[0] is AccountStatus.ONLINE


def fake_server_account(port: int, security: str) -> AccountConfig:
    """An account on a scripted fake server on loopback (not the harness's Dovecot)."""
    return AccountConfig(
        name="work",
        kind=AccountKind.IMAP,
        email="me@mailtui.test",
        username="me",
        host="127.0.0.1",
        port=port,
        security=security,
        password_command="echo secret",
    )


async def test_a_server_gone_silent_mid_message_is_a_timeout_not_a_hang(store: Store) -> None:
    """Greets, logs in, lists, then stops in the middle of a message's bytes: the pull
    ends with "did not answer in time" after the timeout (silence, not the length of
    the answer, counts) and the account is offline, to be retried."""

    async def fake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n")
        while line := await reader.readline():
            tag, _, rest = line.partition(b" ")
            command = rest.upper()
            if command.startswith(b"LIST"):
                writer.write(b'* LIST () "/" INBOX\r\n' + tag + b" OK done\r\n")
            elif command.startswith(b"SELECT") or command.startswith(b"EXAMINE"):
                writer.write(
                    b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 2] x\r\n"
                    + tag
                    + b" OK [READ-WRITE] done\r\n"
                )
            elif command.startswith(b"UID SEARCH"):
                writer.write(b"* SEARCH 1\r\n" + tag + b" OK done\r\n")
            elif command.startswith(b"UID FETCH"):
                writer.write(b"* 1 FETCH (UID 1 BODY[HEADER] {500}\r\nSubject: hal")
                await writer.drain()
                await reader.read()  # and nothing more, until the client gives up
            else:
                writer.write(tag + b" OK whatever\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(fake, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    acc = fake_server_account(port, "none")
    started = time.monotonic()
    try:
        status, worker = await sync(store, acc, timeout=0.5)
    finally:
        server.close()
    assert time.monotonic() - started < 10
    assert status is AccountStatus.OFFLINE
    assert "did not answer in time" in worker.status_text


async def sync_with_fake_starttls(
    store: Store, capability: bytes, starttls_answer: bytes
) -> tuple[AccountStatus, Worker, bytes]:
    """A sync with ``security = "starttls"`` against a fake server offering
    ``capability``, answering STARTTLS with ``starttls_answer`` (the tag before it): the
    status, the worker, and all the client sent (upper case)."""
    received: list[bytes] = []

    async def fake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY " + capability + b"] fake ready\r\n")
        while line := await reader.readline():
            received.append(line)
            tag = line.split(b" ")[0]
            if b"STARTTLS" in line.upper():
                writer.write(tag + starttls_answer)
            elif b"CAPABILITY" in line.upper():
                writer.write(b"* CAPABILITY " + capability + b"\r\n" + tag + b" OK done\r\n")
            elif b"LOGOUT" in line.upper():
                writer.write(b"* BYE\r\n" + tag + b" OK bye\r\n")
            else:
                writer.write(tag + b" OK whatever\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(fake, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        status, worker = await sync(store, fake_server_account(port, "starttls"))
    finally:
        server.close()
        await server.wait_closed()
    return status, worker, b"".join(received).upper()


async def test_starttls_not_offered_is_refused_never_plain(store: Store) -> None:
    status, worker, sent = await sync_with_fake_starttls(
        store, b"IMAP4rev1 AUTH=PLAIN LOGIN", b" BAD not offered\r\n"
    )
    assert status is AccountStatus.ERROR
    assert "does not offer STARTTLS" in worker.status_text
    assert b"STARTTLS" not in sent
    assert b"LOGIN" not in sent and b"AUTHENTICATE" not in sent and b"SECRET" not in sent


async def test_bytes_after_the_starttls_go_ahead_are_refused(store: Store) -> None:
    """Answers injected in the clear right behind the server's STARTTLS OK would be read
    as if they had come over TLS: the client refuses and never sends its password."""
    status, worker, sent = await sync_with_fake_starttls(
        store,
        b"IMAP4rev1 STARTTLS LOGINDISABLED",
        b" OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
    )
    assert status is AccountStatus.ERROR
    assert "sent data after agreeing to STARTTLS" in worker.status_text
    assert b"LOGIN" not in sent and b"AUTHENTICATE" not in sent and b"SECRET" not in sent


# ---------------------------------------------------------------------- the CLI


def test_cli_sync_once_over_implicit_tls(mail_user: MailUser, tmp_path: Path) -> None:
    from tests.servers.cli import run_mailtui

    mail_user.deliver_many([msg(i) for i in range(30)])
    env = mail_user.cli_home(tmp_path)
    p = run_mailtui(env, "sync", "--once")
    assert p.returncode == 0, p.stderr
    assert "work: online" in p.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "mail.sqlite") as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 30


class AsksForABodyMidPull(ImapBackend):
    """Before the first INBOX batch reaches the worker, the user opens a message of
    another folder: the worker fetches that body between two batches of the pull."""

    ask: Callable[[], None] | None = None
    folder = "INBOX"

    async def _asking(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        async for batch in super().pull(folder, state):
            ask = type(self).ask
            if ask is not None and folder.name == type(self).folder:
                type(self).ask = None
                ask()
            yield batch

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._asking(folder, state)


async def test_a_body_of_another_folder_opened_mid_pull_does_not_derail_it(
    mail_user: MailUser, store: Store
) -> None:
    mail_user.deliver(msg(1, "in inbox"))
    mail_user.deliver(msg(2, "filed away", days_ago=400), folder="Archive")
    acc = account(mail_user, body_days=30)
    status, _ = await sync(store, acc)
    assert status is AccountStatus.ONLINE
    f = await folders(store)
    (archived,) = await store.window(f["Archive"].id, 0, 10)
    assert (await store.message(archived.id)).raw is None  # type: ignore[union-attr]

    # 2,600 old messages arrive: two batches of envelopes; between them the Archive
    # message is opened, which selects Archive on the same connection.
    mail_user.deliver_many(
        [msg(i, days_ago=400) for i in range(10, 2610)], internaldate=time.time() - 400 * 86400
    )
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    events: list[SyncEvent] = []
    worker = Worker(
        row,
        lambda: AsksForABodyMidPull(acc),
        store,
        events.append,
        WorkerOptions(body_days=acc.body_days, backoff_initial=0.01, backoff_max=0.05),
    )
    opened: list[asyncio.Future[bytes | None]] = []
    AsksForABodyMidPull.ask = lambda: opened.append(worker.request_body(archived.id))
    assert await worker.run(once=True) is AccountStatus.ONLINE

    assert len(opened) == 1
    body = await opened[0]
    assert body is not None and b"Subject: filed away" in body
    assert (await store.message(archived.id)).raw == body  # type: ignore[union-attr]
    inbox = await subjects(store, f["INBOX"].id)
    assert set(inbox) == {"in inbox"} | {f"message {i}" for i in range(10, 2610)}
    assert set(await subjects(store, f["Archive"].id)) == {"filed away"}
    # One session: opening the body did not cost a reconnect.
    statuses = [e.status for e in events if e.kind is EventKind.STATUS]
    assert statuses.count(AccountStatus.CONNECTING) == 1, statuses


async def test_a_first_pass_in_batches_survives_a_body_opened_in_between(
    mail_user: MailUser, store: Store
) -> None:
    """The first pass of a new folder: 500, then batches of 2,000 fetched while the one
    before is parsed; after the first batch the user opens a message in Archive."""
    mail_user.deliver(msg(2, "filed away", days_ago=400), folder="Archive")
    acc = account(mail_user, body_days=30)
    assert (await sync(store, acc))[0] is AccountStatus.ONLINE
    f = await folders(store)
    (archived,) = await store.window(f["Archive"].id, 0, 10)

    mail_user.create_folder("Big", subscribe=True)
    mail_user.deliver_many(
        [msg(i, days_ago=400) for i in range(5000)],
        folder="Big",
        internaldate=time.time() - 400 * 86400,
    )
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    worker = Worker(
        row,
        lambda: AsksForABodyMidPull(acc),
        store,
        lambda e: None,
        WorkerOptions(body_days=acc.body_days, backoff_initial=0.01, backoff_max=0.05),
    )
    opened: list[asyncio.Future[bytes | None]] = []
    AsksForABodyMidPull.folder = "Big"
    AsksForABodyMidPull.ask = lambda: opened.append(worker.request_body(archived.id))
    try:
        assert await worker.run(once=True) is AccountStatus.ONLINE
    finally:
        AsksForABodyMidPull.folder = "INBOX"
    body = await opened[0]
    assert body is not None and b"Subject: filed away" in body
    big = (await folders(store))["Big"]
    assert set(await subjects(store, big.id)) == {f"message {i}" for i in range(5000)}
    assert big.total == 5000


class WatchesTheStore(ImapBackend):
    """Records its batches and, each time the worker asks for the next one, how many
    messages the store holds in the folder by then."""

    store: Store
    batches: list[FolderBatch] = []
    seen: list[tuple[int, int]] = []  # (messages yielded so far, messages in the store)

    async def _watch(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        yielded = 0
        async for batch in super().pull(folder, state):
            type(self).batches.append(batch)
            yield batch
            yielded += len(batch.added)
            stored = (await folders(type(self).store))[folder.name].total
            type(self).seen.append((yielded, stored))

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._watch(folder, state)


async def test_first_contact_commits_the_newest_screen_first_then_brings_the_oldest(
    mail_user: MailUser, store: Store
) -> None:
    """A new account on a folder of 3,000: the newest screenful (``pull.SCREEN``, asked
    for by number, with the UID listing pipelined behind it) is committed with the
    listing before the worker asks for anything more; the next 500 follow, then the
    oldest 500, so the end of the list is the folder's real oldest message long before
    the pass is over."""
    n = 3000
    screen = pull.SCREEN
    mail_user.deliver_many([msg(i, days_ago=(n - i) / 10) for i in range(n)])
    WatchesTheStore.store = store
    WatchesTheStore.batches = []
    WatchesTheStore.seen = []
    status, _ = await sync(store, account(mail_user, body_days=0), WatchesTheStore)
    assert status is AccountStatus.ONLINE
    first, listed, oldest = [b for b in WatchesTheStore.batches if b.added][:3]
    assert {m.envelope.subject for m in first.added} == {
        f"message {i}" for i in range(n - screen, n)
    }
    assert first.listing is not None and len(first.listing) == n
    assert first.progress == (screen, n)
    assert WatchesTheStore.seen[0] == (screen, screen)  # committed before the next was asked
    assert listed.listing is None
    newest_500 = {f"message {i}" for i in range(n - screen - 500, n - screen)}
    assert {m.envelope.subject for m in listed.added} == newest_500
    assert listed.progress == (screen + 500, n)
    assert {m.envelope.subject for m in oldest.added} == {f"message {i}" for i in range(500)}
    assert oldest.progress == (screen + 1000, n)
    inbox = (await folders(store))["INBOX"]
    assert inbox.total == n
    rows = await store.window(inbox.id, n - 1, 1)
    assert [r.subject for r in rows] == ["message 0"]
