"""mailtui's WBXML against an independent implementation: libwbxml's ``xml2wbxml`` and
``wbxml2xml`` (Debian's libwbxml2-utils, installed by scripts/install-test-deps.sh).

- Every token of every code page is named by libwbxml as by ``codepages.py`` (the names
  libwbxml spells otherwise are listed in ``LIBWBXML_NAMES``; tokens newer than the
  installed libwbxml in ``NEWER_THAN_LIBWBXML``), and every token libwbxml knows is in
  ``codepages.py``.
- For realistic command documents: libwbxml decodes what mailtui encodes into the same
  tree, libwbxml encodes the same tree into the very same bytes, and mailtui decodes
  those.

The tools missing is a failure, not a skip: the cross-check is the point.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from mailtui.protocols.eas import codepages
from mailtui.protocols.eas.wbxml import Element, decode, encode
from tests.unit.eas_samples import DOCUMENTS

SOGO = sorted((Path(__file__).parents[1] / "data" / "eas" / "sogo-5.8").glob("*.wbxml"))

DOCTYPE = (
    '<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" '
    '"http://www.microsoft.com/">'
)

# (namespace, name in MS-ASWBXML) -> libwbxml's name for the same token.
_RECURRENCE = ("Type", "Until", "Occurrences", "Interval", "DayOfWeek", "DayOfMonth",
               "WeekOfMonth", "MonthOfYear")  # fmt: skip
LIBWBXML_NAMES: dict[tuple[str, str], str] = {
    ("Contacts", "AssistantPhoneNumber"): "AssistantTelephoneNumber",
    **{
        ("Contacts", f"{kind}Address{part}"): f"{kind}{part}"
        for kind in ("Business", "Home", "Other")
        for part in ("City", "Country", "PostalCode", "State", "Street")
    },
    ("Email", "Att0id"): "AttOId",
    ("Email", "ReplyTo"): "Reply-To",
    ("Email", "DtStamp"): "DTStamp",
    ("Email", "Status"): "FlagStatus",
    **{("Email", name): f"Recurrence_{name}" for name in _RECURRENCE},
    ("Calendar", "Timezone"): "TimeZone",
    ("Calendar", "Email"): "Attendee_Email",
    ("Calendar", "Name"): "Attendee_Name",
    ("Calendar", "DtStamp"): "DTStamp",
    ("Calendar", "Deleted"): "Exception_Deleted",
    ("Calendar", "ExceptionStartTime"): "Exception_StartTime",
    ("Calendar", "OrganizerEmail"): "Organizer_Email",
    ("Calendar", "OrganizerName"): "Organizer_Name",
    ("Calendar", "AttendeeStatus"): "Attendee_Status",
    ("Calendar", "AttendeeType"): "Attendee_Type",
    **{("Calendar", name): f"Recurrence_{name}" for name in _RECURRENCE},
    **{
        ("Tasks", name): f"Recurrence_{name}"
        for name in (*_RECURRENCE, "Start", "Regenerate", "DeadOccur")
    },
    ("Tasks", "UtcDueDate"): "UTCDueDate",
    ("Tasks", "UtcStartDate"): "UTCStartDate",
    ("Provision", "RequireStorageCardEncryption"): "DeviceEncryptionEnabled",
    ("Settings", "SMTPAddress"): "SmtpAddress",
    ("Settings", "RightsManagementInformation"): "ihsManagementInformation",
    ("ComposeMail", "Mime"): "MIME",
    ("ComposeMail", "Name"): "ForwardeeName",
    ("ComposeMail", "Email"): "ForwardeeEmail",
    ("RightsManagement", "Owner"): "RMOwner",
    ("RightsManagement", "RemoveRightsManagementProtection"): (
        "RemoveRightsManagementDistribution"
    ),
}
# Tags libwbxml reads and writes as base64 of opaque data (WBXML_TAG_OPTION_BINARY).
LIBWBXML_BINARY = {
    "ComposeMail:Mime", "Email2:ConversationId", "Email2:ConversationIndex",
    "AirSyncBase:Content", "ItemOperations:ConversationId", "Search:ConversationId",
    "ResolveRecipients:Data", "Gal:Data",
}  # fmt: skip
# Added to MS-ASWBXML after libwbxml 0.11.8 (Debian 12): unknown to that release.
NEWER_THAN_LIBWBXML = {
    "MeetingResponse:ProposedStartTime",
    "MeetingResponse:ProposedEndTime",
    "Provision:AccountOnlyRemoteWipe",
    *(f"Find:{name}" for name in codepages.PAGES[25][1].values()),
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: run scripts/install-test-deps.sh (libwbxml2-utils)"
    return path


def _run(tool: str, args: list[str], data: bytes, tmp_path: Path) -> bytes:
    source = tmp_path / "in"
    target = tmp_path / "out"
    source.write_bytes(data)
    target.unlink(missing_ok=True)
    subprocess.run(
        [_tool(tool), *args, "-o", str(target), str(source)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return target.read_bytes()


def libwbxml_decode(data: bytes, tmp_path: Path) -> ET.Element:
    xml = _run("wbxml2xml", ["-l", "ACTIVESYNC", "-m", "0", "-k"], data, tmp_path)
    # A CR in text would become LF when parsed; libwbxml writes it raw.
    return ET.fromstring(xml.replace(b"\r", b"&#13;"))


def libwbxml_encode(xml: str, tmp_path: Path) -> bytes:
    return _run("xml2wbxml", ["-a", "-n", "-k", "-v", "1.3"], xml.encode(), tmp_path)


def _libwbxml_name(element: Element) -> str:
    return LIBWBXML_NAMES.get((element.namespace, element.name), element.name)


def to_xml(root: Element) -> str:
    """The document as libwbxml reads it: its names, a namespace declared where the code
    page changes, base64 for its binary tags."""
    out: list[str] = ['<?xml version="1.0" encoding="utf-8"?>', DOCTYPE]

    def write(element: Element, page: int | None) -> None:
        name = _libwbxml_name(element)
        xmlns = f' xmlns="{element.namespace}:"' if element.page != page else ""
        if element.children:
            out.append(f"<{name}{xmlns}>")
            for child in element.children:
                write(child, element.page)
            out.append(f"</{name}>")
        elif not element.data:
            out.append(f"<{name}{xmlns}/>")
        else:
            if element.tag in LIBWBXML_BINARY:
                text = base64.b64encode(element.data).decode()
            else:
                text = escape(element.data.decode("utf-8")).replace("\r", "&#13;")
            out.append(f"<{name}{xmlns}>{text}</{name}>")

    write(root, None)
    return "".join(out)


def from_libwbxml(node: ET.Element) -> Element:
    """libwbxml's XML of a document as mailtui's tree."""
    namespace, _, name = node.tag[1:].partition("}")
    namespace = namespace.rstrip(":")
    names = {value: key for (ns, key), value in LIBWBXML_NAMES.items() if ns == namespace}
    element = Element(f"{namespace}:{names.get(name, name)}")
    if len(node):
        element.children = [from_libwbxml(child) for child in node]
    elif node.text:
        if element.tag in LIBWBXML_BINARY:
            element.value, element.opaque = base64.b64decode(node.text), True
        else:
            element.value = node.text.encode("utf-8")
    return element


def test_the_tools_are_there() -> None:
    _tool("xml2wbxml")
    _tool("wbxml2xml")


@pytest.mark.parametrize("page", sorted(codepages.PAGES))
def test_every_token_is_named_as_libwbxml_names_it(page: int, tmp_path: Path) -> None:
    """One document per page holding every token 0x05-0x3F (known to us or not) as
    an empty tag under a root of that page: libwbxml's name for each, compared."""
    namespace, names = codepages.PAGES[page]
    tokens = range(0x06, 0x40)
    root = Element(
        codepages.tag_name(page, 0x05),
        [Element(codepages.tag_name(page, token)) for token in tokens],
    )
    decoded = libwbxml_decode(encode(root), tmp_path)
    assert len(decoded) == len(tokens)
    theirs = {0x05: decoded.tag.partition("}")[2]}
    theirs.update(
        (token, node.tag.partition("}")[2]) for token, node in zip(tokens, decoded, strict=True)
    )

    mismatched = {}
    for token in range(0x05, 0x40):
        ours = names.get(token)
        tag = f"{namespace}:{ours}"
        expected = (
            "unknown"
            if ours is None or tag in NEWER_THAN_LIBWBXML
            else LIBWBXML_NAMES.get((namespace, ours), ours)
        )
        if theirs[token] != expected:
            mismatched[f"0x{token:02X}"] = (ours, theirs[token])
    assert mismatched == {}, f"page {page} ({namespace}): ours vs libwbxml's"


def test_the_names_libwbxml_spells_otherwise_are_real_tags() -> None:
    for namespace, name in LIBWBXML_NAMES:
        codepages.lookup(f"{namespace}:{name}")
    for tag in LIBWBXML_BINARY | NEWER_THAN_LIBWBXML:
        codepages.lookup(tag)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_libwbxml_decodes_what_mailtui_encodes(name: str, tmp_path: Path) -> None:
    document = DOCUMENTS[name]()
    assert from_libwbxml(libwbxml_decode(encode(document), tmp_path)) == document


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_libwbxml_encodes_the_same_bytes_and_mailtui_decodes_them(
    name: str, tmp_path: Path
) -> None:
    document = DOCUMENTS[name]()
    theirs = libwbxml_encode(to_xml(document), tmp_path)
    assert theirs == encode(document)
    assert decode(theirs) == document


def test_the_specification_example_through_libwbxml(tmp_path: Path) -> None:
    from tests.unit.test_eas_wbxml import SPEC_EXAMPLE_BYTES

    decoded = from_libwbxml(libwbxml_decode(SPEC_EXAMPLE_BYTES, tmp_path))
    assert decoded == decode(SPEC_EXAMPLE_BYTES)
    assert libwbxml_encode(to_xml(decoded), tmp_path) == SPEC_EXAMPLE_BYTES


def test_the_sogo_responses_are_there() -> None:
    assert len(SOGO) == 9


@pytest.mark.parametrize("path", SOGO, ids=[p.stem for p in SOGO])
def test_sogo_responses_decode_alike_and_encode_to_the_servers_bytes(
    path: Path, tmp_path: Path
) -> None:
    data = path.read_bytes()
    ours = decode(data)
    assert from_libwbxml(libwbxml_decode(data, tmp_path)) == ours
    assert encode(ours) == data
