"""Drafts kept on this machine while they are written: one private JSON file each.

The compose screen rewrites its file (tmp + rename, 0600, in a 0700 directory) every few
seconds while something changed, so neither a crash nor a dropped SSH session loses what
was written; sending removes the file. ``list_drafts`` finds them again to resume. A file
that cannot be read is skipped, never fatal: it is left where it is for the user.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailtui.compose.addresses import AddressError, format_address, parse_addresses
from mailtui.compose.message import Attachment, Draft, Identity

FORMAT = 1


@dataclass(frozen=True, slots=True)
class SavedDraft:
    path: Path
    account: str  # the account name it is sent from
    draft: Draft
    saved: float  # mtime of the file


def draft_to_json(draft: Draft, account: str) -> str:
    data: dict[str, Any] = {
        "format": FORMAT,
        "account": account,
        "from": [draft.from_.name, draft.from_.addr],
        "to": [format_address(a) for a in draft.to],
        "cc": [format_address(a) for a in draft.cc],
        "bcc": [format_address(a) for a in draft.bcc],
        "subject": draft.subject,
        "body": draft.body,
        "in_reply_to": draft.in_reply_to,
        "references": list(draft.references),
        "reply_to": [format_address(a) for a in draft.reply_to],
        "flowed": draft.flowed,
        "message_id": draft.message_id,
        "attachments": [
            [a.filename, a.content_type, base64.b64encode(a.data).decode("ascii")]
            for a in draft.attachments
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


def _addresses(values: Any) -> tuple[Any, ...]:
    if not isinstance(values, list):
        raise ValueError("address list expected")
    return parse_addresses(", ".join(str(v) for v in values))


def draft_from_json(text: str) -> tuple[str, Draft]:
    """(account name, draft). Raises ValueError for anything that is not a draft file."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a mailtui draft")
        name, addr = data["from"]
        attachments = tuple(
            Attachment(str(fn), str(ct), base64.b64decode(b64, validate=True))
            for fn, ct, b64 in data.get("attachments", [])
        )
        draft = Draft(
            from_=Identity(str(addr), str(name)),
            to=_addresses(data.get("to", [])),
            cc=_addresses(data.get("cc", [])),
            bcc=_addresses(data.get("bcc", [])),
            subject=str(data.get("subject", "")),
            body=str(data.get("body", "")),
            attachments=attachments,
            in_reply_to=str(data.get("in_reply_to", "")),
            references=tuple(str(r) for r in data.get("references", [])),
            reply_to=_addresses(data.get("reply_to", [])),
            flowed=bool(data.get("flowed", False)),
            message_id=str(data.get("message_id", "")),
        )
        return str(data["account"]), draft
    except (KeyError, TypeError, ValueError, AddressError) as exc:
        raise ValueError(f"not a readable draft: {exc}") from None


def save_draft(path: Path, text: str) -> None:
    """Atomically writes ``text`` to ``path`` (0600; the directory 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def list_drafts(directory: Path) -> list[SavedDraft]:
    """Every readable draft in ``directory``, the most recently saved first."""
    found: list[SavedDraft] = []
    try:
        paths = list(directory.glob("*.json"))
    except OSError:
        return []
    for path in paths:
        try:
            account, draft = draft_from_json(path.read_text(encoding="utf-8"))
            found.append(SavedDraft(path, account, draft, path.stat().st_mtime))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return sorted(found, key=lambda d: d.saved, reverse=True)
