"""The UI's plain logic, table-driven: dates, the row cache, folder order, row layout,
the keymap. No app runs here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.geometry import Size
from textual.scrollbar import ScrollBarRender

from mailtui.models import Account, AccountKind, Flag, Folder, FolderRole, MessageRow
from mailtui.ui import keymap
from mailtui.ui.columns import row_text, sender_width
from mailtui.ui.dates import full_date, list_date
from mailtui.ui.folder_tree import folder_entries, order_folders
from mailtui.ui.idle import hold
from mailtui.ui.reading import body_text, human_size
from mailtui.ui.row_window import RowWindow, Span
from mailtui.ui.widgets.message_list import thumb_cells

NOW = datetime(2026, 3, 12, 15, 30, tzinfo=UTC)  # a Thursday


def ts(when: datetime) -> int:
    return int(when.timestamp())


@pytest.mark.parametrize(
    ("when", "shown"),
    [
        (NOW, "15:30"),
        (NOW.replace(hour=0, minute=1), "00:01"),
        (NOW - timedelta(days=1), "Wed 11"),
        (NOW - timedelta(days=6), "Fri 6"),
        (NOW - timedelta(days=7), "2026-03-05"),
        (NOW - timedelta(days=400), "2025-02-05"),
        (NOW + timedelta(days=2), "2026-03-14"),  # a sender's clock in the future
    ],
)
def test_list_date(when: datetime, shown: str) -> None:
    assert list_date(ts(when), NOW) == shown


def test_list_date_follows_the_clock_zone() -> None:
    tokyo = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))  # 00:30 on the 13th
    assert list_date(ts(NOW), tokyo) == "00:30"
    assert list_date(ts(NOW - timedelta(hours=1)), tokyo) == "Thu 12"


def test_broken_dates_show_blank() -> None:
    assert list_date(0, NOW) == ""
    assert list_date(10**15, NOW) == ""
    assert full_date(0, NOW) == "(no date)"
    assert full_date(ts(NOW), NOW) == "Thu 2026-03-12 15:30"


def row(index: int, **changes: object) -> MessageRow:
    values: dict[str, object] = {
        "id": 1000 + index,
        "folder_id": 1,
        "date": ts(NOW) - index * 60,
        "sender": f"Sender {index}",
        "subject": f"Subject {index}",
        "flags": Flag.SEEN,
        "has_attachments": False,
        "size": 100,
        "thread_id": index,
    }
    values.update(changes)
    return MessageRow(**values)  # type: ignore[arg-type]


def test_row_window_asks_only_for_the_band_around_the_viewport() -> None:
    window = RowWindow(total=1_000_000, margin=1.0)
    assert window.wanted(0, 20) == Span(0, 40)
    window.put(0, [row(i) for i in range(40)])
    assert window.wanted(0, 20) is None
    assert window.wanted(10, 20) == Span(40, 50)  # only the missing tail
    last = window.wanted(1_000_000 - 20, 20)
    assert last == Span(1_000_000 - 40, 1_000_000)
    assert last.size == 40


def test_row_window_keeps_memory_bounded_and_finds_rows() -> None:
    window = RowWindow(total=500)
    window.put(0, [row(i) for i in range(100)])
    window.keep(window.band(50, 10))
    assert len(window) == 30
    assert window.get(39) is None and window.get(40) is not None
    assert window.index_of(1045) == 45
    assert window.replace(row(45, flags=Flag.NONE))
    fetched = window.get(45)
    assert fetched is not None and fetched.unread
    window.put(495, [row(i) for i in range(10)])  # more rows than the folder has now
    assert window.get(499) is not None and window.get(500) is None
    window.reset(3)
    assert len(window) == 0 and window.total == 3


def folder(fid: int, name: str, role: FolderRole = FolderRole.NONE, depth: int = 0) -> Folder:
    display = name.replace(".", "/").rsplit("/", 1)[-1] if depth else name
    return Folder(fid, 1, name, display, role, 10, fid % 3, depth)


def test_role_folders_first_then_the_tree() -> None:
    folders = [
        folder(1, "Zeta"),
        folder(2, "Trash", FolderRole.TRASH),
        folder(3, "Work"),
        folder(4, "Work/Sub", depth=1),
        folder(5, "Work Stuff"),
        folder(6, "INBOX", FolderRole.INBOX),
        folder(7, "INBOX/Lists", depth=1),
        folder(8, "[Gmail]"),
        folder(9, "[Gmail]/Sent Mail", FolderRole.SENT, depth=1),
        folder(10, "Drafts", FolderRole.DRAFTS),
        folder(11, "Archive", FolderRole.ARCHIVE),
        folder(12, "Spam", FolderRole.JUNK),
        folder(13, "Lists/python-dev", depth=1),  # "Lists" itself is not listed
        folder(14, "[Gmail]/Sent Mail/2019", depth=2),
        folder(15, "INBOX.Lists.tui", depth=2),  # a "." server
        folder(16, "INBOX.Lists", depth=1),
    ]
    placed = [(f.name, indent, label) for f, indent, label in order_folders(folders)]
    assert placed == [
        ("INBOX", 0, "Inbox"),
        ("INBOX/Lists", 1, "Lists"),
        ("INBOX.Lists", 1, "Lists"),
        ("INBOX.Lists.tui", 2, "tui"),
        ("Drafts", 0, "Drafts"),
        ("[Gmail]/Sent Mail", 0, "Sent Mail"),
        ("Archive", 0, "Archive"),
        ("Spam", 0, "Spam"),
        ("Trash", 0, "Trash"),
        ("[Gmail]", 0, "[Gmail]"),
        ("[Gmail]/Sent Mail/2019", 1, "Sent Mail/2019"),
        ("Lists/python-dev", 0, "Lists/python-dev"),
        ("Work", 0, "Work"),
        ("Work/Sub", 1, "Sub"),
        ("Work Stuff", 0, "Work Stuff"),
        ("Zeta", 0, "Zeta"),
    ]


def test_entries_group_folders_under_their_account() -> None:
    accounts = [
        Account(1, "home", AccountKind.IMAP, "a@x"),
        Account(2, "work", AccountKind.POP3, "b@y"),
    ]
    folders = [
        folder(1, "INBOX", FolderRole.INBOX),
        Folder(2, 2, "INBOX", "Inbox", FolderRole.INBOX, 0, 0),
    ]
    entries = folder_entries(accounts, folders)
    assert [(e.account.name, e.folder.id if e.folder else None) for e in entries] == [
        ("home", None),
        ("home", 1),
        ("work", None),
        ("work", 2),
    ]


def test_row_text_is_exactly_the_width_and_escapes_nothing() -> None:
    line = row_text(
        row(1, subject="[bold]x[/bold] \x1b]0;pwned\x07 hi", flags=Flag.FLAGGED), 60, NOW
    )
    assert isinstance(line, Text)
    assert line.cell_len == 60
    assert "\x1b" not in line.plain and "\x07" not in line.plain
    assert "[bold]x[/bold]" in line.plain  # text, not markup
    assert line.plain.startswith("N! ")
    assert "15:29" in line.plain


def test_row_columns_shrink_but_stay_aligned() -> None:
    narrow = row_text(row(1, sender="A very long sender name indeed"), 40, NOW).plain
    wide = row_text(row(1), 120, NOW).plain
    assert len(narrow) == 40 and len(wide) == 120
    assert sender_width(40) == 10 and sender_width(200) == 24
    assert narrow[15:25] == "A very lo…"


def test_body_dims_quotes_and_signature() -> None:
    text = body_text("Hi\n> quoted\n  >> deeper\nme\n-- \nsig\x1b[31m")
    dim = {text.plain[span.start : span.end] for span in text.spans if span.style == "dim"}
    assert dim == {"> quoted", "  >> deeper", "-- ", "sig"}
    assert "\x1b" not in text.plain


@pytest.mark.parametrize(
    ("size", "shown"), [(0, "0 B"), (1023, "1023 B"), (2048, "2 KB"), (3_500_000, "3.3 MB")]
)
def test_human_size(size: int, shown: str) -> None:
    assert human_size(size) == shown


def test_keymap_ids_are_unique_and_overridable() -> None:
    ids = [spec.id for spec in keymap.KEYS]
    assert len(ids) == len(set(ids))
    assert keymap.effective_keys("list.down", {}) == ["j", "down"]
    assert keymap.effective_keys("list.down", {"list.down": "n"}) == ["n"]
    assert keymap.key_label("question_mark") == "?"
    assert keymap.key_label("ctrl+pagedown") == "Ctrl+PgDn"
    for context in keymap.CONTEXT_TITLES:
        assert keymap.bindings(context), context


@pytest.mark.parametrize(
    ("now", "last_input", "since", "wait"),
    [
        (10.0, float("-inf"), 9.0, 0.0),  # nobody typing: at once
        (10.0, 9.9, 9.8, 0.2),  # a key 0.1 s ago: 0.2 s more of quiet
        (10.0, 9.9, 8.1, 0.1),  # ...but the cap (2 s after the change) comes first
        (10.0, 10.0, 7.0, 0.0),  # past the cap: now, typing or not
        (10.0, 9.5, 9.9, 0.0),  # quiet for 0.5 s already
    ],
)
def test_hold_waits_for_a_pause_in_typing_up_to_a_cap(
    now: float, last_input: float, since: float, wait: float
) -> None:
    assert hold(now, last_input, since, quiet=0.3, longest=2.0) == pytest.approx(wait)


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(1, 80),
    virtual=st.integers(1, 2_000_000),
    window=st.integers(1, 80),
    a=st.floats(0, 2_000_000, allow_nan=False),
    step=st.one_of(st.floats(0, 200, allow_nan=False), st.floats(0, 2_000_000, allow_nan=False)),
)
def test_thumb_cells_tells_when_textual_draws_the_same_scrollbar(
    size: int, virtual: int, window: int, a: float, step: float
) -> None:
    """MessageList skips repainting its scrollbar when ``thumb_cells`` is the same for the
    old and the new position: Textual must then draw exactly the same bar (this guards the
    copied arithmetic against a Textual upgrade)."""
    limit = max(0.0, virtual - window)
    a, b = min(a, limit), min(a + step, limit)  # a page or a jump away
    bar = SimpleNamespace(size=Size(1, size), window_virtual_size=virtual, window_size=window)

    def drawn(position: float) -> list[tuple[str, object]]:
        shown = window if window < virtual else 0
        segments = ScrollBarRender.render_bar(
            size=size,
            virtual_size=virtual,
            window_size=shown,
            position=int(position * 8) / 8,  # ScrollBar.validate_position
        )
        return [(s.text, s.style) for s in segments.segments]

    if thumb_cells(bar, a) == thumb_cells(bar, b):  # type: ignore[arg-type]
        assert drawn(a) == drawn(b)


def test_markers_show_replied_and_forwarded() -> None:
    from mailtui.ui.columns import markers

    assert markers(row(1, flags=Flag.SEEN | Flag.ANSWERED))[0] == "r"
    assert markers(row(1, flags=Flag.SEEN | Flag.FORWARDED))[0] == "f"
    assert markers(row(1, flags=Flag.SEEN | Flag.ANSWERED | Flag.FORWARDED))[0] == "r"
