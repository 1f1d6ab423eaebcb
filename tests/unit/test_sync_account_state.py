"""The worker's side of the sync contract beyond mail: account state handed to the backend
at start and committed with what carries it, contacts and calendar folders pulled from a
backend that has them, and ``Capabilities.sole_copy`` turned into durable bodies.

The backend is a scripted stand-in (the worker's logic is what is under test here; the
real backends run against real servers in tests/integration)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from mailtui.models import (
    Account,
    AccountKind,
    CalendarBatch,
    CalendarItem,
    Contact,
    ContactBatch,
    Envelope,
    FolderBatch,
    FolderKind,
    FolderRole,
    NewMessage,
    OpResult,
    PendingOp,
    RawMessage,
    RemoteFolder,
)
from mailtui.store import Store
from mailtui.sync.contract import (
    AccountStatus,
    CalendarSource,
    Capabilities,
    ContactSource,
    EventKind,
    StatefulBackend,
    SyncEvent,
)
from mailtui.sync.worker import Worker

FOLDERS = [
    RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
    RemoteFolder("Contacts", "Contacts", kind=FolderKind.CONTACTS),
    RemoteFolder("Calendar", "Calendar", kind=FolderKind.CALENDAR),
    RemoteFolder("Tasks", "Tasks", kind=FolderKind.TASKS),
]
ANN = Contact("c1", "Ann", emails=("ann@x.test",))
MEETING = CalendarItem("e1", "meeting", 1_000, 2_000)


class MailOnly:
    """A mail backend: no account state, no contacts or calendar."""

    capabilities = Capabilities()

    def __init__(self) -> None:
        self.pulled: list[str] = []

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def list_folders(self) -> list[RemoteFolder]:
        return FOLDERS

    async def pull(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[FolderBatch]:
        self.pulled.append(folder.name)
        if not state:
            message = NewMessage(
                "1", Envelope(subject="hi", date=1_000, message_id="<1@x>"), raw=b"raw 1"
            )
            yield FolderBatch(folder.name, added=[message], state={"seen": 1}, complete=True)

    async def fetch_body(self, folder: str, remote_id: str) -> bytes:
        return b""

    async def fetch_bodies(
        self, folder: str, remote_ids: Sequence[str]
    ) -> AsyncIterator[tuple[str, RawMessage]]:
        for _ in ():
            yield "", b""

    async def apply(self, op: PendingOp, target_folder: str | None) -> OpResult:
        return OpResult()

    async def wait_for_changes(self, timeout: float) -> set[str]:
        return set()


class ExchangeLike(MailOnly):
    """Account state, contacts and calendar, like EAS."""

    capabilities = Capabilities(contacts=True, calendar=True)

    def __init__(self) -> None:
        super().__init__()
        self.restored: dict[str, Any] | None = None
        self.connected_after_restore = False
        self._state: dict[str, Any] = {}
        self._dirty = False

    def restore(self, state: Mapping[str, Any]) -> None:
        self.restored = dict(state)
        self._state = dict(state)

    async def connect(self) -> None:
        self.connected_after_restore = self.restored is not None
        if "device_id" not in self._state:
            self._state["device_id"] = "dev-1"
            self._dirty = True

    async def list_folders(self) -> list[RemoteFolder]:
        self._state["folder_sync_key"] = str(int(self._state.get("folder_sync_key", "0")) + 1)
        self._dirty = True
        return FOLDERS

    def take_account_state(self) -> dict[str, Any] | None:
        dirty, self._dirty = self._dirty, False
        return dict(self._state) if dirty else None

    async def pull_contacts(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[ContactBatch]:
        self.pulled.append(folder.name)
        if not state:
            # The server demanded a new policy during this sync: its key travels with
            # the batch that was fetched under it.
            self._state["policy_key"] = "p-1"
            yield ContactBatch(
                folder.name,
                added=[ANN],
                state={"sync_key": "1"},
                account_state=dict(self._state),
                complete=True,
            )
        else:
            yield ContactBatch(folder.name, complete=True)  # "no changes"

    async def pull_calendar(
        self, folder: RemoteFolder, state: Mapping[str, Any]
    ) -> AsyncIterator[CalendarBatch]:
        self.pulled.append(folder.name)
        if not state:
            yield CalendarBatch(
                folder.name, added=[MEETING], state={"sync_key": "1"}, complete=True
            )


class SoleCopy(MailOnly):
    capabilities = Capabilities(folders=False, server_move=False, flags=False, sole_copy=True)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "cache.sqlite")
    yield s
    await s.close()


async def run_once(store: Store, account: Account, backend: MailOnly) -> list[SyncEvent]:
    events: list[SyncEvent] = []
    worker = Worker(account, lambda: backend, store, events.append)  # type: ignore[arg-type,return-value]
    assert await worker.run(once=True) is AccountStatus.ONLINE
    return events


def test_the_stand_ins_fit_the_contract() -> None:
    assert isinstance(ExchangeLike(), StatefulBackend | ContactSource | CalendarSource)
    assert isinstance(ExchangeLike(), ContactSource) and isinstance(ExchangeLike(), CalendarSource)
    assert not isinstance(MailOnly(), StatefulBackend | ContactSource | CalendarSource)


async def test_account_state_is_restored_and_committed_with_what_carries_it(
    store: Store,
) -> None:
    account = await store.ensure_account("work", AccountKind.EXCHANGE, "me@work.test")
    first = ExchangeLike()
    await run_once(store, account, first)
    assert first.restored == {} and first.connected_after_restore
    # The folder list committed {device_id, folder_sync_key 1}; the contact batch then
    # committed the state with the policy key it was fetched under.
    assert await store.account_state(account.id) == {
        "device_id": "dev-1",
        "folder_sync_key": "1",
        "policy_key": "p-1",
    }

    second = ExchangeLike()
    await run_once(store, account, second)
    assert second.restored == {"device_id": "dev-1", "folder_sync_key": "1", "policy_key": "p-1"}
    assert (await store.account_state(account.id))["folder_sync_key"] == "2"


async def test_contacts_and_calendar_folders_are_pulled_into_the_store(store: Store) -> None:
    account = await store.ensure_account("work", AccountKind.EXCHANGE, "me@work.test")
    backend = ExchangeLike()
    events = await run_once(store, account, backend)
    # Inbox first; each folder through the pull of its kind; tasks have no batch yet.
    assert backend.pulled == ["INBOX", "Calendar", "Contacts"]
    assert await store.contacts(account.id) == [ANN]
    assert await store.calendar_items(account.id, 0, 10_000) == [MEETING]
    ids = {f.name: f.id for f in await store.folders(account.id)}
    assert await store.folder_state(ids["Contacts"]) == {"sync_key": "1"}
    kinds = {(e.kind, e.folder_id) for e in events}
    assert (EventKind.CONTACTS, ids["Contacts"]) in kinds
    assert (EventKind.CALENDAR, ids["Calendar"]) in kinds


async def test_an_unchanged_contacts_folder_writes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await store.ensure_account("work", AccountKind.EXCHANGE, "me@work.test")
    await run_once(store, account, ExchangeLike())
    applied: list[ContactBatch] = []
    apply_contact_batch = store.apply_contact_batch

    async def recording(folder_id: int, batch: ContactBatch) -> None:
        applied.append(batch)
        await apply_contact_batch(folder_id, batch)

    monkeypatch.setattr(store, "apply_contact_batch", recording)
    backend = ExchangeLike()
    await run_once(store, account, backend)
    assert "Contacts" in backend.pulled and applied == []
    assert await store.contacts(account.id) == [ANN]


async def test_a_mail_backend_gets_no_other_folder_pulled(store: Store) -> None:
    account = await store.ensure_account("mail", AccountKind.IMAP, "me@mail.test")
    backend = MailOnly()
    await run_once(store, account, backend)
    assert backend.pulled == ["INBOX"]
    assert await store.account_state(account.id) == {}


@pytest.mark.parametrize(("backend_class", "durable"), [(MailOnly, False), (SoleCopy, True)])
async def test_sole_copy_makes_the_store_keep_bodies_durable(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    backend_class: type[MailOnly],
    durable: bool,
) -> None:
    account = await store.ensure_account("pop", AccountKind.POP3, "me@pop.test")
    seen: list[bool] = []
    apply_batch = store.apply_batch

    async def recording(folder_id: int, batch: FolderBatch, *, durable: bool = False) -> list[int]:
        seen.append(durable)
        return await apply_batch(folder_id, batch, durable=durable)

    monkeypatch.setattr(store, "apply_batch", recording)
    await run_once(store, account, backend_class())
    assert seen == [durable]
