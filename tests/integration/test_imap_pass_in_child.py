"""A first pass of a big folder with its header batches parsed by the child process
(``imap/parse_process.py``), against the real Dovecot: the same batches as the pass that
parses in its thread, the child used for the big batches and gone after the pass. The
thresholds are lowered so that a few hundred messages make a big folder."""

from __future__ import annotations

from typing import Any

import pytest

from mailtui.models import FolderBatch
from mailtui.protocols.imap import ImapBackend, parse_process, pull
from mailtui.protocols.imap.parse_process import ParseProcess
from tests.integration.test_imap_sync import account, msg
from tests.servers import MailUser

N = 400


def deliver(user: MailUser) -> None:
    user.deliver_many(
        [
            msg(i, f"Re: subject {i // 3:04d}" if i % 3 else f"subject {i // 3:04d}", (N - i) / 24)
            for i in range(1, N + 1)
        ]
    )


async def first_pass(user: MailUser) -> list[FolderBatch]:
    backend = ImapBackend(account(user, "tls", body_days=0))
    await backend.connect()
    try:
        folders = {f.name: f for f in await backend.list_folders()}
        return [b async for b in backend.pull(folders["INBOX"], {})]
    finally:
        await backend.close()


def added(batches: list[FolderBatch]) -> list[tuple[Any, ...]]:
    return [(m, m.prepared) for b in batches for m in b.added]


async def test_a_first_pass_parsed_by_the_child_is_the_pass_parsed_here(
    mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(mail_user)
    monkeypatch.setattr(pull, "BATCH", 60)
    here = await first_pass(mail_user)

    monkeypatch.setattr(parse_process, "MIN_MESSAGES", N)
    monkeypatch.setattr(parse_process, "MIN_BATCH", 30)
    children: list[ParseProcess] = []
    parsed: list[int] = []
    real_start, real_parse = ParseProcess.start.__func__, ParseProcess.parse  # type: ignore[attr-defined]

    def start(cls: type[ParseProcess], messages: int) -> ParseProcess | None:
        child = real_start(cls, messages)
        if child is not None:
            while not child._hello():  # ready before the first big batch, for the test
                pass
            children.append(child)
        return child

    def parse(self: ParseProcess, validity: int, fetched: Any) -> Any:
        done = real_parse(self, validity, fetched)
        if done is not None:
            parsed.append(len(done))
        return done

    monkeypatch.setattr(ParseProcess, "start", classmethod(start))
    monkeypatch.setattr(ParseProcess, "parse", parse)
    there = await first_pass(mail_user)

    assert len(children) == 1 and children[0]._proc.returncode == 0  # stopped with the pass
    assert sum(parsed) >= N // 2 and all(n >= 30 for n in parsed)
    assert added(there) == added(here)
    assert len(added(here)) == N
    assert [b.state for b in there] == [b.state for b in here]
    assert [b.progress for b in there] == [b.progress for b in here]
