"""A batch's message rows inserted in one statement (``store/message_rows.py``, JSON)
come out as the row-by-row ``executemany`` makes them: the same values and types, the
same counts, threads and search rows."""

from __future__ import annotations

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
from mailtui.models.envelope_values import prepare, prepare_new, prepared
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
    path: Path, at_once: bool, monkeypatch: pytest.MonkeyPatch, ahead: bool = False
) -> None:
    monkeypatch.setattr(message_rows, "AT_ONCE", at_once)
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


async def test_rows_at_once_are_the_rows_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await commit(tmp_path / "at_once.sqlite", True, monkeypatch)
    await commit(tmp_path / "by_row.sqlite", False, monkeypatch)
    at_once, by_row = dump(tmp_path / "at_once.sqlite"), dump(tmp_path / "by_row.sqlite")
    assert len(at_once["messages"]) == len(SUBJECTS) * 3
    assert at_once["search"]
    assert at_once == by_row


async def test_rows_prepared_in_the_parse_thread_are_the_rows_made_by_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend's parse thread prepares the values (``prepare_new``); the rows are those
    the store makes from the bare messages, and those made row by row."""
    await commit(tmp_path / "ahead.sqlite", True, monkeypatch, ahead=True)
    await commit(tmp_path / "store.sqlite", True, monkeypatch)
    await commit(tmp_path / "by_row.sqlite", False, monkeypatch, ahead=True)
    ahead = dump(tmp_path / "ahead.sqlite")
    assert ahead == dump(tmp_path / "store.sqlite") == dump(tmp_path / "by_row.sqlite")


def test_a_message_changed_after_it_was_prepared_is_prepared_again() -> None:
    (m,) = prepare_new(batch()[:1])
    assert prepared(m) is m.prepared
    m.flags = Flag.FLAGGED
    assert prepared(m).flags == int(Flag.FLAGGED)
    assert prepared(m).fragment is not None and ",4,0," in prepared(m).fragment
    m.envelope = Envelope(subject="other")
    assert prepared(m).subject_key == ("other", False)


def test_a_value_json_would_change_has_no_fragment() -> None:
    (m,) = batch()[:1]
    m.envelope.subject = "nul \x00 inside"
    assert prepare(m).fragment is None
    m.envelope.subject = "surrogate \udc80"
    assert prepare(m).fragment is None


@pytest.mark.parametrize(
    "row",
    [
        (1, "a\x00b"),  # NUL: SQLite's JSON would cut the text
        (1, "\udc80"),  # a lone surrogate: executemany raises, as before
        (1, b"bytes"),
        (float("nan"), "x"),
    ],
)
def test_what_json_would_change_goes_row_by_row(row: tuple[Any, ...]) -> None:
    assert message_rows._as_json([row, row]) is None


def test_json_carries_the_rest() -> None:
    assert message_rows._as_json([(1, 'a"\\😀\t\n', None)]) == '[[1,"a\\"\\\\😀\\t\\n",null]]'


async def test_rows_in_several_values_statements_are_the_rows_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch longer than ``ROWS_PER_STATEMENT`` goes in several statements, in order."""
    monkeypatch.setattr(message_rows, "ROWS_PER_STATEMENT", 3)
    await commit(tmp_path / "split.sqlite", True, monkeypatch, ahead=True)
    await commit(tmp_path / "by_row.sqlite", False, monkeypatch, ahead=True)
    assert dump(tmp_path / "split.sqlite") == dump(tmp_path / "by_row.sqlite")


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 499, 500, 501, 1000, 1999, 2000, 2001])
def test_few_statement_sizes_cover_any_batch(n: int) -> None:
    sizes = message_rows.statement_sizes(n, 500)
    assert sum(sizes) == n
    assert all(s == 500 or (s < 500 and s & (s - 1) == 0) for s in sizes)
    assert len([s for s in sizes if s != 500]) == len(set(s for s in sizes if s != 500))
