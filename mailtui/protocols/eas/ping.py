"""Ping ([MS-ASCMD] 2.2.1.13): a long poll that returns when a folder changes or the
heartbeat runs out.

The server bounds the heartbeat: one out of its limits gets status 5 with the limit in
``HeartbeatInterval`` (SOGo's default is 10 s; Exchange allows 60-3540 s); the caller
keeps it and asks within it from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mailtui.errors import TransientError
from mailtui.protocols.eas import status
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.wbxml import Element

#: The longest heartbeat mailtui asks (Exchange's limit is 3540 s).
MAX_HEARTBEAT = 900
#: The shortest the protocol allows; a shorter wait is not worth a Ping.
MIN_HEARTBEAT = 60


@dataclass
class PingAnswer:
    """``changed``: the folders with news; ``limit``: the server's longest heartbeat,
    when it said (status 5); ``hierarchy``: the folder list changed (status 7)."""

    changed: set[str] = field(default_factory=set)
    limit: int | None = None
    hierarchy: bool = False
    too_many: int | None = None  # status 6: at most this many folders


async def ping(http: EasHttp, folders: Sequence[str], heartbeat: int) -> PingAnswer:
    request = Element("Ping:Ping", [
        Element("Ping:HeartbeatInterval", str(heartbeat)),
        Element("Ping:Folders", [
            Element("Ping:Folder", [Element("Ping:Id", f), Element("Ping:Class", "Email")])
            for f in folders
        ]),
    ])  # fmt: skip
    doc = (await http.post("Ping", request, timeout=heartbeat + 60.0)).document
    if doc is None:
        return PingAnswer()
    code = doc.findtext("Status", "1") or "1"
    if code == "1":
        return PingAnswer()
    if code == "2":
        return PingAnswer(changed={f.text for f in doc.findall("Folders/Folder")})
    if code == "5":
        limit = doc.findtext("HeartbeatInterval")
        return PingAnswer(limit=int(limit) if limit and limit.isdigit() else heartbeat // 2)
    if code == "6":
        most = doc.findtext("MaxFolders")
        return PingAnswer(too_many=int(most) if most and most.isdigit() else 1)
    if code == "7":
        return PingAnswer(hierarchy=True)
    if status.kind(code) is not None:
        raise status.status_error(code, "Ping")
    raise TransientError(f"Ping: the server answered status {code}")
