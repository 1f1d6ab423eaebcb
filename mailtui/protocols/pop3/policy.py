"""What a POP3 account keeps on the server, and how it knows a message again: pure rules
over the download ledger (``mailtui.models.Downloaded``), no I/O.

A message is deleted on the server only when the ledger, as committed, says its whole
body is stored here (a header-only row, above the size limit, never is), and then when
the account says so:

    leave_on_server = false           right after the download
    delete_after_days = N             N days after the download
    delete_when_deleted_here = true   once the user removed it here for good
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mailtui.config import AccountConfig
from mailtui.models import Downloaded

DAY = 86400


@dataclass(frozen=True, slots=True)
class Keeping:
    """An account's download options (``AccountConfig``) as the backend uses them."""

    leave_on_server: bool = True
    delete_after_days: int = 0  # 0: not by age
    delete_when_deleted_here: bool = False
    max_bytes: int = 0  # larger messages come as their header only; 0: no limit

    @classmethod
    def of(cls, account: AccountConfig) -> Keeping:
        return cls(
            leave_on_server=account.leave_on_server,
            delete_after_days=account.delete_after_days,
            delete_when_deleted_here=account.delete_when_deleted_here,
            max_bytes=account.max_message_kb * 1024,
        )

    @property
    def deletes(self) -> bool:
        """Whether anything may ever be deleted on the server: then the local copy may
        be the only one (``Capabilities.sole_copy``)."""
        return (
            not self.leave_on_server or self.delete_after_days > 0 or self.delete_when_deleted_here
        )

    def header_only(self, size: int, ceiling: int) -> bool:
        """Whether a message of ``size`` octets (LIST) is downloaded as its header only:
        above the account's limit, or above what the client takes at all."""
        return size > ceiling or (self.max_bytes > 0 and size > self.max_bytes)

    def due(self, row: Downloaded, now: float) -> bool:
        """Whether the message of ``row`` is to be deleted on the server now."""
        if not row.whole:
            return False  # only its header is here: the server's copy is the message
        if not self.leave_on_server:
            return True
        if self.delete_after_days > 0 and now - row.downloaded_at >= self.delete_after_days * DAY:
            return True
        return self.delete_when_deleted_here and row.deleted_here


def header_of(raw: bytes) -> bytes:
    """The header block of a message (through the blank line), as TOP n 0 gives it."""
    end = raw.find(b"\r\n\r\n")
    return raw if end < 0 else raw[: end + 4]


def content_key(message_id: str, header: bytes, size: int) -> str:
    """What recognises a message under another UIDL: its Message-ID and size (LIST), or,
    without a Message-ID, a hash of its header and its size."""
    if message_id:
        return f"{message_id}|{size}"
    return f"#{hashlib.sha256(header).hexdigest()[:32]}|{size}"


def content_id(raw: bytes) -> str:
    """The server id of a message on a server without UIDL (deleting after download):
    the hash of its bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()
