"""The ActiveSync WBXML codec (mailtui/protocols/eas/wbxml.py, codepages.py): the
byte-by-byte example of [MS-ASWBXML] section 3, realistic documents, the element tree's
lookups, a hypothesis round trip, and hostile input that must end in a WbxmlError."""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtui.errors import MailtuiError, TransientError
from mailtui.protocols.eas import codepages
from mailtui.protocols.eas.wbxml import (
    MAX_DEPTH,
    Element,
    WbxmlError,
    _mb_u_int32,
    _read_mb,
    decode,
    encode,
)
from tests.unit.eas_samples import DOCUMENTS, MIME

# [MS-ASWBXML] section 3 "Algorithm Examples": a Sync response adding a contact.
SPEC_EXAMPLE_BYTES = bytes.fromhex(
    "03 01 6A 00 45 5C 4F 50 03 43 6F 6E 74 61 63 74 73 00 01 4B 03 32 00 01 52 03 32 00"
    "01 4E 03 31 00 01 56 47 4D 03 32 3A 31 00 01 5D 00 11 4A 46 03 31 00 01 4C 03 30 00"
    "01 4D 03 31 00 01 01 00 01 5E 03 46 75 6E 6B 2C 20 44 6F 6E 00 01 5F 03 44 6F 6E 00"
    "01 69 03 46 75 6E 6B 00 01 00 11 56 03 31 00 01 01 01 01 01 01 01"
)
HEADER = "03 01 6A 00"


def spec_example() -> Element:
    E = Element
    body = E(
        "AirSyncBase:Body",
        [E("AirSyncBase:Type", "1"), E("AirSyncBase:EstimatedDataSize", "0"),
         E("AirSyncBase:Truncated", "1")],
    )  # fmt: skip
    data = E(
        "AirSync:ApplicationData",
        [body, E("Contacts:FileAs", "Funk, Don"), E("Contacts:FirstName", "Don"),
         E("Contacts:LastName", "Funk"), E("AirSyncBase:NativeBodyType", "1")],
    )  # fmt: skip
    add = E("AirSync:Add", [E("AirSync:ServerId", "2:1"), data])
    collection = E(
        "AirSync:Collection",
        [E("AirSync:Class", "Contacts"), E("AirSync:SyncKey", "2"),
         E("AirSync:CollectionId", "2"), E("AirSync:Status", "1"),
         E("AirSync:Commands", [add])],
    )  # fmt: skip
    return E("AirSync:Sync", [E("AirSync:Collections", [collection])])


def wbxml(body: str) -> bytes:
    return bytes.fromhex(HEADER + body)


# The specification's example


def test_the_specification_example_encodes_byte_for_byte() -> None:
    assert encode(spec_example()) == SPEC_EXAMPLE_BYTES


def test_the_specification_example_decodes_to_its_tree() -> None:
    decoded = decode(SPEC_EXAMPLE_BYTES)
    assert decoded == spec_example()
    assert decoded.tag == "AirSync:Sync"
    assert decoded.findtext("Collections/Collection/Class") == "Contacts"
    data = decoded.find("Collections/Collection/Commands/Add/ApplicationData")
    assert data is not None
    assert [c.tag for c in data.children] == [
        "AirSyncBase:Body", "Contacts:FileAs", "Contacts:FirstName", "Contacts:LastName",
        "AirSyncBase:NativeBodyType",
    ]  # fmt: skip
    assert data.findtext("Contacts:FileAs") == "Funk, Don"
    assert data.findtext("AirSyncBase:Body/Truncated") == "1"


# Realistic documents


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documents_round_trip(name: str) -> None:
    document = DOCUMENTS[name]()
    encoded = encode(document)
    assert encoded.startswith(bytes.fromhex(HEADER))
    assert decode(encoded) == document
    assert encode(decode(encoded)) == encoded


def test_a_mime_body_sent_as_a_string_comes_back_byte_for_byte() -> None:
    latin1 = MIME.replace("Grüße".encode(), "Grüße".encode("latin-1"))
    document = Element("AirSyncBase:Body", [Element("AirSyncBase:Data", latin1, opaque=False)])
    encoded = encode(document)
    assert b"\x03" + latin1 + b"\x00" in encoded  # an inline string, not opaque
    data = decode(encoded).find("Data")
    assert data is not None and not data.opaque
    assert data.data == latin1
    assert "Gr\ufffd\ufffde" in data.text  # text replaces what is not UTF-8


def test_opaque_data_keeps_every_byte() -> None:
    raw = bytes(range(256)) * 3
    encoded = encode(Element("ComposeMail:SendMail", [Element("ComposeMail:Mime", raw)]))
    assert encoded == wbxml("00 15 45 50 C3 86 00") + raw + bytes.fromhex("01 01")
    mime = decode(encoded).find("Mime")
    assert mime is not None and mime.opaque and mime.data == raw


def test_empty_tags_and_empty_values() -> None:
    document = Element(
        "AirSync:Sync",
        [Element("AirSync:GetChanges"), Element("AirSync:SyncKey", ""),
         Element("Email2:ConversationId", b"")],
    )  # fmt: skip
    # an empty string is an empty tag; empty opaque data stays opaque data
    assert encode(document) == wbxml("45 13 0B 00 16 49 C3 00 01 01")
    decoded = decode(encode(document))
    assert decoded == document
    assert decoded.children[1].text == "" and decoded.children[1].value is None


def test_an_empty_inline_string_reads_as_empty_text() -> None:
    decoded = decode(wbxml("45 4B 03 00 01 01"))
    assert decoded.findtext("SyncKey") == ""
    assert decoded == Element("AirSync:Sync", [Element("AirSync:SyncKey")])


def test_pieces_of_a_value_are_joined() -> None:
    decoded = decode(wbxml("45 4B 03 61 00 03 62 00 C3 01 63 03 64 00 01 01"))
    key = decoded.find("SyncKey")
    assert key is not None and key.data == b"abcd" and key.opaque


def test_a_root_holding_text() -> None:
    assert decode(wbxml("4B 03 31 00 01")) == Element("AirSync:SyncKey", "1")
    with pytest.raises(WbxmlError, match="bytes after the end"):
        decode(wbxml("4B 03 31 00 01 01"))


def test_the_garbage_collector_is_paused_only_while_decoding() -> None:
    assert gc.isenabled()
    decode(SPEC_EXAMPLE_BYTES)
    assert gc.isenabled()
    with pytest.raises(WbxmlError):
        decode(SPEC_EXAMPLE_BYTES[:-1])
    assert gc.isenabled()
    gc.disable()
    try:
        decode(SPEC_EXAMPLE_BYTES)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_root_without_content() -> None:
    assert decode(wbxml("00 07 16")) == Element("FolderHierarchy:FolderSync")
    assert encode(Element("FolderHierarchy:FolderSync")) == wbxml("00 07 16")


def test_the_page_switches_only_when_a_tag_needs_another_page() -> None:
    document = Element(
        "Ping:Ping",
        [Element("Ping:HeartbeatInterval", "60"), Element("AirSync:Status", "1"),
         Element("AirSync:Class", "Email"), Element("Ping:Status", "1")],
    )  # fmt: skip
    assert encode(document) == wbxml(
        "00 0D 45 48 03 36 30 00 01 00 00 4E 03 31 00 01 50 03 45 6D 61 69 6C 00 01"
        "00 0D 47 03 31 00 01 01"
    )


def test_the_header_may_carry_other_versions_and_a_string_table() -> None:
    # WBXML 1.1, public id as a string table index, US-ASCII, a 3-byte string table
    assert decode(bytes.fromhex("01 00 00 03 03 61 62 00 45 01")) == Element("AirSync:Sync")


# Real responses (SOGo 5.8, tests/data/eas/sogo-5.8/README.md)

SOGO = Path(__file__).parents[1] / "data" / "eas" / "sogo-5.8"


def test_a_real_folder_sync_response() -> None:
    document = decode((SOGO / "foldersync-response.wbxml").read_bytes())
    assert document.findtext("Status") == "1"
    adds = document.findall("Changes/Add")
    folders = {a.findtext("DisplayName"): a.findtext("Type") for a in adds}
    assert folders["INBOX"] == "2" and folders["Trash"] == "4" and folders["Sent"] == "5"
    assert document.findtext("Changes/Count") == str(len(adds)) == "9"
    assert all(a.findtext("ServerId") for a in adds)


def test_a_real_sync_response_with_mime_bodies() -> None:
    document = decode((SOGO / "sync-adds-mime-response.wbxml").read_bytes())
    adds = document.findall("Collections/Collection/Commands/Add")
    assert len(adds) == 2
    subjects = {a.findtext("ApplicationData/Email:Subject") for a in adds}
    assert subjects == {"Grüße", "Report with attachment"}
    for add in adds:
        body = add.find("ApplicationData/AirSyncBase:Body")
        assert body is not None and body.findtext("Type") == "4"
        data = body.find("Data")
        assert data is not None and data.data.startswith(b"From: ")
        assert b"Message-ID: <m" in data.data


# Multi-byte integers


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "00"), (0x7F, "7F"), (0x80, "81 00"), (0xA0, "81 20"), (0x3FFF, "FF 7F"),
     (0x4000, "81 80 00"), (0xFFFFFFFF, "8F FF FF FF 7F")],
)  # fmt: skip
def test_multi_byte_integers(value: int, encoded: str) -> None:
    assert _mb_u_int32(value) == bytes.fromhex(encoded)
    assert _read_mb(bytes.fromhex(encoded), 0, "n") == (value, len(bytes.fromhex(encoded)))


# Tags and lookups


def test_tags_by_name_and_by_numbers() -> None:
    assert codepages.lookup("AirSync:Sync") == (0, 0x05)
    assert codepages.lookup("Find:Picture") == (25, 0x22)
    assert codepages.tag_name(17, 0x16) == "AirSyncBase:NativeBodyType"
    assert codepages.tag_name(2, 0x40 - 1) == "Email:DisallowNewTimeProposal"
    assert codepages.tag_name(17, 0x09) == "AirSyncBase:0x09"
    assert codepages.tag_name(30, 0x05) == "Page30:0x05"
    for tag in ("AirSyncBase:0x09", "Page30:0x05"):
        assert codepages.tag_name(*codepages.lookup(tag)) == tag


@pytest.mark.parametrize(
    "tag", ["AirSync:Synk", "Sync", "Nowhere:Sync", "Email:0x04", "Email:0x40", "Email:0xZZ",
            "Page256:0x05", "PageX:0x05"],
)  # fmt: skip
def test_a_tag_no_page_has_is_refused_when_built(tag: str) -> None:
    with pytest.raises(ValueError, match="no ActiveSync tag"):
        Element(tag)


def test_every_page_from_0_to_25_with_unique_names() -> None:
    assert sorted(codepages.PAGES) == list(range(26))
    for page, (_, names) in codepages.PAGES.items():
        assert all(0x05 <= token <= 0x3F for token in names), page
        assert len(set(names.values())) == len(names), page


def test_a_token_no_table_names_is_kept_and_sent_back_as_it_came() -> None:
    data = wbxml("00 11 4A 49 03 78 00 01 01")  # AirSyncBase 0x09 holding "x"
    decoded = decode(data)
    assert decoded.children[0].tag == "AirSyncBase:0x09"
    assert decoded.children[0].text == "x"
    assert encode(decoded) == data
    assert decode(wbxml("00 1E 45 01")).tag == "Page30:0x05"


def test_findall_and_namespaces_of_unqualified_names() -> None:
    document = decode(encode(DOCUMENTS["folder_sync_response"]()))
    adds = document.findall("Changes/Add")
    assert [a.findtext("DisplayName") for a in adds] == [
        "INBOX", "Sent", "2026 – Ärger & Co", "Personal Address Book",
    ]  # fmt: skip
    assert document.findtext("Changes/Count") == "4"
    assert document.find("Changes/Delete") is None
    assert document.findtext("Changes/Delete", "none") == "none"
    with pytest.raises(ValueError):
        document.find("Changes/Nonsense")
    sync = DOCUMENTS["sync_response"]()
    body = sync.find("Collections/Collection/Commands/Add/ApplicationData/AirSyncBase:Body")
    assert body is not None and body.findtext("Type") == "4"  # Type in AirSyncBase
    assert [e.name for e in sync.iter()][:3] == ["Sync", "Collections", "Collection"]


def test_text_with_a_nul_cannot_be_an_inline_string() -> None:
    with pytest.raises(ValueError, match="NUL"):
        encode(Element("Email:Subject", "a\x00b"))


def test_an_element_with_a_value_and_children_is_refused() -> None:
    element = Element("AirSync:Sync", [Element("AirSync:Status", "1")])
    element.value = b"x"
    with pytest.raises(ValueError, match="both"):
        encode(element)


# Hostile input


def test_wbxml_error_is_a_transient_mailtui_error() -> None:
    assert issubclass(WbxmlError, TransientError)
    assert issubclass(WbxmlError, MailtuiError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<?xml version='1.0'?>", "not a WBXML document"),
        (b"HTTP/1.1 200 OK\r\n", "not a WBXML document"),
        (bytes.fromhex("03 01 04 00 45 01"), "character set 4"),
        (bytes.fromhex("03 01 6A 10 45 01"), "string table of 16 bytes"),
        (bytes.fromhex("03 01 6A"), "cut short in the string table length"),
        (bytes.fromhex("03 81 81 81 81 81 01"), "longer than 5 bytes"),
        (bytes.fromhex("03 90 80 80 80 00 6A 00"), "larger than 32 bits"),
        (wbxml(""), "no element"),
        (wbxml("01"), "closes no element"),
        (wbxml("45"), "cut short inside AirSync:Sync"),
        (wbxml("45 4B 03 31 00"), "cut short inside AirSync:SyncKey"),
        (wbxml("45 4B 03 31"), "has no end"),
        (wbxml("45 4B C3 8F FF FF FF 7F 01 01"), "runs past the end"),
        (wbxml("45 4B C3 05 61 01 01"), "runs past the end"),
        (wbxml("45 4B C3"), "cut short in the opaque length"),
        (wbxml("45 00"), "cut short after a page switch"),
        (wbxml("03 61 00"), "outside any element"),
        (wbxml("45 03 61 00 4B 01 01"), "mixes text and elements"),
        (wbxml("45 4B 01 03 61 00 01"), "mixes text and elements"),
        (wbxml("45 01 45 01"), "bytes after the end"),
        (wbxml("05 05"), "bytes after the end"),
        (wbxml("45 02 41 01"), "ENTITY"),
        (wbxml("45 04 00 01"), "LITERAL"),
        (wbxml("45 43 01"), "PI"),
        (wbxml("45 83 00 01"), "STR_T"),
        (wbxml("45 C0 01"), "EXT_0"),
        (wbxml("C5 01 01"), "attributes"),
        (wbxml("85 01"), "attributes"),
    ],
)
def test_hostile_input_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(WbxmlError, match=message) as caught:
        decode(data)
    assert str(caught.value).startswith("WBXML: ")
    assert "\n" not in str(caught.value)


def test_a_second_root_is_refused() -> None:
    with pytest.raises(WbxmlError, match="bytes after the end"):
        decode(wbxml("45 01 46 01"))


def test_every_cut_of_the_example_is_an_error() -> None:
    for end in range(len(SPEC_EXAMPLE_BYTES)):
        with pytest.raises(WbxmlError):
            decode(SPEC_EXAMPLE_BYTES[:end])


def test_deep_nesting_is_refused() -> None:
    ok = wbxml("45" * MAX_DEPTH + "01" * MAX_DEPTH)
    assert decode(ok).tag == "AirSync:Sync"
    too_deep = wbxml("45" * (MAX_DEPTH + 1) + "01" * (MAX_DEPTH + 1))
    with pytest.raises(WbxmlError, match=f"deeper than {MAX_DEPTH}"):
        decode(too_deep)
    with pytest.raises(WbxmlError, match="deeper than"):
        decode(wbxml("45" * 1_000_000))  # no recursion, no memory blow-up


def test_too_many_elements_are_refused() -> None:
    data = wbxml("45" + "13" * 1000 + "01")
    assert len(decode(data).children) == 1000
    with pytest.raises(WbxmlError, match="more than 500 elements"):
        decode(data, max_elements=500)


def test_many_small_pieces_of_one_value_are_joined() -> None:
    data = wbxml("45 4B" + "03 61 00" * 200_000 + "01 01")
    key = decode(data).find("SyncKey")
    assert key is not None and key.data == b"a" * 200_000


# Properties


_TAGS = sorted(codepages.TAGS)


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> Element:
    element = Element(draw(st.sampled_from(_TAGS)))
    kind = draw(st.sampled_from(["empty", "text", "opaque", "children"] if depth < 4 else
                                ["empty", "text", "opaque"]))  # fmt: skip
    if kind == "text":
        text = draw(st.text(st.characters(blacklist_characters="\x00", codec="utf-8")))
        element.value = text.encode() or None
    elif kind == "opaque":
        element.value, element.opaque = draw(st.binary(max_size=300)), True
    elif kind == "children":
        element.children = draw(st.lists(elements(depth + 1), min_size=1, max_size=4))
    return element


@given(elements())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip(document: Element) -> None:
    encoded = encode(document)
    assert decode(encoded) == document
    assert encode(decode(encoded)) == encoded


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_random_bytes_decode_or_fail_cleanly(data: bytes) -> None:
    with contextlib.suppress(WbxmlError):
        decode(bytes.fromhex(HEADER) + data)


@given(st.data())
@settings(max_examples=300)
def test_damaged_documents_decode_or_fail_cleanly(data: st.DataObject) -> None:
    original = bytearray(SPEC_EXAMPLE_BYTES)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(WbxmlError):
        decode(bytes(original))


def test_repr() -> None:
    element = Element("FolderHierarchy:FolderSync")
    assert repr(element) == "Element('FolderHierarchy:FolderSync')"
    assert repr(Element("Email:Subject", "Hi")) == "Element('Email:Subject', 'Hi')"
