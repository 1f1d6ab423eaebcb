"""Pipelined IMAP commands (ImapConnection.send / responses) against the real Dovecot:
each command gets exactly its own answer whatever order they are read in, a refused one
fails alone, and the first pass keeps only the messages it asked for."""

from __future__ import annotations

import imaplib
from collections.abc import AsyncIterator

import pytest

from mailtui.protocols.imap import ImapBackend
from mailtui.protocols.imap.connection import CommandFailed, ImapConnection
from mailtui.protocols.imap.wire import fetch_dict
from tests.integration.test_imap_sync import account, msg
from tests.servers import MailUser


@pytest.fixture
async def backend(mail_user: MailUser) -> AsyncIterator[ImapBackend]:
    mail_user.deliver_many([msg(i, size=30_000) for i in range(1, 6)])
    b = ImapBackend(account(mail_user))
    await b.connect()
    await b._select("INBOX")
    yield b
    await b.close()


def conn_of(backend: ImapBackend) -> ImapConnection:
    assert backend.conn is not None
    return backend.conn


async def uids_in(conn: ImapConnection, pending: object) -> list[int]:
    out = []
    async for r in conn.responses(pending):  # type: ignore[arg-type]
        if r.kind == "FETCH":
            out.append(int(fetch_dict(r.items)["UID"]))
        elif r.kind == "SEARCH":
            out += [int(i) for i in r.items if isinstance(i, str)]
    return out


async def test_each_pipelined_command_gets_its_own_answer_in_any_reading_order(
    backend: ImapBackend,
) -> None:
    """Dovecot runs pipelined commands in parallel (a SEARCH result can come before the
    tagged answer of the FETCH sent before it): answers are told apart by kind, FETCH
    answers by UID (the caller's part)."""
    conn = conn_of(backend)
    for _ in range(20):  # the interleaving differs from run to run
        first = await conn.send(b"UID", b"FETCH", b"1,2", b"(UID BODY.PEEK[])")
        search = await conn.send(b"UID", b"SEARCH", b"ALL")
        last = await conn.send(b"UID", b"FETCH", b"5", b"(UID FLAGS)")
        status = await conn.send(b"STATUS", b"Archive", b"(MESSAGES)")
        # Read the last first: the ones before it are read into their handles.
        assert [r.kind for r in [r async for r in conn.responses(status)]] == ["STATUS"]
        fetched = await uids_in(conn, last)
        assert await uids_in(conn, search) == [1, 2, 3, 4, 5]
        fetched += await uids_in(conn, first)
        assert sorted(fetched) == [1, 2, 5]
        assert not conn.broken and conn._pending == []
    # A command that cannot be told apart waits for the answers before it.
    pending = await conn.send(b"UID", b"FETCH", b"3", b"(UID FLAGS)")
    _, untagged = await conn.command(b"EXAMINE", b"INBOX")
    assert pending.answer is not None and pending.answer.kind == "OK"
    assert "EXISTS" in {r.kind for r in untagged}
    assert [int(fetch_dict(r.items)["UID"]) for r in pending.early] == [3]


async def test_a_refused_pipelined_command_fails_alone(backend: ImapBackend) -> None:
    conn = conn_of(backend)
    good = await conn.send(b"UID", b"FETCH", b"3", b"(UID FLAGS)")
    bad = await conn.send(b"EXAMINE", b"no-such-folder")
    after = await conn.send(b"UID", b"SEARCH", b"ALL")
    with pytest.raises(CommandFailed):
        await uids_in(conn, bad)
    assert await uids_in(conn, good) == [3]
    # Dovecot closes the selected folder when an EXAMINE fails: SEARCH is refused too,
    # as it would be unpipelined, and the connection stays usable.
    with pytest.raises(CommandFailed):
        await uids_in(conn, after)
    assert not conn.broken
    await backend._select("INBOX")
    assert await uids_in(conn, await conn.send(b"UID", b"SEARCH", b"ALL")) == [1, 2, 3, 4, 5]


async def test_a_flag_change_reported_unasked_is_not_taken_for_a_message(
    backend: ImapBackend, mail_user: MailUser
) -> None:
    """Another client flags message 1 while a batch of messages 4 and 5 is fetched: the
    server reports the change unasked, with that FETCH; the batch stays 4 and 5."""
    other = imaplib.IMAP4_SSL(
        mail_user.host, mail_user.imaps_port, ssl_context=mail_user.ssl_context()
    )
    try:
        other.login(mail_user.name, mail_user.password)
        other.select("INBOX")
        other.store("1", "+FLAGS", "(\\Flagged)")
    finally:
        other.logout()
    fetched = await backend._fetch_raw([4, 5], {4, 5})
    assert [int(d["UID"]) for d in fetched] == [5, 4]
    assert all(isinstance(d["BODY[]"], bytes | bytearray) for d in fetched)
