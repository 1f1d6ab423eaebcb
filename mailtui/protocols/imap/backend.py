"""``ImapBackend``: the ``Backend`` contract (``mailtui.sync.contract``) over one IMAP connection.

Identities: a message's ``remote_id`` is ``"<UIDVALIDITY>:<UID>"``, so an op or a body
request made before a folder was recreated on the server can never touch the message that
now has the same UID: the backend checks the UIDVALIDITY of the selected folder first.

The parts, one module each: ``client`` (connection, login, selected folder),
``pull`` (folder list and changes), ``bodies``, ``ops``, ``push`` (IDLE), ``search``
(the server asked about a first pass's part not cached yet).
"""

from __future__ import annotations

import logging

from mailtui.config import AccountConfig
from mailtui.errors import ConfigError
from mailtui.models import Security
from mailtui.protocols.imap.bodies import ImapBodies
from mailtui.protocols.imap.ops import ImapOps
from mailtui.protocols.imap.pull import ImapPull
from mailtui.protocols.imap.push import ImapPush
from mailtui.protocols.imap.search import ImapSearch
from mailtui.sync.contract import Capabilities

log = logging.getLogger(__name__)


class ImapBackend(ImapPull, ImapBodies, ImapOps, ImapPush, ImapSearch):
    """One account on an IMAP server; see the module docstring."""

    capabilities = Capabilities(
        folders=True, server_move=True, flags=True, push=True, subscriptions=True
    )


def build(account: AccountConfig) -> ImapBackend:
    if account.security not in tuple(Security):
        raise ConfigError(f"account {account.name!r}: unknown security {account.security!r}")
    return ImapBackend(account)
