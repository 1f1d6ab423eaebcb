"""Triage: the user's intents on messages, each shown at once and queued for the server.

Every action reads its targets (the selection, else the line under the cursor, or the
open message when the reader has the focus), writes one store intent (``set_flags``,
``move``, ``delete``; each is one transaction that also enqueues the ops), wakes the
account's worker (``manager.kick``) and returns an ``Outcome`` on which the screen reloads
the list. The op ids go on an undo stack:

    action ──store intent──▶ op ids ──▶ undo stack ──u──▶ store.undo_ops(op ids)
                                                          ├─ UNDONE: reversed locally, or
                                                          │  inverse ops queued: kick
                                                          ├─ NOT_NOW: the entry goes back
                                                          └─ IMPOSSIBLE: dropped, and why

Undo is several levels deep and a bulk action is one level. An op the server has (or is
being sent) is taken back by sending its inverse, so undo works online as offline; a
refusal that may be temporary costs no level, one that can never work drops the entry
and says why (mail expunged, folder or account gone).

A delete that cannot be undone (already in Trash, or an account without Trash) asks
first, once for the whole selection, and for an account that can have one offers to
create Trash and move the mail there; nothing is expunged without a yes.

Triage knows the screen only through ``TriageView`` (what is open, what the keys point
at, a folder picker) and never touches a widget: each action returns an ``Outcome``
(the notice, the ids that left the view, the undo entry, a folder to go to) and the
screen shows it (``MainScreen.show_outcome``).

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
from typing import Protocol

from textual.css.query import NoMatches

from mailtui.errors import ConfigError, SyncError
from mailtui.models import Flag, Folder, FolderRole, MessageRow
from mailtui.store import UndoStatus
from mailtui.sync.contract import Capabilities
from mailtui.ui.folder_tree import folder_label
from mailtui.ui.list_sources import STILL_LOADING, InboxSource, ListSource
from mailtui.ui.modals.choice import Answer
from mailtui.ui.modals.folder_picker import FolderChoice
from mailtui.ui.services import MailStore, SyncControl

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
    if caps.local:  # folders, moves and flags of its own, in the store (sync/local_ops.py)
        return action != "toggle_subscribed"
    if action in NEEDS_MOVE:
        return caps.folders and caps.server_move
    if action in NEEDS_FLAGS:
        return caps.flags
    if action in NEEDS_FOLDERS:
        return caps.folders
    if action == "toggle_subscribed":
        return caps.subscriptions
    if action == "save_draft":  # into the server's Drafts (an APPEND)
        return caps.append
    return True


def count_words(n: int) -> str:
    return "1 message" if n == 1 else f"{n:,} messages"


@dataclass(frozen=True, slots=True)
class UndoEntry:
    """One action as ``u`` takes it back."""

    description: str  # "Deleted 3 messages"
    op_ids: tuple[int, ...]
    account_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a triage action did, for the screen to show (``MainScreen.show_outcome``)."""

    notice: str | None = None  # the status line's notice; None leaves it as it is
    warnings: tuple[str, ...] = ()  # notifications: what was left undone, and why
    acted_on: tuple[int, ...] = ()  # the ids an intent was written for: the selection is spent
    removed: tuple[int, ...] = ()  # the ids that left the view: the reader closes
    reload: bool = False  # the store changed (an intent or an undo): reload list and counts
    undo: UndoEntry | None = None  # what ``u`` takes back now (None: not undoable)
    go_to: Folder | None = None  # a folder to open


class Listing(Protocol):
    """The message list, as triage reads it."""

    @property
    def source(self) -> ListSource | None: ...

    @property
    def cursor_row(self) -> MessageRow | None: ...

    async def targets(self) -> list[int]:
        """The selected ids, else the id under the cursor."""
        ...

    @property
    def on_placeholder(self) -> bool:
        """The cursor is on a message of a first pass not cached yet."""
        ...


class TriageView(Protocol):
    """What triage needs of the screen it acts for: where the user is, what the keys
    point at, and a way to ask for a folder."""

    @property
    def open_folder(self) -> Folder | None:
        """The open folder (None in the unified inbox)."""
        ...

    @property
    def message_list(self) -> Listing:
        """The list (raises ``NoMatches`` before the screen is composed)."""
        ...

    @property
    def reader_account(self) -> int | None:
        """The account of the message open in the reader."""
        ...

    def reader_target(self) -> int | None:
        """The message in the reader when the keys act on it (the reader has the focus,
        or it covers the screen), else None."""
        ...

    async def choose_folder(
        self, title: str, choices: list[FolderChoice], warnings: tuple[str, ...] = ()
    ) -> Folder | None:
        """Ask the user for a folder (None: cancelled), first saying ``warnings`` (the
        messages the choice will leave alone)."""
        ...

    async def ask(self, question: str, answers: list[Answer]) -> str | None:
        """Ask a question with a few answers (None: cancelled)."""
        ...


class Triage:
    """The main screen's triage actions and their undo stack."""

    def __init__(self, view: TriageView, store: MailStore, manager: SyncControl | None) -> None:
        self.view = view
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
        folder = self.view.open_folder
        if folder is not None:
            return self.manager.capabilities(folder.account_id)
        if action is not None and action not in ON_MESSAGES:
            return None
        account = self.current_account()
        return self.manager.capabilities(account) if account is not None else None

    def current_account(self) -> int | None:
        """In the unified inbox, the account of the message an action would act on."""
        view = self.view
        try:
            if view.reader_target() is not None:
                return view.reader_account
            listing = view.message_list
        except NoMatches:  # asked for the keys before the screen is composed
            return None
        source, row = listing.source, listing.cursor_row
        if isinstance(source, InboxSource) and row is not None:
            return source.account_of(row)
        return None

    def _can(self, action: str, account_id: int) -> bool:
        caps = self.manager.capabilities(account_id) if self.manager is not None else None
        return allowed(action, caps)

    async def _targets(self) -> tuple[list[int], MessageRow | None]:
        """(message ids, the reference row whose state a toggle flips)."""
        message_id = self.view.reader_target()
        if message_id is not None:
            detail = await self.store.message(message_id)
            return ([message_id], detail.row) if detail is not None else ([], None)
        listing = self.view.message_list
        return await listing.targets(), listing.cursor_row

    # -- running an action -----------------------------------------------------------------

    async def perform(
        self, action: Callable[[], Awaitable[Outcome]], show: Callable[[Outcome], None]
    ) -> None:
        """Run ``action`` after those before it, and ``show`` what it did before the next
        one reads its targets (the selection it spent is cleared by then)."""
        async with self._lock:
            show(await action())

    def _done(
        self,
        description: str,
        ids: list[int],
        op_ids: list[int],
        folders: list[Folder],
        gone: bool,
        warnings: tuple[str, ...] = (),
        undoable: bool = True,
    ) -> Outcome:
        """After an intent: remember it for undo, wake the accounts' workers, say it."""
        entry = None
        accounts = tuple(dict.fromkeys(f.account_id for f in folders))
        if op_ids and undoable:
            entry = UndoEntry(description, tuple(op_ids), accounts)
            self.undo_stack.append(entry)
            del self.undo_stack[:-UNDO_DEPTH]
        if op_ids and self.manager is not None:
            for account_id in accounts:
                self.manager.kick(account_id)
        return Outcome(
            notice=f"{description} · u: undo" if entry is not None else description,
            warnings=warnings,
            acted_on=tuple(ids),
            removed=tuple(ids) if gone else (),
            reload=True,
            undo=entry,
        )

    async def _with_targets(
        self, action: str
    ) -> tuple[list[int], Folder, tuple[str, ...]] | Outcome:
        """The targets when they are all in one folder (the open one, or in the unified
        inbox one account's Inbox), with the warnings so far; else an Outcome that says
        why not."""
        found = await self._grouped(action)
        if isinstance(found, Outcome):
            return found
        _, groups, warnings = found
        if len(groups) > 1:
            several = (
                "These messages belong to several accounts, and a folder to one: "
                "select one account's messages to move them."
            )
            return Outcome(notice="Move: one account at a time", warnings=(*warnings, several))
        folder, ids = groups[0]
        return ids, folder, warnings

    async def _grouped(
        self, action: str
    ) -> tuple[MessageRow | None, list[tuple[Folder, list[int]]], tuple[str, ...]] | Outcome:
        """(reference row, [(folder the ids are in, ids)], warnings): one group, the open
        folder; in the unified inbox, one per account, each account's Inbox. Groups whose
        account cannot do ``action`` are left out, and a warning says so. An Outcome when
        there is nothing to act on."""
        folder = self.view.open_folder
        source = self.view.message_list.source
        if folder is None and not isinstance(source, InboxSource):
            return Outcome()
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
            loading = self.view.reader_target() is None and self.view.message_list.on_placeholder
            return Outcome(notice=STILL_LOADING if loading else "No message here to act on")
        able = [(f, own) for f, own in groups if self._can(action, f.account_id)]
        left = sum(len(own) for f, own in groups) - sum(len(own) for _, own in able)
        if not left:
            return reference, able, ()
        lacks = LACKS.get(action, "cannot do that")
        words = f"{count_words(left)} left as they were: their account {lacks}"
        if not able:
            return Outcome(notice=words, warnings=(words,))
        return reference, able, (words,)

    async def toggle(self, flag: Flag, on_words: str, off_words: str) -> Outcome:
        """Set ``flag`` on the targets, or clear it when the reference row has it."""
        found = await self._grouped("toggle_flag")
        if isinstance(found, Outcome):
            return found
        reference, groups, warnings = found
        ids = [i for _, own in groups for i in own]
        folders = [f for f, _ in groups]
        has_it = reference is not None and bool(reference.flags & flag)
        if has_it:
            op_ids = await self.store.set_flags(ids, Flag.NONE, flag)
            words = f"{off_words} {count_words(len(ids))}"
        else:
            op_ids = await self.store.set_flags(ids, flag, Flag.NONE)
            words = f"{on_words} {count_words(len(ids))}"
        return self._done(words, ids, op_ids, folders, gone=False, warnings=warnings)

    async def toggle_read(self) -> Outcome:
        # The read bit is SEEN: "marked read" when the reference row was unread.
        found = await self._grouped("toggle_read")
        if isinstance(found, Outcome):
            return found
        reference, groups, warnings = found
        ids = [i for _, own in groups for i in own]
        folders = [f for f, _ in groups]
        if reference is not None and reference.unread:
            op_ids = await self.store.set_flags(ids, Flag.SEEN, Flag.NONE)
            words = f"Marked {count_words(len(ids))} read"
        else:
            op_ids = await self.store.set_flags(ids, Flag.NONE, Flag.SEEN)
            words = f"Marked {count_words(len(ids))} unread"
        return self._done(words, ids, op_ids, folders, gone=False, warnings=warnings)

    async def toggle_flag(self) -> Outcome:
        return await self.toggle(Flag.FLAGGED, "Flagged", "Unflagged")

    async def delete(self) -> Outcome:
        found = await self._grouped("delete")
        if isinstance(found, Outcome):
            return found
        _, groups, warnings = found
        ids = [i for _, own in groups for i in own]
        # Mail that would go for good: already in Trash, or its account has no Trash.
        in_trash = [own for f, own in groups if f.role == FolderRole.TRASH]
        no_trash = [
            (f, own)
            for f, own in groups
            if f.role != FolderRole.TRASH and await self._role(f, FolderRole.TRASH) is None
        ]
        permanent = sum(map(len, in_trash)) + sum(len(own) for _, own in no_trash)
        if permanent:
            answer = await self._ask_permanent(len(ids), permanent, no_trash)
            if answer is None:
                return Outcome(notice="Nothing deleted", warnings=warnings)
            if answer == "trash":
                failed = await self._create_trash([f for f, _ in no_trash])
                if failed:
                    words = f"Nothing deleted: {failed}"
                    return Outcome(notice=words, warnings=(*warnings, words))
                permanent = sum(map(len, in_trash))
        op_ids = await self.store.delete(ids)  # each account's own Trash
        folders = [f for f, _ in groups]
        if permanent == len(ids):
            words = f"Deleted {count_words(len(ids))} for good · no undo"
            return self._done(words, ids, op_ids, folders, True, warnings, undoable=False)
        if permanent:
            words = f"Deleted {count_words(len(ids))} ({permanent:,} for good)"
        else:
            words = f"Moved {count_words(len(ids))} to Trash"
        return self._done(words, ids, op_ids, folders, gone=True, warnings=warnings)

    async def _ask_permanent(
        self, total: int, permanent: int, no_trash: list[tuple[Folder, list[int]]]
    ) -> str | None:
        """One question for the whole selection: "expunge", "trash" (create Trash where
        it is missing, then move there) or None (keep the mail)."""
        part = count_words(permanent) if permanent == total else f"{permanent:,} of {total:,}"
        one = permanent == 1
        if no_trash and self.view.open_folder is None:  # the unified inbox: say which
            lacking = {f.account_id for f, _ in no_trash}
            names = [a.name for a in await self.store.accounts() if a.id in lacking]
            several = len(names) > 1
            why = (
                f"The account{'s' if several else ''} {', '.join(names)} "
                f"{'have' if several else 'has'} no Trash folder"
            )
        elif no_trash:
            why = "The account has no Trash folder"
        else:
            why = "It is already in Trash" if one else "They are already in Trash"
        question = (
            f"Delete {part} for good? {why}, so {'it' if one else 'they'} cannot be restored."
        )
        answers = []
        if no_trash and all(self._can("move", f.account_id) for f, _ in no_trash):
            them = "it" if one else "them"
            answers.append(Answer("t", f"create a Trash folder and move {them} there", "trash"))
        answers.append(Answer("y", "delete for good", "expunge"))
        answers.append(Answer("n", "keep it" if total == 1 else "keep them", "keep"))
        answer = await self.view.ask(question, answers)
        return answer if answer in ("trash", "expunge") else None

    async def _create_trash(self, folders: list[Folder]) -> str:
        """Create a Trash folder on each account of ``folders``; "" when done, else why
        not (nothing is deleted then)."""
        if self.manager is None:
            return "this account is not syncing, so Trash cannot be created"
        for account_id in dict.fromkeys(f.account_id for f in folders):
            try:
                await self.manager.change_folder(account_id, "create", "Trash")
            except (SyncError, ConfigError) as exc:
                return f"Trash could not be created: {exc}"
            folders_now = await self.store.folders(account_id)
            if not any(f.role == FolderRole.TRASH for f in folders_now):
                return "the server created Trash but does not mark it as the Trash folder"
        return ""

    async def _role(self, folder: Folder, role: FolderRole) -> Folder | None:
        folders = await self.store.folders(folder.account_id)
        return next((f for f in folders if f.role == role), None)

    async def move_to_role(self, role: FolderRole, name: str) -> Outcome:
        found = await self._grouped("spam" if role == FolderRole.JUNK else "archive")
        if isinstance(found, Outcome):
            return found
        _, groups, warnings = found
        op_ids: list[int] = []
        moved: list[int] = []
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
            moved += ids
            acted.append(folder)
        if not acted:
            return Outcome(notice=refusal, warnings=warnings)
        verb = "Marked as spam" if role == FolderRole.JUNK else "Archived"
        words = f"{verb}: {count_words(len(moved))}"
        if refusal:  # the unified inbox: some accounts could not (no such folder)
            words += f" · {refusal}"
        return self._done(words, moved, sorted(op_ids), acted, gone=True, warnings=warnings)

    async def archive(self) -> Outcome:
        return await self.move_to_role(FolderRole.ARCHIVE, "Archive")

    async def spam(self) -> Outcome:
        return await self.move_to_role(FolderRole.JUNK, "Junk (spam)")

    async def move(self) -> Outcome:
        found = await self._with_targets("move")
        if isinstance(found, Outcome):
            return found
        ids, folder, warnings = found
        # Not into a folder the account does not show: the mail would seem to vanish.
        folders = [
            f
            for f in await self.store.folders(folder.account_id)
            if f.id != folder.id and f.subscribed
        ]
        if not folders:
            return Outcome(notice="There is no other folder to move to", warnings=warnings)
        choices = [FolderChoice(f.name, f) for f in folders]
        title = f"Move {count_words(len(ids))} to"
        target = await self.view.choose_folder(title, choices, warnings)
        if target is None:
            return Outcome()
        op_ids = await self.store.move(ids, target.id)
        words = f"Moved {count_words(len(ids))} to {folder_label(target)}"
        return self._done(words, ids, op_ids, [folder], gone=True)

    async def undo(self) -> Outcome:
        if not self.undo_stack:
            return Outcome(notice="Nothing to undo")
        entry = self.undo_stack.pop()
        result = await self.store.undo_ops(list(entry.op_ids))
        if result.status is UndoStatus.NOT_NOW:
            self.undo_stack.append(entry)  # it may work in a moment: the level stays
            words = f"Can't undo yet: {result.reason}; try again in a moment"
            return Outcome(notice=words, warnings=(words,))
        if result.status is UndoStatus.IMPOSSIBLE:
            reason = result.reason
            known = {a.id for a in await self.store.accounts()}
            if any(a not in known for a in entry.account_ids):
                reason = "its account was removed"
            words = f"Can't undo {entry.description}: {reason}"
            return Outcome(notice=words, warnings=(words,), reload=True)
        if result.queued and self.manager is not None:
            for account_id in entry.account_ids:
                self.manager.kick(account_id)
        warnings: tuple[str, ...] = ()
        if result.lost:
            warnings = (f"{result.lost:,} of the changes could not be undone: {result.reason}",)
        return Outcome(notice=f"Undone: {entry.description}", warnings=warnings, reload=True)

    # -- going places ----------------------------------------------------------------------

    async def goto_folder(self) -> Outcome:
        accounts = {a.id: a.name for a in await self.store.accounts()}
        folders = await self.store.folders()
        several = len(accounts) > 1
        choices = [
            FolderChoice(f"{accounts.get(f.account_id, '?')}/{f.name}" if several else f.name, f)
            for f in folders
        ]
        if not choices:
            return Outcome(notice="No folders yet")
        return Outcome(go_to=await self.view.choose_folder("Go to folder", choices))
