"""The store's sync contract beyond mail: folder kinds, account sync state committed with
its batch, contacts and calendar items, and the schema 4 -> 5 migration that adds them."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mailtui.models import (
    AccountKind,
    CalendarBatch,
    CalendarItem,
    Contact,
    ContactBatch,
    Envelope,
    Flag,
    FolderBatch,
    FolderKind,
    FolderRole,
    NewMessage,
    RemoteFolder,
)
from mailtui.store import NotFound, Store, schema

FOLDERS = [
    RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
    RemoteFolder("Contacts", "Contacts", kind=FolderKind.CONTACTS),
    RemoteFolder("Calendar", "Calendar", kind=FolderKind.CALENDAR),
    RemoteFolder("Tasks", "Tasks", kind=FolderKind.TASKS),
]


def message(rid: str) -> NewMessage:
    return NewMessage(rid, Envelope(subject=f"m {rid}", date=1_000, message_id=f"<{rid}@x>"))


def sql(store: Store, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store.path) as con:
        return list(con.execute(query, params))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "cache.sqlite")
    yield s
    await s.close()


@pytest.fixture
async def ids(store: Store) -> dict[str, int]:
    account = await store.ensure_account("work", AccountKind.EXCHANGE, "me@work.test")
    folder_ids = await store.sync_folders(account.id, FOLDERS)
    return {"account": account.id, **folder_ids}


def event(rid: str, start: int, end: int, **kw: Any) -> CalendarItem:
    return CalendarItem(rid, f"event {rid}", start, end, **kw)


# --- folder kinds ---------------------------------------------------------------------


async def test_folders_keep_their_kind(store: Store, ids: dict[str, int]) -> None:
    kinds = {f.name: f.kind for f in await store.folders(ids["account"])}
    assert kinds == {
        "INBOX": FolderKind.MAIL,
        "Contacts": FolderKind.CONTACTS,
        "Calendar": FolderKind.CALENDAR,
        "Tasks": FolderKind.TASKS,
    }
    # A folder's kind follows the server, like its role.
    await store.sync_folders(
        ids["account"], [RemoteFolder("Tasks", "Tasks", kind=FolderKind.CALENDAR)]
    )
    assert (await store.folder(ids["Tasks"])).kind is FolderKind.CALENDAR


# --- account sync state ---------------------------------------------------------------


async def test_account_state_is_empty_before_the_first_sync(
    store: Store, ids: dict[str, int]
) -> None:
    assert await store.account_state(ids["account"]) == {}
    assert await store.account_state(ids["account"] + 99) == {}


async def test_account_state_commits_with_the_folder_list(
    store: Store, ids: dict[str, int]
) -> None:
    await store.sync_folders(ids["account"], FOLDERS, {"folder_sync_key": "1"})
    assert await store.account_state(ids["account"]) == {"folder_sync_key": "1"}
    await store.sync_folders(ids["account"], FOLDERS)  # None: unchanged
    assert await store.account_state(ids["account"]) == {"folder_sync_key": "1"}
    await store.sync_folders(ids["account"], FOLDERS, {"folder_sync_key": "2", "policy": "p"})
    assert await store.account_state(ids["account"]) == {"folder_sync_key": "2", "policy": "p"}


async def test_account_state_commits_with_its_batch(store: Store, ids: dict[str, int]) -> None:
    batch = FolderBatch("INBOX", added=[message("1")], account_state={"policy_key": "7"})
    (mid,) = await store.apply_batch(ids["INBOX"], batch)
    assert await store.account_state(ids["account"]) == {"policy_key": "7"}
    assert mid in [r.id for r in await store.window(ids["INBOX"], 0, 10)]


async def test_account_state_rolls_back_with_its_batch(store: Store, ids: dict[str, int]) -> None:
    await store.apply_batch(ids["INBOX"], FolderBatch("INBOX", account_state={"key": "old"}))
    # The folder state cannot be stored (not JSON): the whole batch fails, and the
    # account state written before it in the same transaction goes with it.
    bad = FolderBatch(
        "INBOX",
        added=[message("2")],
        flags=[("2", Flag.SEEN)],
        state={"not json": object()},
        account_state={"key": "new"},
    )
    with pytest.raises(TypeError):
        await store.apply_batch(ids["INBOX"], bad)
    assert await store.account_state(ids["account"]) == {"key": "old"}
    assert await store.count(ids["INBOX"]) == (0, 0)
    assert await store.folder_state(ids["INBOX"]) == {}


async def test_account_state_rolls_back_with_a_contact_batch(
    store: Store, ids: dict[str, int]
) -> None:
    bad = ContactBatch(
        "Contacts",
        added=[Contact("c1", "Ann")],
        state={"not json": object()},
        account_state={"key": "new"},
    )
    with pytest.raises(TypeError):
        await store.apply_contact_batch(ids["Contacts"], bad)
    assert await store.account_state(ids["account"]) == {}
    assert await store.contacts(ids["account"]) == []


# --- contacts -------------------------------------------------------------------------


async def test_contact_batches_add_change_and_remove(store: Store, ids: dict[str, int]) -> None:
    ann = Contact(
        "c1",
        "Ann Smith",
        emails=("ann@x.test",),
        phones=("+1 555",),
        organization="X",
        notes="met at the fair",
        data={"eas": {"FileAs": "Smith, Ann"}},
    )
    bob = Contact("c2", "bob", emails=("bob@y.test", "b@y.test"))
    await store.apply_contact_batch(
        ids["Contacts"], ContactBatch("Contacts", added=[bob, ann], state={"sync_key": "1"})
    )
    assert await store.contacts(ids["account"]) == [ann, bob]  # by name, any case
    assert await store.folder_state(ids["Contacts"]) == {"sync_key": "1"}

    ann2 = Contact("c1", "Ann Jones", emails=("ann@z.test",))
    carl = Contact("c3", "Carl")
    await store.apply_contact_batch(
        ids["Contacts"],
        ContactBatch("Contacts", added=[carl], changed=[ann2], removed=["c2", "gone"]),
    )
    assert await store.contacts(ids["account"]) == [ann2, carl]
    assert await store.folder_state(ids["Contacts"]) == {"sync_key": "1"}  # None: unchanged

    # A batch that comes again after a crash changes nothing.
    await store.apply_contact_batch(ids["Contacts"], ContactBatch("Contacts", added=[carl]))
    assert await store.contacts(ids["account"]) == [ann2, carl]

    await store.apply_contact_batch(
        ids["Contacts"], ContactBatch("Contacts", reset=True, added=[bob])
    )
    assert await store.contacts(ids["account"]) == [bob]


async def test_contacts_are_per_account_and_folder(store: Store, ids: dict[str, int]) -> None:
    other = await store.ensure_account("home", AccountKind.EXCHANGE, "me@home.test")
    other_ids = await store.sync_folders(other.id, FOLDERS)
    await store.apply_contact_batch(
        ids["Contacts"], ContactBatch("Contacts", added=[Contact("c1", "Work Ann")])
    )
    await store.apply_contact_batch(
        other_ids["Contacts"], ContactBatch("Contacts", added=[Contact("c1", "Home Ann")])
    )
    assert [c.display_name for c in await store.contacts(ids["account"])] == ["Work Ann"]
    assert [c.display_name for c in await store.contacts(other.id)] == ["Home Ann"]
    with pytest.raises(NotFound):
        await store.apply_contact_batch(99_999, ContactBatch("x"))


async def test_a_folder_gone_from_the_server_takes_its_contacts_and_items(
    store: Store, ids: dict[str, int]
) -> None:
    await store.apply_contact_batch(
        ids["Contacts"], ContactBatch("Contacts", added=[Contact("c1", "Ann")])
    )
    await store.apply_calendar_batch(
        ids["Calendar"], CalendarBatch("Calendar", added=[event("e1", 0, 10)])
    )
    await store.sync_folders(ids["account"], FOLDERS[:1])
    assert await store.contacts(ids["account"]) == []
    assert await store.calendar_items(ids["account"], -100, 100) == []
    assert sql(store, "SELECT count(*) FROM contacts") == [(0,)]


# --- calendar -------------------------------------------------------------------------


async def test_calendar_items_in_a_time_range(store: Store, ids: dict[str, int]) -> None:
    items = [
        event("before", 0, 100),  # ends as the range starts: not in it
        event("across-start", 50, 150),
        event("inside", 120, 130, location="room 1", timezone="Europe/Paris"),
        event("instant", 100, 100),  # no duration, at the start: in it
        event("across-end", 190, 300, all_day=True),
        event("after", 200, 250),  # starts as the range ends: not in it
        event("around", 10, 1000, recurrence="FREQ=WEEKLY", data={"uid": "u1"}),
    ]
    await store.apply_calendar_batch(ids["Calendar"], CalendarBatch("Calendar", added=items))
    found = await store.calendar_items(ids["account"], 100, 200)
    assert [i.remote_id for i in found] == [
        "around",
        "across-start",
        "instant",
        "inside",
        "across-end",
    ]
    by_id = {i.remote_id: i for i in found}
    assert by_id["inside"] == items[2]
    assert by_id["around"] == items[6]
    assert by_id["across-end"].all_day


async def test_calendar_batches_change_remove_and_keep_state(
    store: Store, ids: dict[str, int]
) -> None:
    await store.apply_calendar_batch(
        ids["Calendar"],
        CalendarBatch("Calendar", added=[event("e1", 0, 10), event("e2", 20, 30)]),
    )
    moved = CalendarItem("e1", "moved", 500, 510)
    await store.apply_calendar_batch(
        ids["Calendar"],
        CalendarBatch(
            "Calendar",
            changed=[moved],
            removed=["e2"],
            state={"sync_key": "9"},
            account_state={"folder_sync_key": "3"},
        ),
    )
    assert await store.calendar_items(ids["account"], 0, 100) == []
    assert await store.calendar_items(ids["account"], 0, 1000) == [moved]
    assert await store.folder_state(ids["Calendar"]) == {"sync_key": "9"}
    assert await store.account_state(ids["account"]) == {"folder_sync_key": "3"}
    with pytest.raises(NotFound):
        await store.apply_calendar_batch(99_999, CalendarBatch("x"))


# --- migration ------------------------------------------------------------------------


async def test_a_schema_4_cache_opens_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:4]:
        for statement in migration:
            con.execute(statement)
    con.execute("PRAGMA user_version = 4")
    con.execute("INSERT INTO accounts (id, name, kind, email) VALUES (1, 'a', 'imap', 'a@x')")
    con.execute(
        "INSERT INTO folders (id, account_id, name, display_name, state) "
        """VALUES (1, 1, 'INBOX', 'Inbox', '{"uidvalidity": 5}')"""
    )
    con.close()

    async with await Store.open(path) as store:
        assert sql(store, "PRAGMA user_version") == [(schema.SCHEMA_VERSION,)]
        assert schema.SCHEMA_VERSION >= 5  # and every later migration ran too
        (folder,) = await store.folders(1)
        assert folder.kind is FolderKind.MAIL  # what every folder was before
        assert await store.folder_state(1) == {"uidvalidity": 5}
        assert await store.account_state(1) == {}
        # The new tables work on the migrated file.
        ids = await store.sync_folders(1, [FOLDERS[0], FOLDERS[1]], {"k": "v"})
        await store.apply_contact_batch(
            ids["Contacts"], ContactBatch("Contacts", added=[Contact("c1", "Ann")])
        )
        assert [c.display_name for c in await store.contacts(1)] == ["Ann"]
        assert await store.account_state(1) == {"k": "v"}
        assert ids["INBOX"] == 1
