"""IMAP accounts: a small asyncio protocol layer of our own and the ``Backend`` over it.

    wire.py        response parser (literal-aware), argument quoting, UID sets
    connection.py  one connection: TLS/STARTTLS, login (SASL), commands, IDLE
    utf7.py        modified UTF-7 mailbox names
    folders.py     LIST/STATUS → RemoteFolder with roles (SPECIAL-USE, common names)
    backend.py     ImapBackend: pull, bodies, ops, IDLE
    watch.py       FolderWatch: IDLE on the open folder through a second connection

Why our own layer and not a library: docs/decisions.md.
"""

from mailtui.protocols.imap.backend import ImapBackend, build

__all__ = ["ImapBackend", "build"]
