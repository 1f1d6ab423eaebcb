"""A long IMAP answer read from the real Dovecot gives the event loop turns (issue 17:
keys during a first sync). Responses already in the reader's buffer are read without a
wait; the connection's pacer (mailtui/pacing.py) yields between them once its slice is
used up. Here the slice is zero, so every response is preceded by a turn of the loop,
whatever the buffer holds. No timing is asserted."""

from __future__ import annotations

import asyncio

import pytest

from mailtui.pacing import Pacer
from mailtui.protocols.imap import ImapBackend, commands
from mailtui.protocols.imap.wire import fetch_dict
from tests.integration.test_imap_sync import account, msg
from tests.servers import MailUser


async def test_every_response_of_a_long_fetch_leaves_the_loop_a_turn(
    mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "Pacer", lambda: Pacer(0.0))
    n = 200
    mail_user.deliver_many([msg(i) for i in range(1, n + 1)])
    backend = ImapBackend(account(mail_user))
    await backend.connect()
    try:
        await backend._select("INBOX")
        conn = backend.conn
        assert conn is not None
        turns = 0

        async def spin() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        ticker = asyncio.get_running_loop().create_task(spin())
        seen: list[tuple[int, int]] = []  # (uid, the loop's turns when it was read)
        pending = await conn.send(b"UID", b"FETCH", b"1:*", b"(UID FLAGS RFC822.SIZE)")
        await asyncio.sleep(0.2)  # the whole answer is in the reader's buffer by now
        async for r in conn.responses(pending):
            if r.kind == "FETCH":
                seen.append((int(fetch_dict(r.items)["UID"]), turns))
        ticker.cancel()
        await asyncio.gather(ticker, return_exceptions=True)
    finally:
        await backend.close()
    assert sorted(uid for uid, _ in seen) == list(range(1, n + 1))
    counts = [t for _, t in seen]
    assert all(b > a for a, b in zip(counts, counts[1:], strict=False))
