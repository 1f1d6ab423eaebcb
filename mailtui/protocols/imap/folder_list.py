"""The folder list of an account (``ImapBackend.list_folders``): ``LIST`` with the
folders' STATUS where the server offers LIST-STATUS, and ``SELECT INBOX`` before the first
list of a connection (``_preselect``)."""

from __future__ import annotations

from mailtui.errors import OpRejected, TransientError
from mailtui.models import FolderRole, RemoteFolder
from mailtui.protocols.imap.client import ImapClient, Selected
from mailtui.protocols.imap.connection import CommandFailed
from mailtui.protocols.imap.folders import (
    ListEntry,
    MailboxStatus,
    parse_list,
    parse_status,
    to_remote_folders,
)
from mailtui.protocols.imap.wire import Arg


class FolderList(ImapClient):
    """The folder list; the pull (``ImapPull``) builds on it."""

    #: INBOX selected right before the folder list of a new connection (``_preselect``).
    _fresh: Selected | None = None

    async def list_folders(self) -> list[RemoteFolder]:
        self._fresh = None  # good for the pulls right after this list only
        if self.conn.selected is None:
            await self._preselect()
        caps = self.conn.capabilities
        items = b"(MESSAGES UNSEEN UIDNEXT UIDVALIDITY" + (
            b" HIGHESTMODSEQ)" if self.condstore else b")"
        )
        args: list[Arg] = [b"LIST"]
        if "LIST-EXTENDED" in caps:
            ret = b"RETURN (SUBSCRIBED"
            ret += b" SPECIAL-USE" if "SPECIAL-USE" in caps else b""
            ret += b" STATUS " + items if "LIST-STATUS" in caps else b""
            args += [b'""', b'"*"', ret + b")"]
        else:
            args += [b'""', b'"*"']
        entries: list[ListEntry] = []
        status: dict[str, MailboxStatus] = {}
        try:
            async for resp in self.conn.stream(*args):
                if resp.kind == "LIST":
                    entry = parse_list(resp)
                    if entry is not None:
                        entries.append(entry)
                elif resp.kind == "STATUS":
                    parsed = parse_status(resp)
                    if parsed is not None:
                        status[parsed[0]] = parsed[1]
            if "LIST-EXTENDED" not in caps:
                subscribed = set()
                async for resp in self.conn.stream(b"LSUB", b'""', b'"*"'):
                    entry = parse_list(resp)
                    if entry is not None:
                        subscribed.add(entry.name)
                for e in entries:
                    if e.name in subscribed:
                        e.attributes.add("\\SUBSCRIBED")
        except CommandFailed as exc:
            raise TransientError(f"listing folders failed: {exc}") from None
        folders = to_remote_folders(entries, self.subscribed_only)
        self._status = status
        for f in folders:
            if f.role is FolderRole.INBOX:
                self._inbox = f.name
        self._update_watch()
        return folders

    async def _preselect(self) -> None:
        """SELECT INBOX before the first LIST of a connection: its pull then needs no
        SELECT of its own (``_pull``), and a new account's first screen one command less.
        On Dovecot, a SELECT after a LIST waits about 40 ms (and a LIST-STATUS with no
        folder selected about 50 ms) on a big Maildir INBOX, while both are at once in
        this order (docs/decisions.md, "First contact: INBOX before the folder list")."""
        try:
            self._fresh = await self._select("INBOX")
        except OpRejected:
            self._fresh = None
