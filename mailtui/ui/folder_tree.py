"""The order of the folder pane: "All inboxes", then accounts, each with its folders.

Role folders come first in a fixed order (Inbox, Drafts, Sent, Archive, Junk, Trash), a
top-level role folder with its subfolders under it; then every other folder in path
order, indented under the folders that are listed above them. A role folder nested
elsewhere (Gmail's ``[Gmail]/Sent Mail``) is pulled up to the top level. Plain logic, no
Textual.

"All inboxes" (the unified inbox) heads the pane only when two or more accounts have an
Inbox: with one it would repeat that Inbox on a line a 24-row terminal cannot spare (Apple
Mail and most phone clients do the same). An account heading shows the account's unread
mail outside Trash and Junk: what waits to be read, not what was thrown away.

Folders the server has but the account does not show (not subscribed) come last under
their account, after a line that counts them ("2 not subscribed"): they are drawn greyed
and not synced, and the user can subscribe one from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mailtui.models import Account, Folder, FolderRole

ROLE_ORDER: tuple[FolderRole, ...] = (
    FolderRole.INBOX,
    FolderRole.DRAFTS,
    FolderRole.SENT,
    FolderRole.ARCHIVE,
    FolderRole.JUNK,
    FolderRole.TRASH,
)


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """One line of the folder pane: an account heading (``folder`` None), a folder, or
    the unified inbox (``unified``; ``account`` and ``folder`` None).

    ``label`` is the folder's name relative to the nearest folder shown above it in the
    tree: ``python-dev`` under ``Lists``, but ``Lists/python-dev`` when the server does
    not list ``Lists`` itself.
    """

    account: Account | None
    folder: Folder | None
    indent: int = 0
    label: str = ""
    unread: int = 0  # a heading: the account's unread (Trash, Junk aside); unified: all inboxes
    unified: bool = False
    #: A line of words under an account, not a folder ("2 not subscribed"); ``folder`` None.
    note: str = ""


def folder_label(folder: Folder) -> str:
    """The name to show: the server's ``INBOX`` reads as "Inbox"."""
    if folder.role == FolderRole.INBOX and folder.display_name.casefold() == "inbox":
        return "Inbox"
    return folder.display_name


def _parts(folder: Folder) -> tuple[str, tuple[str, ...]]:
    """(delimiter, path components), the delimiter being the character before the last
    component (servers use ``/`` or ``.``); a top-level folder is one component."""
    name, last = folder.name, folder.display_name
    if folder.depth > 0 and last and name.endswith(last) and len(name) > len(last):
        delimiter = name[-len(last) - 1]
        return delimiter, tuple(name.split(delimiter))
    return "/", (name,)


def _key(parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.casefold() for part in parts)


def order_folders(folders: Iterable[Folder]) -> list[tuple[Folder, int, str]]:
    """One account's folders in pane order, each with its indent and label."""
    folders = list(folders)
    split = {folder.id: _parts(folder) for folder in folders}
    by_path = sorted(folders, key=lambda folder: _key(split[folder.id][1]))
    # Listed ancestors, for indents. A nested role folder is shown at the top, so it does
    # not count as the parent of what is listed under its path.
    present = {
        _key(split[folder.id][1])
        for folder in folders
        if folder.role == FolderRole.NONE or len(split[folder.id][1]) == 1
    }

    def placed(folder: Folder) -> tuple[Folder, int, str]:
        """Indented once per listed ancestor; named from the nearest listed one."""
        delimiter, parts = split[folder.id]
        shown = [n for n in range(1, len(parts)) if _key(parts[:n]) in present]
        nearest = shown[-1] if shown else 0
        if nearest == len(parts) - 1:
            return folder, len(shown), folder.display_name
        return folder, len(shown), delimiter.join(parts[nearest:])

    taken: set[int] = set()
    ordered: list[tuple[Folder, int, str]] = []
    for role in ROLE_ORDER:
        for folder in by_path:
            if folder.role != role or folder.id in taken:
                continue
            taken.add(folder.id)
            ordered.append((folder, 0, folder_label(folder)))
            _, parts = split[folder.id]
            if len(parts) != 1:
                continue  # a nested role folder comes up alone
            for child in by_path:
                _, child_parts = split[child.id]
                if (
                    child.id not in taken
                    and child.role == FolderRole.NONE
                    and len(child_parts) > 1
                    and _key(child_parts[:1]) == _key(parts)
                ):
                    taken.add(child.id)
                    ordered.append(placed(child))
    for folder in by_path:
        if folder.id not in taken:
            ordered.append(placed(folder))
    return ordered


#: Unread mail in these folders does not count in an account heading's number.
NOT_COUNTED = frozenset({FolderRole.TRASH, FolderRole.JUNK})

UNIFIED_LABEL = "All inboxes"


def account_unread(folders: Iterable[Folder]) -> int:
    """What an account heading shows: unread mail outside Trash and Junk, in the folders
    the account shows (subscribed)."""
    return sum(
        folder.unread for folder in folders if folder.role not in NOT_COUNTED and folder.subscribed
    )


def not_subscribed_note(count: int) -> str:
    """The line above an account's unsubscribed folders."""
    return "1 not subscribed" if count == 1 else f"{count:,} not subscribed"


def shows_unified(folders: Iterable[Folder]) -> bool:
    """Whether the pane lists "All inboxes": two or more accounts have an Inbox."""
    return len({f.account_id for f in folders if f.role == FolderRole.INBOX}) > 1


def folder_entries(
    accounts: Iterable[Account], folders: Iterable[Folder], *, unified: bool = False
) -> list[FolderEntry]:
    """Every line of the pane: each account heading followed by its ordered folders;
    with ``unified``, "All inboxes" first when ``shows_unified``."""
    folder_list = list(folders)
    entries: list[FolderEntry] = []
    if unified and shows_unified(folder_list):
        unread = sum(f.unread for f in folder_list if f.role == FolderRole.INBOX)
        entries.append(FolderEntry(None, None, 0, UNIFIED_LABEL, unread, unified=True))
    for account in accounts:
        own = [folder for folder in folder_list if folder.account_id == account.id]
        entries.append(FolderEntry(account, None, unread=account_unread(own)))
        shown = [folder for folder in own if folder.subscribed]
        entries.extend(
            FolderEntry(account, folder, indent, label)
            for folder, indent, label in order_folders(shown)
        )
        hidden = [folder for folder in own if not folder.subscribed]
        if hidden:
            entries.append(FolderEntry(account, None, note=not_subscribed_note(len(hidden))))
            entries.extend(
                FolderEntry(account, folder, indent, label)
                for folder, indent, label in order_folders(hidden)
            )
    return entries


def first_folder(folders: list[Folder], account_ids: list[int]) -> Folder | None:
    """The folder a screen opens on: the first account's Inbox, else its first folder."""
    for account_id in account_ids:
        own = [f for f in folders if f.account_id == account_id and f.subscribed]
        inbox = next((f for f in own if f.role == FolderRole.INBOX), None)
        if inbox is not None or own:
            return inbox or own[0]
    return None
