"""Address lists as the user types them in the compose form, and as headers carry them.

``parse_addresses("Ann <ann@example.org>, bob@example.org")`` gives ``Address`` values or
raises ``AddressError`` naming the entry that is wrong, in plain words, so the form can
show it next to the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import getaddresses

from mailtui.errors import MailtuiError
from mailtui.models import Address

__all__ = ["AddressError", "addr_key", "format_address", "parse_addresses", "unique"]

# Deliberately simple: one "@", no spaces or brackets in either half, a dot-free domain
# allowed for intranets ("root@localhost"). The server has the last word anyway.
_ADDR = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AddressError(MailtuiError, ValueError):
    """An address list the user typed cannot be used; ``str()`` says which entry, why."""


def addr_key(addr: str) -> str:
    """Comparison key of an address: case-folded (servers treat local parts so in
    practice, though RFC 5321 allows them to differ)."""
    return addr.strip().casefold()


def parse_addresses(text: str) -> tuple[Address, ...]:
    """Comma-separated addresses (``Name <a@b>``, ``"Last, First" <a@b>``, ``a@b``).

    Raises:
        AddressError: an entry is not an address.
    """
    text = _CONTROL.sub(" ", text).strip().rstrip(",;").strip()
    if not text:
        return ()
    # ";" is a common separator in other clients; outside quotes it cannot be valid here.
    text = _outside_quotes(text, ";", ",")
    text = re.sub(r",(\s*,)+", ",", text).strip(", ")
    out: list[Address] = []
    for name, addr in getaddresses([text]):
        name, addr = name.strip(), addr.strip()
        if not name and not addr:  # what the parser gives for text it cannot read
            raise AddressError(f"cannot read the addresses in {text!r}")
        if not _ADDR.match(addr):
            shown = f"{name} <{addr}>" if name and addr else (addr or name)
            raise AddressError(f"not an email address: {shown!r}")
        out.append(Address(name, addr))
    if not out:
        raise AddressError(f"not an email address: {text!r}")
    return tuple(out)


def _outside_quotes(text: str, old: str, new: str) -> str:
    out: list[str] = []
    quoted = False
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == old and not quoted:
            ch = new
        out.append(ch)
    return "".join(out)


def format_address(a: Address) -> str:
    """``Name <addr>`` for display and editing (the name quoted when it needs it)."""
    if not a.name:
        return a.addr
    name = a.name
    if re.search(r'[,;:<>@()\[\]"\\.]', name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{a.addr}>"


def unique(addresses: Iterable[Address], exclude: Iterable[str] = ()) -> tuple[Address, ...]:
    """``addresses`` without repeats (first one wins) and without those in ``exclude``."""
    seen = {addr_key(a) for a in exclude}
    out: list[Address] = []
    for a in addresses:
        key = addr_key(a.addr)
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(a)
    return tuple(out)
