"""The unified inbox ("All inboxes") driven by keys at 80x24 and 200x60: two accounts'
Inboxes as one list, newest first, each row tagged with its account; triage in it reaches
the right account (store ops, worker kicked); next unread, the filter and sync events work
in it; a 200,000-message unified inbox reads only the rows it shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.app import App

from mailtui.models import (
    Account,
    AccountKind,
    FolderBatch,
    FolderRole,
    NewMessage,
    OpKind,
    PendingOp,
    RemoteFolder,
)
from mailtui.store import Store
from mailtui.sync.contract import Capabilities, EventKind, SyncEvent
from mailtui.sync.server_search import SearchState, ServerFilter, search_words
from mailtui.sync.window import FolderGaps
from mailtui.ui.list_sources import InboxSource, account_tags
from mailtui.ui.widgets import FolderList, MessageList

from .conftest import (
    SENDERS,
    FakeManager,
    make_app,
    new_message,
    palette_searched,
    screen_lines,
    screen_text,
)
from .test_main_screen import wait_until

SIZES = [(80, 24), (200, 60)]
HOUR = 3600
ACCOUNT_FOLDERS = [
    RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
    RemoteFolder("Archive", "Archive", FolderRole.ARCHIVE),
    RemoteFolder("Trash", "Trash", FolderRole.TRASH),
    RemoteFolder("Junk", "Junk", FolderRole.JUNK),
]


@dataclass
class TwoAccounts:
    """``home`` and ``work``, each with an Inbox whose messages interleave by date:
    index 2k is home's "Home k", index 2k+1 work's "Work k" (0 = newest)."""

    store: Store
    home: int  # account ids
    work: int
    folders: dict[int, dict[str, int]]  # account id -> folder name -> folder id
    inbox_window_calls: list[tuple[int, int]]

    def folder(self, account: int, name: str) -> int:
        return self.folders[account][name]

    async def ops(self, account: int) -> list[PendingOp]:
        return await self.store.pending_ops(account, 10_000)

    async def add(self, account: int, messages: list[NewMessage]) -> None:
        for start in range(0, len(messages), 20_000):
            batch = FolderBatch(folder="INBOX", added=messages[start : start + 20_000])
            await self.store.apply_batch(self.folder(account, "INBOX"), batch)

    async def id_of(self, subject: str) -> int:
        for r in await self.store.inbox_window(0, 1000):
            if r.subject == subject:
                return r.id
        raise KeyError(subject)

    def spy_inbox_window(self) -> None:
        real = self.store.inbox_window

        async def inbox_window(offset: int, limit: int) -> list:  # type: ignore[type-arg]
            self.inbox_window_calls.append((offset, limit))
            return await real(offset, limit)

        self.store.inbox_window = inbox_window  # type: ignore[method-assign]


def interleaved(name: str, first: int, count: int, step: int = HOUR) -> list[NewMessage]:
    """Messages with indexes first, first+2, …: this account's half of the merged list."""
    return [
        new_message(first + 2 * k, subject=f"{name} {k:06d}", step=step, with_raw=k < 3)
        for k in range(count)
    ]


async def open_two(path: Path, per_account: int = 30, step: int = HOUR) -> TwoAccounts:
    store = await Store.open(path)
    home = await store.ensure_account("home", AccountKind.IMAP, "me@home.test")
    work = await store.ensure_account("work", AccountKind.IMAP, "me@work.test")
    folders = {a.id: await store.sync_folders(a.id, ACCOUNT_FOLDERS) for a in (home, work)}
    mail = TwoAccounts(store, home.id, work.id, folders, [])
    await mail.add(home.id, interleaved("Home", 0, per_account, step))
    await mail.add(work.id, interleaved("Work", 1, per_account, step))
    return mail


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[TwoAccounts]:
    mail = await open_two(tmp_path / "two.sqlite")
    yield mail
    await mail.store.close()


def list_lines(app: App[None]) -> list[str]:
    """The message list's rows as drawn (without the folder pane beside it)."""
    region = app.query_one(MessageList).content_region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return [line[region.x : region.right] for line in lines]


def line_of(app: App[None], subject: str) -> str:
    return next((line for line in list_lines(app) if subject in line), "")


def status(app: App[None]) -> str:
    return screen_lines(app)[-2]


def unified_loaded(app: App[None]) -> bool:
    lines = list_lines(app)
    return bool(lines) and "Home 000000" in lines[0] and "…" not in "".join(lines[:3])


@pytest.mark.parametrize("size", SIZES)
async def test_all_inboxes_interleaves_accounts_newest_first_with_tags(
    two: TwoAccounts, size: tuple[int, int]
) -> None:
    app = make_app(two.store, FakeManager())
    async with app.run_test(size=size) as pilot:
        # Two accounts with an Inbox: the app opens on "All inboxes".
        await wait_until(pilot, lambda: unified_loaded(app))
        lines = list_lines(app)
        for n, line in enumerate(lines[:10]):
            name, account = ("Home", "home") if n % 2 == 0 else ("Work", "work")
            assert f"{name} {n // 2:06d}" in line, (n, line)
            assert f" {account} " in line  # the tag column, between date and sender
        assert lines[0].startswith("N!@      15:30 home Alice Archer")
        assert lines[1].startswith("         14:30 work Bob Baker")
        # 60 messages, index % 3 == 0 unread: 20.
        assert status(app).strip().startswith("All inboxes · 20 unread of 60")
        assert app.screen.unified  # type: ignore[attr-defined]

        if size[0] < 100:  # the folder pane comes in on Tab at 80 columns
            await pilot.press("tab")
        await wait_until(pilot, lambda: "All inboxes" in screen_lines(app)[0])
        pane = [line.split("▕")[0] for line in screen_lines(app)[:11]]
        names = [" ".join(p.split()) for p in pane]
        # Headings: the account's unread (Trash and Junk aside).
        assert names == [
            "All inboxes 20",
            "home 10",
            "Inbox 10",
            "Archive",
            "Junk",
            "Trash",
            "work 10",
            "Inbox 10",
            "Archive",
            "Junk",
            "Trash",
        ]


async def test_one_account_has_no_all_inboxes_line(tmp_path: Path) -> None:
    """With one account it would only repeat that Inbox: not listed, the Inbox opens."""
    store = await Store.open(tmp_path / "one.sqlite")
    try:
        home = await store.ensure_account("home", AccountKind.IMAP, "me@home.test")
        ids = await store.sync_folders(home.id, ACCOUNT_FOLDERS)
        batch = [new_message(i) for i in range(5)]
        await store.apply_batch(ids["INBOX"], FolderBatch("INBOX", added=batch))
        app = make_app(store)
        async with app.run_test(size=(200, 60)) as pilot:
            await wait_until(pilot, lambda: "Message 000000" in screen_text(app))
            assert "All inboxes" not in screen_text(app)
            assert not app.query_one(FolderList).has_unified
            assert " ".join(screen_lines(app)[0].split("▕")[0].split()) == "home 2"
            assert status(app).strip().startswith("Inbox ·")
    finally:
        await store.close()


@pytest.mark.parametrize("size", SIZES)
async def test_triage_in_all_inboxes_reaches_each_account(
    two: TwoAccounts, size: tuple[int, int]
) -> None:
    manager = FakeManager()
    app = make_app(two.store, manager)
    home0, work0 = await two.id_of("Home 000000"), await two.id_of("Work 000000")
    work1 = await two.id_of("Work 000001")
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: unified_loaded(app))

        # F on the second row (work's): work's op, work's worker; home untouched.
        await pilot.press("j", "F")
        await wait_until(pilot, lambda: line_of(app, "Work 000000")[1] == "!")
        [op] = await two.ops(two.work)
        assert (op.kind, op.message_id) == (OpKind.SET_FLAGS, work0)
        assert await two.ops(two.home) == []
        assert manager.kicked == [two.work]

        # Select a home and a work message (x x), delete: each to its own Trash.
        await pilot.press("k", "x", "x")
        await wait_until(pilot, lambda: "2 selected" in status(app))
        manager.kicked.clear()
        await pilot.press("d")
        await wait_until(pilot, lambda: "Home 000000" not in screen_text(app))
        assert "Work 000000" not in screen_text(app)
        assert "Moved 2 messages to Trash" in status(app)
        home_ops, work_ops = await two.ops(two.home), await two.ops(two.work)
        assert [(o.kind, o.message_id, o.payload) for o in home_ops] == [
            (OpKind.MOVE, home0, {"to_folder": two.folder(two.home, "Trash")})
        ]
        assert [(o.kind, o.message_id) for o in work_ops[1:]] == [(OpKind.MOVE, work0)]
        assert work_ops[1].payload == {"to_folder": two.folder(two.work, "Trash")}
        assert sorted(manager.kicked) == sorted([two.home, two.work])
        assert "All inboxes · " in status(app) and " of 58" in status(app)

        # u takes both back (one level), in both accounts.
        await pilot.press("u")
        await wait_until(pilot, lambda: "Home 000000" in screen_text(app))
        assert "Work 000000" in screen_text(app)
        assert await two.ops(two.home) == []
        assert len(await two.ops(two.work)) == 1  # the flag of the first step remains

        # a on a work row: work's Archive; N on a home row: home's flag op.
        await pilot.press("g", "j", "j", "j", "a")  # Home 0, Work 0, Home 1, Work 1
        await wait_until(pilot, lambda: "Work 000001" not in screen_text(app))
        detail = await two.store.message(work1)
        assert detail is not None and detail.row.folder_id == two.folder(two.work, "Archive")
        assert manager.kicked[-1] == two.work

        # Move (s) of messages from two accounts is refused with a plain notice.
        await pilot.press("g", "x", "x", "s")
        await wait_until(pilot, lambda: "Move: one" in status(app))
        said = [n.message for n in app._notifications]
        assert any("several accounts" in m for m in said)  # the notice says why
        assert len(app.screen_stack) == 1  # no folder picker opened


@pytest.mark.parametrize("size", SIZES)
async def test_open_next_unread_and_filter_in_all_inboxes(
    two: TwoAccounts, size: tuple[int, int]
) -> None:
    manager = FakeManager()
    app = make_app(two.store, manager)
    work1 = await two.id_of("Work 000001")
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: unified_loaded(app))

        # Enter on work's unread message (index 3): the reader shows it, it is marked
        # read in the store, work's worker is woken, the counts follow.
        await pilot.press("j", "j", "j", "enter")
        await wait_until(pilot, lambda: "body of message 3" in screen_text(app))
        # Marking it read comes after the message is on screen, in a worker of its own
        # (a store write, then the kick): wait for its end, the kick.
        await wait_until(pilot, lambda: bool(manager.kicked))
        detail = await two.store.message(work1)
        assert detail is not None and not detail.row.unread
        assert manager.kicked == [two.work]
        [op] = await two.ops(two.work)
        assert (op.kind, op.message_id) == (OpKind.SET_FLAGS, work1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "19 unread of 60" in status(app))

        # n: next unread across both accounts (indexes 0, 6, 9, … are unread now).
        listing = app.query_one(MessageList)
        await pilot.press("g", "n")
        await wait_until(pilot, lambda: listing.cursor == 6)
        assert listing.cursor_row is not None and listing.cursor_row.subject == "Home 000003"
        await pilot.press("n")
        await wait_until(pilot, lambda: listing.cursor == 9)
        assert listing.cursor_row is not None and listing.cursor_row.subject == "Work 000004"

        # / filters every Inbox at once, newest first, tags kept.
        await pilot.press("slash", *"000002")
        await wait_until(pilot, lambda: "2 matches" in status(app))
        lines = [line for line in list_lines(app) if line.strip()]
        assert "home" in lines[0] and "Home 000002" in lines[0]
        assert "work" in lines[1] and "Work 000002" in lines[1]
        assert 'All inboxes · filter "000002"' in status(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: unified_loaded(app) and "of 60" in status(app))
        assert type(listing.source) is InboxSource

        # T: conversations are per folder; said plainly, the list stays.
        await pilot.press("T")
        await wait_until(pilot, lambda: "per folder" in status(app))
        assert type(listing.source) is InboxSource


async def test_a_sync_of_either_inbox_refreshes_all_inboxes(two: TwoAccounts) -> None:
    manager = FakeManager()
    app = make_app(two.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: unified_loaded(app))
        newest = new_message(-1, subject="Fresh work mail")
        await two.add(two.work, [newest])
        manager.emit(
            SyncEvent("work", EventKind.MESSAGES, folder_id=two.folder(two.work, "INBOX"))
        )
        await wait_until(pilot, lambda: "Fresh work mail" in list_lines(app)[0])
        assert " work " in list_lines(app)[0]
        assert "of 61" in status(app)
        # The cursor stayed on the message it was on (now the second row).
        listing = app.query_one(MessageList)
        assert listing.cursor_row is not None and listing.cursor_row.subject == "Home 000000"


async def test_a_200000_message_unified_inbox_reads_only_what_it_shows(tmp_path: Path) -> None:
    two = await open_two(tmp_path / "big.sqlite", per_account=100_000, step=60)
    two.spy_inbox_window()
    rows = 22  # 24 lines minus the status line and the footer
    try:
        app = make_app(two.store)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: unified_loaded(app))
            assert "200,000" in status(app)
            await pilot.press("G")
            await wait_until(pilot, lambda: "Work 099999" in screen_text(app))
            lines = list_lines(app)
            assert "Work 099999" in lines[rows - 1] and "Home 099999" in lines[rows - 2]
            assert "Home 099989" in lines[0]
            await pilot.press("k", "pageup")
            await wait_until(pilot, lambda: "Home 099978" in list_lines(app)[0])
            assert app.query_one(MessageList).cached_rows <= 5 * rows
        assert two.inbox_window_calls, "the list never asked the store for rows"
        assert all(limit <= 3 * rows for _, limit in two.inbox_window_calls)
        assert sum(limit for _, limit in two.inbox_window_calls) <= 8 * rows
    finally:
        await two.store.close()


async def test_wide_account_names_keep_the_tag_column_straight(tmp_path: Path) -> None:
    """Account names in CJK or with an emoji: tags are cut and padded by terminal cells,
    so the sender and subject columns start in the same cell on every row."""
    store = await Store.open(tmp_path / "wide.sqlite")
    try:
        names = ["家庭のメール", "仕事", "📬 post"]
        for n, name in enumerate(names):
            account = await store.ensure_account(name, AccountKind.IMAP, f"me{n}@x.test")
            ids = await store.sync_folders(account.id, ACCOUNT_FOLDERS)
            batch = interleaved(f"Acct{n}", n, 4)
            await store.apply_batch(ids["INBOX"], FolderBatch("INBOX", added=batch))
        app = make_app(store, FakeManager())
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: "Acct2 000003" in screen_text(app))
            rows = [line for line in list_lines(app) if "Acct" in line]
            assert len(rows) == 12
            starts = set()
            for line in rows:
                sender = min(line.index(s) for s in SENDERS if s in line)
                starts.add(cell_len(line[:sender]))
                tag = line[: line.index(next(s for s in SENDERS if s in line))].split(maxsplit=1)
                assert tag  # markers/date, then the tag
            assert len(starts) == 1, rows  # one column for every account
            shown = {line.split("Acct")[1][:1]: line for line in rows}
            assert " 家庭の " in shown["0"]  # 6 cells: three wide characters
            assert " 仕事   " in shown["1"]  # 4 cells, padded by cells to 6
            assert " 📬 pos " in shown["2"]  # the emoji is two cells
    finally:
        await store.close()


def test_account_tags_are_short_distinct_and_one_width() -> None:
    accounts = [
        Account(1, "home", AccountKind.IMAP, "a@x"),
        Account(2, "personal", AccountKind.IMAP, "b@x"),
        Account(3, "personal-old", AccountKind.IMAP, "c@x"),
    ]
    assert account_tags(accounts) == {1: "home  ", 2: "perso2", 3: "perso3"}
    assert account_tags(accounts[:1]) == {1: "home"}


@pytest.mark.parametrize(
    ("names", "tags"),
    [
        (["家庭のメール", "work"], ["家庭の", "work  "]),  # cut and padded by cells
        (["a家庭xyz", "仕事"], ["a家庭x", "仕事  "]),
        (["abc家庭", "b"], ["abc家", "b    "]),  # a wide character is never halved
        (["日本語テスト", "日本語メール"], ["日本1", "日本2"]),  # clash: 4 cells + digit
        (["📬 post", "x\x1b[31my"], ["📬 pos", "xy    "]),  # emoji: 2 cells; no escape
        (["e\u0301cole", "b"], ["e\u0301cole", "b    "]),  # a combining accent takes none
    ],
)
def test_account_tags_count_terminal_cells(names: list[str], tags: list[str]) -> None:
    accounts = [Account(n, name, AccountKind.IMAP, "a@x") for n, name in enumerate(names, 1)]
    found = account_tags(accounts)
    assert [found[n] for n in range(1, len(names) + 1)] == tags
    assert {cell_len(t) for t in found.values()} == {max(cell_len(t) for t in tags)}


@pytest.mark.parametrize("size", SIZES)
async def test_each_row_uses_its_own_accounts_capabilities(
    two: TwoAccounts, size: tuple[int, int]
) -> None:
    """work is a POP3-like account (no server folders, no flags): in "All inboxes" its
    rows do not offer archive or flag, home's rows do; a selection over both acts on
    home's message and says it left work's alone; the reader follows its message."""
    manager = FakeManager()
    manager.caps[two.home] = Capabilities()
    manager.caps[two.work] = Capabilities(folders=False, server_move=False, flags=False)
    app = make_app(two.store, manager)
    home0, work0 = await two.id_of("Home 000000"), await two.id_of("Work 000000")
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: unified_loaded(app))
        listing = app.query_one(MessageList)

        async def offered(description: str) -> bool:
            await pilot.press("colon")
            await wait_until(pilot, lambda: "Search for commands" in screen_text(app))
            await pilot.press(*description.lower())
            # The search is a worker of the palette's: read its hits once it has ended.
            await wait_until(pilot, lambda: palette_searched(app, description.lower()))
            found = f"{description}  (" in screen_text(app)
            await pilot.press("escape")
            await wait_until(pilot, lambda: "Search for commands" not in screen_text(app))
            return found

        # On home's row (the first) archive and flag are offered.
        assert await offered("Archive")
        # On work's row they are not, and the keys do nothing.
        await pilot.press("j")
        await wait_until(pilot, lambda: listing.cursor == 1)
        assert not await offered("Archive")
        assert not await offered("Flag/unflag")
        assert await offered("Delete")  # deleting works on every account
        await pilot.press("F", "a", "N")
        await pilot.pause(0.2)
        assert await two.ops(two.work) == []
        assert "Work 000000" in line_of(app, "Work 000000")
        # Back on home's row: offered again.
        await pilot.press("k")
        await wait_until(pilot, lambda: listing.cursor == 0)
        assert await offered("Flag/unflag")

        # A selection of both, F on home's row (flagged: index 0): home's message is
        # unflagged, work's left alone, and the notice says why.
        await pilot.press("x", "x", "g")
        await wait_until(pilot, lambda: "2 selected" in status(app) and listing.cursor == 0)
        await pilot.press("F")
        await wait_until(pilot, lambda: "Unflagged 1 message" in status(app))
        [op] = await two.ops(two.home)
        assert (op.kind, op.message_id) == (OpKind.SET_FLAGS, home0)
        assert await two.ops(two.work) == []
        said = [n.message for n in app._notifications]
        assert any("1 message left as they were" in m and "flagged" in m for m in said)

        # The reader: work's message open, its account decides (no archive).
        await pilot.press("g", "j", "enter")
        await wait_until(pilot, lambda: "body of message 1" in screen_text(app))
        assert app.screen.reader_account == two.work  # type: ignore[attr-defined]
        await pilot.press("a")
        await pilot.pause(0.2)
        detail = await two.store.message(work0)
        assert detail is not None and detail.row.folder_id == two.folder(two.work, "INBOX")
        assert not await offered("Archive")


class FirstPassManager(FakeManager):
    """The work account's Inbox is in its first pass: the list's filter asks the server
    (``search_server``), and the test plays the worker's answers (its own tests:
    tests/unit/test_server_search.py, tests/integration/test_imap_window_jump.py)."""

    def __init__(self, inbox: int) -> None:
        super().__init__()
        self.inbox = inbox
        self.searches: list[ServerFilter] = []

    def gaps(self, folder_id: int) -> FolderGaps | None:  # type: ignore[override]
        return FolderGaps(["1:9", "1:8"]) if folder_id == self.inbox else None

    def search_server(self, folder_id: int, query: str) -> ServerFilter | None:  # type: ignore[override]
        found = ServerFilter(folder_id, search_words(query))
        self.searches.append(found)
        return found


async def test_the_filter_of_all_inboxes_has_an_inbox_in_its_first_pass_searched(
    two: TwoAccounts,
) -> None:
    work_inbox = two.folder(two.work, "INBOX")
    manager = FirstPassManager(work_inbox)
    app = make_app(two.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: unified_loaded(app))
        await pilot.press("slash", *"000002", "enter")
        await wait_until(pilot, lambda: "2 so far, asking server" in status(app))
        # The work Inbox only: home's is whole. (A slow machine may see a pause in the
        # typing and search a prefix first; the latest filter is the one that counts.)
        assert {s.folder_id for s in manager.searches} == {work_inbox}
        found = manager.searches[-1]
        assert found.words == ("000002",)

        # The worker found three more on the server and fetches them.
        found.state, found.found = SearchState.LOADING, 3
        manager.emit(SyncEvent("work", EventKind.MESSAGES, folder_id=work_inbox))
        await wait_until(pilot, lambda: "2 so far, 3 more coming" in status(app))
        # Committed (as old mail), and done: the filter lists them with the rest.
        old = [new_message(500 + k, subject=f"Work 000002 old {k}") for k in range(3)]
        await two.add(two.work, old)
        found.state = SearchState.DONE
        manager.emit(SyncEvent("work", EventKind.MESSAGES, folder_id=work_inbox))
        await wait_until(pilot, lambda: 'filter "000002": 5 matches' in status(app))
        assert "Work 000002 old 2" in screen_text(app)
