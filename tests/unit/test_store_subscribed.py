"""Folders the account does not show (not subscribed): kept in the store, the schema 7
migration that added ``folders.subscribed``, and the account's ``folders`` setting."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mailtui.config import parse
from mailtui.errors import ConfigError
from mailtui.export import export
from mailtui.models import AccountKind, FolderRole, RemoteFolder
from mailtui.store import Store, schema

FOLDERS = [
    RemoteFolder("INBOX", "Inbox", FolderRole.INBOX),
    RemoteFolder("Projects", "Projects"),
    RemoteFolder("Old", "Old", subscribed=False),
]


async def test_sync_folders_keeps_whether_each_folder_is_subscribed(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "cache.sqlite") as store:
        account = await store.ensure_account("a", AccountKind.IMAP, "a@x.test")
        await store.sync_folders(account.id, FOLDERS)
        shown = {f.name: f.subscribed for f in await store.folders(account.id)}
        assert shown == {"INBOX": True, "Projects": True, "Old": False}
        # Subscribed on the server since: the same folder (same id), now shown.
        before = {f.name: f.id for f in await store.folders(account.id)}
        await store.sync_folders(account.id, [*FOLDERS[:2], RemoteFolder("Old", "Old")])
        (old,) = [f for f in await store.folders(account.id) if f.name == "Old"]
        assert old.subscribed is True and old.id == before["Old"]


async def test_a_schema_6_cache_migrates_and_its_folders_stay_shown(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:6]:
        for statement in migration:
            con.execute(statement)
    con.execute("PRAGMA user_version = 6")
    con.execute("INSERT INTO accounts (id, name, kind, email) VALUES (1, 'a', 'imap', 'a@x')")
    con.execute(
        "INSERT INTO folders (id, account_id, name, display_name, role) "
        "VALUES (1, 1, 'INBOX', 'Inbox', 'inbox'), (2, 1, 'Lists', 'Lists', '')"
    )
    con.close()

    async with await Store.open(path) as store:
        with sqlite3.connect(path) as check:
            (version,) = check.execute("PRAGMA user_version").fetchone()
        assert version == schema.SCHEMA_VERSION >= 7
        # Every folder cached before was one the account showed.
        assert [(f.name, f.subscribed) for f in await store.folders(1)] == [
            ("INBOX", True),
            ("Lists", True),
        ]
        await store.sync_folders(1, [FOLDERS[0], RemoteFolder("Lists", "Lists", subscribed=False)])
        assert {f.name: f.subscribed for f in await store.folders(1)} == {
            "INBOX": True,
            "Lists": False,
        }


# --- the account's setting ------------------------------------------------------------

ACCOUNT = '[accounts.w]\nkind="{kind}"\nemail="a@b.c"\nhost="x"\n'


def test_folders_setting_defaults_to_subscribed_and_takes_all() -> None:
    assert parse(ACCOUNT.format(kind="imap")).account("w").folders == "subscribed"
    assert parse(ACCOUNT.format(kind="imap") + 'folders="all"').account("w").folders == "all"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            ACCOUNT.format(kind="imap") + 'folders="every"',
            '[accounts.w] folders: expected one of "subscribed", "all", got "every"',
        ),
        (
            ACCOUNT.format(kind="pop3") + 'folders="all"',
            "[accounts.w] folders: only IMAP accounts have folders to subscribe",
        ),
    ],
)
def test_a_bad_folders_setting_is_a_clear_error(doc: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(doc)
    assert expected in str(info.value)


async def test_export_leaves_out_unsubscribed_folders_with_nothing_cached(
    tmp_path: Path,
) -> None:
    async with await Store.open(tmp_path / "cache.sqlite") as store:
        account = await store.ensure_account("a", AccountKind.IMAP, "a@x.test")
        await store.sync_folders(account.id, FOLDERS)
        result = await export(store, "a", maildir=tmp_path / "out")
        assert result.folders == 2
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["INBOX", "Projects"]
