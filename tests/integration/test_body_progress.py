"""The body phase's progress (``sync/body_progress.py``) on the real Dovecot: headers
first (no body window), then a window of every day: the worker counts the bodies it
lacks and reports them stored, up to the count, as BODY events' progress."""

from __future__ import annotations

from mailtui.models import AccountKind
from mailtui.protocols.imap import ImapBackend
from mailtui.store import Store
from mailtui.sync.body_progress import EVERY
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.sync.worker import Worker, WorkerOptions
from tests.integration.test_imap_sync import account, msg
from tests.servers import MailUser

N = 75


async def run(s: Store, mail_user: MailUser, body_days: int) -> list[SyncEvent]:
    acc = account(mail_user, body_days=body_days)
    row = await s.ensure_account(acc.name, AccountKind.IMAP, acc.email)
    events: list[SyncEvent] = []
    worker = Worker(
        row,
        lambda: ImapBackend(acc),
        s,
        events.append,
        WorkerOptions(body_days=body_days, backoff_initial=0.01, backoff_max=0.05),
    )
    assert await worker.run(once=True) is AccountStatus.ONLINE
    return events


async def test_bodies_are_counted_then_reported_up_to_the_count(
    mail_user: MailUser,
    store: Store,  # noqa: F811
) -> None:
    mail_user.deliver_many([msg(i, f"subject {i}") for i in range(1, N + 1)])
    headers_only = await run(store, mail_user, 0)
    assert [e for e in headers_only if e.kind is EventKind.BODY and e.progress[1]] == []

    events = await run(store, mail_user, 36500)
    progress = [e.progress for e in events if e.kind is EventKind.BODY and e.progress[1]]
    assert progress[0] == (0, N)
    assert progress[-1] == (N, N)
    assert all(total == N for _, total in progress)
    dones = [done for done, _ in progress]
    assert dones == sorted(dones) and len(dones) <= 2 + N // EVERY + 1
    # A third run has nothing to fetch: it says nothing.
    again = await run(store, mail_user, 36500)
    assert [e for e in again if e.kind is EventKind.BODY and e.progress[1]] == []
