"""Local draft files: round trip, atomic private writes, and unreadable files skipped."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mailtui.compose import Attachment, Draft, Identity, parse_addresses
from mailtui.compose.drafts import draft_from_json, draft_to_json, list_drafts, save_draft

DRAFT = Draft(
    from_=Identity("me@example.org", "Zoë Ångström"),
    to=parse_addresses('"Dupont, François" <f@example.fr>, bob@example.org'),
    cc=parse_addresses("مریم <maryam@example.ir>"),
    subject="Re: تفاوت POP3 و IMAP",
    body="Hello\n> quoted\n",
    attachments=(Attachment("Übersicht.csv", "text/csv", b"a,b\n\x00\xff"),),
    in_reply_to="<x@y>",
    references=("<w@y>", "<x@y>"),
    message_id="<id@example.org>",
)


def test_round_trip() -> None:
    account, draft = draft_from_json(draft_to_json(DRAFT, "work"))
    assert account == "work"
    assert draft == DRAFT


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", '{"format": 1}', '{"format": 99, "account": "a"}',
     '{"format": 1, "account": "a", "from": ["", "me@x"], "attachments": [["a", "b", "!!"]]}',
     '{"format": 1, "account": "a", "from": ["", "me@x"], "to": ["<<bad"]}'],
)
def test_garbage_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        draft_from_json(text)


def test_save_is_private_and_list_skips_unreadable(tmp_path: Path) -> None:
    drafts = tmp_path / "drafts"
    save_draft(drafts / "a.json", draft_to_json(DRAFT, "work"))
    assert stat.S_IMODE(drafts.stat().st_mode) == 0o700
    assert stat.S_IMODE((drafts / "a.json").stat().st_mode) == 0o600
    newer = DRAFT.__class__(from_=DRAFT.from_, subject="newer")
    save_draft(drafts / "b.json", draft_to_json(newer, "home"))
    os.utime(drafts / "a.json", (1, 1))
    (drafts / "c.json").write_text("not json")
    found = list_drafts(drafts)
    assert [(d.path.name, d.account, d.draft.subject) for d in found] == [
        ("b.json", "home", "newer"),
        ("a.json", "work", DRAFT.subject),
    ]
    assert (drafts / "c.json").exists()  # left alone for the user
    assert list_drafts(tmp_path / "none") == []
