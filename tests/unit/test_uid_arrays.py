"""A first pass's UIDs in arrays (``search_answer.search_uids``, ``highest_first``,
``wire.uid_ranges``): the same UIDs, in the same order, as the lists they replace.

``search_uids`` reads its answer from a stand-in for the connection that hands out
parsed responses (a contract test: the parsing is the real ``wire.parse_response``)."""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtui.errors import TransientError
from mailtui.protocols.imap.search_answer import (
    highest_first,
    search_answer,
    search_uids,
    uid_array,
)
from mailtui.protocols.imap.wire import (
    ProtocolError,
    Response,
    parse_response,
    parse_uid_set,
    uid_ranges,
    uid_set,
)


class _Answers:
    """The part of ``ImapCommands`` a search answer is read with: ``responses``."""

    def __init__(self, *lines: bytes) -> None:
        self._responses = [parse_response([line]) for line in lines]

    async def responses(self, pending: object) -> AsyncIterator[Response]:
        for resp in self._responses:
            yield resp


def _read(reader, *lines: bytes):  # type: ignore[no-untyped-def]
    return asyncio.run(reader(_Answers(*lines), None))


@pytest.mark.parametrize(
    "lines",
    [
        (b"* SEARCH 4 9 2 7\r\n",),
        (b"* SEARCH\r\n",),
        (b'* ESEARCH (TAG "a1") UID ALL 1:3,7,10:12\r\n',),
        (b'* ESEARCH (TAG "a1") UID ALL 5,3:1\r\n',),
        (b'* ESEARCH (TAG "a1") UID MAX 4294967295\r\n',),
        (b'* ESEARCH (TAG "a1") UID\r\n', b"* SEARCH 8 9\r\n"),
    ],
)
def test_search_uids_are_the_answers_uids(lines: tuple[bytes, ...]) -> None:
    found = _read(search_uids, *lines)
    assert isinstance(found, array)
    assert found.itemsize == 4
    assert list(found) == _read(search_answer, *lines)


def test_a_uid_beyond_32_bits_is_a_transient_error() -> None:
    with pytest.raises(TransientError, match="32 bits"):
        _read(search_uids, b"* SEARCH 1 4294967296\r\n")
    assert _read(search_answer, b"* SEARCH 1 4294967296\r\n") == [1, 4294967296]


def test_an_absurd_range_is_refused_before_any_number_is_made() -> None:
    with pytest.raises(ProtocolError):
        next(uid_ranges("1:20000000"))
    with pytest.raises(ProtocolError):
        _read(search_uids, b'* ESEARCH (TAG "a1") UID ALL 1:20000000\r\n')


@given(st.lists(st.integers(min_value=1, max_value=2**32 - 1), max_size=60))
def test_highest_first_sorts_as_sorted_does(uids: list[int]) -> None:
    assert list(highest_first(uid_array(uids))) == sorted(uids, reverse=True)


def test_highest_first_reverses_an_ascending_listing_in_place() -> None:
    listing = uid_array(range(1, 100_001))
    assert highest_first(listing) is listing
    assert listing[0] == 100_000
    assert listing[-1] == 1


@given(st.lists(st.integers(min_value=1, max_value=5_000), max_size=60))
def test_uid_ranges_spell_the_set_parse_uid_set_reads(uids: list[int]) -> None:
    text = uid_set(uids)
    assert [u for span in uid_ranges(text) for u in span] == parse_uid_set(text)
    assert parse_uid_set(text) == sorted(set(uids))
    assert uid_set(uid_array(uids)) == text
