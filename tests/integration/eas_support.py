"""Helpers of the ActiveSync integration tests (SOGo): messages, pulls, and "another
client" over IMAP on SOGo's Dovecot."""

from __future__ import annotations

import contextlib
import imaplib
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from mailtui.models import FolderBatch, FolderRole, RemoteFolder
from mailtui.protocols.eas.backend import EasBackend
from tests.servers import EASUser


def message(n: int, subject: str | None = None) -> bytes:
    return (
        f"From: Sender {n} <s{n}@example.org>\r\nTo: me@mailtui.test\r\n"
        f"Subject: {subject or f'message {n}'}\r\nMessage-ID: <m{n}@example.org>\r\n"
        f"Date: Thu, 01 Oct 2026 10:{n % 60:02d}:00 +0000\r\n\r\nbody of message {n}\r\n"
    ).encode()


@contextlib.asynccontextmanager
async def connected(
    user: EASUser, password: str | None = None, state: Mapping[str, Any] | None = None
) -> AsyncIterator[EasBackend]:
    """A connected backend for ``user``; ``state``: the account state a store kept (the
    same DeviceId, folder tree and keys), else a new device."""
    backend = EasBackend(user.account(password))
    backend.restore(state or {})
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


def by_role(folders: list[RemoteFolder], role: FolderRole) -> RemoteFolder:
    return next(f for f in folders if f.role is role)


async def pull_all(
    backend: EasBackend, folder: RemoteFolder, state: Mapping[str, Any]
) -> tuple[list[FolderBatch], dict[str, Any]]:
    """Every batch of one pull, and the state after the last one that had one."""
    batches = [b async for b in backend.pull(folder, state)]
    after = dict(state)
    for batch in batches:
        if batch.state is not None:
            after = batch.state
    return batches, after


@contextlib.contextmanager
def imap_folder(user: EASUser, folder: str = "INBOX") -> Iterator[imaplib.IMAP4]:
    conn = user.imap()
    try:
        typ, data = conn.select(f'"{folder}"')
        assert typ == "OK", data
        yield conn
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def uid_of(conn: imaplib.IMAP4, message_id: str) -> str | None:
    typ, data = conn.uid("SEARCH", "HEADER", "Message-ID", f'"{message_id}"')
    uids = data[0].split() if typ == "OK" and data and data[0] else []
    return bytes(uids[0]).decode() if uids else None


def flags_of(conn: imaplib.IMAP4, uid: str) -> set[str]:
    typ, data = conn.uid("FETCH", uid, "(FLAGS)")
    assert typ == "OK" and data and data[0], data
    line = data[0] if isinstance(data[0], bytes) else data[0][0]
    found = re.search(rb"FLAGS \(([^)]*)\)", line)
    return set(found.group(1).decode().split()) if found else set()
