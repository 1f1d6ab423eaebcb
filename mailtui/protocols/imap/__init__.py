"""IMAP accounts: a small asyncio protocol layer of our own and the ``Backend`` over it.

    wire.py        response parser (literal-aware), argument quoting, UID sets
    commands.py    ImapCommands: tags, reading responses, pipelining, LOGOUT
    connection.py  ImapConnection: opening (TLS/STARTTLS), login (SASL), IDLE
    utf7.py        modified UTF-7 mailbox names
    folders.py     LIST/STATUS → RemoteFolder with roles (SPECIAL-USE, common names)
    messages.py    remote ids, flags, envelopes from FETCH data (pure functions)
    client.py      ImapClient: connecting, login, the selected folder, the open folder
    pull.py        the folder list, then each folder's changes in batches
    bodies.py      whole messages on demand
    ops.py         apply (flags, delete, move, copy), APPEND, folder administration
    push.py        wait_for_changes: IDLE
    backend.py     ImapBackend: the parts above together; build()
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
