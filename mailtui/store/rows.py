"""Rows of the store's tables turned into models (the column lists they expect)."""

from __future__ import annotations

import json
from typing import Final

from mailtui.models import (
    Flag,
    Folder,
    FolderKind,
    FolderRole,
    OpKind,
    Origin,
    OutboxItem,
    OutboxState,
    PendingOp,
)
from mailtui.store.db import Row

OP_COLUMNS: Final = (
    "id, account_id, kind, message_id, folder_id, folder_name, remote_id, payload, "
    "attempts, last_error"
)
FOLDER_COLUMNS: Final = (
    "id, account_id, name, display_name, role, total, unread, depth, kind, subscribed"
)


def folder_from_row(r: Row) -> Folder:
    return Folder(
        id=r[0],
        account_id=r[1],
        name=r[2],
        display_name=r[3],
        role=FolderRole(r[4]) if r[4] in FolderRole._value2member_map_ else FolderRole.NONE,
        total=r[5],
        unread=r[6],
        depth=r[7],
        kind=FolderKind(r[8]) if r[8] in FolderKind._value2member_map_ else FolderKind.MAIL,
        subscribed=bool(r[9]),
    )


def op_from_row(r: Row) -> PendingOp:
    return PendingOp(
        id=r[0],
        account_id=r[1],
        kind=OpKind(r[2]),
        message_id=r[3],
        folder_id=r[4],
        folder_name=r[5],
        remote_id=r[6],
        payload=json.loads(r[7]),
        attempts=r[8],
        last_error=r[9],
    )


def origin_from_json(text: str) -> Origin | None:
    """``outbox.origin`` → Origin; None for a new message (``{}``) or a broken value."""
    try:
        data = json.loads(text or "{}")
        if not isinstance(data, dict) or not data.get("flag"):
            return None
        mid = data.get("message_id")
        return Origin(
            int(mid) if mid is not None else None,
            str(data.get("header_id", "")),
            Flag(int(data["flag"])),
        )
    except (ValueError, TypeError):
        return None


def origin_to_json(origin: Origin | None) -> str:
    if origin is None:
        return "{}"
    return json.dumps(
        {"message_id": origin.message_id, "header_id": origin.header_id, "flag": int(origin.flag)}
    )


def outbox_item_from_row(r: Row) -> OutboxItem:
    return OutboxItem(
        id=r[0],
        account_id=r[1],
        raw=bytes(r[2]),
        mail_from=r[3],
        recipients=tuple(json.loads(r[4])),
        state=OutboxState(r[5]),
        attempts=r[6],
        last_error=r[7],
        created=r[8],
        origin=origin_from_json(r[9]) if len(r) > 9 else None,
    )
