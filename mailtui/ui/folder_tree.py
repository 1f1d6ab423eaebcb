"""The order of the folder pane: accounts, then each account's folders.

Role folders come first in a fixed order (Inbox, Drafts, Sent, Archive, Junk, Trash), a
top-level role folder with its subfolders under it; then every other folder in path
order, indented by depth. A role folder nested elsewhere (Gmail's ``[Gmail]/Sent Mail``)
is pulled up to the top level. Plain logic, no Textual.
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
    """One line of the folder pane: an account heading (``folder`` None) or a folder."""

    account: Account
    folder: Folder | None
    indent: int = 0


def _path_key(folder: Folder) -> tuple[str, ...]:
    """Sort key that keeps a folder's subfolders right after it, whatever the server's
    hierarchy delimiter (``/`` or ``.``), which is the character before the last part."""
    name, last = folder.name, folder.display_name
    if folder.depth > 0 and last and name.endswith(last) and len(name) > len(last):
        delimiter = name[-len(last) - 1]
        return tuple(part.casefold() for part in name.split(delimiter))
    return (name.casefold(),)


def order_folders(folders: Iterable[Folder]) -> list[tuple[Folder, int]]:
    """One account's folders in pane order, each with its indent."""
    by_path = sorted(folders, key=_path_key)
    taken: set[int] = set()
    ordered: list[tuple[Folder, int]] = []
    for role in ROLE_ORDER:
        for position, folder in enumerate(by_path):
            if folder.role != role or folder.id in taken:
                continue
            ordered.append((folder, 0))
            taken.add(folder.id)
            if folder.depth == 0:
                for child in by_path[position + 1 :]:
                    if child.depth <= folder.depth:
                        break
                    if child.id not in taken and child.role == FolderRole.NONE:
                        ordered.append((child, child.depth))
                        taken.add(child.id)
    for folder in by_path:
        if folder.id not in taken:
            ordered.append((folder, folder.depth))
    return ordered


def folder_entries(accounts: Iterable[Account], folders: Iterable[Folder]) -> list[FolderEntry]:
    """Every line of the pane: each account heading followed by its ordered folders."""
    folder_list = list(folders)
    entries: list[FolderEntry] = []
    for account in accounts:
        entries.append(FolderEntry(account, None))
        own = [folder for folder in folder_list if folder.account_id == account.id]
        entries.extend(
            FolderEntry(account, folder, indent) for folder, indent in order_folders(own)
        )
    return entries
