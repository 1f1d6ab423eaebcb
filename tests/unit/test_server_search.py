"""The questions a first pass asks the server (``sync/server_search.py``): what is asked,
what is fetched first, what the list is told.

Contract tests: the backend here is scripted (it answers as the ``ServerSearcher`` and
``WindowFetcher`` contract says); the same questions against the real Dovecot, through
the app, are in tests/integration/test_imap_window_jump.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from mailtui.errors import OpRejected
from mailtui.models import Envelope, FolderBatch, NewMessage
from mailtui.sync import server_search
from mailtui.sync.server_search import SearchState, ServerAsks, search_words
from mailtui.sync.window import FolderGaps

LISTING = [f"9:{u}" for u in range(100, 0, -1)]  # position p is UID 100 - p
FOLDER = 4


class Server:
    """Answers as a server would; records what it was asked."""

    def __init__(self, before: str | None = None, matches: Sequence[str] = ()) -> None:
        self.before = before
        self.matches = list(matches)
        self.refuse = False
        self.asked: list[tuple[object, ...]] = []
        self.fetched: list[list[str]] = []

    async def newest_before(self, folder: str, day: date) -> str | None:
        self.asked.append(("before", folder, day))
        if self.refuse:
            raise OpRejected("no")
        return self.before

    async def search_headers(
        self, folder: str, words: Sequence[str], among: Sequence[str]
    ) -> list[str]:
        self.asked.append(("search", folder, tuple(words), len(among)))
        if self.refuse:
            raise OpRejected("the server could not search: BADCHARSET")
        return [rid for rid in self.matches if rid in set(among)]

    async def fetch_window(self, folder: str, remote_ids: Sequence[str]) -> list[NewMessage]:
        self.fetched.append(list(remote_ids))
        return [NewMessage(rid, Envelope(subject=rid)) for rid in remote_ids]


class Pass:
    """The gaps of FOLDER, and the worker's side of serving the questions."""

    def __init__(self, cached: Sequence[int] = range(10)) -> None:
        self.gaps = FolderGaps(LISTING)
        self.gaps.mark(LISTING[p] for p in cached)
        self.committed: list[FolderBatch] = []
        self.nudged: list[int] = []
        self.asks = ServerAsks(self.nudged.append)

    async def commit(self, folder_id: int, batch: FolderBatch) -> None:
        self.committed.append(batch)
        self.gaps.mark(m.remote_id for m in batch.added)

    async def serve(self, backend: object) -> None:
        await self.asks.serve(
            backend,  # type: ignore[arg-type]
            lambda fid: self.gaps if fid == FOLDER else None,
            lambda fid: "INBOX" if fid == FOLDER else None,
            self.commit,
        )


def test_the_words_a_server_matches() -> None:
    assert search_words("lunch* with  bob ") == ("lunch", "with", "bob")
    assert search_words("-- * ... überweisung") == ("überweisung",)
    assert search_words("* --") == ()


@pytest.fixture(autouse=True)
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_search, "DATE_ABOVE", 5)
    monkeypatch.setattr(server_search, "DATE_BELOW", 10)


async def test_a_date_is_found_and_its_window_fetched_before_the_answer() -> None:
    run = Pass()
    server = Server(before=LISTING[60])
    answer = run.asks.ask_date(FOLDER, date(2026, 3, 9))
    await run.serve(server)
    # BEFORE the next day: on or before the one asked for.
    assert server.asked == [("before", "INBOX", date(2026, 3, 10))]
    assert answer.result() == 60
    expected = LISTING[55:70]  # five above it, ten from it down
    assert server.fetched == [expected]
    assert [m.remote_id for m in run.committed[0].added] == expected
    assert not run.gaps.is_pending(60) and not run.asks.waiting()


async def test_nothing_that_old_and_a_refusal() -> None:
    run = Pass()
    server = Server(before=None)
    nothing = run.asks.ask_date(FOLDER, date(2001, 1, 1))
    await run.serve(server)
    assert nothing.result() == len(LISTING)  # past the end: the oldest is shown
    assert server.fetched == [LISTING[85:]]  # the last screens
    server.refuse = True
    refused = run.asks.ask_date(FOLDER, date(2001, 1, 1))
    await run.serve(server)
    assert refused.result() is None  # the store answers then


async def test_an_answer_given_up_on_is_not_asked_and_the_end_of_the_pass_answers() -> None:
    run = Pass()
    server = Server(before=LISTING[50])
    late = run.asks.ask_date(FOLDER, date(2026, 1, 1))
    late.cancel()  # the manager's wait ran out
    await run.serve(server)
    assert server.asked == []
    waiting = run.asks.ask_date(FOLDER, date(2026, 1, 1))
    run.asks.end(FOLDER)  # the pass's last batch: everything is cached
    assert waiting.result() is None and not run.asks.waiting()


async def test_a_filter_fetches_what_the_server_found_newest_first_in_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server_search, "SEARCH_CHUNK", 2)
    run = Pass()
    matches = [LISTING[p] for p in (90, 3, 40, 12, 70)]  # 3 is cached already
    server = Server(matches=matches)
    found = run.asks.search(FOLDER, "quarterly* report")
    assert found is not None and found.words == ("quarterly", "report")
    assert found.state is SearchState.ASKING and not found.complete
    await run.serve(server)
    assert server.asked == [("search", "INBOX", ("quarterly", "report"), 90)]
    assert found.state is SearchState.LOADING and found.found == 4
    assert server.fetched == [[LISTING[12], LISTING[40]]] and run.nudged == []
    await run.serve(server)
    assert server.fetched[1:] == [[LISTING[70], LISTING[90]]]
    assert found.complete and run.nudged == [FOLDER]  # the list looks again
    await run.serve(server)
    assert len(server.asked) == 1 and len(server.fetched) == 2  # nothing more to do


async def test_a_new_filter_drops_the_one_before_and_a_refusal_is_said() -> None:
    run = Pass()
    server = Server(matches=[LISTING[50]])
    first = run.asks.search(FOLDER, "one")
    second = run.asks.search(FOLDER, "two")
    assert first is not None and first.state is SearchState.DROPPED
    assert run.asks.search(FOLDER, "* --") is None and second is not None
    assert second.state is SearchState.DROPPED  # (nothing to search for replaced it)
    third = run.asks.search(FOLDER, "three")
    server.refuse = True
    await run.serve(server)
    assert third is not None and third.state is SearchState.FAILED
    assert "BADCHARSET" in third.error and run.nudged == [FOLDER]
    # A backend that cannot search says so.
    fourth = run.asks.search(FOLDER, "four")
    await run.serve(object())
    assert fourth is not None and fourth.state is SearchState.FAILED
    assert fourth.error == "this server cannot be searched"


async def test_the_end_of_the_pass_completes_a_filter() -> None:
    run = Pass()
    found = run.asks.search(FOLDER, "anything")
    run.asks.end(FOLDER + 1)  # another folder's pass
    assert found is not None and found.state is SearchState.ASKING
    run.asks.end(FOLDER)
    assert found.complete and not run.asks.waiting()
