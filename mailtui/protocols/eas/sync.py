"""Sync of one mail folder ([MS-ASCMD] 2.2.1.21): the request, and its answer as the
pieces of a ``FolderBatch``.

The SyncKey starts at "0" (the answer has a key and no items), then each Sync with
``GetChanges`` gives up to ``WindowSize`` changes and the next key; ``MoreAvailable``
says there are more. Bodies are asked as MIME (``BodyPreference`` type 4), so the cache
and export hold the message itself, and the envelope comes from its header. The order
of the items is the server's: SOGo sends a first sync oldest first (by UID). ``FilterType``
limits by age (0: all); the pull steps it from one day to all on the same key so that a
first sync brings the newest mail first (pull.py, ``FILTER_STEPS``).

The client's own changes (read, flag, delete) go in the same command (``Commands``);
the server's answers to them come under ``Responses``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mailtui import mime
from mailtui.errors import OpRejected, TransientError
from mailtui.models import Envelope, Flag, NewMessage
from mailtui.protocols.eas import status
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.wbxml import Element

#: Sync status 3: the SyncKey is not valid (any more); the folder starts again from "0".
INVALID_KEY = "3"
#: Sync status 12: the folder list changed (the folder may be gone): FolderSync first.
HIERARCHY_CHANGED = "12"
MIME = "4"
_SYNC_STATUS = {
    "4": "the server found the request malformed (status 4)",
    "5": "the server failed (status 5)",
    "6": "the server could not take a change (status 6)",
    "7": "the change conflicts with the server's (status 7)",
    "8": "the message is not on the server (status 8)",
    "9": "the server cannot finish the sync (status 9)",
    "12": "the folder list changed (status 12)",
    "13": "the server wants the whole request (status 13)",
    "14": "the wait is out of the server's limits (status 14)",
    "15": "too many folders (status 15)",
    "16": "the server asks to try again (status 16)",
}
_RETRY = {"5", "9", "12", "13", "16"}


class SyncKeyInvalid(Exception):
    """Sync status 3: resync this folder from "0"."""


class HierarchyChanged(TransientError):
    """Sync status 12: the folder list changed; a FolderSync, then the Sync again. A
    TransientError (a retry later) when that does not help."""


@dataclass
class Change:
    """One client change: ``Change`` (read/flag) or ``Delete``."""

    server_id: str
    delete: bool = False
    read: bool | None = None
    flagged: bool | None = None

    def element(self) -> Element:
        sid = Element("AirSync:ServerId", self.server_id)
        if self.delete:
            return Element("AirSync:Delete", [sid])
        data: list[Element] = []
        if self.read is not None:
            data.append(Element("Email:Read", "1" if self.read else "0"))
        if self.flagged is not None:
            flag = (
                [Element("Email:Status", "2"), Element("Email:FlagType", "Follow up")]
                if self.flagged
                else None
            )
            data.append(Element("Email:Flag", flag))
        return Element("AirSync:Change", [sid, Element("AirSync:ApplicationData", data)])


@dataclass
class SyncAnswer:
    """What one Sync brought: the next key, and the server's changes."""

    key: str
    more: bool = False
    added: list[NewMessage] = field(default_factory=list)
    flags: list[tuple[str, Flag]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: ServerId -> status of the client's changes the server refused (not "1").
    refused: dict[str, str] = field(default_factory=dict)


def request(
    collection: str,
    key: str,
    *,
    window: int = 100,
    changes: Sequence[Change] = (),
    get_changes: bool = True,
    filter_type: str = "0",
) -> Element:
    children = [Element("AirSync:SyncKey", key), Element("AirSync:CollectionId", collection)]
    if key != "0":
        children.append(Element("AirSync:DeletesAsMoves", "0"))
        children.append(Element("AirSync:GetChanges", "1" if get_changes else "0"))
        children.append(Element("AirSync:WindowSize", str(window)))
    children.append(
        Element("AirSync:Options", [
            Element("AirSync:FilterType", filter_type),
            Element("AirSyncBase:BodyPreference", [Element("AirSyncBase:Type", MIME)]),
            Element("AirSync:MIMESupport", "2"),
        ])
    )  # fmt: skip
    if changes and key != "0":
        children.append(Element("AirSync:Commands", [c.element() for c in changes]))
    return Element("AirSync:Sync", [
        Element("AirSync:Collections", [Element("AirSync:Collection", children)]),
    ])  # fmt: skip


def eas_date(text: str | None) -> int:
    """``2026-10-01T10:00:00.000Z`` as a Unix time; 0 when unreadable."""
    if not text:
        return 0
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def flags_of(data: Element, before: Flag = Flag.NONE) -> Flag:
    """The flags an ApplicationData says; what it leaves out stays as ``before``."""
    flags = before
    read = data.findtext("Email:Read")
    if read is not None:
        flags = flags | Flag.SEEN if read == "1" else flags & ~Flag.SEEN
    flag = data.find("Email:Flag")
    if flag is not None:
        on = flag.findtext("Status") == "2"
        flags = flags | Flag.FLAGGED if on else flags & ~Flag.FLAGGED
    verb = data.findtext("Email2:LastVerbExecuted")
    if verb in ("1", "2"):
        flags |= Flag.ANSWERED
    elif verb == "3":
        flags |= Flag.FORWARDED
    return flags


def _field_header(data: Element) -> bytes:
    """A header block made of the Email fields, for a server that sent no MIME."""
    lines = []
    for name, tag in (("From", "From"), ("To", "To"), ("Cc", "Cc"), ("Subject", "Subject")):
        value = data.findtext(f"Email:{tag}")
        if value:
            lines.append(f"{name}: {value}".replace("\r", " ").replace("\n", " "))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")


def message(server_id: str, data: Element, keep_body_since: int) -> NewMessage:
    """An Add as a NewMessage: envelope from the MIME (else the Email fields), the raw
    message kept when it came whole and is within the body window."""
    body = data.find("AirSyncBase:Body")
    received = eas_date(data.findtext("Email:DateReceived"))
    raw: bytes | None = None
    if body is not None and body.findtext("Type") == MIME and body.findtext("Truncated") != "1":
        found = body.find("Data")
        raw = found.data if found is not None else None
    envelope: Envelope
    if raw:
        envelope = mime.parse_envelope(raw)
    else:
        envelope = mime.header_envelope(_field_header(data))
        estimated = body.findtext("EstimatedDataSize") if body is not None else None
        envelope.size = int(estimated) if estimated and estimated.isdigit() else envelope.size
    if not envelope.date:
        envelope.date = received
    keep = raw if raw and (received or envelope.date) >= keep_body_since else None
    return NewMessage(server_id, envelope, flags_of(data), raw=keep)


def _status(code: str, doing: str) -> Exception:
    if code == INVALID_KEY:
        return SyncKeyInvalid(doing)
    if status.kind(code) is not None:
        return status.status_error(code, doing)
    words = _SYNC_STATUS.get(code, f"status {code}")
    if code == HIERARCHY_CHANGED:
        return HierarchyChanged(f"{doing}: {words}")
    if code in _RETRY:
        return TransientError(f"{doing}: {words}")
    return OpRejected(f"{doing}: {words}")


def read_answer(doc: Element | None, key: str, keep_body_since: int, doing: str) -> SyncAnswer:
    """The answer to ``request``; an empty one (None: SOGo, nothing new) keeps ``key``."""
    if doc is None:
        return SyncAnswer(key)
    top = doc.findtext("Status")
    if top is not None and top != "1":
        raise _status(top, doing)
    collection = doc.find("Collections/Collection")
    if collection is None:
        return SyncAnswer(key)
    code = collection.findtext("Status", "1") or "1"
    if code != "1":
        raise _status(code, doing)
    answer = SyncAnswer(
        collection.findtext("SyncKey") or key, collection.find("MoreAvailable") is not None
    )
    for command in collection.findall("Commands/Add"):
        server_id = command.findtext("ServerId") or ""
        data = command.find("ApplicationData")
        if server_id and data is not None:
            answer.added.append(message(server_id, data, keep_body_since))
    for command in collection.findall("Commands/Change"):
        server_id = command.findtext("ServerId") or ""
        data = command.find("ApplicationData")
        if server_id and data is not None:
            answer.flags.append((server_id, flags_of(data)))
    for name in ("Delete", "SoftDelete"):
        for command in collection.findall(f"Commands/{name}"):
            server_id = command.findtext("ServerId") or ""
            if server_id:
                answer.removed.append(server_id)
    for name in ("Change", "Delete", "Add"):
        for response in collection.findall(f"Responses/{name}"):
            got = response.findtext("Status", "1") or "1"
            if got != "1":
                answer.refused[response.findtext("ServerId") or ""] = got
    return answer


async def sync(
    http: EasHttp,
    collection: str,
    key: str,
    *,
    window: int = 100,
    changes: Sequence[Change] = (),
    body_days: int = 36500,
    timeout: float | None = None,
    filter_type: str = "0",
) -> SyncAnswer:
    """One Sync round trip. Raises SyncKeyInvalid, or the status's error."""
    since = int(time.time()) - body_days * 86400
    ask = request(collection, key, window=window, changes=changes, filter_type=filter_type)
    response = await http.post("Sync", ask, timeout=timeout)
    return read_answer(response.document, key, since, "Sync")


def describe_refusal(code: str) -> str:
    return _SYNC_STATUS.get(code, status.describe(code))
