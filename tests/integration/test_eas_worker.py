"""An Exchange account through the real sync worker and store, against SOGo: the user's
read, flag, move and delete made in the store reach the server in the next session
(before that session pulled the folder: the ops find the folder's key in the account
state), another IMAP client sees them, and the cache ends as the server is, nothing
doubled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.models import Flag
from mailtui.protocols.eas.backend import EasBackend
from mailtui.store import Store
from mailtui.sync.contract import AccountStatus
from mailtui.sync.worker import Worker, WorkerOptions
from tests.integration.eas_support import flags_of, imap_folder, message, uid_of
from tests.servers import EASUser

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


async def session(store: Store, user: EASUser) -> None:
    """One worker session (``sync --once``) with a new backend, as after a restart."""
    acc = user.account()
    row = await store.ensure_account(acc.name, acc.kind, acc.email)
    worker = Worker(
        row,
        lambda: EasBackend(acc),
        store,
        lambda e: None,
        WorkerOptions(body_days=acc.body_days, backoff_initial=0.01, backoff_max=0.05),
    )
    assert await worker.run(once=True) is AccountStatus.ONLINE
    assert await store.pending_ops(row.id, 10) == []


async def by_subject(store: Store, display: str) -> dict[str, tuple[int, Flag]]:
    folder = next(f for f in await store.folders() if f.display_name == display)
    return {r.subject: (r.id, r.flags) for r in await store.window(folder.id, 0, 1000)}


async def test_intents_reach_the_server_in_the_next_session(
    eas_user: EASUser, store: Store
) -> None:
    for n in range(4):
        eas_user.append(message(n))
    await session(store, eas_user)
    inbox = await by_subject(store, "INBOX")
    assert set(inbox) == {f"message {n}" for n in range(4)}
    state = await store.account_state((await store.accounts())[0].id)
    assert state["device_id"] and state["keys"]  # kept for the next session

    trash = next(f for f in await store.folders() if f.display_name == "Trash")
    await store.set_flags([inbox["message 0"][0]], Flag.SEEN | Flag.FLAGGED, Flag.NONE)
    await store.move([inbox["message 1"][0]], trash.id)
    await store.delete([inbox["message 2"][0]])  # to Trash as well
    await session(store, eas_user)
    await session(store, eas_user)  # and once more: nothing doubles

    with imap_folder(eas_user) as conn:
        assert {r"\Seen", r"\Flagged"} <= flags_of(conn, uid_of(conn, "<m0@example.org>") or "")
        assert uid_of(conn, "<m1@example.org>") is None
        assert uid_of(conn, "<m2@example.org>") is None
    with imap_folder(eas_user, "Trash") as conn:
        assert uid_of(conn, "<m1@example.org>") and uid_of(conn, "<m2@example.org>")
    inbox = await by_subject(store, "INBOX")
    assert set(inbox) == {"message 0", "message 3"}
    assert inbox["message 0"][1] & (Flag.SEEN | Flag.FLAGGED) == Flag.SEEN | Flag.FLAGGED
    assert sorted(await by_subject(store, "Trash")) == ["message 1", "message 2"]
