"""WBXML as ActiveSync uses it ([MS-ASWBXML] over WBXML 1.3): an element tree, its encoder
and its decoder. Pure functions over bytes, no I/O.

ActiveSync uses tags (one byte each, in the code pages of ``codepages.py``), inline UTF-8
strings and opaque data, and nothing else of WBXML: no attributes, string tables,
entities or processing instructions. So an ``Element`` is a tag with either children or a
value, the value kept as the bytes that came (a MIME message sent as a string may hold
bytes that are not UTF-8: ``data`` gives them back untouched, ``text`` decodes them).

The decoder reads hostile input safely: it is one pass over the bytes (linear time; a
string or opaque block is sliced, not walked), checks every length against what is
left, bounds the nesting depth and the number of elements, and raises ``WbxmlError``
naming what is wrong and where. A tag token no table names is kept under its numbers
(``codepages.tag_name``), never refused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from typing import Final

from mailtui.errors import TransientError
from mailtui.protocols.eas import codepages

#: Deeper than any ActiveSync document (a calendar exception in a Sync is about 10).
MAX_DEPTH: Final = 64
#: About 60 times the elements of a full Sync window of 512 messages.
MAX_ELEMENTS: Final = 1_000_000

# Global tokens (WBXML 1.3, section 5.8.1)
SWITCH_PAGE: Final = 0x00
END: Final = 0x01
STR_I: Final = 0x03
OPAQUE: Final = 0xC3
_UNUSED = {
    0x02: "ENTITY", 0x04: "LITERAL", 0x40: "EXT_I_0", 0x41: "EXT_I_1", 0x42: "EXT_I_2",
    0x43: "PI", 0x44: "LITERAL_C", 0x80: "EXT_T_0", 0x81: "EXT_T_1", 0x82: "EXT_T_2",
    0x83: "STR_T", 0x84: "LITERAL_A", 0xC0: "EXT_0", 0xC1: "EXT_1", 0xC2: "EXT_2",
    0xC4: "LITERAL_AC",
}  # fmt: skip
_CONTENT = 0x40
_ATTRIBUTES = 0x80
#: Version 1.3, public id 1 (unknown), charset 106 (UTF-8), empty string table.
HEADER: Final = b"\x03\x01\x6a\x00"
_CHARSETS = {0: "unknown (read as UTF-8)", 3: "US-ASCII", 106: "UTF-8"}


class WbxmlError(TransientError):
    """A response is not ActiveSync WBXML (cut short, damaged, or another format); the
    text says what was wrong and at which byte."""


class Element:
    """One tag of a document: ``Element("AirSync:SyncKey", "0")``,
    ``Element("AirSync:Collections", [child, …])``, ``Element("ComposeMail:Mime", raw)``.

    Content: a ``str`` is sent as an inline string, ``bytes`` as opaque data (or as an
    inline string with ``opaque=False``, e.g. a MIME message that must go as a string), a
    list as child elements, None for an empty tag. Tags are ``"Namespace:Name"``
    (``codepages``); a name that no page has raises ValueError.
    """

    __slots__ = ("page", "token", "children", "value", "opaque")

    page: int
    token: int
    children: list[Element]
    value: bytes | None
    opaque: bool

    def __init__(
        self,
        tag: str,
        content: str | bytes | Iterable[Element] | None = None,
        *,
        opaque: bool | None = None,
    ) -> None:
        self.page, self.token = codepages.lookup(tag)
        self.children = []
        self.value = None
        self.opaque = False
        if isinstance(content, str):
            self.value = content.encode("utf-8")
            self.opaque = bool(opaque)
        elif isinstance(content, bytes | bytearray | memoryview):
            self.value = bytes(content)
            self.opaque = True if opaque is None else opaque
        elif content is not None:
            self.children = list(content)

    @property
    def tag(self) -> str:
        """``"Namespace:Name"``."""
        return codepages.tag_name(self.page, self.token)

    @property
    def namespace(self) -> str:
        return self.tag.partition(":")[0]

    @property
    def name(self) -> str:
        return self.tag.partition(":")[2]

    @property
    def text(self) -> str:
        """The value as text ("" when there is none); bytes that are not UTF-8 become
        U+FFFD (``data`` has them as they came)."""
        return self.value.decode("utf-8", "replace") if self.value else ""

    @property
    def data(self) -> bytes:
        """The value as it came (b"" when there is none)."""
        return self.value or b""

    def append(self, child: Element) -> Element:
        self.children.append(child)
        return child

    def findall(self, path: str) -> list[Element]:
        """Every element at ``path``, a ``/``-separated list of child names below this
        one. A name without a namespace is in the namespace of the element it is looked
        up in (as a default namespace in XML): ``"Collections/Collection/Status"``,
        ``"Commands/Add/ApplicationData/AirSyncBase:Body/Data"``."""
        found = [self]
        for step in path.split("/"):
            keys: dict[int, tuple[int, int]] = {}
            below: list[Element] = []
            for parent in found:
                key = keys.get(parent.page)
                if key is None:
                    qualified = step if ":" in step else f"{parent.namespace}:{step}"
                    key = keys[parent.page] = codepages.lookup(qualified)
                below.extend(c for c in parent.children if (c.page, c.token) == key)
            found = below
        return found

    def find(self, path: str) -> Element | None:
        """The first element at ``path`` (see ``findall``), or None."""
        found = self.findall(path)
        return found[0] if found else None

    def findtext(self, path: str, default: str | None = None) -> str | None:
        """The text of the first element at ``path``, ``default`` when there is none."""
        found = self.find(path)
        return default if found is None else found.text

    def iter(self) -> Iterator[Element]:
        """This element and all below it, in document order."""
        stack = [self]
        while stack:
            element = stack.pop()
            yield element
            stack.extend(reversed(element.children))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Element):
            return NotImplemented
        return (
            (self.page, self.token, self.opaque, self.data)
            == (other.page, other.token, other.opaque, other.data)
            and self.children == other.children
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        if self.children:
            return f"Element({self.tag!r}, [{len(self.children)} children])"
        if self.value is None:
            return f"Element({self.tag!r})"
        shown = self.value[:40] if self.opaque else self.text[:40]
        more = "…" if len(self.value) > 40 else ""
        return f"Element({self.tag!r}, {shown!r}{more})"


def encode(root: Element) -> bytes:
    """The WBXML bytes of a document: the header ActiveSync expects (1.3, UTF-8, no
    string table), then the tags, switching code pages only when a tag needs another.
    An empty value is sent as an empty tag. ValueError for text with a NUL byte, which
    an inline string cannot carry."""
    out = bytearray(HEADER)
    page = 0
    stack: list[Iterator[Element]] = [iter((root,))]
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
            if stack:
                out.append(END)
            continue
        if element.page != page:
            page = element.page
            out += bytes((SWITCH_PAGE, page))
        value = element.value
        if element.children:
            if value:
                raise ValueError(f"{element.tag} has both a value and child elements")
            out.append(element.token | _CONTENT)
            stack.append(iter(element.children))
        elif value is None or (not value and not element.opaque):
            out.append(element.token)
        elif element.opaque:
            out.append(element.token | _CONTENT)
            out.append(OPAQUE)
            out += _mb_u_int32(len(value))
            out += value
            out.append(END)
        else:
            if 0 in value:
                raise ValueError(f"the text of {element.tag} holds a NUL byte")
            out.append(element.token | _CONTENT)
            out.append(STR_I)
            out += value
            out.append(0)
            out.append(END)
    return bytes(out)


def _mb_u_int32(value: int) -> bytes:
    """WBXML's multi-byte integer: 7 bits a byte, most significant first."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))


def _read_mb(data: bytes, pos: int, what: str) -> tuple[int, int]:
    value = 0
    for i in range(pos, min(pos + 5, len(data))):
        byte = data[i]
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            if value > 0xFFFFFFFF:
                raise WbxmlError(f"WBXML: {what} at byte {pos} is larger than 32 bits")
            return value, i + 1
    if pos + 5 <= len(data):
        raise WbxmlError(f"WBXML: {what} at byte {pos} is longer than 5 bytes")
    raise WbxmlError(f"WBXML: cut short in the {what} at byte {pos}")


def _header(data: bytes) -> int:
    """Checks the header; the position of the body."""
    if not data:
        raise WbxmlError("WBXML: the document is empty")
    if data[0] not in (1, 2, 3):
        start = data[:8].hex(" ")
        raise WbxmlError(f"WBXML: not a WBXML document (it starts with {start})")
    public_id, pos = _read_mb(data, 1, "public identifier")
    if public_id == 0:  # an index into the string table: read and ignored
        _, pos = _read_mb(data, pos, "public identifier index")
    charset, pos = _read_mb(data, pos, "character set")
    if charset not in _CHARSETS:
        raise WbxmlError(f"WBXML: character set {charset} (MIBenum) is not UTF-8")
    table, pos = _read_mb(data, pos, "string table length")
    if table > len(data) - pos:
        raise WbxmlError(f"WBXML: the string table of {table} bytes runs past the end")
    return pos + table  # ActiveSync never refers to a string table: skipped


def decode(
    data: bytes, *, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS
) -> Element:
    """The element tree of a WBXML document; WbxmlError when it is not one that
    ActiveSync could send (see the module docstring).

    The garbage collector is paused meanwhile: a tree has no reference cycles, and the
    collections that a million new objects would start cost twice the decoding."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _decode(data, max_depth, max_elements)
    finally:
        if collecting:
            gc.enable()


def _decode(data: bytes, max_depth: int, max_elements: int) -> Element:
    pos = _header(data)
    end = len(data)
    page = 0
    root: Element | None = None
    stack: list[Element] = []
    top: Element | None = None  # stack[-1]
    count = 0
    gathered: bytearray | None = None  # the pieces of the innermost open element's value
    new = Element.__new__
    while pos < end:
        byte = data[pos]
        pos += 1
        if 0x05 <= byte <= 0x3F or 0x45 <= byte <= 0x7F:  # a tag, without attributes
            element = new(Element)
            element.page = page
            element.token = byte & 0x3F
            element.children = []
            element.value = None
            element.opaque = False
            count += 1
            if count > max_elements:
                raise WbxmlError(f"WBXML: more than {max_elements} elements")
            if top is not None:
                if top.value is not None:
                    raise WbxmlError(f"WBXML: {top.tag} mixes text and elements")
                top.children.append(element)
            elif root is None:
                root = element
            else:
                raise WbxmlError(f"WBXML: a second document element at byte {pos - 1}")
            if byte & _CONTENT:
                # Most elements hold one inline string: taken at once, not token by token.
                if pos < end and data[pos] == STR_I:
                    stop = data.find(0, pos + 1)
                    if 0 <= stop < end - 1 and data[stop + 1] == END:
                        element.value = data[pos + 1 : stop]
                        pos = stop + 2
                        if top is None:
                            break
                        continue
                stack.append(element)
                top = element
                if len(stack) > max_depth:
                    raise WbxmlError(f"WBXML: elements nested deeper than {max_depth}")
            elif top is None:
                break
        elif byte == END:
            if top is None:
                raise WbxmlError(f"WBXML: END at byte {pos - 1} closes no element")
            if gathered is not None:
                top.value, gathered = bytes(gathered), None
            stack.pop()
            if not stack:
                break
            top = stack[-1]
        elif byte in (STR_I, OPAQUE):
            if byte == STR_I:
                stop = data.find(0, pos)
                if stop < 0:
                    raise WbxmlError(f"WBXML: the string at byte {pos} has no end")
                chunk, pos = data[pos:stop], stop + 1
            else:
                size, pos = _read_mb(data, pos, "opaque length")
                if size > end - pos:
                    raise WbxmlError(
                        f"WBXML: opaque data of {size} bytes at byte {pos} runs past the "
                        f"end ({end - pos} bytes left)"
                    )
                chunk, pos = data[pos : pos + size], pos + size
            if top is None:
                raise WbxmlError(f"WBXML: content outside any element at byte {pos}")
            if top.children:
                raise WbxmlError(f"WBXML: {top.tag} mixes text and elements")
            if byte == OPAQUE:
                top.opaque = True
            if top.value is None:
                top.value = chunk
            elif gathered is None:  # a second piece: gathered in place, so that many
                gathered = bytearray(top.value) + chunk  # pieces stay linear
            else:
                gathered += chunk
        elif byte == SWITCH_PAGE:
            if pos >= end:
                raise WbxmlError("WBXML: cut short after a page switch")
            page = data[pos]
            pos += 1
        elif byte in _UNUSED:
            raise WbxmlError(
                f"WBXML: {_UNUSED[byte]} (byte {pos - 1}) is not used by ActiveSync"
            )
        else:
            raise WbxmlError(
                f"WBXML: {codepages.tag_name(page, byte & 0x3F)} at byte {pos - 1} "
                "has attributes, which ActiveSync does not use"
            )
    if stack:
        raise WbxmlError(f"WBXML: cut short inside {stack[-1].tag}")
    if root is None:
        raise WbxmlError("WBXML: the document has no element")
    if pos < end:
        raise WbxmlError(f"WBXML: {end - pos} bytes after the end of the document")
    return root
