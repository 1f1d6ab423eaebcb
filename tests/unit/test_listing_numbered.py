"""A first pass's listing handed over as numbers (``UidListing.numbered``): ``FolderGaps``
keeps IMAP's UIDs as they are, without making a string per message and parsing it back
on the first screen's path; it must answer as if it had read the ids one by one."""

from __future__ import annotations

from collections.abc import Sequence

from mailtui.protocols.imap.search import UidListing
from mailtui.sync.window import FolderGaps


def test_numbered_is_what_the_ids_say() -> None:
    uids = [907, 905, 12, 3, 1]
    listing = UidListing(1712345678, uids)
    prefix, numbers = listing.numbered()
    assert [prefix + str(n) for n in numbers] == list(listing)


def test_gaps_from_numbers_answer_as_from_strings() -> None:
    uids = list(range(5000, 0, -2))
    listing = UidListing(42, uids)
    fast, slow = FolderGaps(listing), FolderGaps(list(listing))
    assert fast.total == slow.total == len(uids)
    for position in (0, 1, 17, len(uids) - 1):
        assert fast.remote_id(position) == slow.remote_id(position) == listing[position]
    for rid in ("42:5000", "42:2", "42:3", "41:5000", "42:05000", "x"):
        assert fast.position(rid) == slow.position(rid)
    batch = [listing[i] for i in range(100, 300)]
    fast.mark(batch)
    slow.mark(batch)
    assert fast.runs() == slow.runs() == [(0, 100), (300, len(uids))]
    assert fast.segments(90, 20) == slow.segments(90, 20)


class Odd(Sequence[str]):
    """A listing whose ``numbered`` does not hold plain numbers: read id by id."""

    def __init__(self, ids: list[str]) -> None:
        self._ids = ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        return self._ids[index]

    def numbered(self) -> tuple[str, list[int]]:
        return "p", [-1, -2]


def test_a_listing_whose_numbers_do_not_fit_is_read_id_by_id() -> None:
    gaps = FolderGaps(Odd(["p3", "p2", "p1"]))
    assert gaps.total == 3
    assert gaps.position("p2") == 1
    assert gaps.remote_id(2) == "p1"


class Counting(UidListing):
    made = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        Counting.made += 1
        return super().__getitem__(index)


def test_the_numbers_are_taken_without_a_string_per_message() -> None:
    listing = Counting(7, list(range(100_000, 0, -1)))
    gaps = FolderGaps(listing)
    assert Counting.made == 0
    assert gaps.position("7:1") == 99_999
