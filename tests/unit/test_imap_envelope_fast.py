"""The fast paths of an IMAP pull's envelope parsing agree with the slow, obvious ones:
``header_envelope`` with ``parse_envelope`` on the same header, ``internaldate`` with
``datetime.strptime``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtui import mime
from mailtui.protocols.imap.messages import batch_of, header_block, imap_date, internaldate

DATA = Path(__file__).resolve().parents[1] / "data"
MESSAGES = sorted((DATA / "valid").glob("*.eml")) + sorted((DATA / "malformed").glob("*.eml"))


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_header_envelope_reads_the_fields_parse_envelope_reads(path: Path) -> None:
    raw = path.read_bytes()
    header = header_block(raw)
    fast, slow = mime.header_envelope(header), mime.parse_envelope(header)
    assert (fast.subject, fast.from_, fast.to, fast.cc, fast.date) == (
        slow.subject,
        slow.from_,
        slow.to,
        slow.cc,
        slow.date,
    )
    assert (fast.message_id, fast.in_reply_to, fast.references) == (
        slow.message_id,
        slow.in_reply_to,
        slow.references,
    )


@given(st.binary(max_size=600))
def test_header_envelope_never_raises(data: bytes) -> None:
    mime.header_envelope(data)


@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_internaldate_matches_strptime(when: datetime, offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    text = when.replace(microsecond=0, tzinfo=zone).strftime("%d-%b-%Y %H:%M:%S %z")
    text = text.lstrip("0") if text.startswith("0") else text  # servers send " 7-Feb-…"
    expected = int(datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp())
    assert internaldate(text) == expected
    assert internaldate(" " + text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "32-Jan-2026 00:00:00 +0000", "1-Foo-2026 00:00:00 +0000",
     "1-Jan-2026 24:00:00 +0000", "1-Jan-2026 00:00:00 0000", "1-Jan-2026 00:00 +0000"],
)
def test_internaldate_is_zero_when_malformed(text: str) -> None:
    assert internaldate(text) == 0


def test_search_dates_do_not_follow_the_locale() -> None:
    assert imap_date(datetime(2026, 2, 7, 23, 59, tzinfo=UTC).timestamp()) == b"7-Feb-2026"


def test_a_batch_takes_its_own_uids_whichever_command_brought_them() -> None:
    """Pipelined FETCHes can interleave: batch 1's command may bring a message of batch 2
    and the other way round; each batch gets exactly its UIDs, newest first."""
    spill: dict[int, dict[str, object]] = {}
    first, uids = batch_of([9, 8, 7], [{"UID": "8"}, {"UID": "6"}, {"UID": "9"}], spill)
    assert [d["UID"] for d in first] == ["9", "8"] and uids == [9, 8]  # 7 still to come
    assert set(spill) == {6}
    second, uids = batch_of([6, 5], [{"UID": "5"}, {"UID": "7"}], spill)
    assert [d["UID"] for d in second] == ["6", "5"] and uids == [6, 5]
    assert set(spill) == {7}  # late for its batch: kept, never lost or doubled
    assert batch_of([4], [{"UID": "4"}], spill) == ([{"UID": "4"}], [4])
