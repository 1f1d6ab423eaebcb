"""Trying the server again without a restart of mailtui, against the real Dovecot: a
password fixed in the keyring and "reconnect now", a password_command fixed in
config.toml, and a server back after a restart while the worker waits out a long
backoff."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest

from mailtui import accounts
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.sync.manager import SyncManager, WorkerSpec
from mailtui.sync.worker import WorkerOptions
from tests.integration.test_imap_sync import account, msg
from tests.servers import MailUser
from tests.unit.keyrings import MemoryKeyring

GUARD = 60.0  # only so that a broken build ends; no test measures time


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    """The system keyring replaced by one in memory (the worker reads it in a thread)."""
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        yield memory
    finally:
        keyring.set_keyring(before)


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(GUARD):
        while not check():
            await asyncio.sleep(0.05)


def state(manager: SyncManager) -> AccountStatus:
    return manager.status()["work"][0]


async def test_a_password_fixed_in_the_keyring_is_used_after_reconnect(
    mail_user: MailUser, store: Store, ring: MemoryKeyring
) -> None:
    mail_user.deliver_many([msg(1)])
    ring.set_password("mailtui", "work", "not-the-password")
    acc = account(mail_user, password_command=None)
    manager = SyncManager(store, await accounts.specs_for(store, [acc]))
    await manager.start()
    try:
        await until(lambda: state(manager) is AccountStatus.AUTH_FAILED)
        # The worker waits for the user, not hammering the server with a wrong password.
        assert not any(task.done() for task in manager._tasks.values())
        ring.set_password("mailtui", "work", mail_user.password)
        manager.reconnect()
        await until(lambda: state(manager) is AccountStatus.ONLINE)
    finally:
        await manager.stop()
    inbox = next(f for f in await store.folders() if f.name == "INBOX")
    assert [r.subject for r in await store.window(inbox.id, 0, 10)] == ["message 1"]


def write_config(path: Path, user: MailUser, password: str) -> None:
    command = f"printf '%s\\n' {shlex.quote(password)}".replace("\\", "\\\\")
    path.write_text(
        f"""
[accounts.work]
kind = "imap"
email = "{user.email}"
username = "{user.name}"
host = "{user.host}"
port = {user.imap_port}
security = "starttls"
ca_file = "{user.ca_path}"
password_command = "{command}"
""",
        encoding="utf-8",
    )


async def test_a_password_command_fixed_in_the_config_is_used_without_a_restart(
    mail_user: MailUser, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    write_config(path, mail_user, "not-the-password")
    manager = SyncManager(store, await accounts.specs(store, accounts.load_config(path)))
    await manager.start()
    try:
        await until(lambda: state(manager) is AccountStatus.AUTH_FAILED)
        write_config(path, mail_user, mail_user.password)
        # No key pressed: the changed file is noticed by the waiting worker.
        await until(lambda: state(manager) is AccountStatus.ONLINE)
    finally:
        await manager.stop()


async def test_a_broken_config_edit_is_shown_and_its_fix_picked_up(
    mail_user: MailUser, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    write_config(path, mail_user, "not-the-password")
    manager = SyncManager(store, await accounts.specs(store, accounts.load_config(path)))
    await manager.start()
    try:
        await until(lambda: state(manager) is AccountStatus.AUTH_FAILED)
        path.write_text(path.read_text() + "\nhots = 1\n", encoding="utf-8")
        await until(lambda: state(manager) is AccountStatus.ERROR)
        assert "hots" in manager.status()["work"][1]
        write_config(path, mail_user, mail_user.password)
        await until(lambda: state(manager) is AccountStatus.ONLINE)
    finally:
        await manager.stop()


async def test_a_server_back_after_a_restart_is_used_at_once_on_reconnect(
    mail_user: MailUser, store: Store
) -> None:
    acc = account(mail_user)
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    manager = SyncManager(
        store,
        [
            WorkerSpec(
                row,
                (await accounts.specs_for(store, [acc]))[0].factory,
                # A backoff far longer than any test: only the reconnect ends it.
                WorkerOptions(backoff_initial=3600.0, backoff_max=3600.0),
            )
        ],
    )
    events: list[SyncEvent] = []
    manager.add_listener(events.append)
    await manager.start()
    try:
        await until(lambda: state(manager) is AccountStatus.ONLINE)
        await asyncio.to_thread(mail_user.dovecot.restart, graceful=False)
        manager.kick(row.id)  # the dead connection shows up at the next command
        await until(lambda: state(manager) is AccountStatus.OFFLINE)
        offline = [e for e in events if e.kind is EventKind.STATUS and e.retry_at is not None]
        assert offline and offline[-1].status is AccountStatus.OFFLINE
        manager.reconnect()
        await until(lambda: state(manager) is AccountStatus.ONLINE)
    finally:
        await manager.stop()
