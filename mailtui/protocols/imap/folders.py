"""LIST responses → ``RemoteFolder``s with roles (RFC 6154 SPECIAL-USE, then common names).

Pure functions over parsed responses. A folder's ``name`` is the server's name exactly as
it travels (modified UTF-7), so it round-trips; ``display_name`` is its last component
decoded for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtui.models import FolderRole, RemoteFolder
from mailtui.protocols.imap import utf7
from mailtui.protocols.imap.wire import Item, Response, as_int, as_list, as_str

SPECIAL_USE: dict[str, FolderRole] = {
    "\\SENT": FolderRole.SENT,
    "\\DRAFTS": FolderRole.DRAFTS,
    "\\TRASH": FolderRole.TRASH,
    "\\JUNK": FolderRole.JUNK,
    "\\ARCHIVE": FolderRole.ARCHIVE,
}

# Fallback when a server has no SPECIAL-USE: names other clients and servers use.
COMMON_NAMES: dict[FolderRole, tuple[str, ...]] = {
    FolderRole.SENT: ("sent", "sent items", "sent messages", "sent mail", "gesendet"),
    FolderRole.DRAFTS: ("drafts", "draft", "entwürfe"),
    FolderRole.TRASH: ("trash", "deleted items", "deleted messages", "bin", "papierkorb"),
    FolderRole.JUNK: ("junk", "spam", "junk e-mail", "junk email", "bulk mail"),
    FolderRole.ARCHIVE: ("archive", "archives", "all mail"),
}


@dataclass(slots=True)
class ListEntry:
    name: str  # as on the wire
    delimiter: str
    attributes: set[str] = field(default_factory=set)  # upper case


@dataclass(slots=True)
class MailboxStatus:
    messages: int = 0
    unseen: int = 0
    uidnext: int = 0
    uidvalidity: int = 0
    highestmodseq: int = 0


def parse_list(resp: Response) -> ListEntry | None:
    """``* LIST (\\HasNoChildren \\Sent) "/" Sent`` → ListEntry."""
    items = resp.items
    if len(items) < 3:
        return None
    attrs = {as_str(a).upper() for a in as_list(items[0])}
    delim = items[1] if isinstance(items[1], str) else ""
    name = items[2]
    if isinstance(name, bytes | bytearray):
        name = name.decode("utf-8", "replace")
    if not isinstance(name, str) or not name:
        return None
    return ListEntry(name=name, delimiter=delim or "", attributes=attrs)


def parse_status(resp: Response) -> tuple[str, MailboxStatus] | None:
    """``* STATUS INBOX (MESSAGES 3 UIDNEXT 4 …)`` → (name, MailboxStatus)."""
    items = resp.items
    if len(items) < 2:
        return None
    name = as_str(items[0])
    values: list[Item] = as_list(items[1])
    status = MailboxStatus()
    for i in range(0, len(values) - 1, 2):
        key = as_str(values[i]).upper()
        value = as_int(values[i + 1])
        if key == "MESSAGES":
            status.messages = value
        elif key == "UNSEEN":
            status.unseen = value
        elif key == "UIDNEXT":
            status.uidnext = value
        elif key == "UIDVALIDITY":
            status.uidvalidity = value
        elif key == "HIGHESTMODSEQ":
            status.highestmodseq = value
    return name, status


def _last(entry: ListEntry) -> str:
    if entry.delimiter and entry.delimiter in entry.name:
        return entry.name.rsplit(entry.delimiter, 1)[-1]
    return entry.name


def to_remote_folders(entries: list[ListEntry], subscribed_only: bool = True) -> list[RemoteFolder]:
    """Every folder the server has, in server order, INBOX first, with one folder per role
    at most.

    With ``subscribed_only``, a folder counts as ``subscribed`` (shown and synced) when it
    is subscribed, is INBOX, has a role, or is the parent of such a folder (so the tree has
    no holes); the others come with ``subscribed=False``, for the pane to list greyed.
    Without it every folder counts. A ``\\NonExistent`` name (listed only because it is
    subscribed) is left out unless it is the parent of a shown folder.
    """
    roles: dict[str, FolderRole] = {}
    taken: set[FolderRole] = set()
    for e in entries:
        if e.name.upper() == "INBOX":
            roles[e.name] = FolderRole.INBOX
            continue
        for attr, role in SPECIAL_USE.items():
            if attr in e.attributes and role not in taken:
                roles[e.name] = role
                taken.add(role)
                break
    for role, names in COMMON_NAMES.items():
        if role in taken:
            continue
        for e in entries:
            if e.name in roles or "\\NOSELECT" in e.attributes:
                continue
            parent = e.name[: -len(_last(e))].rstrip(e.delimiter) if e.delimiter else ""
            if utf7.decode(_last(e)).lower() in names and parent.upper() in ("", "INBOX"):
                roles[e.name] = role
                taken.add(role)
                break

    shown: set[str] = set()
    for e in entries:
        if (
            not subscribed_only or "\\SUBSCRIBED" in e.attributes or e.name in roles
        ) and "\\NONEXISTENT" not in e.attributes:
            shown.add(e.name)
    by_name = {e.name: e for e in entries}
    for name in list(shown):
        e = by_name[name]
        while e.delimiter and e.delimiter in name:
            name = name.rsplit(e.delimiter, 1)[0]
            if name in by_name:
                shown.add(name)

    out: list[RemoteFolder] = []
    for e in sorted(entries, key=lambda x: x.name.upper() != "INBOX"):
        if "\\NONEXISTENT" in e.attributes and e.name not in shown:
            continue
        out.append(
            RemoteFolder(
                name=e.name,
                display_name=utf7.decode(_last(e)),
                role=roles.get(e.name, FolderRole.NONE),
                depth=e.name.count(e.delimiter) if e.delimiter else 0,
                selectable=not ({"\\NOSELECT", "\\NONEXISTENT"} & e.attributes),
                subscribed=e.name in shown,
            )
        )
    return out
