"""Triage without a screen: it reads what the keys point at through ``TriageView``, writes
the store intent, and returns an ``Outcome`` that says what the screen must show."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtui.models import Flag, Folder, MessageRow
from mailtui.ui.list_sources import STILL_LOADING, ListSource
from mailtui.ui.modals.folder_picker import FolderChoice
from mailtui.ui.triage import Outcome, Triage

from .conftest import MailFixture


@dataclass
class Listing:
    ids: list[int]
    cursor_row: MessageRow | None
    source: ListSource | None = None
    on_placeholder: bool = False

    async def targets(self) -> list[int]:
        return list(self.ids)


@dataclass
class View:
    open_folder: Folder | None
    message_list: Listing
    picked: Folder | None = None
    reader_account: int | None = None
    asked: list[str] = field(default_factory=list)

    def reader_target(self) -> int | None:
        return None

    async def choose_folder(
        self, title: str, choices: list[FolderChoice], warnings: tuple[str, ...] = ()
    ) -> Folder | None:
        self.asked.append(title)
        return self.picked


async def test_actions_return_what_the_screen_shows(mail: MailFixture) -> None:
    folders = {f.name: f for f in await mail.store.folders(mail.account_id)}
    inbox = folders["INBOX"]
    rows = [r for r in await mail.store.window(inbox.id, 0, 10) if not r.flags & Flag.FLAGGED][:2]
    ids = [r.id for r in rows]
    view = View(inbox, Listing(ids, rows[0]))
    triage = Triage(view, mail.store, None)

    flagged = await triage.toggle_flag()
    assert flagged.notice == "Flagged 2 messages · u: undo"
    assert flagged.acted_on == tuple(ids) and flagged.removed == () and flagged.reload
    assert flagged.undo is not None and flagged.undo == triage.undo_stack[-1]
    for message_id in ids:
        detail = await mail.store.message(message_id)
        assert detail is not None and detail.row.flags & Flag.FLAGGED

    view.picked = folders["Lists/python"]
    moved = await triage.move()
    assert view.asked == ["Move 2 messages to"]
    assert moved.notice is not None and moved.notice.startswith("Moved 2 messages to ")
    assert moved.removed == tuple(ids) and moved.reload

    undone = await triage.undo()
    assert undone == Outcome(notice=f"Undone: {moved.undo.description}", reload=True)  # type: ignore[union-attr]
    assert len(triage.undo_stack) == 1

    view.picked = None  # the picker cancelled: nothing happened, nothing to show
    assert await triage.move() == Outcome()

    view.message_list = Listing([], None)
    assert await triage.delete() == Outcome(notice="No message here to act on")
    # A placeholder of a first pass (its message not cached yet) says so.
    view.message_list = Listing([], None, on_placeholder=True)
    assert await triage.delete() == Outcome(notice=STILL_LOADING)
    assert await triage.toggle_read() == Outcome(notice=STILL_LOADING)

    view.picked = folders["Lists/python"]
    assert await triage.goto_folder() == Outcome(go_to=folders["Lists/python"])
