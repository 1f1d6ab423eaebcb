"""The server side of each backend in the contract suite (fixtures: conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import imaplib
import itertools
import re
import secrets
import shlex
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

import mailtui.protocols.demo.backend as demo_backend
import mailtui.protocols.eas.pull as eas_pull
import mailtui.protocols.imap.pull as imap_pull
import mailtui.protocols.pop3.pull as pop3_pull
from mailtui.config import AccountConfig
from mailtui.models import (
    AccountKind,
    Downloaded,
    Flag,
    FolderBatch,
    OpKind,
    RemoteFolder,
)
from mailtui.protocols.demo.backend import DemoBackend, DemoServer
from mailtui.protocols.demo.generate import FOLDERS
from mailtui.protocols.eas.backend import EasBackend
from mailtui.protocols.imap import ImapBackend
from mailtui.protocols.pop3.backend import Pop3Backend
from mailtui.sync.contract import Backend, Capabilities
from tests.servers import DovecotServer, SOGoServer

_MESSAGE_ID = re.compile(rb"^message-id:\s*(<[^>\r\n]*>)", re.I | re.M)


def message_id_of(raw: bytes) -> str:
    found = _MESSAGE_ID.search(raw.split(b"\r\n\r\n", 1)[0])
    assert found is not None, raw[:200]
    return found.group(1).decode()


class ContractServer(Protocol):
    """The server side of one backend under test, holding one account with empty
    folders. Folder names are the server's (``RemoteFolder.name``); messages are named
    by their Message-ID, which every test message has, so the checks do not go through
    the backend's own ids."""

    inbox: str

    def backend(self, *, password: str | None = None) -> Backend:
        """A new backend for the account, not connected; ``password`` replaces the
        right one."""

    def make_batches_small(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make the backend's pulls come in batches of a few messages."""

    async def deliver(self, raw: bytes, folder: str | None = None, flags: Flag = Flag.NONE) -> None:
        """New mail in ``folder`` (INBOX by default), as another client or an MTA puts it
        there."""

    async def set_flags(self, folder: str, message_id: str, add: Flag, remove: Flag) -> None:
        """Another client changes a message's flags."""

    async def expunge(self, folder: str, message_id: str) -> None:
        """Another client deletes a message for good."""

    async def contents(self, folder: str) -> dict[str, tuple[Flag, bytes]]:
        """What the server holds in ``folder``: Message-ID -> (flags, raw message)."""

    async def close(self) -> None:
        """Let go of the server side (the backend is closed already)."""


#: The flags every backend keeps on the server (when Capabilities.flags).
KEPT_FLAGS = Flag.SEEN | Flag.ANSWERED | Flag.FLAGGED | Flag.DRAFT


def supported_ops(caps: Capabilities) -> set[OpKind]:
    """The ops a backend with ``caps`` must apply: none for a ``local`` account (the
    store does every op; the backend refuses them all, ``test_a_local_account_sends_no_op``);
    else DELETE always; flags with ``flags``; MOVE and COPY with ``server_move``; APPEND
    (filing sent mail and drafts) with ``folders``."""
    if caps.local:
        return set()
    ops = {OpKind.DELETE}
    if caps.flags:
        ops.add(OpKind.SET_FLAGS)
    if caps.server_move:
        ops |= {OpKind.MOVE, OpKind.COPY}
    if caps.folders:
        ops.add(OpKind.APPEND)
    return ops


@dataclass(frozen=True)
class Kind:
    name: str
    capabilities: Capabilities  # what the backend must report once built
    start: Callable[[pytest.FixtureRequest], Awaitable[ContractServer]]
    features: frozenset[str] = frozenset()
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())
    #: The ops apply() supports, where the Capabilities do not say it all (ActiveSync
    #: moves between folders but cannot copy or append).
    ops: frozenset[OpKind] | None = None

    def has(self, feature: str) -> bool:
        kinds = supported_ops(self.capabilities) if self.ops is None else self.ops
        ops = {f"op:{op.value}" for op in kinds}
        local = {"local"} if self.capabilities.local else set()
        return feature in self.features or feature in ops | local


# ---------------------------------------------------------------------- demo


class DemoContractServer:
    """A `DemoServer` file of its own, emptied (a demo mailbox always has its hostile
    message). The demo backend makes no arrivals of its own here (they would be changes
    the tests did not make)."""

    inbox = "INBOX"

    def __init__(self, directory: Path) -> None:
        self.server = DemoServer(directory / "server.sqlite", count=0)
        for folder, _ in FOLDERS:
            for uid, _, _, _ in self.server.new_since(folder, 1, 2**62):
                self.server.expunge(int(uid))

    def backend(self, *, password: str | None = None) -> Backend:
        return DemoBackend(lambda: self.server, arrival_interval=86400.0)

    def make_batches_small(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(demo_backend, "BATCH", 4)

    def _uid(self, folder: str, message_id: str) -> int:
        for uid, _, _, raw in self.server.new_since(folder, 1, 2**62):
            if message_id_of(bytes(raw)) == message_id:
                return int(uid)
        raise AssertionError(f"{message_id} is not in {folder} on the server")

    async def deliver(self, raw: bytes, folder: str | None = None, flags: Flag = Flag.NONE) -> None:
        self.server.deliver(folder or self.inbox, raw, int(time.time()), int(flags))

    async def set_flags(self, folder: str, message_id: str, add: Flag, remove: Flag) -> None:
        assert self.server.set_flags(self._uid(folder, message_id), int(add), int(remove))

    async def expunge(self, folder: str, message_id: str) -> None:
        assert self.server.expunge(self._uid(folder, message_id))

    async def contents(self, folder: str) -> dict[str, tuple[Flag, bytes]]:
        rows = self.server.new_since(folder, 1, 2**62)
        return {message_id_of(bytes(raw)): (Flag(flags), bytes(raw)) for _, flags, _, raw in rows}

    async def close(self) -> None:
        self.server.close()


# ---------------------------------------------------------------------- IMAP

_IMAP_FLAGS = {
    Flag.SEEN: "\\Seen",
    Flag.ANSWERED: "\\Answered",
    Flag.FLAGGED: "\\Flagged",
    Flag.DRAFT: "\\Draft",
    Flag.DELETED: "\\Deleted",
}
_users = itertools.count(1)


def next_user() -> str:
    """A user name not taken yet in this run."""
    return f"c{next(_users):03d}"


def _imap_flag_list(flags: Flag) -> str:
    return "(" + " ".join(name for bit, name in _IMAP_FLAGS.items() if flags & bit) + ")"


def _flags_from_fetch(text: str) -> Flag:
    found = re.search(r"FLAGS \(([^)]*)\)", text)
    names = found.group(1).split() if found else []
    flags = Flag.NONE
    for bit, name in _IMAP_FLAGS.items():
        if name in names:
            flags |= bit
    return flags


class ImapContractServer:
    """A fresh user on the suite's Dovecot; "another client" is plain imaplib, and new
    mail is written into the Maildir as Dovecot's delivery would."""

    inbox = "INBOX"

    def __init__(self, dovecot: DovecotServer, name: str) -> None:
        self.dovecot = dovecot
        self.name = name
        self.password = secrets.token_urlsafe(12)
        dovecot.add_user(name, self.password)

    def account(self, password: str) -> AccountConfig:
        return AccountConfig(
            name="contract",
            kind=AccountKind.IMAP,
            email=self.dovecot.email(self.name),
            username=self.name,
            host=self.dovecot.host,
            port=self.dovecot.imaps_port,
            security="tls",
            password_command=f"printf '%s\\n' {shlex.quote(password)}",
            ca_file=self.dovecot.ca_path,
            body_days=36500,
        )

    def backend(self, *, password: str | None = None) -> Backend:
        return ImapBackend(self.account(self.password if password is None else password))

    def make_batches_small(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Whole messages (the body window) come in batches of at least 20 whatever BATCH.
        monkeypatch.setattr(imap_pull, "SCREEN", 2)
        monkeypatch.setattr(imap_pull, "FIRST_BATCH", 3)
        monkeypatch.setattr(imap_pull, "BATCH", 4)

    @contextlib.contextmanager
    def _client(self, folder: str) -> Iterator[imaplib.IMAP4_SSL]:
        context = ssl.create_default_context(cafile=str(self.dovecot.ca_path))
        client = imaplib.IMAP4_SSL(self.dovecot.host, self.dovecot.imaps_port, ssl_context=context)
        try:
            client.login(self.name, self.password)
            typ, data = client.select(f'"{folder}"')
            assert typ == "OK", data
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def _uid(self, client: imaplib.IMAP4_SSL, message_id: str) -> str:
        typ, data = client.uid("SEARCH", "HEADER", "Message-ID", f'"{message_id}"')
        uids = data[0].split() if typ == "OK" and data and data[0] else []
        assert len(uids) == 1, f"{message_id}: {typ} {data}"
        return bytes(uids[0]).decode()

    async def deliver(self, raw: bytes, folder: str | None = None, flags: Flag = Flag.NONE) -> None:
        names = [name for bit, name in _IMAP_FLAGS.items() if flags & bit]
        await asyncio.to_thread(self.dovecot.deliver, self.name, raw, folder or self.inbox, names)

    async def set_flags(self, folder: str, message_id: str, add: Flag, remove: Flag) -> None:
        def change() -> None:
            with self._client(folder) as client:
                uid = self._uid(client, message_id)
                for how, flags in (("+FLAGS", add), ("-FLAGS", remove)):
                    if flags:
                        typ, data = client.uid("STORE", uid, how, _imap_flag_list(flags))
                        assert typ == "OK", data

        await asyncio.to_thread(change)

    async def expunge(self, folder: str, message_id: str) -> None:
        def remove() -> None:
            with self._client(folder) as client:
                uid = self._uid(client, message_id)
                typ, data = client.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
                assert typ == "OK", data
                typ, data = client.expunge()
                assert typ == "OK", data

        await asyncio.to_thread(remove)

    async def contents(self, folder: str) -> dict[str, tuple[Flag, bytes]]:
        def read() -> dict[str, tuple[Flag, bytes]]:
            found: dict[str, tuple[Flag, bytes]] = {}
            with self._client(folder) as client:
                typ, data = client.fetch("1:*", "(FLAGS BODY.PEEK[])")
                if typ != "OK" or data == [None]:
                    return found
                for item in data:
                    if isinstance(item, tuple):
                        raw = bytes(item[1])
                        found[message_id_of(raw)] = (_flags_from_fetch(item[0].decode()), raw)
            return found

        return await asyncio.to_thread(read)

    async def close(self) -> None:
        """The user stays: each test has its own, and the mail goes with the Dovecot."""


# ---------------------------------------------------------------------- POP3


class MemoryLedger:
    """The store's download ledger (``DownloadLedger``), in memory: the contract tests
    pull without a worker, so the backend below commits each batch's ledger rows here as
    it hands the batch over, as the worker's commit would."""

    def __init__(self) -> None:
        self.rows: dict[str, Downloaded] = {}

    def commit(self, batch: FolderBatch) -> None:
        for change in batch.ledger:
            if change.was is not None and change.was in self.rows:
                self.rows[change.server_id] = dataclasses.replace(
                    self.rows.pop(change.was), server_id=change.server_id, gone=False
                )
            old = self.rows.get(change.server_id)
            if change.gone:
                if old is not None:
                    self.rows[change.server_id] = dataclasses.replace(old, gone=True)
                continue
            self.rows[change.server_id] = Downloaded(
                change.server_id,
                downloaded_at=old.downloaded_at if old else change.downloaded_at,
                whole=change.whole or (old is not None and old.whole),
                key=change.key or (old.key if old else ""),
                deleted_here=old is not None and old.deleted_here,
                gone=False,
            )

    async def lookup(self, server_ids: Sequence[str]) -> dict[str, Downloaded]:
        return {i: self.rows[i] for i in server_ids if i in self.rows}

    async def by_key(self, keys: Sequence[str]) -> list[Downloaded]:
        return [row for row in self.rows.values() if row.key and row.key in keys]

    async def listed(self) -> list[str]:
        return [i for i, row in self.rows.items() if not row.gone]

    async def before_deleting(self, server_ids: Sequence[str]) -> None:
        for i in server_ids:
            self.rows[i] = dataclasses.replace(self.rows[i], dele_sent=True)


class CommittingPop3Backend(Pop3Backend):
    """``Pop3Backend`` whose yielded batches count as committed (``MemoryLedger``)."""

    memory: MemoryLedger

    async def _committing(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        async for batch in super().pull(folder, state):
            self.memory.commit(batch)
            yield batch

    def pull(self, folder: RemoteFolder, state: Mapping[str, Any]) -> AsyncIterator[FolderBatch]:
        return self._committing(folder, state)


class Pop3ContractServer(ImapContractServer):
    """A fresh user on the suite's Dovecot, read by the backend over POP3 (implicit
    TLS); "another client" is IMAP on the same maildrop. The account's download ledger
    outlives each backend, as the store's does."""

    def __init__(self, dovecot: DovecotServer, name: str) -> None:
        super().__init__(dovecot, name)
        self.memory = MemoryLedger()

    def account(self, password: str) -> AccountConfig:
        return dataclasses.replace(
            super().account(password), kind=AccountKind.POP3, port=self.dovecot.pop3s_port
        )

    def backend(self, *, password: str | None = None) -> Backend:
        # fresh_for=0: the tests deliver between connect and pull and expect the pull to
        # show it; a worker pulls right after connecting (test_pop3_sync.py, one login).
        backend = CommittingPop3Backend(
            self.account(self.password if password is None else password),
            timeout=10.0,
            fresh_for=0.0,
        )
        backend.memory = self.memory
        backend.use_ledger(self.memory)
        return backend

    def make_batches_small(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(pop3_pull, "FIRST_SCREEN", 3)
        monkeypatch.setattr(pop3_pull, "BATCH_BYTES", 900)  # about 4 test messages


# ---------------------------------------------------------------------- Exchange


class EasContractServer:
    """A fresh user on the suite's SOGo, one device: every backend made for the account
    restores the same DeviceId (what the store keeps), as a second session would.
    "Another client" is IMAP on SOGo's Dovecot (the ImapContractServer's helpers)."""

    inbox = ""  # the INBOX's ServerId, known once the first backend listed the folders

    def __init__(self, sogo: SOGoServer, name: str) -> None:
        self.sogo = sogo
        self.name = name
        self.password = secrets.token_hex(8)
        sogo.add_user(name, self.password)
        self.device = {"device_id": f"ct{secrets.token_hex(8)}", "device_type": "mailtui"}
        self._names: dict[str, str] = {}  # ServerId -> IMAP name
        self._last: EasBackend | None = None

    def account(self, password: str) -> AccountConfig:
        return AccountConfig(
            name="contract",
            kind=AccountKind.EXCHANGE,
            email=self.sogo.email(self.name),
            username=self.name,
            host=self.sogo.host,
            port=0,
            security="none",
            password_command=f"printf '%s\\n' {shlex.quote(password)}",
            url=self.sogo.url,
            body_days=36500,
        )

    def backend(self, *, password: str | None = None) -> Backend:
        """A backend with the account state the last one had, as the store keeps it."""
        state = self._last.current_state() if self._last is not None else dict(self.device)
        backend = EasBackend(self.account(self.password if password is None else password))
        backend.restore(state)
        self._last = backend
        return backend

    async def start(self) -> EasContractServer:
        backend = self.backend()
        await backend.connect()
        try:
            for folder in await backend.list_folders():
                self._names[folder.name] = folder.display_name
                if folder.display_name == "INBOX":
                    self.inbox = folder.name
        finally:
            await backend.close()
        self.device["provisioned"] = True  # type: ignore[assignment]
        return self

    def make_batches_small(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(eas_pull, "WINDOW", 4)

    @contextlib.contextmanager
    def _client(self, folder: str) -> Iterator[imaplib.IMAP4]:
        client = self.sogo.imap(self.name)
        try:
            typ, data = client.select(f'"{self._names.get(folder, folder)}"')
            assert typ == "OK", data
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    async def deliver(self, raw: bytes, folder: str | None = None, flags: Flag = Flag.NONE) -> None:
        names = [name for bit, name in _IMAP_FLAGS.items() if flags & bit]
        where = self._names.get(folder or self.inbox, "INBOX")
        await asyncio.to_thread(self.sogo.append, self.name, raw, where, names)

    async def set_flags(self, folder: str, message_id: str, add: Flag, remove: Flag) -> None:
        def change() -> None:
            with self._client(folder) as client:
                uid = _uid_of(client, message_id)
                for how, flags in (("+FLAGS", add), ("-FLAGS", remove)):
                    if flags:
                        typ, data = client.uid("STORE", uid, how, _imap_flag_list(flags))
                        assert typ == "OK", data

        await asyncio.to_thread(change)

    async def expunge(self, folder: str, message_id: str) -> None:
        def remove() -> None:
            with self._client(folder) as client:
                uid = _uid_of(client, message_id)
                typ, data = client.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
                assert typ == "OK", data
                typ, data = client.expunge()
                assert typ == "OK", data

        await asyncio.to_thread(remove)

    async def contents(self, folder: str) -> dict[str, tuple[Flag, bytes]]:
        """What the folder holds as ActiveSync sees it: SOGo deletes by marking a message
        \\Deleted and leaves the expunge to IMAP clients, so those are not counted."""

        def read() -> dict[str, tuple[Flag, bytes]]:
            found: dict[str, tuple[Flag, bytes]] = {}
            with self._client(folder) as client:
                typ, data = client.uid("SEARCH", "NOT", "DELETED")
                uids = data[0].split() if typ == "OK" and data and data[0] else []
                for uid in uids:
                    typ, got = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                    item = next(i for i in got if isinstance(i, tuple))
                    head = item[0].decode() + "".join(
                        i.decode() for i in got if isinstance(i, bytes)
                    )
                    found[message_id_of(bytes(item[1]))] = (_flags_from_fetch(head), item[1])
            return found

        return await asyncio.to_thread(read)

    async def close(self) -> None:
        """The user stays: each test has its own, and the mail goes with the SOGo."""


def _uid_of(client: imaplib.IMAP4, message_id: str) -> str:
    typ, data = client.uid("SEARCH", "HEADER", "Message-ID", f'"{message_id}"')
    uids = data[0].split() if typ == "OK" and data and data[0] else []
    assert len(uids) == 1, f"{message_id}: {typ} {data}"
    return bytes(uids[0]).decode()
