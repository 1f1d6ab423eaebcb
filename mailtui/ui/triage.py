"""Triage: the user's intents on messages, each shown at once and queued for the server.

Every action reads its targets (the selection, else the line under the cursor, or the
open message when the reader has the focus), writes one store intent (``set_flags``,
``move``, ``delete``; each is one transaction that also enqueues the ops), reloads the
list, and wakes the account's worker (``manager.kick``). The op ids go on an undo stack:

    action ──store intent──▶ op ids ──▶ undo stack ──u──▶ store.undo_ops(op ids)
                                                          └─ False: the worker already
                                                             took them; say so plainly

Undo is several levels deep and a bulk action is one level. ``undo_ops`` is all or
nothing, so an entry is either taken back entirely or left as it is.

In the unified inbox the targets may belong to several accounts: they are grouped by
account (``InboxSource.accounts_of``), each group acts from its account's Inbox (its
Trash, Archive, Junk), and every account concerned has its worker woken. A move to a
chosen folder needs messages of one account (a folder belongs to one account).

Capabilities are an account's: in a folder, the folder's account decides which keys are
offered; in the unified inbox, the account of the message under the cursor (or open in
the reader) does, and a selection that spans accounts acts only on the messages whose
account can do it, saying how many it left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from mailtui.models import Flag, Folder, FolderRole, MessageRow
from mailtui.sync.contract import Capabilities
from mailtui.ui.folder_tree import folder_label
from mailtui.ui.list_sources import InboxSource
from mailtui.ui.modals.folder_picker import FolderChoice, FolderPicker
from mailtui.ui.services import MailStore, SyncControl

if TYPE_CHECKING:
    from mailtui.ui.screens.main import MainScreen

#: How many actions ``u`` can take back.
UNDO_DEPTH = 50

#: Actions that need more than one folder on the server, or server-side moves.
NEEDS_MOVE = frozenset({"move", "archive", "spam"})
NEEDS_FLAGS = frozenset({"toggle_read", "toggle_flag"})
NEEDS_FOLDERS = frozenset({"goto_folder"})
#: Actions on messages: in the unified inbox the messages' own account decides them.
ON_MESSAGES = NEEDS_MOVE | NEEDS_FLAGS
#: What an account that cannot do an action lacks, for the notice.
LACKS = {
    **dict.fromkeys(NEEDS_MOVE, "cannot move mail between folders on the server"),
    **dict.fromkeys(NEEDS_FLAGS, "keeps no read or flagged state on the server"),
}


def allowed(action: str, caps: Capabilities | None) -> bool:
    """Whether an account with ``caps`` can do ``action`` (unknown caps: assume yes)."""
    if caps is None:
        return True
    if action in NEEDS_MOVE:
        return caps.folders and caps.server_move
    if action in NEEDS_FLAGS:
        return caps.flags
    if action in NEEDS_FOLDERS:
        return caps.folders
    return True


def count_words(n: int) -> str:
    return "1 message" if n == 1 else f"{n:,} messages"


@dataclass(frozen=True, slots=True)
class UndoEntry:
    """One action as ``u`` takes it back."""

    description: str  # "Deleted 3 messages"
    op_ids: tuple[int, ...]
    account_ids: tuple[int, ...]


class Triage:
    """The main screen's triage actions and their undo stack."""

    def __init__(self, screen: MainScreen, store: MailStore, manager: SyncControl | None) -> None:
        self.screen = screen
        self.store = store
        self.manager = manager
        self.undo_stack: list[UndoEntry] = []
        self._lock = asyncio.Lock()  # actions apply in the order the keys came

    # -- what an action acts on ------------------------------------------------------------

    def capabilities(self, action: str | None = None) -> Capabilities | None:
        """The capabilities that decide ``action``: the open folder's account's; in the
        unified inbox, for an action on messages, the account's of the message it would
        act on (open in the reader, else under the cursor). None: unknown, allow."""
        if self.manager is None:
            return None
        folder = self.screen.open_folder
        if folder is not None:
            return self.manager.capabilities(folder.account_id)
        if action is not None and action not in ON_MESSAGES:
            return None
        account = self.current_account()
        return self.manager.capabilities(account) if account is not None else None

    def current_account(self) -> int | None:
        """In the unified inbox, the account of the message an action would act on."""
        screen = self.screen
        try:
            if self._reader_target() is not None:
                return screen.reader_account
            listing = screen.message_list
        except NoMatches:  # asked for the keys before the screen is composed
            return None
        source, row = listing.source, listing.cursor_row
        if isinstance(source, InboxSource) and row is not None:
            return source.account_of(row)
        return None

    def _can(self, action: str, account_id: int) -> bool:
        caps = self.manager.capabilities(account_id) if self.manager is not None else None
        return allowed(action, caps)

    def _reader_target(self) -> int | None:
        screen = self.screen
        if screen.reading and (screen.narrow or screen.focused is screen.reader):
            return screen.reader.message_id
        return None

    async def _targets(self) -> tuple[list[int], MessageRow | None]:
        """(message ids, the reference row whose state a toggle flips)."""
        message_id = self._reader_target()
        if message_id is not None:
            detail = await self.store.message(message_id)
            return ([message_id], detail.row) if detail is not None else ([], None)
        listing = self.screen.message_list
        return await listing.targets(), listing.cursor_row

    # -- running an action -----------------------------------------------------------------

    def run(self, action: Callable[[], Awaitable[None]]) -> None:
        self.screen.run_worker(self._serialized(action), group="triage", exit_on_error=False)

    async def _serialized(self, action: Callable[[], Awaitable[None]]) -> None:
        async with self._lock:
            await action()

    def _done(
        self, description: str, op_ids: list[int], folders: list[Folder], gone: bool
    ) -> None:
        """After an intent: remember it for undo, show it, wake the accounts' workers."""
        screen = self.screen
        if op_ids:
            accounts = tuple(dict.fromkeys(f.account_id for f in folders))
            self.undo_stack.append(UndoEntry(description, tuple(op_ids), accounts))
            del self.undo_stack[:-UNDO_DEPTH]
            if self.manager is not None:
                for account_id in accounts:
                    self.manager.kick(account_id)
        screen.message_list.clear_selection()
        if gone and screen.reading:
            screen.close_reader()
        screen.after_triage()
        screen.status_bar.set_notice(f"{description} · u: undo" if op_ids else description)

    async def _with_targets(
        self, action: str
    ) -> tuple[list[int], MessageRow | None, Folder] | None:
        """The targets when they are all in one folder (the open one, or in the unified
        inbox one account's Inbox); else None, with a notice."""
        found = await self._grouped(action)
        if found is None:
            return None
        reference, groups = found
        if len(groups) > 1:
            self.screen.status_bar.set_notice("Move: one account at a time")
            self.screen.notify(
                "These messages belong to several accounts, and a folder to one: "
                "select one account's messages to move them.",
                severity="warning",
            )
            return None
        folder, ids = groups[0]
        return ids, reference, folder

    async def _grouped(
        self, action: str
    ) -> tuple[MessageRow | None, list[tuple[Folder, list[int]]]] | None:
        """(reference row, [(folder the ids are in, ids)]): one group, the open folder;
        in the unified inbox, one per account, each account's Inbox. Groups whose account
        cannot do ``action`` are left out, and the notice says so."""
        folder = self.screen.open_folder
        source = self.screen.message_list.source
        if folder is None and not isinstance(source, InboxSource):
            return None
        ids, reference = await self._targets()
        groups: list[tuple[Folder, list[int]]] = []
        if ids and folder is not None:
            groups = [(folder, ids)]
        elif ids and isinstance(source, InboxSource):
            inbox_of = {f.account_id: f for f in source.inboxes.values()}
            for account_id, own in (await source.accounts_of(ids)).items():
                if account_id in inbox_of:
                    groups.append((inbox_of[account_id], own))
        if not groups:
            self.screen.status_bar.set_notice("No message here to act on")
            return None
        able = [(f, own) for f, own in groups if self._can(action, f.account_id)]
        left = sum(len(own) for f, own in groups) - sum(len(own) for _, own in able)
        if left:
            lacks = LACKS.get(action, "cannot do that")
            words = f"{count_words(left)} left as they were: their account {lacks}"
            self.screen.notify(words, severity="warning")
            if not able:
                self.screen.status_bar.set_notice(words)
                return None
        return reference, able

    async def toggle(self, flag: Flag, on_words: str, off_words: str) -> None:
        """Set ``flag`` on the targets, or clear it when the reference row has it."""
        found = await self._grouped("toggle_flag")
        if found is None:
            return
        reference, groups = found
        ids = [i for _, own in groups for i in own]
        folders = [f for f, _ in groups]
        has_it = reference is not None and bool(reference.flags & flag)
        if has_it:
            op_ids = await self.store.set_flags(ids, Flag.NONE, flag)
            self._done(f"{off_words} {count_words(len(ids))}", op_ids, folders, gone=False)
        else:
            op_ids = await self.store.set_flags(ids, flag, Flag.NONE)
            self._done(f"{on_words} {count_words(len(ids))}", op_ids, folders, gone=False)

    async def toggle_read(self) -> None:
        # The read bit is SEEN: "marked read" when the reference row was unread.
        found = await self._grouped("toggle_read")
        if found is None:
            return
        reference, groups = found
        ids = [i for _, own in groups for i in own]
        folders = [f for f, _ in groups]
        if reference is not None and reference.unread:
            op_ids = await self.store.set_flags(ids, Flag.SEEN, Flag.NONE)
            self._done(f"Marked {count_words(len(ids))} read", op_ids, folders, gone=False)
        else:
            op_ids = await self.store.set_flags(ids, Flag.NONE, Flag.SEEN)
            self._done(f"Marked {count_words(len(ids))} unread", op_ids, folders, gone=False)

    async def toggle_flag(self) -> None:
        await self.toggle(Flag.FLAGGED, "Flagged", "Unflagged")

    async def delete(self) -> None:
        found = await self._grouped("delete")
        if found is None:
            return
        _, groups = found
        ids = [i for _, own in groups for i in own]
        op_ids = await self.store.delete(ids)  # each account's own Trash
        for_good = [
            folder.role == FolderRole.TRASH or await self._role(folder, FolderRole.TRASH) is None
            for folder, _ in groups
        ]
        if all(for_good):
            words = f"Deleted {count_words(len(ids))} for good"
        elif not any(for_good):
            words = f"Moved {count_words(len(ids))} to Trash"
        else:
            words = f"Deleted {count_words(len(ids))}"
        self._done(words, op_ids, [f for f, _ in groups], gone=True)

    async def _role(self, folder: Folder, role: FolderRole) -> Folder | None:
        folders = await self.store.folders(folder.account_id)
        return next((f for f in folders if f.role == role), None)

    async def move_to_role(self, role: FolderRole, name: str) -> None:
        found = await self._grouped("spam" if role == FolderRole.JUNK else "archive")
        if found is None:
            return
        _, groups = found
        op_ids: list[int] = []
        moved = 0
        acted: list[Folder] = []
        refusal = ""
        for folder, ids in groups:  # each account to its own Archive / Junk
            target = await self._role(folder, role)
            if target is None:
                refusal = f"This account has no {name} folder"
                continue
            if target.id == folder.id:
                refusal = f"Already in {folder_label(target)}"
                continue
            if role == FolderRole.JUNK:
                op_ids += await self.store.set_flags(ids, Flag.JUNK, Flag.NONE)
            op_ids += await self.store.move(ids, target.id)
            moved += len(ids)
            acted.append(folder)
        if not acted:
            self.screen.status_bar.set_notice(refusal)
            return
        verb = "Marked as spam" if role == FolderRole.JUNK else "Archived"
        words = f"{verb}: {count_words(moved)}"
        if refusal:  # the unified inbox: some accounts could not (no such folder)
            words += f" · {refusal}"
        self._done(words, sorted(op_ids), acted, gone=True)

    async def archive(self) -> None:
        await self.move_to_role(FolderRole.ARCHIVE, "Archive")

    async def spam(self) -> None:
        await self.move_to_role(FolderRole.JUNK, "Junk (spam)")

    async def move(self) -> None:
        found = await self._with_targets("move")
        if found is None:
            return
        ids, _, folder = found
        folders = [f for f in await self.store.folders(folder.account_id) if f.id != folder.id]
        if not folders:
            self.screen.status_bar.set_notice("There is no other folder to move to")
            return
        choices = [FolderChoice(f.name, f) for f in folders]
        title = f"Move {count_words(len(ids))} to"
        target = await self.screen.app.push_screen_wait(FolderPicker(title, choices))
        if target is None:
            return
        op_ids = await self.store.move(ids, target.id)
        words = f"Moved {count_words(len(ids))} to {folder_label(target)}"
        self._done(words, op_ids, [folder], gone=True)

    async def undo(self) -> None:
        screen = self.screen
        if not self.undo_stack:
            screen.status_bar.set_notice("Nothing to undo")
            return
        entry = self.undo_stack.pop()
        if await self.store.undo_ops(list(entry.op_ids)):
            screen.status_bar.set_notice(f"Undone: {entry.description}")
        else:
            # All or nothing: the worker has taken (some of) its ops, which may be on the
            # wire already; the entry can never be undone, so it is dropped.
            words = f"Can't undo, already sent to the server: {entry.description}"
            screen.status_bar.set_notice(words)
            screen.notify(words, severity="warning")
        screen.after_triage()

    # -- going places ----------------------------------------------------------------------

    async def goto_folder(self) -> None:
        accounts = {a.id: a.name for a in await self.store.accounts()}
        folders = await self.store.folders()
        several = len(accounts) > 1
        choices = [
            FolderChoice(f"{accounts.get(f.account_id, '?')}/{f.name}" if several else f.name, f)
            for f in folders
        ]
        if not choices:
            self.screen.status_bar.set_notice("No folders yet")
            return
        target = await self.screen.app.push_screen_wait(FolderPicker("Go to folder", choices))
        if target is not None:
            self.screen.go_to_folder(target)
