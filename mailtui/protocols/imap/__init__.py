"""IMAP accounts: a small asyncio protocol layer of our own and the ``Backend`` over it.

    wire.py        response parser (literal-aware), argument quoting, UID sets
    connection.py  one connection: TLS/STARTTLS, login (SASL), commands, IDLE
    sasl.py        PLAIN / XOAUTH2 / OAUTHBEARER client responses
    utf7.py        modified UTF-7 mailbox names
    folders.py     LIST/STATUS → RemoteFolder with roles (SPECIAL-USE, common names)
    backend.py     ImapBackend: pull, bodies, ops, IDLE
    watch.py       FolderWatch: IDLE on the open folder through a second connection
    kind.py        the ``imap`` kind's description (options, builder, sending)

Why our own layer and not a library: docs/decisions.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailtui.protocols.imap.backend import ImapBackend, build

__all__ = ["ImapBackend", "build"]


def __getattr__(name: str) -> Any:
    # The backend loads on first use: the kind registry reads ``kind.py`` of every
    # package, and the demo or a POP3 account never needs the IMAP code.
    if name in __all__:
        from mailtui.protocols.imap import backend

        return getattr(backend, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
