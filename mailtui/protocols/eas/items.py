"""Commands on messages besides Sync: ItemOperations Fetch (whole messages on demand),
MoveItems, and GetItemEstimate (how many changes a Sync has to bring, for progress).
[MS-ASCMD] 2.2.1.10, 2.2.1.12, 2.2.1.9.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailtui.errors import OpRejected, TransientError
from mailtui.protocols.eas import status
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.sync import MIME
from mailtui.protocols.eas.wbxml import Element


def _top(doc: Element | None, doing: str) -> Element:
    if doc is None:
        raise TransientError(f"{doing}: the server answered nothing")
    code = doc.findtext("Status", "1") or "1"
    if code != "1":
        if status.kind(code) is not None:
            raise status.status_error(code, doing)
        raise OpRejected(f"{doing}: status {code}")
    return doc


async def fetch(http: EasHttp, collection: str, server_ids: Sequence[str]) -> dict[str, bytes]:
    """The MIME of each message, by ServerId; those the server no longer has (or could
    not give) are left out."""
    found, parts = await _fetch(http, collection, server_ids, MIME, multipart=True)
    out: dict[str, bytes] = {}
    for server_id, properties in found.items():
        data = properties.find("AirSyncBase:Body/Data")
        part = properties.findtext("AirSyncBase:Body/ItemOperations:Part")
        if data is not None and data.value is not None:
            out[server_id] = data.data
        elif part is not None and part.strip().isdigit() and 0 < int(part) < len(parts):
            out[server_id] = parts[int(part)]
    return out


async def properties(http: EasHttp, collection: str, server_id: str) -> Element | None:
    """A message's properties (Read, Flag, …) without its body; None when it is gone."""
    found, _ = await _fetch(http, collection, [server_id], "1", truncate=True)
    return found.get(server_id)


async def _fetch(
    http: EasHttp,
    collection: str,
    server_ids: Sequence[str],
    kind: str,
    truncate: bool = False,
    multipart: bool = False,
) -> tuple[dict[str, Element], list[bytes]]:
    """The Properties of each message found, by ServerId, and the answer's parts (with
    ``multipart``: bodies as raw parts beside the WBXML, [MS-ASCMD] 2.2.2.10.1)."""
    preference = [Element("AirSyncBase:Type", kind)]
    if truncate:
        preference.append(Element("AirSyncBase:TruncationSize", "0"))
    fetches = [
        Element("ItemOperations:Fetch", [
            Element("ItemOperations:Store", "Mailbox"),
            Element("AirSync:CollectionId", collection),
            Element("AirSync:ServerId", server_id),
            Element("ItemOperations:Options", [
                Element("AirSyncBase:BodyPreference", preference),
                Element("AirSync:MIMESupport", "2"),
            ]),
        ])
        for server_id in server_ids
    ]  # fmt: skip
    request = Element("ItemOperations:ItemOperations", fetches)
    headers = {"MS-ASAcceptMultiPart": "T"} if multipart else None
    response = await http.post("ItemOperations", request, headers=headers)
    doc = _top(response.document, "ItemOperations")
    out: dict[str, Element] = {}
    for answer in doc.findall("Response/Fetch"):
        if (answer.findtext("Status", "1") or "1") != "1":
            continue
        server_id = answer.findtext("AirSync:ServerId") or ""
        found = answer.find("Properties")
        if server_id and found is not None:
            out[server_id] = found
    return out, response.parts


@dataclass(frozen=True)
class Moved:
    """MoveItems' answer for one message: its ServerId in the target (None when the
    server did not say, or it was moved already)."""

    new_id: str | None


_MOVE_STATUS = {
    "2": "the target folder is not there (status 2)",
    "4": "the message is in that folder already (status 4)",
    "5": "the server could not move it (status 5)",
    "7": "the folder is locked; try again (status 7)",
}


async def move(http: EasHttp, server_id: str, source: str, target: str) -> Moved:
    """Moves one message. Status 1 (the message is not in ``source``: moved already by a
    request whose answer was lost) is a success without a new id."""
    doc = _top(
        (
            await http.post(
                "MoveItems",
                Element("Move:MoveItems", [
                    Element("Move:Move", [
                        Element("Move:SrcMsgId", server_id),
                        Element("Move:SrcFldId", source),
                        Element("Move:DstFldId", target),
                    ]),
                ]),
            )
        ).document,
        "MoveItems",
    )  # fmt: skip
    answer = doc.find("Response")
    code = answer.findtext("Status", "3") if answer is not None else "3"
    if code == "3":
        return Moved(answer.findtext("DstMsgId") if answer is not None else None)
    if code == "1":
        return Moved(None)
    if code in ("5", "7"):
        raise TransientError(f"MoveItems: {_MOVE_STATUS[code]}")
    if code is not None and status.kind(code) is not None:
        raise status.status_error(code, "MoveItems")
    raise OpRejected(f"MoveItems: {_MOVE_STATUS.get(code or '', f'status {code}')}")


async def estimate(http: EasHttp, collection: str, key: str) -> int | None:
    """How many changes a Sync from ``key`` has to bring; None when the server cannot
    say (a key of "0", an error: progress is then unknown, nothing fails)."""
    if key == "0":
        return None
    request = Element("GetItemEstimate:GetItemEstimate", [
        Element("GetItemEstimate:Collections", [
            Element("GetItemEstimate:Collection", [
                Element("AirSync:SyncKey", key),
                Element("GetItemEstimate:CollectionId", collection),
                Element("AirSync:Options", [Element("AirSync:FilterType", "0")]),
            ]),
        ]),
    ])  # fmt: skip
    try:
        doc = (await http.post("GetItemEstimate", request)).document
    except (OpRejected, TransientError):
        return None
    if doc is None or doc.tag != "GetItemEstimate:GetItemEstimate":
        return None
    if (doc.findtext("Response/Status", "1") or "1") != "1":
        return None
    found = doc.findtext("Response/Collection/Estimate")
    return int(found) if found and found.isdigit() else None
