"""FolderSync and the folder commands (FolderCreate, FolderUpdate, FolderDelete), and the
folder tree they keep: [MS-ASCMD] 2.2.1.3-2.2.1.5.

FolderSync is incremental: the server sends what changed since the client's SyncKey, so
the client keeps the whole tree (``FolderTree``, in the account's state) and applies the
changes to it. A folder's ``RemoteFolder.name`` is its ServerId, the key every other
command names it by; ``display_name`` is its DisplayName.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mailtui.errors import OpRejected
from mailtui.models import FolderKind, FolderRole, RemoteFolder
from mailtui.protocols.eas import status
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.wbxml import Element

# FolderHierarchy:Type ([MS-ASCMD] 2.2.3.186.3) -> (kind, role); None: not recorded.
# fmt: off
TYPES: dict[int, tuple[FolderKind, FolderRole] | None] = {
    1: (FolderKind.MAIL, FolderRole.NONE),     # user-created folder (generic)
    2: (FolderKind.MAIL, FolderRole.INBOX),
    3: (FolderKind.MAIL, FolderRole.DRAFTS),
    4: (FolderKind.MAIL, FolderRole.TRASH),    # Deleted Items
    5: (FolderKind.MAIL, FolderRole.SENT),
    6: (FolderKind.MAIL, FolderRole.NONE),     # Outbox
    7: (FolderKind.TASKS, FolderRole.NONE),
    8: (FolderKind.CALENDAR, FolderRole.NONE),
    9: (FolderKind.CONTACTS, FolderRole.NONE),
    10: None, 11: None,                        # notes, journal
    12: (FolderKind.MAIL, FolderRole.NONE),    # user-created mail folder
    13: (FolderKind.CALENDAR, FolderRole.NONE),
    14: (FolderKind.CONTACTS, FolderRole.NONE),
    15: (FolderKind.TASKS, FolderRole.NONE),
    16: None, 17: None, 18: None, 19: None,    # journal, notes, unknown, recipient cache
}
# fmt: on
#: User mail folders with a role by name (ActiveSync has no type for them).
ROLE_NAMES = {
    "junk": FolderRole.JUNK,
    "junk e-mail": FolderRole.JUNK,
    "spam": FolderRole.JUNK,
    "archive": FolderRole.ARCHIVE,
}  # fmt: skip
#: FolderSync status 9: the SyncKey is not known (any more): start again from "0".
INVALID_KEY = "9"
#: The type of a folder mailtui creates: a user mail folder.
USER_MAIL = "12"


class FolderKeyInvalid(Exception):
    """FolderSync or a folder command said status 9: sync the tree again from "0"."""


@dataclass
class FolderTree:
    """The account's folders as FolderSync built them: ServerId -> (ParentId, DisplayName,
    Type), and the SyncKey they are as of. JSON-able through ``dump``/``load``."""

    key: str
    folders: dict[str, tuple[str, str, int]]

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> FolderTree:
        if not data:
            return cls("0", {})
        folders = {k: (str(v[0]), str(v[1]), int(v[2])) for k, v in data["folders"].items()}
        return cls(str(data["key"]), folders)

    def dump(self) -> dict[str, Any]:
        return {"key": self.key, "folders": {k: list(v) for k, v in self.folders.items()}}

    def path(self, server_id: str) -> list[str]:
        """The display names from the top down to ``server_id``."""
        names: list[str] = []
        seen: set[str] = set()
        while server_id in self.folders and server_id not in seen:
            seen.add(server_id)
            parent, name, _ = self.folders[server_id]
            names.append(name)
            server_id = parent
        return names[::-1]

    def find(self, path: str) -> str | None:
        """The ServerId of the folder at ``/``-separated ``path`` of display names."""
        for server_id in self.folders:
            if "/".join(self.path(server_id)) == path:
                return server_id
        return None

    def remote_folders(self) -> list[RemoteFolder]:
        out = []
        for server_id, (_, name, kind) in self.folders.items():
            known = TYPES.get(kind)
            if known is None:
                continue
            folder_kind, role = known
            if folder_kind is FolderKind.MAIL and role is FolderRole.NONE:
                role = ROLE_NAMES.get(name.lower(), FolderRole.NONE)
            depth = len(self.path(server_id)) - 1
            out.append(RemoteFolder(server_id, name, role, depth, kind=folder_kind))
        return out


def _checked(doc: Element | None, doing: str) -> Element:
    if doc is None:
        raise OpRejected(f"{doing}: the server answered nothing")
    code = doc.findtext("Status", "1") or "1"
    if code == INVALID_KEY:
        raise FolderKeyInvalid(doing)
    if code != "1":
        known = status.kind(code)
        if known is None:
            raise OpRejected(f"{doing}: {_FOLDER_STATUS.get(code, f'status {code}')}")
        raise status.status_error(code, doing)
    return doc


_FOLDER_STATUS = {
    "2": "a folder of that name is there already (status 2)",
    "3": "the folder is a special folder (status 3)",
    "4": "the folder does not exist (status 4)",
    "5": "the parent folder does not exist (status 5)",
    "6": "the server failed (status 6)",
    "10": "the server found the request malformed (status 10)",
    "11": "the server failed with an unknown error (status 11)",
    "12": "the server failed with an unknown error (status 12)",
}


async def folder_sync(http: EasHttp, tree: FolderTree) -> bool:
    """Brings ``tree`` up to date; True when anything changed. Raises FolderKeyInvalid
    (the caller starts again from an empty tree)."""
    doc = _checked(
        (
            await http.post(
                "FolderSync",
                Element(
                    "FolderHierarchy:FolderSync", [Element("FolderHierarchy:SyncKey", tree.key)]
                ),
            )
        ).document,
        "FolderSync",
    )
    changed = False
    for change in doc.findall("Changes/Add") + doc.findall("Changes/Update"):
        server_id = change.findtext("ServerId") or ""
        entry = (change.findtext("ParentId", "0") or "0", change.findtext("DisplayName", "") or "",
                 int(change.findtext("Type", "18") or 18))  # fmt: skip
        if server_id and tree.folders.get(server_id) != entry:
            tree.folders[server_id] = entry
            changed = True
    for change in doc.findall("Changes/Delete"):
        if tree.folders.pop(change.findtext("ServerId") or "", None) is not None:
            changed = True
    new_key = doc.findtext("SyncKey") or tree.key
    changed |= new_key != tree.key
    tree.key = new_key
    return changed


async def folder_create(http: EasHttp, tree: FolderTree, parent: str, name: str) -> str:
    doc = _checked(
        (
            await http.post(
                "FolderCreate",
                Element("FolderHierarchy:FolderCreate", [
                    Element("FolderHierarchy:SyncKey", tree.key),
                    Element("FolderHierarchy:ParentId", parent),
                    Element("FolderHierarchy:DisplayName", name),
                    Element("FolderHierarchy:Type", USER_MAIL),
                ]),
            )
        ).document,
        f"creating {name!r}",
    )  # fmt: skip
    server_id = doc.findtext("ServerId") or ""
    if not server_id:
        raise OpRejected(f"creating {name!r}: the server gave no id for it")
    tree.key = doc.findtext("SyncKey") or tree.key
    tree.folders[server_id] = (parent, name, int(USER_MAIL))
    return server_id


async def folder_update(http: EasHttp, tree: FolderTree, server_id: str, parent: str,
                        name: str) -> None:  # fmt: skip
    doc = _checked(
        (
            await http.post(
                "FolderUpdate",
                Element("FolderHierarchy:FolderUpdate", [
                    Element("FolderHierarchy:SyncKey", tree.key),
                    Element("FolderHierarchy:ServerId", server_id),
                    Element("FolderHierarchy:ParentId", parent),
                    Element("FolderHierarchy:DisplayName", name),
                ]),
            )
        ).document,
        f"renaming to {name!r}",
    )  # fmt: skip
    tree.key = doc.findtext("SyncKey") or tree.key
    kind = tree.folders.get(server_id, ("", "", int(USER_MAIL)))[2]
    tree.folders[server_id] = (parent, name, kind)


async def folder_delete(http: EasHttp, tree: FolderTree, server_id: str) -> None:
    name = tree.folders.get(server_id, ("", server_id, 0))[1]
    doc = _checked(
        (
            await http.post(
                "FolderDelete",
                Element("FolderHierarchy:FolderDelete", [
                    Element("FolderHierarchy:SyncKey", tree.key),
                    Element("FolderHierarchy:ServerId", server_id),
                ]),
            )
        ).document,
        f"deleting {name!r}",
    )  # fmt: skip
    tree.key = doc.findtext("SyncKey") or tree.key
    tree.folders.pop(server_id, None)
