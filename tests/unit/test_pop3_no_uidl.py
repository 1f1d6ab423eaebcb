"""A POP3 server without UIDL, which Dovecot (the suite's real server) cannot be made to
be: a contract test against a scripted server on loopback that speaks the RFC 1939
minimum (USER/PASS, LIST, RETR, DELE, QUIT; UIDL refused), with the real worker and
store. Such a server works only for an account that deletes after download."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.config import AccountConfig
from mailtui.models import AccountKind, Security
from mailtui.protocols.pop3.backend import Pop3Backend
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.worker import Worker, WorkerOptions
from tests.unit.pop3_scripted import OldServer


@pytest.fixture
async def old_server() -> AsyncIterator[tuple[OldServer, int]]:
    messages = [
        f"Subject: m{i}\r\nMessage-ID: <m{i}@x>\r\n\r\nbody {i}\r\n".encode() for i in range(4)
    ]
    fake = OldServer(messages)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    yield fake, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def account(port: int, leave: bool) -> AccountConfig:
    return AccountConfig(
        name="old",
        kind=AccountKind.POP3,
        email="me@x.test",
        username="me",
        host="127.0.0.1",
        port=port,
        security=Security.NONE,
        password_command="echo secret",
        leave_on_server=leave,
        body_days=36500,
    )


async def sync(store: Store, acc: AccountConfig) -> Worker:
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    worker = Worker(
        row, lambda: Pop3Backend(acc, timeout=5.0), store, lambda e: None, WorkerOptions()
    )
    await worker.run(once=True)
    return worker


async def stored(store: Store) -> list[bytes]:
    (inbox,) = [f.id for f in await store.folders() if f.name == "INBOX"]
    return [raw or b"" async for _, _, _, raw in store.iter_raw(inbox)]


async def test_without_uidl_leaving_mail_on_the_server_is_refused(
    old_server: tuple[OldServer, int], tmp_path: Path
) -> None:
    fake, port = old_server
    async with await Store.open(tmp_path / "mail.sqlite") as store:
        worker = await sync(store, account(port, leave=True))
        assert worker.status is AccountStatus.ERROR
        assert "does not offer UIDL" in worker.status_text
        assert "leave_on_server = false" in worker.status_text
        # Refused at connect: the server's INBOX was never listed, nothing downloaded.
        assert "INBOX" not in {f.name for f in await store.folders()}
    assert len(fake.messages) == 4 and "RETR" not in fake.heard


async def test_without_uidl_download_then_delete_each_once_even_after_a_cut(
    old_server: tuple[OldServer, int], tmp_path: Path
) -> None:
    fake, port = old_server
    original = list(fake.messages)
    fake.quit_answers = False  # the first session ends before QUIT is answered
    async with await Store.open(tmp_path / "mail.sqlite") as store:
        await sync(store, account(port, leave=False))
        assert sorted(await stored(store)) == sorted(original)
        assert fake.messages == original  # nothing removed without QUIT
        fake.quit_answers = True
        fake.messages.append(b"Subject: late\r\n\r\nnew\r\n")
        worker = await sync(store, account(port, leave=False))
        assert worker.status is AccountStatus.ONLINE, worker.status_text
        # Known by the hash of its bytes: stored once, and now deleted on the server.
        assert sorted(await stored(store)) == sorted([*original, b"Subject: late\r\n\r\nnew\r\n"])
    assert fake.messages == []


async def test_a_server_with_a_login_delay_is_logged_in_to_once_per_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOGIN-DELAY 900 (RFC 2449): the first pull uses the login ``connect`` made, and
    the poll waits at least that long before the next."""
    fake = OldServer([b"Subject: a\r\n\r\none\r\n"], uidl=True, login_delay=900)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    try:
        async with await Store.open(tmp_path / "mail.sqlite") as store:
            worker = await sync(store, account(port, leave=True))
            assert worker.status is AccountStatus.ONLINE, worker.status_text
            assert fake.logins == 1
            assert await stored(store) == [b"Subject: a\r\n\r\none\r\n"]
        backend = Pop3Backend(account(port, leave=True), timeout=5.0)
        fake.logins = 0
        await backend.connect()
        monkeypatch.setattr(asyncio, "sleep", no_sleep)
        assert await backend.wait_for_changes(300) == set()
        assert slept == [900]
    finally:
        server.close()
        await server.wait_closed()
