"""Undo after the server applied the action, against the real Dovecot: the worker sends
the inverse (flags back, a move back under the UID the server reported, or found by
Message-ID when it reported none), and a second IMAP client sees the mailbox as it was."""

from __future__ import annotations

import imaplib
from typing import Any

from mailtui.models import Flag, OpResult, PendingOp
from mailtui.protocols.imap import ImapBackend
from mailtui.store import Store, UndoStatus
from mailtui.sync.contract import AccountStatus
from tests.integration.test_imap_sync import (
    account,
    folders,
    imap,
    msg,
    server_subjects,
    subjects,
    sync,
)
from tests.servers import MailUser

__all__ = ["imap"]


async def ids_in(s: Store, folder_id: int) -> dict[str, int]:
    return {r.subject: r.id for r in await s.window(folder_id, 0, 100)}


async def in_step(s: Store, backend: type[ImapBackend] = ImapBackend, **kw: Any) -> None:
    status, _ = await sync(s, kw.pop("acc"), backend)
    assert status is AccountStatus.ONLINE
    assert await s.pending_ops((await s.accounts())[0].id, 10) == []


async def test_flags_move_archive_trash_spam_and_bulk_undone_on_the_server(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.create_folder("Projects", subscribe=True)
    mail_user.deliver_many([msg(i, f"m{i}") for i in range(1, 8)])
    acc = account(mail_user)
    await in_step(store, acc=acc)
    f = await folders(store)
    inbox = await ids_in(store, f["INBOX"].id)
    s = store
    levels = [
        await s.set_flags([inbox["m1"]], Flag.SEEN | Flag.FLAGGED, Flag.NONE),
        await s.move([inbox["m2"]], f["Projects"].id),
        await s.move([inbox["m3"]], f["Archive"].id),
        await s.delete([inbox["m4"]]),
        [
            *await s.set_flags([inbox["m5"]], Flag.JUNK, Flag.NONE),
            *await s.move([inbox["m5"]], f["Junk"].id),
        ],
        await s.delete([inbox["m6"], inbox["m7"]]),  # bulk: one level
    ]
    await in_step(store, acc=acc)  # the server applied every one of them
    on_server = server_subjects(imap, "INBOX")
    assert list(on_server) == ["m1"] and "\\Flagged" in on_server["m1"]
    assert set(server_subjects(imap, "Trash")) == {"m4", "m6", "m7"}
    assert set(server_subjects(imap, "Junk")) == {"m5"}

    for op_ids in reversed(levels):  # u, u, u, ...: newest first
        result = await s.undo_ops(op_ids)
        assert result.status is UndoStatus.UNDONE and result.queued, result
    await in_step(store, acc=acc)

    on_server = server_subjects(imap, "INBOX")
    assert set(on_server) == {f"m{i}" for i in range(1, 8)}
    assert all("\\Seen" not in v and "\\Flagged" not in v for v in on_server.values())
    assert "$Junk" not in on_server["m5"]
    for folder in ("Projects", "Archive", "Trash", "Junk"):
        assert server_subjects(imap, folder) == {}, folder
    # The cache agrees, with no duplicates after the next pull.
    await in_step(store, acc=acc)
    assert sorted(await subjects(store, f["INBOX"].id)) == [f"m{i}" for i in range(1, 8)]
    for folder in ("Projects", "Archive", "Trash", "Junk"):
        assert await subjects(store, f[folder].id) == {}


async def test_undo_across_folders_several_levels_deep(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.deliver(msg(1, "in archive"), folder="Archive")
    mail_user.deliver(msg(2, "in inbox"))
    acc = account(mail_user)
    await in_step(store, acc=acc)
    f = await folders(store)
    archived = (await ids_in(store, f["Archive"].id))["in archive"]
    inboxed = (await ids_in(store, f["INBOX"].id))["in inbox"]
    first = await store.set_flags([archived], Flag.FLAGGED, Flag.NONE)  # in Archive
    second = await store.delete([inboxed])  # from INBOX to Trash
    third = await store.move([archived], f["INBOX"].id)  # Archive to INBOX
    await in_step(store, acc=acc)
    assert set(server_subjects(imap, "INBOX")) == {"in archive"}
    for op_ids in (third, second, first):
        assert (await store.undo_ops(op_ids)).status is UndoStatus.UNDONE
    await in_step(store, acc=acc)
    archive = server_subjects(imap, "Archive")
    assert list(archive) == ["in archive"] and "\\Flagged" not in archive["in archive"]
    assert list(server_subjects(imap, "INBOX")) == ["in inbox"]
    assert server_subjects(imap, "Trash") == {}


class NoCopyUid(ImapBackend):
    """A server that does not report the new UID of a moved message (no UIDPLUS)."""

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        await super().apply(op, target_folder)
        return OpResult()


async def test_a_move_back_finds_the_message_by_message_id(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.deliver(msg(1, "wanderer"))
    acc = account(mail_user)
    await in_step(store, acc=acc)
    f = await folders(store)
    row = (await ids_in(store, f["INBOX"].id))["wanderer"]
    moved = await store.move([row], f["Archive"].id)
    status, _ = await sync(store, acc, NoCopyUid)
    assert status is AccountStatus.ONLINE
    assert list(server_subjects(imap, "Archive")) == ["wanderer"]
    result = await store.undo_ops(moved)
    assert result.status is UndoStatus.UNDONE
    # The worker pulls Archive for the UID, then sends the move back, in one round.
    status, _ = await sync(store, acc, NoCopyUid)
    assert status is AccountStatus.ONLINE
    assert list(server_subjects(imap, "INBOX")) == ["wanderer"]
    assert server_subjects(imap, "Archive") == {}
    await in_step(store, acc=acc)
    assert list(await subjects(store, f["INBOX"].id)) == ["wanderer"]
    assert await subjects(store, f["Archive"].id) == {}


async def test_mail_expunged_on_the_server_is_refused_and_stays_gone(
    mail_user: MailUser, store: Store, imap: imaplib.IMAP4_SSL
) -> None:
    mail_user.deliver(msg(1, "rubbish"), folder="Trash")
    acc = account(mail_user)
    await in_step(store, acc=acc)
    f = await folders(store)
    row = (await ids_in(store, f["Trash"].id))["rubbish"]
    expunged = await store.delete([row])  # in Trash: for good, the user said yes
    await in_step(store, acc=acc)
    assert server_subjects(imap, "Trash") == {}
    result = await store.undo_ops(expunged)
    assert (result.status, result.reason) == (
        UndoStatus.IMPOSSIBLE,
        "deleted for good on the server",
    )
    assert await store.pending_ops((await store.accounts())[0].id, 10) == []
