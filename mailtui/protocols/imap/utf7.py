"""Modified UTF-7 (RFC 3501 §5.1.3): how IMAP spells non-ASCII mailbox names on the wire.

Printable ASCII stands for itself except ``&``, written ``&-``; anything else is UTF-16BE,
base64 with ``,`` instead of ``/`` and no padding, between ``&`` and ``-``. Decoding is
lenient: a server that sends a broken name gets it back unchanged, never an exception.
"""

from __future__ import annotations

import base64
import binascii


def encode(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ","))
            out.append("-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def decode(name: str) -> str:
    if "&" not in name:
        return name
    out: list[str] = []
    i = 0
    n = len(name)
    while i < n:
        ch = name[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = name.find("-", i + 1)
        if end < 0:
            return name  # unterminated shift: not modified UTF-7, show it as it came
        chunk = name[i + 1 : end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            try:
                out.append(base64.b64decode(b64, validate=True).decode("utf-16-be"))
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return name
        i = end + 1
    return "".join(out)
