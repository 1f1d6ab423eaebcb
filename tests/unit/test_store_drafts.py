"""Draft copies in the Drafts folder: kept locally at once, filed on the server by the
worker (here the demo server), replaced without piling up, discarded for good."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailtui import mime
from mailtui.accounts import demo_spec
from mailtui.compose import Draft, Identity, build_message, parse_addresses
from mailtui.models import AccountKind, Envelope, Flag, FolderRole, OpKind
from mailtui.store import Store
from mailtui.sync.manager import SyncManager


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "mail.sqlite")
    yield s
    await s.close()


def copy(subject: str) -> tuple[bytes, Envelope, str]:
    draft = Draft(
        from_=Identity("alex@demo.mailtui.test"),
        to=parse_addresses("bob@example.org"),
        bcc=parse_addresses("secret@example.org"),
        subject=subject,
        body="half written\n",
    )
    raw = build_message(draft, draft_copy=True).raw
    return raw, mime.parse_envelope(raw), mime.body_text(raw)


def server_drafts(tmp_path: Path) -> list[bytes]:
    with sqlite3.connect(tmp_path / "server.sqlite") as db:
        return [bytes(r[0]) for r in db.execute("SELECT raw FROM messages WHERE folder='Drafts'")]


async def drafts_folder(store: Store) -> int:
    return next(f.id for f in await store.folders() if f.role is FolderRole.DRAFTS)


async def test_save_replace_and_discard_reach_the_server(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=20)
    await SyncManager(store, [spec]).run_once()
    before = server_drafts(tmp_path)
    drafts = await drafts_folder(store)
    total_before = (await store.count(drafts))[0]

    raw1, env1, text1 = copy("First version")
    first = await store.save_draft_copy(spec.account.id, raw1, env1, text1)
    assert first is not None
    assert (await store.count(drafts))[0] == total_before + 1  # shown at once
    row = (await store.window(drafts, 0, 1))[0]
    assert row.subject == "First version" and row.flags & Flag.DRAFT
    await SyncManager(store, [spec]).run_once()
    assert raw1 in server_drafts(tmp_path)
    ref = await store.remote_ref(first)
    assert ref is not None and ref[0] == "Drafts"  # the server's uid was adopted
    assert (await store.count(drafts))[0] == total_before + 1  # the pull did not add it twice

    raw2, env2, text2 = copy("Second version")
    second = await store.save_draft_copy(
        spec.account.id, raw2, env2, text2, replaces=first
    )
    assert second is not None
    assert (await store.count(drafts))[0] == total_before + 1
    await SyncManager(store, [spec]).run_once()
    on_server = server_drafts(tmp_path)
    assert raw2 in on_server and raw1 not in on_server
    assert len(on_server) == len(before) + 1

    await store.discard_draft_copy(second)
    assert (await store.count(drafts))[0] == total_before
    await SyncManager(store, [spec]).run_once()
    assert server_drafts(tmp_path) == before
    assert await store.pending_ops(spec.account.id, 10) == []


async def test_a_copy_the_server_never_got_is_just_dropped(store: Store, tmp_path: Path) -> None:
    spec = await demo_spec(store, tmp_path, count=5)
    await SyncManager(store, [spec]).run_once()
    raw, env, text = copy("Never filed")
    mid = await store.save_draft_copy(spec.account.id, raw, env, text)
    assert mid is not None
    (op,) = await store.pending_ops(spec.account.id, 10)
    assert op.kind is OpKind.APPEND and op.message_id == mid
    await store.discard_draft_copy(mid)
    assert await store.pending_ops(spec.account.id, 10) == []
    assert await store.message(mid) is None


async def test_discarded_while_the_append_is_in_flight(store: Store, tmp_path: Path) -> None:
    """The DELETE learns the server id from the APPEND's confirmation, in the same round."""
    spec = await demo_spec(store, tmp_path, count=5)
    await SyncManager(store, [spec]).run_once()
    before = server_drafts(tmp_path)
    raw, env, text = copy("In flight")
    mid = await store.save_draft_copy(spec.account.id, raw, env, text)
    assert mid is not None
    (op,) = await store.pending_ops(spec.account.id, 10)
    assert await store.claim_ops([op.id]) == [op.id]  # the worker is sending it
    await store.discard_draft_copy(mid)
    await store.op_failed(op.id, "connection reset", permanent=False)  # back to pending
    await SyncManager(store, [spec]).run_once()
    assert server_drafts(tmp_path) == before
    assert await store.pending_ops(spec.account.id, 10) == []


async def test_no_drafts_folder_means_no_copy(store: Store) -> None:
    account = await store.ensure_account("x", AccountKind.IMAP, "x@example.org")
    raw, env, text = copy("nowhere")
    assert await store.save_draft_copy(account.id, raw, env, text) is None
