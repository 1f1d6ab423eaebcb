"""The multipart answer of ItemOperations ([MS-ASCMD] 2.2.2.10.1, asked for with the
``MS-ASAcceptMultiPart: T`` header of [MS-ASHTTP] 2.2.1.1.2.2): the WBXML document and
the message bodies as raw bytes beside it, not as WBXML strings inside it.

    int32 part count │ count × (int32 offset, int32 length) │ the parts
    (little-endian; part 0 is the WBXML; a ``Body/Part`` element holds the index of the
    part that is the body, in place of ``Body/Data``)

A large message then costs no WBXML string scanning, and its bytes come as the server
has them.
"""

from __future__ import annotations

import struct

from mailtui.protocols.eas.wbxml import WbxmlError

MULTIPART = "application/vnd.ms-sync.multipart"
_INT = struct.Struct("<i")


def split(body: bytes) -> list[bytes]:
    """The parts of a multipart answer. Raises WbxmlError when the header does not
    describe parts within ``body``."""
    if len(body) < _INT.size:
        raise WbxmlError("multipart answer: too short for its part count")
    (count,) = _INT.unpack_from(body, 0)
    table_end = _INT.size * (1 + 2 * count)
    if count < 1 or table_end > len(body):
        raise WbxmlError(f"multipart answer: {count} parts do not fit in {len(body)} bytes")
    parts = []
    for i in range(count):
        offset, length = struct.unpack_from("<ii", body, _INT.size * (1 + 2 * i))
        if offset < table_end or length < 0 or offset + length > len(body):
            raise WbxmlError(f"multipart answer: part {i} lies outside the answer")
        parts.append(body[offset : offset + length])
    return parts
