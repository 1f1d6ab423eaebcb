"""Address completion from the cache (Store.address_suggestions)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui.models import AccountKind, Address, Envelope, FolderBatch, NewMessage, RemoteFolder
from mailtui.store import Store


def msg(n: int, frm: Address, to: tuple[Address, ...], date: int) -> NewMessage:
    return NewMessage(str(n), Envelope(subject=f"s{n}", from_=(frm,), to=to, date=date))


ME = Address("Me", "me@example.org")
BOB = Address("Bob Baker", "bob@example.org")
BOBBY = Address("", "bobby@other.example")
ZOE = Address("Zoë Ångström", "zoe@nordlys.example")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "m.sqlite")
    account = await s.ensure_account("a", AccountKind.IMAP, ME.addr)
    ids = await s.sync_folders(account.id, [RemoteFolder("INBOX", "Inbox")])
    added = [msg(i, BOB, (ME,), 1000 + i) for i in range(5)]
    added += [msg(10, ME, (BOBBY,), 5000), msg(11, ZOE, (ME, BOB), 6000)]
    await s.apply_batch(ids["INBOX"], FolderBatch("INBOX", added=added))
    yield s
    await s.close()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("bob", [BOB, BOBBY]),  # Bob appears in 6 messages, bobby in 1
        ("Bob", [BOB, BOBBY]),
        ("bobby", [BOBBY]),
        ("bob@exa", [BOB, BOBBY]),  # every word a prefix of some part of the address
        ("bob@example.org", [BOB]),
        ("baker", [BOB]),
        ("zoe", [ZOE]),  # remove_diacritics: "zoe" finds "Zoë"
        ("ång", [ZOE]),
        ("nobody", []),
        ("", []),
        ('"*', []),  # FTS syntax is text, never an error
        ('zoe "', [ZOE]),
        ("NEAR(", []),
    ],
)
async def test_suggestions(store: Store, typed: str, expected: list[Address]) -> None:
    got = await store.address_suggestions(typed)
    assert got == expected


async def test_limit(store: Store) -> None:
    assert len(await store.address_suggestions("example", limit=2)) == 2
    assert await store.address_suggestions("example", limit=0) == []
