"""A batch's message rows inserted in few statements (``store/message_rows.py``) come
out as rows inserted one statement each make them: the same values and types, the same
counts, threads and search rows; and a message's prepared row holds its envelope's
values column by column."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mailtui.models import (
    AccountKind,
    Address,
    Envelope,
    Flag,
    FolderBatch,
    FolderRole,
    NewMessage,
    RemoteFolder,
)
from mailtui.models.envelope_values import ROW_COLUMNS, prepare, prepare_new, prepared
from mailtui.store import Store, message_rows

SUBJECTS = [
    "plain",
    'quotes " and \\ backslashes \\" \\\\u0041',
    "emoji 😀 and 中文 and é",
    "",
    "[list] Re: Re: thread",
    "x" * 3000,
    "null-ish: null, true, 1e5, [1,2]",
]


def batch() -> list[NewMessage]:
    out = []
    for i, subject in enumerate(SUBJECTS * 3):
        out.append(
            NewMessage(
                remote_id=f"7:{100 - i}",
                envelope=Envelope(
                    subject=subject,
                    from_=(Address(f'Ann "{i}" \\ 😀', f"ann{i % 4}@example.org"),),
                    to=(Address("", "me@example.org"),),
                    date=1_700_000_000 - i * 3600,
                    message_id=f"<{i}@x>",
                    in_reply_to=f"<{i - 7}@x>" if i >= 7 else "",
                    references=(f"<{i - 7}@x>",) if i >= 7 else (),
                    size=10**12 + i,
                    has_attachments=bool(i % 2),
                ),
                flags=Flag.SEEN if i % 3 else Flag.NONE,
            )
        )
    return out


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        return {
            "messages": con.execute(
                "SELECT *, typeof(date), typeof(size), typeof(subject) FROM messages ORDER BY id"
            ).fetchall(),
            "folders": con.execute("SELECT id, total, unread, threads FROM folders").fetchall(),
            "threads": con.execute("SELECT * FROM threads ORDER BY thread_id").fetchall(),
            "search": con.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'emoji OR ann2' "
                "ORDER BY rowid"
            ).fetchall(),
        }
    finally:
        con.close()


async def commit(
    path: Path, per_statement: int, monkeypatch: pytest.MonkeyPatch, ahead: bool = False
) -> None:
    monkeypatch.setattr(message_rows, "ROWS_PER_STATEMENT", per_statement)
    store = await Store.open(path)
    try:
        account = await store.ensure_account("a", AccountKind("imap"), "me@example.org")
        folders = await store.sync_folders(
            account.id, [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)]
        )
        added = prepare_new(batch()) if ahead else batch()
        await store.apply_batch(folders["INBOX"], FolderBatch(folder="INBOX", added=added[:10]))
        await store.apply_batch(folders["INBOX"], FolderBatch(folder="INBOX", added=added[10:]))
        con = sqlite3.connect(path)
        con.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        con.close()
    finally:
        await store.close()


async def test_rows_in_few_statements_are_the_rows_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 10 and 11 rows in statements of 500, of 3 (several, in order) and of
    one row each."""
    for per in (500, 3, 1):
        await commit(tmp_path / f"per{per}.sqlite", per, monkeypatch)
    whole = dump(tmp_path / "per500.sqlite")
    assert len(whole["messages"]) == len(SUBJECTS) * 3
    assert whole["search"]
    assert whole == dump(tmp_path / "per3.sqlite") == dump(tmp_path / "per1.sqlite")


async def test_rows_prepared_in_the_parse_thread_are_the_rows_made_by_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend's parse thread prepares the values (``prepare_new``); the rows are those
    the store makes from the bare messages."""
    await commit(tmp_path / "ahead.sqlite", 500, monkeypatch, ahead=True)
    await commit(tmp_path / "store.sqlite", 500, monkeypatch)
    assert dump(tmp_path / "ahead.sqlite") == dump(tmp_path / "store.sqlite")


def test_a_prepared_row_holds_the_envelope_column_by_column() -> None:
    for m in batch():
        env = m.envelope
        row = dict(zip(ROW_COLUMNS, prepare(m).row, strict=True))
        assert row == {
            "remote_id": m.remote_id,
            "date": env.date,
            "sender": env.from_[0].name,
            "subject": env.subject,
            "from_addrs": _compact([[a.name, a.addr] for a in env.from_]),
            "to_addrs": _compact([["", "me@example.org"]]),
            "cc_addrs": "[]",
            "message_id": env.message_id,
            "in_reply_to": env.in_reply_to,
            "refs": " ".join(env.references),
            "size": env.size,
            "flags": int(m.flags),
            "has_attachments": int(env.has_attachments),
            "preview": "",
        }
        assert [type(v) for v in row.values()] == [
            str, int, str, str, str, str, str, str, str, str, int, int, int, str
        ]


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_a_message_changed_after_it_was_prepared_is_prepared_again() -> None:
    (m,) = prepare_new(batch()[:1])
    assert prepared(m) is m.prepared
    m.flags = Flag.FLAGGED
    assert prepared(m).flags == int(Flag.FLAGGED)
    assert dict(zip(ROW_COLUMNS, prepared(m).row, strict=True))["flags"] == int(Flag.FLAGGED)
    m.envelope = Envelope(subject="other")
    assert prepared(m).subject_key == ("other", False)
    assert dict(zip(ROW_COLUMNS, prepared(m).row, strict=True))["subject"] == "other"


async def test_text_that_json_would_cut_is_stored_whole(tmp_path: Path) -> None:
    """A NUL inside a value (SQLite's JSON functions cut the text there) is bound as it
    is, like any other character."""
    (m,) = batch()[:1]
    m.envelope.subject = "nul \x00 inside"
    store = await Store.open(tmp_path / "nul.sqlite")
    try:
        account = await store.ensure_account("a", AccountKind("imap"), "me@example.org")
        folders = await store.sync_folders(
            account.id, [RemoteFolder("INBOX", "Inbox", FolderRole.INBOX)]
        )
        await store.apply_batch(folders["INBOX"], FolderBatch(folder="INBOX", added=[m]))
    finally:
        await store.close()
    con = sqlite3.connect(tmp_path / "nul.sqlite")
    try:
        assert con.execute("SELECT subject FROM messages").fetchall() == [("nul \x00 inside",)]
    finally:
        con.close()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 499, 500, 501, 1000, 1999, 2000, 2001])
def test_few_statement_sizes_cover_any_batch(n: int) -> None:
    sizes = message_rows.statement_sizes(n, 500)
    assert sum(sizes) == n
    assert all(s == 500 or (s < 500 and s & (s - 1) == 0) for s in sizes)
    assert len([s for s in sizes if s != 500]) == len(set(s for s in sizes if s != 500))
