"""Contract tests of ItemOperations' multipart answer ([MS-ASCMD] 2.2.2.10.1, asked for
with ``MS-ASAcceptMultiPart: T``, [MS-ASHTTP] 2.2.1.1.2.2): answers built as the document
lays them out (part count, offset/length pairs, WBXML in part 0, ``Body/Part`` naming a
body's part), replayed by a scripted HTTP server on 127.0.0.1. SOGo answers this form too
(tests/integration/test_eas_sync.py)."""

from __future__ import annotations

import struct

import pytest

from mailtui.protocols.eas import items
from mailtui.protocols.eas.http import EasHttp
from mailtui.protocols.eas.multipart import MULTIPART, split
from mailtui.protocols.eas.wbxml import Element as E
from mailtui.protocols.eas.wbxml import WbxmlError, encode
from mailtui.protocols.net.credentials import Credentials
from tests.servers.http_replay import Answer, ReplayServer


def multipart(parts: list[bytes]) -> bytes:
    """[MS-ASCMD] 2.2.2.10.1: PartCount, then (Offset, Count) per part, then the parts."""
    head = 4 + 8 * len(parts)
    table, offset = [], head
    for part in parts:
        table.append(struct.pack("<ii", offset, len(part)))
        offset += len(part)
    return struct.pack("<i", len(parts)) + b"".join(table) + b"".join(parts)


def fetch_answer(server_id: str, part: str) -> E:
    return E("ItemOperations:Fetch", [
        E("ItemOperations:Status", "1"),
        E("AirSync:CollectionId", "5"),
        E("AirSync:ServerId", server_id),
        E("ItemOperations:Properties", [
            E("AirSyncBase:Body", [E("AirSyncBase:Type", "4"),
                                   E("ItemOperations:Part", part)]),
        ]),
    ])  # fmt: skip


def http(server: ReplayServer) -> EasHttp:
    return EasHttp(server.url, username="ann", credentials=Credentials(password="pw"),
                   device_id="dev1", allow_plain=True, timeout=5.0)  # fmt: skip


def test_split_reads_the_part_table() -> None:
    assert split(multipart([b"doc", b"", b"body\r\n"])) == [b"doc", b"", b"body\r\n"]


@pytest.mark.parametrize(
    "body",
    [
        b"\x01\x00",  # shorter than the count
        struct.pack("<i", 0),  # no part at all
        struct.pack("<i", 3) + b"\x00" * 8,  # a table longer than the answer
        struct.pack("<iii", 1, 12, 50) + b"short",  # a part past the end
        struct.pack("<iii", 1, 0, 4) + b"abcd",  # a part inside the table
    ],
)
def test_a_malformed_multipart_answer_is_an_error(body: bytes) -> None:
    with pytest.raises(WbxmlError, match="multipart"):
        split(body)


async def test_fetch_asks_multipart_and_takes_each_body_from_its_part() -> None:
    one = b"Subject: one\r\n\r\n" + bytes(range(256)) * 400  # any bytes, as they are
    two = b"Subject: two\r\n\r\nhi\r\n"
    doc = encode(E("ItemOperations:ItemOperations", [
        E("ItemOperations:Status", "1"),
        E("ItemOperations:Response", [fetch_answer("5:1", "1"), fetch_answer("5:2", "2"),
                                      fetch_answer("5:3", "9")]),  # a part that is not there
    ]))  # fmt: skip
    answer = Answer(200, {"Content-Type": MULTIPART}, multipart([doc, one, two]))
    with ReplayServer([answer]) as server:
        eas = http(server)
        got = await items.fetch(eas, "5", ["5:1", "5:2", "5:3"])
        await eas.aclose()
    assert got == {"5:1": one, "5:2": two}
    assert server.requests[0].headers["ms-asacceptmultipart"] == "T"


async def test_a_server_that_ignores_the_header_answers_inline() -> None:
    doc = encode(E("ItemOperations:ItemOperations", [
        E("ItemOperations:Status", "1"),
        E("ItemOperations:Response", [E("ItemOperations:Fetch", [
            E("ItemOperations:Status", "1"), E("AirSync:ServerId", "5:1"),
            E("ItemOperations:Properties", [E("AirSyncBase:Body", [
                E("AirSyncBase:Type", "4"), E("AirSyncBase:Data", "Subject: x\r\n\r\ny\r\n")])]),
        ])]),
    ]))  # fmt: skip
    with ReplayServer([Answer(200, {"Content-Type": "application/vnd.ms-sync.wbxml"}, doc)]) as s:
        eas = http(s)
        got = await items.fetch(eas, "5", ["5:1"])
        await eas.aclose()
    assert got == {"5:1": b"Subject: x\r\n\r\ny\r\n"}
