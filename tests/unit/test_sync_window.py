"""A first pass's gaps (``sync/window.py``) and the list's windows over them
(``FolderSource`` with gaps), against a real store file: every window of a folder whose
committed part has holes is the brute-force answer (position p: message p of the server's
listing when committed, a placeholder otherwise), and the list asks for the
placeholders it hands out."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.models import AccountKind, FolderBatch
from mailtui.protocols.imap.search import UidListing
from mailtui.store import Store
from mailtui.sync.window import WINDOW_MAX, FolderGaps, Windows, _Numbered, _Strings
from mailtui.ui.list_sources import FolderSource
from tests.unit.test_store import FOLDERS, new

SIZE = 40
LISTING = [f"r{i:03d}" for i in range(SIZE)]  # newest first: r000 has the latest date


def message(position: int) -> object:
    return new(LISTING[position], date=1_000_000 - position)


class Control:
    """The manager's side the list talks to, over one worker's ``Windows``."""

    def __init__(self, windows: Windows) -> None:
        self.windows = windows
        self.asked: list[list[str]] = []

    def gaps(self, folder_id: int) -> FolderGaps | None:
        return self.windows.gaps(folder_id)

    def want_window(self, folder_id: int, remote_ids: list[str]) -> None:
        self.asked.append(list(remote_ids))
        self.windows.want(folder_id, remote_ids)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Store, int]]:
    s = await Store.open(tmp_path / "mail.sqlite")
    account = await s.ensure_account("work", AccountKind.IMAP, "me@example.org")
    ids = await s.sync_folders(account.id, FOLDERS)
    yield s, ids["INBOX"]
    await s.close()


async def commit(
    s: Store, folder_id: int, windows: Windows, positions: list[int], **kw: object
) -> None:
    batch = FolderBatch(folder="INBOX", added=[message(p) for p in positions], **kw)  # type: ignore[arg-type]
    await s.apply_batch(folder_id, batch)
    windows.committed(folder_id, batch)


def expected(committed: set[int], offset: int, limit: int) -> list[str]:
    return [
        LISTING[p] if p in committed else "…" for p in range(offset, min(SIZE, offset + limit))
    ]


async def shown(source: FolderSource, offset: int, limit: int, s: Store) -> list[str]:
    out = []
    for line in await source.window(offset, limit):
        if line.pending:
            out.append("…")
        else:
            ref = await s.remote_ref(line.row.id)
            assert ref is not None
            out.append(ref[1])
    return out


def test_runs_and_segments_follow_what_is_committed() -> None:
    gaps = FolderGaps(LISTING[:10])
    assert gaps.runs() == [(0, 10)] and gaps.pending == 10
    assert gaps.segments(0, 10) == [(True, 0, 10)]
    gaps.mark(["r000", "r001", "r002", "r008", "r009", "not-listed"])
    assert gaps.runs() == [(3, 8)] and gaps.pending == 5 and gaps.total == 10
    # (pending, list position or offset among cached rows, length)
    assert gaps.segments(0, 10) == [(False, 0, 3), (True, 3, 5), (False, 3, 2)]
    assert gaps.segments(4, 6) == [(True, 4, 4), (False, 3, 2)]
    assert gaps.segments(1, 3) == [(False, 1, 2), (True, 3, 1)]
    # Cached rows 0, 1, 2, 3, 4 are at list positions 0, 1, 2, 8, 9.
    assert [gaps.list_position(c) for c in range(5)] == [0, 1, 2, 8, 9]
    gaps.mark(["r005"])
    assert gaps.runs() == [(3, 5), (6, 8)]
    assert [gaps.list_position(c) for c in range(6)] == [0, 1, 2, 5, 8, 9]
    gaps.mark(LISTING[:10])
    assert gaps.runs() == [] and gaps.segments(2, 5) == [(False, 2, 5)]


async def test_every_window_with_holes_is_the_brute_force_one(store: tuple[Store, int]) -> None:
    s, inbox = store
    rng = random.Random(17)
    windows = Windows()
    control = Control(windows)
    source = FolderSource(s, inbox, control)  # type: ignore[arg-type]
    order = list(range(SIZE))
    rng.shuffle(order)
    committed: set[int] = set()
    # The first batch brings the listing and the newest few; then random pieces.
    first = [0, 1, 2]
    await commit(s, inbox, windows, first, listing=LISTING)
    committed.update(first)
    rest = [p for p in order if p not in committed]
    while True:
        total, _ = await source.count()
        assert total == SIZE  # the whole folder, cached or not
        for offset in range(0, SIZE + 2, 3):
            for limit in (1, 4, 11, SIZE):
                assert await shown(source, offset, limit, s) == expected(committed, offset, limit)
        # "Next unread" (all are unread) lands on the list position, not the cached offset.
        ordered = sorted(committed)
        assert await source.next_unread(None) == ordered[0]
        lines = await source.window(0, SIZE)
        for here, there in zip(ordered, ordered[1:], strict=False):
            assert await source.next_unread(lines[here].row) == there
        if not rest:
            break
        piece, rest = rest[:7], rest[7:]
        await commit(s, inbox, windows, piece)
        committed.update(piece)
    # Everything committed, the pass not over yet: no placeholder is asked for.
    for cached in range(SIZE):
        assert windows.gaps(inbox).list_position(cached) == cached  # type: ignore[union-attr]
    control.asked.clear()
    assert await shown(source, 0, SIZE, s) == LISTING
    assert control.asked == []
    # The pass's last batch: the gaps are gone, the list is the store's.
    await commit(s, inbox, windows, [], complete=True)
    assert windows.gaps(inbox) is None
    assert await source.count() == (SIZE, SIZE)


async def test_the_list_asks_for_the_placeholders_it_shows_the_latest_wins(
    store: tuple[Store, int],
) -> None:
    s, inbox = store
    windows = Windows()
    control = Control(windows)
    source = FolderSource(s, inbox, control)  # type: ignore[arg-type]
    await commit(s, inbox, windows, [0, 1, SIZE - 1], listing=LISTING)
    lines = await source.window(SIZE - 5, 5)  # the end key: the oldest screen
    assert control.asked == [LISTING[SIZE - 5 : SIZE - 1]]
    # A placeholder stands for no message (nothing to select or act on yet).
    assert [await source.messages(line) for line in lines[:-1]] == [[]] * 4
    assert await source.messages(lines[-1]) == [lines[-1].row.id]
    await source.window(10, 3)  # then PgDn further up: this one is served first
    assert windows._wanted == (inbox, LISTING[10:13] + LISTING[SIZE - 5 : SIZE - 1])
    await source.window(11, 3)  # asked again: once, first
    assert windows._wanted == (inbox, LISTING[11:14] + [LISTING[10]] + LISTING[SIZE - 5 : SIZE - 1])
    many = [f"x{i}" for i in range(WINDOW_MAX)]
    assert windows.want(inbox, many) and windows._wanted == (inbox, many)
    # A folder without gaps asks nothing.
    assert not windows.want(inbox + 1, LISTING[:3])


async def test_a_reset_or_the_last_batch_forgets_the_gaps(store: tuple[Store, int]) -> None:
    s, inbox = store
    windows = Windows()
    await commit(s, inbox, windows, [0], listing=LISTING)
    assert windows.gaps(inbox) is not None
    await commit(s, inbox, windows, [], reset=True)
    assert windows.gaps(inbox) is None
    await commit(s, inbox, windows, [0], listing=LISTING, reset=True)
    gaps = windows.gaps(inbox)
    assert gaps is not None and gaps.pending == SIZE - 1


@pytest.mark.parametrize(
    "listing",
    [
        [f"7:{u}" for u in range(300, 0, -1)],  # IMAP: newest first by UID
        [f"7:{u}" for u in random.Random(3).sample(range(1, 10_000), 300)],  # any order
        [f"{u}" for u in range(300, 0, -1)],  # no prefix at all
    ],
)
def test_numbered_ids_are_kept_as_numbers_and_answer_as_strings_do(listing: list[str]) -> None:
    """Ids of one prefix and a plain number are kept in arrays (4 bytes a message):
    every answer is the one the strings give."""
    compact, plain = FolderGaps(listing), FolderGaps(listing)
    plain._ids = _Strings(listing)
    assert isinstance(compact._ids, _Numbered)
    for rid in [*listing, "7:0", "7:007", "7:x", "8:1", "", "7:", "7:٣", "99999999999999999999"]:
        assert compact.position(rid) == plain.position(rid)
    assert [compact.remote_id(p) for p in range(len(listing))] == listing
    marked = listing[5:40] + listing[100:101] + ["7:0", "elsewhere"]
    compact.mark(marked)
    plain.mark(marked)
    assert compact.runs() == plain.runs() == [(0, 5), (40, 100), (101, 300)]
    assert compact.segments(0, 300) == plain.segments(0, 300)


@pytest.mark.parametrize(
    "listing", [["7:01", "7:2"], ["r1", "s2"], ["7:1", "7:1a"], [f"1:{2**64}", "1:1"]]
)
def test_other_ids_stay_strings(listing: list[str]) -> None:
    gaps = FolderGaps(listing)
    assert isinstance(gaps._ids, _Strings)
    assert [gaps.position(rid) for rid in listing] == [0, 1]


def test_an_imap_listing_makes_its_ids_on_demand() -> None:
    listing = UidListing(5, [30, 20, 10])
    assert len(listing) == 3 and listing[0] == "5:30" and listing[-1] == "5:10"
    assert listing[1:] == ["5:20", "5:10"] and list(listing) == ["5:30", "5:20", "5:10"]
    assert listing.numbered() == ("5:", [30, 20, 10])
    gaps = FolderGaps(listing)
    assert isinstance(gaps._ids, _Numbered) and gaps.position("5:20") == 1


@pytest.mark.parametrize(
    "uids",
    [
        list(range(300, 0, -1)),  # newest first: the numbers are their own index
        random.Random(5).sample(range(1, 10_000), 300),  # any order
        [2**40 + u for u in range(300, 0, -1)],  # wider than 32 bits
    ],
)
def test_an_imap_listing_s_numbers_are_taken_as_they_are(uids: list[int]) -> None:
    """The numbers of a ``UidListing`` go into the gaps without a string per message:
    the same answers as the strings give."""
    listing = UidListing(7, uids)
    compact, plain = FolderGaps(listing), FolderGaps(list(listing))
    plain._ids = _Strings(list(listing))
    assert isinstance(compact._ids, _Numbered)
    for rid in [*listing, "7:0", "7:007", "7:x", "8:1", "", "7:", f"7:{2**70}"]:
        assert compact.position(rid) == plain.position(rid)
    assert [compact.remote_id(p) for p in range(len(listing))] == list(listing)
    marked = list(listing[5:40]) + [listing[100], "7:0", "elsewhere"]
    compact.mark(marked)
    plain.mark(marked)
    assert compact.runs() == plain.runs() == [(0, 5), (40, 100), (101, 300)]


def test_an_imap_listing_with_a_negative_number_stays_strings() -> None:
    gaps = FolderGaps(UidListing(7, [3, -1]))
    assert isinstance(gaps._ids, _Strings) and gaps.position("7:-1") == 1


class CommitDuringRead:
    """The store as the list reads it, with the worker's next commit landing while the
    list awaits its first read of cached rows (as it can on the shared event loop)."""

    def __init__(self, s: Store, folder_id: int, windows: Windows, positions: list[int]) -> None:
        self._s = s
        self._folder_id = folder_id
        self._windows = windows
        self._positions: list[int] | None = positions

    def __getattr__(self, name: str) -> object:
        return getattr(self._s, name)

    async def window(self, folder_id: int, offset: int, limit: int) -> list[object]:
        rows = await self._s.window(folder_id, offset, limit)
        if self._positions is not None:
            positions, self._positions = self._positions, None
            await commit(self._s, self._folder_id, self._windows, positions)
        return rows  # type: ignore[return-value]


async def test_a_batch_committed_while_the_window_is_read_moves_no_row(
    store: tuple[Store, int],
) -> None:
    """The gaps change between reading the runs and reading the rows: the window is read
    again, so every row is the one of its position (here the batch fills positions
    before the cached ones, which would otherwise shift them)."""
    s, inbox = store
    windows = Windows()
    await commit(s, inbox, windows, [0, 1, 20, 21, 22], listing=LISTING)
    source = FolderSource(
        CommitDuringRead(s, inbox, windows, [2, 3, 4, 23]),  # type: ignore[arg-type]
        inbox,
        Control(windows),  # type: ignore[arg-type]
    )
    committed = {0, 1, 2, 3, 4, 20, 21, 22, 23}
    assert await shown(source, 0, SIZE, s) == expected(committed, 0, SIZE)


async def test_the_pass_ending_while_the_window_is_read_leaves_no_placeholder(
    store: tuple[Store, int],
) -> None:
    s, inbox = store
    windows = Windows()
    await commit(s, inbox, windows, [0, 1], listing=LISTING)
    rest = list(range(2, SIZE))
    await s.apply_batch(inbox, FolderBatch(folder="INBOX", added=[message(p) for p in rest]))  # type: ignore[list-item]

    class Ending(CommitDuringRead):
        async def window(self, folder_id: int, offset: int, limit: int) -> list[object]:
            rows = await self._s.window(folder_id, offset, limit)
            if self._positions is not None:
                self._positions = None
                windows.committed(inbox, FolderBatch(folder="INBOX", complete=True))
            return rows  # type: ignore[return-value]

    source = FolderSource(
        Ending(s, inbox, windows, []),  # type: ignore[arg-type]
        inbox,
        Control(windows),  # type: ignore[arg-type]
    )
    assert await shown(source, 0, SIZE, s) == LISTING
