"""POP3 accounts against the real Dovecot POP3 server of the harness: the worker, a real
store with its download ledger, and the server's Maildir as the other side.

Each download option, nothing downloaded twice (after a local delete too), an
interrupted session (no QUIT) that leaves the server intact, wrong password, a server
without STLS, a cut in the middle of RETR, a malformed message, UIDLs the server lost
between sessions, the size limit with the whole message fetched when opened."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mailtui.config import AccountConfig
from mailtui.errors import OpRejected, TransientError
from mailtui.models import AccountKind, FolderRole, RemoteFolder
from mailtui.protocols.pop3.backend import Pop3Backend
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.ledger import StoreLedger
from mailtui.sync.worker import Worker, WorkerOptions
from tests.servers import MailUser
from tests.servers.cli import run_mailtui
from tests.servers.pop3_tap import sessions_ended

DAY = 86400


def message(i: int, body: str = "hello\r\n", mid: bool = True) -> bytes:
    header = (
        f"From: Sender {i} <s{i}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: message {i}\r\nDate: Mon, 02 Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
    )
    if mid:
        header += f"Message-ID: <p{i}@example.org>\r\n"
    return f"{header}\r\n{body}".encode()


def account(user: MailUser, **kw: Any) -> AccountConfig:
    values: dict[str, Any] = {
        "name": "home",
        "kind": AccountKind.POP3,
        "email": user.email,
        "username": user.name,
        "host": user.host,
        "port": user.pop3s_port,
        "security": "tls",
        "password_command": f"printf '%s\\n' {shlex.quote(user.password)}",
        "ca_file": user.ca_path,
        "body_days": 36500,
    }
    values.update(kw)
    return AccountConfig(**values)


async def sync(
    store: Store,
    acc: AccountConfig,
    *,
    clock: Callable[[], float] = time.time,
    backend: type[Pop3Backend] = Pop3Backend,
) -> tuple[AccountStatus, Worker]:
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    worker = Worker(
        row,
        lambda: backend(acc, clock=clock, timeout=10.0),
        store,
        lambda e: None,
        WorkerOptions(body_days=acc.body_days, backoff_initial=0.01, backoff_max=0.05),
    )
    status = await worker.run(once=True)
    return status, worker


async def inbox_id(store: Store) -> int:
    (folder,) = [f for f in await store.folders() if f.name == "INBOX"]
    return folder.id


async def stored(store: Store) -> list[bytes]:
    """The raw messages in the store's INBOX (None: header only), oldest first."""
    return [raw or b"" async for _, _, _, raw in store.iter_raw(await inbox_id(store))]


def on_server(user: MailUser) -> list[bytes]:
    return [p.read_bytes() for p in user.message_files()]


def logins(user: MailUser, log_start: int) -> int:
    """POP3 logins of ``user`` in Dovecot's log since ``log_start``, once every session
    has ended (``sessions_ended``)."""
    sessions_ended(user.dovecot, user.name, log_start)
    log = user.dovecot.log_text(log_start)
    return len(re.findall(rf"pop3-login: Info: Login: user=<{re.escape(user.name)}>", log))


def ledger(store: Store) -> dict[str, tuple[int, int, int | None]]:
    """server id -> (whole, downloaded_at, deleted_at)."""
    con = sqlite3.connect(store.path)
    try:
        rows = con.execute("SELECT server_id, whole, downloaded_at, deleted_at FROM downloads")
        return {r[0]: (r[1], r[2], r[3]) for r in rows}
    finally:
        con.close()


# ---------------------------------------------------------------------- download options


async def test_leave_on_server_downloads_each_message_once(
    mail_user: MailUser, store: Store
) -> None:
    raws = [message(i) for i in range(1, 8)]
    mail_user.deliver_many(raws)
    status, worker = await sync(store, account(mail_user))
    assert status is AccountStatus.ONLINE, worker.status_text
    assert worker.capabilities is not None and worker.capabilities.local
    assert not worker.capabilities.sole_copy  # nothing is ever deleted on the server
    assert sorted(await stored(store)) == sorted(raws)  # byte for byte, bodies included
    assert sorted(on_server(mail_user)) == sorted(raws)  # nothing deleted there
    assert all(row[0] == 1 for row in ledger(store).values()) and len(ledger(store)) == 7
    # Again, with one new message: only that one comes.
    mail_user.deliver(message(8))
    status, _ = await sync(store, account(mail_user))
    assert status is AccountStatus.ONLINE
    assert sorted(await stored(store)) == sorted([*raws, message(8)])
    assert len(on_server(mail_user)) == 8


async def test_delete_after_download(mail_user: MailUser, store: Store) -> None:
    raws = [message(i, "x" * 3000 + "\r\n") for i in range(1, 6)]
    mail_user.deliver_many(raws)
    status, worker = await sync(store, account(mail_user, leave_on_server=False))
    assert status is AccountStatus.ONLINE, worker.status_text
    assert worker.capabilities is not None and worker.capabilities.sole_copy
    assert sorted(await stored(store)) == sorted(raws)
    assert on_server(mail_user) == []
    # The next session finds nothing and changes nothing.
    mail_user.deliver(message(9))
    await sync(store, account(mail_user, leave_on_server=False))
    assert sorted(await stored(store)) == sorted([*raws, message(9)])
    assert on_server(mail_user) == []


async def test_delete_after_n_days_by_the_download_date(mail_user: MailUser, store: Store) -> None:
    mail_user.deliver_many([message(1), message(2)])
    start = time.time()
    acc = account(mail_user, delete_after_days=3)
    await sync(store, acc, clock=lambda: start)
    mail_user.deliver(message(3))
    await sync(store, acc, clock=lambda: start + 2 * DAY)  # message 3 downloaded then
    assert len(on_server(mail_user)) == 3  # none is 3 days old yet
    await sync(store, acc, clock=lambda: start + 3 * DAY + 1)
    assert on_server(mail_user) == [message(3)]  # 1 and 2 are; 3 is one day old
    await sync(store, acc, clock=lambda: start + 5 * DAY + 1)
    assert on_server(mail_user) == []
    assert sorted(await stored(store)) == sorted([message(1), message(2), message(3)])


async def deleted_for_good(store: Store, subject: str) -> None:
    """The user deletes a message (to Trash), then deletes it from Trash for good; the
    next sync's worker completes both ops in the store (``Capabilities.local``)."""
    rows = await store.window(await inbox_id(store), 0, 100)
    (target,) = [r for r in rows if r.subject == subject]
    await store.delete([target.id])  # a MOVE to the local Trash
    await store.delete([target.id])  # from Trash: a DELETE op, the row hidden


async def test_delete_when_deleted_here(mail_user: MailUser, store: Store) -> None:
    mail_user.deliver_many([message(1), message(2), message(3)])
    acc = account(mail_user, delete_when_deleted_here=True)
    await sync(store, acc)
    await deleted_for_good(store, "message 2")
    assert all(row[2] is None for row in ledger(store).values())  # not done yet
    status, _ = await sync(store, acc)
    assert status is AccountStatus.ONLINE
    assert sum(1 for row in ledger(store).values() if row[2] is not None) == 1
    assert sorted(on_server(mail_user)) == sorted([message(1), message(3)])
    assert sorted(await stored(store)) == sorted([message(1), message(3)])


async def until(cond: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait for ``cond`` (a deadline for a hang, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_delete_for_good_reaches_the_server_without_waiting_for_the_poll(
    mail_user: MailUser, store: Store
) -> None:
    """delete_when_deleted_here: the kick after the user's delete for good makes the
    running worker complete the op and pull at once, and the pull's settle DELEs the
    message, though the next poll is an hour away."""
    mail_user.deliver_many([message(1), message(2), message(3)])
    acc = account(mail_user, delete_when_deleted_here=True)
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    worker = Worker(
        row,
        lambda: Pop3Backend(acc, timeout=10.0),
        store,
        lambda e: None,
        WorkerOptions(body_days=acc.body_days, poll_interval=3600.0),
    )
    task = asyncio.create_task(worker.run())
    try:
        await until(lambda: worker.status_text == "in step", "the first round")
        assert len(on_server(mail_user)) == 3
        await deleted_for_good(store, "message 2")
        worker.kick()  # what the UI does after every intent (ui/triage.py)
        await until(lambda: len(on_server(mail_user)) == 2, "the DELE")
        assert sorted(on_server(mail_user)) == sorted([message(1), message(3)])
        assert sorted(await stored(store)) == sorted([message(1), message(3)])
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_local_delete_is_not_downloaded_again_and_stays_on_the_server(
    mail_user: MailUser, store: Store
) -> None:
    mail_user.deliver_many([message(1), message(2)])
    await sync(store, account(mail_user))
    await deleted_for_good(store, "message 1")
    await sync(store, account(mail_user))
    assert await stored(store) == [message(2)]
    assert len(on_server(mail_user)) == 2


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_stls_or_tls_with_a_pinned_certificate(
    mail_user: MailUser, store: Store, security: str
) -> None:
    import hashlib
    import ssl

    from mailtui.errors import ConfigError

    mail_user.deliver(message(1))
    pin = hashlib.sha256(ssl.PEM_cert_to_DER_cert(mail_user.ca_path.read_text())).hexdigest()
    port = mail_user.pop3s_port if security == "tls" else mail_user.pop3_port
    acc = account(mail_user, security=security, port=port, ca_file=None, tls_fingerprint=pin)
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert await stored(store) == [message(1)]
    wrong = account(mail_user, security=security, port=port, ca_file=None, tls_fingerprint="0" * 64)
    with pytest.raises(ConfigError, match="does not match tls_fingerprint"):
        await Pop3Backend(wrong, timeout=10.0).connect()


# ---------------------------------------------------------------------- interruptions


class NoQuit(Pop3Backend):
    """Cut before QUIT: the DELEs are sent, the session ends without QUIT."""

    async def settle(self, folder: Any) -> None:
        session = self._session
        assert session is not None
        quit_ = session.client.quit
        session.client.quit = session.client.abort  # type: ignore[method-assign]
        try:
            await super().settle(folder)
        finally:
            session.client.quit = quit_  # type: ignore[method-assign]


async def test_a_session_cut_before_quit_leaves_the_server_intact(
    mail_user: MailUser, store: Store
) -> None:
    raws = [message(i) for i in range(1, 6)]
    mail_user.deliver_many(raws)
    acc = account(mail_user, leave_on_server=False)
    await sync(store, acc, backend=NoQuit)
    assert sorted(on_server(mail_user)) == sorted(raws)  # DELE without QUIT: nothing gone
    assert sorted(await stored(store)) == sorted(raws)
    status, _ = await sync(store, acc)  # the next session redoes the deletions
    assert status is AccountStatus.ONLINE
    assert on_server(mail_user) == []
    assert sorted(await stored(store)) == sorted(raws)  # each once


class HeadersOnly(Pop3Backend):
    """The connection drops right after the header batch was handed over."""

    async def _first(self, folder: Any, state: Any) -> AsyncIterator[Any]:
        async for batch in super().pull(folder, state):
            yield batch
            raise TransientError("the server closed the connection")

    def pull(self, folder: Any, state: Any) -> AsyncIterator[Any]:
        return self._first(folder, state)


async def test_a_header_row_deleted_here_before_its_body_came(
    mail_user: MailUser, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailtui.protocols.pop3.pull as pop3_pull

    mail_user.deliver_many([message(1), message(2), message(3)])
    acc = account(mail_user, leave_on_server=False)
    status, _ = await sync(store, acc, backend=HeadersOnly)
    assert status is AccountStatus.OFFLINE
    assert await stored(store) == [b"", b"", b""]  # headers only so far
    await deleted_for_good(store, "message 2")
    asked: list[str] = []
    retrieve = pop3_pull.Pull._retrieve

    async def recording(self: Any, todo: Any, top_lines: int | None) -> Any:
        asked.extend(t.server_id for t in todo)
        return await retrieve(self, todo, top_lines)

    monkeypatch.setattr(pop3_pull.Pull, "_retrieve", recording)
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert len(asked) == 2  # not the body of the message deleted here
    assert sorted(await stored(store)) == sorted([message(1), message(3)])
    # Never stored whole here: the server keeps it, whatever the options say.
    assert on_server(mail_user) == [message(2)]


async def test_wrong_password(mail_user: MailUser, store: Store) -> None:
    mail_user.deliver(message(1))
    acc = account(mail_user, password_command="printf 'nope\\n'")
    status, worker = await sync(store, acc)
    assert status is AccountStatus.AUTH_FAILED
    assert "login refused" in worker.status_text
    assert len(on_server(mail_user)) == 1


async def test_a_server_without_stls_is_refused(store: Store, mail_user: MailUser) -> None:
    """A POP3 server that offers no STLS (a few lines on loopback: the harness's Dovecot
    always offers it): the account stops with a clear error, no password is sent."""
    heard: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK POP3 ready\r\n")
        while line := await reader.readline():
            heard.append(line)
            if line.upper().startswith(b"CAPA"):
                writer.write(b"+OK\r\nUSER\r\nUIDL\r\n.\r\n")
            else:
                writer.write(b"-ERR no\r\n")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        acc = account(mail_user, security="starttls", port=port)
        status, worker = await sync(store, acc)
    finally:
        server.close()
        await server.wait_closed()
    assert status is AccountStatus.ERROR
    assert "does not offer STLS" in worker.status_text
    assert heard == [b"CAPA\r\n"]


class CutProxy:
    """Forwards plain POP3 connections to Dovecot and cuts the first one on which the
    server sends more than ``after`` bytes (in the middle of a RETR answer); after that
    cut, connections pass whole."""

    def __init__(self, port: int, after: int) -> None:
        self.port, self.after, self.cuts = port, after, 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)

        async def down() -> None:
            sent = 0
            while data := await up_reader.read(65536):
                if self.cuts == 0 and sent + len(data) > self.after:
                    writer.write(data[: self.after - sent])
                    await writer.drain()
                    self.cuts += 1
                    return
                sent += len(data)
                writer.write(data)
                await writer.drain()

        async def up() -> None:
            while data := await reader.read(65536):
                up_writer.write(data)
                await up_writer.drain()

        tasks = {asyncio.create_task(down()), asyncio.create_task(up())}
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for w in (writer, up_writer):
            with contextlib.suppress(Exception):
                w.close()


async def test_connection_cut_in_the_middle_of_retr(mail_user: MailUser, store: Store) -> None:
    raws = [message(i, ("y" * 70 + "\r\n") * 3000) for i in range(1, 4)]  # about 216 KB each
    mail_user.deliver_many(raws)
    proxy = CutProxy(mail_user.pop3_port, after=300_000)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    acc = account(mail_user, security="none", port=port, ca_file=None, leave_on_server=False)
    try:
        status, worker = await sync(store, acc)
        assert proxy.cuts == 1
        assert status is AccountStatus.OFFLINE, worker.status_text
        # The header batch was committed; no body is complete, nothing deleted.
        assert len(await stored(store)) == 3
        assert sorted(on_server(mail_user)) == sorted(raws)
        status, worker = await sync(store, acc)  # the next sync resumes
        assert status is AccountStatus.ONLINE, worker.status_text
    finally:
        server.close()
        await server.wait_closed()
    assert sorted(await stored(store)) == sorted(raws)
    assert on_server(mail_user) == []


async def test_a_malformed_message_is_stored_as_it_is(mail_user: MailUser, store: Store) -> None:
    garbage = [
        b"no header at all, just text\r\n\x00\x01\xff\xfe binary\r\n",
        b"Subject: =?bogus?Q?broken?=\r\nContent-Type: multipart/mixed; boundary=\r\n"
        b"Date: yesterday-ish\r\n\r\n--\r\n--\r\n",
        b"\r\n",
    ]
    mail_user.deliver_many([message(1), *garbage])
    status, worker = await sync(store, account(mail_user, leave_on_server=False))
    assert status is AccountStatus.ONLINE, worker.status_text
    assert sorted(await stored(store)) == sorted([message(1), *garbage])
    assert on_server(mail_user) == []


def lose_uidls(user: MailUser) -> None:
    """Give the Maildir a new UIDVALIDITY: Dovecot's UIDLs (%08Xu%08Xv) all change."""
    uidlist = user.maildir / "dovecot-uidlist"
    text = uidlist.read_text()
    new = re.sub(r"^(\d+) V(\d+)", lambda m: f"{m[1]} V{int(m[2]) + 1000}", text, count=1)
    assert new != text
    uidlist.write_text(new)
    for index in user.maildir.glob("dovecot.index*"):
        index.unlink()


async def test_uidls_lost_between_sessions_adopt_and_download_nothing_twice(
    mail_user: MailUser, store: Store
) -> None:
    raws = [message(1), message(2), message(3, mid=False)]
    mail_user.deliver_many(raws)
    await sync(store, account(mail_user))
    before = set(ledger(store))
    lose_uidls(mail_user)
    mail_user.deliver(message(4))
    status, worker = await sync(store, account(mail_user))
    assert status is AccountStatus.ONLINE, worker.status_text
    assert sorted(await stored(store)) == sorted([*raws, message(4)])  # each once
    after = ledger(store)
    assert len(after) == 4 and not set(after) & before  # every row took its new UIDL
    # A message opened later is fetched by its new UIDL.
    rows = await store.window(await inbox_id(store), 0, 10)
    (row,) = [r for r in rows if r.subject == "message 2"]
    ref = await store.remote_ref(row.id)
    assert ref is not None and ref[1] in after


async def test_the_same_message_delivered_again_after_we_deleted_it_is_downloaded(
    mail_user: MailUser, store: Store
) -> None:
    """Same Message-ID and size as a message we deleted on the server: a new delivery,
    not a lost UIDL; adopting it would delete it unseen."""
    acc = account(mail_user, leave_on_server=False)
    mail_user.deliver(message(1))
    await sync(store, acc)
    assert on_server(mail_user) == []
    mail_user.deliver(message(1))
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert await stored(store) == [message(1), message(1)]
    assert on_server(mail_user) == []


# ---------------------------------------------------------------------- size limit


async def test_size_limit_headers_only_then_the_whole_message_when_opened(
    mail_user: MailUser, store: Store
) -> None:
    big = message(2, ("z" * 70 + "\r\n") * 100)  # about 7 KB
    mail_user.deliver_many([message(1), big])
    acc = account(mail_user, max_message_kb=4, delete_after_days=1)
    start = time.time()
    status, worker = await sync(store, acc, clock=lambda: start)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert sorted(await stored(store)) == sorted([message(1), b""])  # big: header only
    rows = {r.subject: r for r in await store.window(await inbox_id(store), 0, 10)}
    assert rows["message 2"].size == len(big)
    # Days later: the small one is deleted on the server, the header-only one never.
    await sync(store, acc, clock=lambda: start + 2 * DAY)
    assert on_server(mail_user) == [big]
    # Opened: the whole message, by its UIDL, in a session of its own.
    backend = Pop3Backend(acc, timeout=10.0)
    ref = await store.remote_ref(rows["message 2"].id)
    assert ref is not None
    try:
        assert await backend.fetch_body(*ref) == big
    finally:
        await backend.close()


# ---------------------------------------------------------------------- the CLI


def test_cli_sync_once_of_a_pop3_account(mail_user: MailUser, tmp_path: Path) -> None:

    raws = [message(i) for i in range(1, 21)]
    mail_user.deliver_many(raws)
    env = mail_user.cli_home(tmp_path)
    log_start = mail_user.dovecot.log_size()
    config = Path(env["MAILTUI_CONFIG"])
    config.write_text(
        config.read_text()
        .replace('kind = "imap"', 'kind = "pop3"')
        .replace(f"port = {mail_user.imaps_port}", f"port = {mail_user.pop3s_port}")
        + "leave_on_server = false\n"
    )
    p = run_mailtui(env, "sync", "--once")
    assert p.returncode == 0, p.stderr
    assert "work: online" in p.stdout
    with sqlite3.connect(tmp_path / "data" / "mail.sqlite") as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 20
        assert db.execute("SELECT count(*) FROM downloads WHERE whole = 1").fetchone()[0] == 20
    assert on_server(mail_user) == []
    # One login: the first pull uses the session (and listing) the connect opened.
    assert logins(mail_user, log_start) == 1


async def test_each_pull_after_the_first_logs_in_anew_and_sees_new_mail(
    mail_user: MailUser, store: Store
) -> None:
    """The session ``connect`` opened serves the first pull; the next pull (the next
    poll round) needs a new session, the only way a POP3 client sees new mail."""
    mail_user.deliver(message(1))
    row = await store.ensure_account("home", AccountKind.POP3, mail_user.email)
    backend = Pop3Backend(account(mail_user), timeout=10.0)
    backend.use_ledger(StoreLedger(store, row.id))
    inbox = RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)

    async def subjects() -> set[str]:
        batches = [b async for b in backend.pull(inbox, {})]
        return {m.envelope.subject for b in batches for m in b.added}

    log_start = mail_user.dovecot.log_size()
    await backend.connect()
    try:
        assert await subjects() == {"message 1"}
        mail_user.deliver(message(2))
        assert "message 2" in await subjects()  # nothing committed: 1 comes again too
    finally:
        await backend.close()
    assert logins(mail_user, log_start) == 2


class AsksForABodyMidPull(Pop3Backend):
    """After the first batch (headers) is handed over, the user opens the big message:
    the pull waits until the request is made, and the worker serves it between two of
    the next batches, on the connection the pull is using."""

    ask: Callable[[], Awaitable[None]] | None = None

    async def _asking(self, folder: Any, state: Any) -> AsyncIterator[Any]:
        async for batch in super().pull(folder, state):
            yield batch
            ask = type(self).ask
            if ask is not None:
                type(self).ask = None
                await ask()

    def pull(self, folder: Any, state: Any) -> AsyncIterator[Any]:
        return self._asking(folder, state)


async def test_a_body_opened_between_two_batches_of_the_pull(
    mail_user: MailUser, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailtui.protocols.pop3.pull as pop3_pull

    monkeypatch.setattr(pop3_pull, "BATCH_BYTES", 2000)  # a few messages per batch
    big = message(1, ("z" * 70 + "\r\n") * 100)
    raws = [big, *(message(i) for i in range(2, 12))]
    mail_user.deliver_many(raws)
    acc = account(mail_user, max_message_kb=4)
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    got: list[asyncio.Future[bytes | None]] = []
    worker = Worker(
        row,
        lambda: AsksForABodyMidPull(acc, timeout=10.0),
        store,
        lambda e: None,
        WorkerOptions(body_days=36500),
    )

    async def ask() -> None:
        # Once the header batch is committed (the worker commits while it pulls on).
        while not (
            found := [
                r
                for r in await store.window(await inbox_id(store), 0, 100)
                if r.subject == "message 1"
            ]
        ):
            await asyncio.sleep(0.01)
        got.append(worker.request_body(found[0].id))

    AsksForABodyMidPull.ask = ask
    status = await worker.run(once=True)
    assert status is AccountStatus.ONLINE, worker.status_text
    assert got and await got[0] == big
    assert sorted(await stored(store)) == sorted([big, *raws[1:]])


async def test_a_message_moved_to_a_local_folder_stays_the_servers(
    mail_user: MailUser, store: Store
) -> None:
    """Moved to the local Archive before its body came (above the size limit): not
    downloaded again, and opened from there it comes whole by its UIDL."""
    big = message(2, ("z" * 70 + "\r\n") * 100)
    mail_user.deliver_many([message(1), big])
    acc = account(mail_user, max_message_kb=4)
    await sync(store, acc)
    (archive,) = [f for f in await store.folders() if f.name == "Archive"]
    rows = {r.subject: r for r in await store.window(await inbox_id(store), 0, 10)}
    await store.move([rows["message 2"].id], archive.id)
    status, worker = await sync(store, acc)  # completes the move, pulls again
    assert status is AccountStatus.ONLINE, worker.status_text
    assert await stored(store) == [message(1)]  # INBOX: not downloaded again
    assert [r.subject for r in await store.window(archive.id, 0, 10)] == ["message 2"]
    ref = await store.remote_ref(rows["message 2"].id)
    assert ref is not None and ref[0] == "Archive"
    backend = Pop3Backend(acc, timeout=10.0)
    try:
        assert await backend.fetch_body(*ref) == big
        # An id the server never gave (a row the store made, local:…): refused, left out.
        with pytest.raises(OpRejected):
            await backend.fetch_body("Sent", "local:abc")
        assert [b async for b in backend.fetch_bodies("Sent", ["local:abc"])] == []
    finally:
        await backend.close()
