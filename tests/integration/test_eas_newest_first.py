"""A first Exchange sync brings the newest mail first, against a real SOGo
(tests/servers/sogo.py): the pull steps ``FilterType`` from one day to the whole folder
(``pull.FILTER_STEPS``) on one SyncKey, and SOGo sends as Adds what enters each wider
window. Messages of known age (Date header and IMAP INTERNALDATE, which SOGo's filter
reads) go in oldest first, as in a real mailbox, so SOGo's own order (by UID) would
bring the newest last."""

from __future__ import annotations

import imaplib
import time
from email.utils import formatdate

import pytest

from mailtui.models import FolderBatch, FolderRole
from mailtui.protocols.eas.pull import FILTER_STEPS
from tests.integration.eas_support import by_role, connected
from tests.servers import EASUser

pytestmark = pytest.mark.integration

#: Ages in days, oldest first: some in each FilterType step (1 day, 3 days, 1 week,
#: 2 weeks, 1 month, 3 months, 6 months, all), away from the edges.
AGES = [400, 300, 250, 170, 150, 120, 80, 60, 45]
AGES += [28, 25, 22, 20, 18, 16, 13, 12, 11, 10, 9, 8, 6.5, 6, 5, 4.5, 4, 3.5]
AGES += [2.7, 2.4, 2.1, 1.8, 1.5, 1.3, 0.8, 0.7, 0.6, 0.5, 0.4, 0.2]


def put_dated_mail(user: EASUser) -> dict[str, float]:
    """AGES as messages, oldest first; Message-ID -> age in days."""
    ages = {}
    conn = user.imap()
    try:
        for n, age in enumerate(AGES):
            when = time.time() - age * 86400
            mid = f"<d{n}@example.org>"
            raw = (
                f"From: s{n}@example.org\r\nTo: me@mailtui.test\r\nSubject: {age} days\r\n"
                f"Message-ID: {mid}\r\nDate: {formatdate(when)}\r\n\r\nbody {n}\r\n"
            ).encode()
            typ, data = conn.append("INBOX", None, imaplib.Time2Internaldate(when), raw)
            assert typ == "OK", data
            ages[mid] = age
    finally:
        conn.logout()
    return ages


def ages_of(batch: FolderBatch, ages: dict[str, float]) -> list[float]:
    return [ages[m.envelope.message_id] for m in batch.added]


async def test_first_sync_brings_the_newest_day_first_then_widens(eas_user: EASUser) -> None:
    ages = put_dated_mail(eas_user)
    async with connected(eas_user) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        batches = [b async for b in backend.pull(inbox, {})]
    with_mail = [ages_of(b, ages) for b in batches if b.added]
    # The first batch committed is the last day's mail, and no older than the day before:
    # SOGo turns the one-day FilterType into an IMAP SINCE of yesterday's date, so what
    # else comes with it depends on the time of day the test runs.
    assert set(with_mail[0]) >= {a for a in AGES if a < 1}
    assert max(with_mail[0]) < 2
    # Each batch is older than all before it: newest first, step by step.
    for earlier, later in zip(with_mail, with_mail[1:], strict=False):
        assert min(later) > max(earlier), (earlier, later)
    assert len(with_mail) == len(FILTER_STEPS)
    # Everything once, and the folder ends at the whole folder (no filter left).
    got = [m.envelope.message_id for b in batches for m in b.added]
    assert sorted(got) == sorted(ages)
    states = [b.state for b in batches if b.state is not None]
    assert [s.get("filter") for s in states[:3]] == ["2", "3", "4"]
    assert "7" in [s.get("filter") for s in states]  # SOGo takes 6 and 7 for mail
    assert "filter" not in states[-1] and batches[-1].complete
    assert "filters" not in (batches[-1].account_state or {})


async def test_a_first_sync_cut_between_steps_resumes_in_its_step(eas_user: EASUser) -> None:
    """The step is committed with its key: a new connection from the state of the
    second batch gets the rest, nothing twice and nothing missing."""
    ages = put_dated_mail(eas_user)
    async with connected(eas_user) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        kept: list[FolderBatch] = []
        async for batch in backend.pull(inbox, {}):
            kept.append(batch)
            if len(kept) == 2:
                break  # the process dies here: only these two were committed
    state, account = kept[-1].state, kept[-1].account_state
    assert state is not None and account is not None
    assert state["filter"] == "3" and account["filters"] == {inbox.name: "3"}
    async with connected(eas_user, state=account) as backend:
        inbox = by_role(await backend.list_folders(), FolderRole.INBOX)
        rest = [b async for b in backend.pull(inbox, state)]
    got = [m.envelope.message_id for b in kept + rest for m in b.added]
    assert sorted(got) == sorted(ages)
    assert rest[-1].complete and "filter" not in (rest[-1].state or {"filter": "?"})
