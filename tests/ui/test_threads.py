"""The conversation view: T toggles it, z expands and collapses a conversation, triage on
a conversation line acts on the whole conversation; plus a snapshot with a selection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from mailtui.models import Address, Envelope, Flag, NewMessage
from mailtui.ui.widgets import MessageList

from .big_inbox import open_big_inbox
from .conftest import FakeManager, MailFixture, make_app, message_date, open_mail, screen_text
from .test_main_screen import rows_loaded, wait_until
from .test_triage import line_of, status

SnapCompare = Callable[..., bool]


def conversation() -> list[NewMessage]:
    """ "Plan for Friday": a question and two answers, between messages 0 and 1."""
    people = [
        Address("Xavier Xu", "xavier@example.test"),
        Address("Yann Yu", "yann@example.test"),
        Address("Zoe Zhang", "zoe@example.test"),
    ]
    out = []
    for k in range(3):
        envelope = Envelope(
            subject="Plan for Friday" if k == 0 else "Re: Plan for Friday",
            from_=(people[k],),
            to=(Address("Me", "me@example.test"),),
            date=message_date(0) - 600 + k * 60,
            message_id=f"<plan{k}@example.test>",
            in_reply_to=f"<plan{k - 1}@example.test>" if k else "",
            references=tuple(f"<plan{j}@example.test>" for j in range(k)),
            size=1500,
        )
        out.append(NewMessage(f"plan{k}", envelope, Flag.NONE if k == 2 else Flag.SEEN))
    return out


async def threaded_mail(path: Path) -> MailFixture:
    mail = await open_mail(path, 60)
    await mail.add("INBOX", conversation())
    return mail


@pytest.fixture
async def mail(tmp_path: Path) -> AsyncIterator[MailFixture]:
    fixture = await threaded_mail(tmp_path / "cache.sqlite")
    yield fixture
    await fixture.store.close()


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_threads_toggle_expand_collapse_and_act_on_a_whole_thread(
    mail: MailFixture, size: tuple[int, int]
) -> None:
    app = make_app(mail.store, FakeManager())
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot))
        listing = app.query_one(MessageList)
        assert "Re: Plan for Friday" in line_of(app, "Yann Yu")  # flat: three lines

        await pilot.press("T")
        await wait_until(pilot, lambda: "61 conversations" in status(app))
        assert "[3] Re: Plan for Friday" in line_of(app, "Plan for Friday")
        assert line_of(app, "Plan for Friday").startswith("N")  # it holds unread mail
        assert "Xavier Xu" not in screen_text(app)  # the older messages are folded away

        await pilot.press("j", "z")  # message 0, then the conversation: expand
        await wait_until(pilot, lambda: "Xavier Xu" in screen_text(app))
        assert "[3-] Re: Plan for Friday" in screen_text(app)
        children = [line for line in screen_text(app).splitlines() if "> " in line]
        assert len(children) == 3 and "Xavier Xu" in children[0]  # oldest first
        await pilot.press("j", "j", "z")  # on a message inside: collapse, back on top
        await wait_until(pilot, lambda: "Xavier Xu" not in screen_text(app))
        assert listing.cursor == 1

        await pilot.press("d")  # a conversation line stands for all of its messages
        await wait_until(pilot, lambda: "Plan for Friday" not in screen_text(app))
        trash = mail.folders["Trash"]
        assert (await mail.store.count(trash))[0] == 3
        assert "Moved 3 messages to Trash" in status(app)
        await pilot.press("u")
        await wait_until(pilot, lambda: "Plan for Friday" in screen_text(app))
        assert (await mail.store.count(trash))[0] == 0

        assert listing.cursor_row is not None
        assert listing.cursor_row.subject == "Message 000001"  # the cursor kept its message
        await pilot.press("k", "ctrl+t")  # select the thread
        await wait_until(pilot, lambda: len(listing.selected) == 3)
        await pilot.press("T")  # flat again; a new view starts without a selection
        await wait_until(pilot, lambda: "21 unread of 63" in status(app))
        assert not listing.selected


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[MailFixture]:
    fixture = asyncio.run(threaded_mail(tmp_path / "cache.sqlite"))
    yield fixture
    asyncio.run(fixture.store.close())


class TestThreadSnapshots:
    def test_threads_with_a_selection_at_80x24(
        self, snap_compare: SnapCompare, filled: MailFixture
    ) -> None:
        async def run(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: rows_loaded(pilot))
            await pilot.press("T")
            await wait_until(pilot, lambda: "conversations" in status(pilot.app))
            await pilot.press("j", "z")
            await wait_until(pilot, lambda: "Xavier Xu" in screen_text(pilot.app))
            await pilot.press("j", "x", "j", "j", "x")  # two messages selected
            await wait_until(pilot, lambda: "2 selected" in status(pilot.app))
            await pilot.press("k")

        app = make_app(filled.store)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run)


async def test_the_conversation_view_of_a_200000_message_folder_reads_only_what_it_shows(
    tmp_path: Path, shared_dir: Path
) -> None:
    mail = await open_big_inbox(tmp_path / "big.sqlite", shared_dir)
    calls: list[tuple[int, int, int]] = []
    real = mail.store.thread_window

    async def spy(folder_id: int, offset: int, limit: int) -> Any:
        calls.append((folder_id, offset, limit))
        return await real(folder_id, offset, limit)

    mail.store.thread_window = spy  # type: ignore[method-assign]
    try:
        app = make_app(mail.store)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: rows_loaded(pilot))
            await pilot.press("T")
            await wait_until(pilot, lambda: "200,000 conversations" in status(app))
            await pilot.press("G")
            await wait_until(pilot, lambda: "Message 199999" in screen_text(app))
            await pilot.press("z", "k", "pageup")
            await wait_until(pilot, lambda: "Message 199956" in screen_text(app))
        assert calls, "the conversation view never asked the store"
        assert all(limit <= 3 * 22 for _, _, limit in calls)
        assert sum(limit for _, _, limit in calls) <= 10 * 22
    finally:
        await mail.store.close()
