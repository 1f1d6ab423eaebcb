"""Which end of an index a window of rows is read from (pure arithmetic)."""

from __future__ import annotations

import pytest

from mailtui.store.listing import nearer_end


@pytest.mark.parametrize(
    ("offset", "limit", "total", "expected"),
    [
        (0, 50, 1_000_000, (True, 0, 50)),  # first screen: newest first, nothing skipped
        (999_950, 50, 1_000_000, (False, 0, 50)),  # last screen: from the old end
        (999_980, 50, 1_000_000, (False, 0, 20)),  # a short last screen
        (500_000, 50, 1_000_000, (False, 499_950, 50)),  # past the middle: the old end
        (499_975, 50, 1_000_000, (True, 499_975, 50)),  # exactly the middle: newest end
        (10, 50, 10, None),  # past the end
        (0, 50, 0, None),  # empty
        (3, 5, 10, (False, 2, 5)),
    ],
)
def test_nearer_end(
    offset: int, limit: int, total: int, expected: tuple[bool, int, int] | None
) -> None:
    assert nearer_end(offset, limit, total) == expected
    if expected is not None:
        newest_first, skip, count = expected
        first = skip if newest_first else total - skip - count
        assert (first, count) == (offset, min(limit, total - offset))  # the same rows
