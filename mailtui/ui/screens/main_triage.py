"""The main screen's triage keys (mailtui/ui/triage.py does the work) and the other keys
on the list: conversations, next unread, jump to a date.

The screen is the triage's ``TriageView``: what the keys point at (``reader_target``), a
folder picker and a question (``choose_folder``, ``ask``), and ``show_outcome`` for what
an action did. ``check_action`` hides the keys the account cannot use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from mailtui.models import Folder
from mailtui.ui.jump_date import QUESTION
from mailtui.ui.list_sources import STILL_LOADING
from mailtui.ui.modals.choice import Answer, ChoiceScreen
from mailtui.ui.modals.folder_picker import FolderChoice, FolderPicker
from mailtui.ui.modals.text_prompt import TextPrompt
from mailtui.ui.screens.main_view import MainView
from mailtui.ui.triage import ON_MESSAGES, Outcome, allowed
from mailtui.ui.widgets.message_list import MessageList
from mailtui.ui.widgets.status_bar import NOTICE_SECONDS


class TriageKeys(MainView):
    """Triage and list keys, and the screen's side of ``TriageView``."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what the account cannot do (its Capabilities): the open folder's, or in
        the unified inbox the account of the message under the cursor or in the reader."""
        return allowed(action, self.triage.capabilities(action))

    def on_message_list_cursor_folder(self, event: MessageList.CursorFolder) -> None:
        """In the unified inbox the cursor moved to another account's message: offer the
        keys that account allows (only when they differ, a refresh costs a redraw)."""
        event.stop()
        if not self._unified:
            return
        offered = self._offered()
        if offered != self._offered_keys:
            self._offered_keys = offered
            self.refresh_bindings()

    def _offered(self) -> tuple[bool, ...]:
        return tuple(allowed(a, self.triage.capabilities(a)) for a in sorted(ON_MESSAGES))

    def reader_target(self) -> int | None:
        """The message in the reader when the keys act on it (``TriageView``)."""
        if self.reading and (self.narrow or self.focused is self.reader):
            return self.reader.message_id
        return None

    async def choose_folder(
        self, title: str, choices: list[FolderChoice], warnings: tuple[str, ...] = ()
    ) -> Folder | None:
        for words in warnings:
            self.notify(words, severity="warning")
        return await self.app.push_screen_wait(FolderPicker(title, choices))

    async def ask(self, question: str, answers: list[Answer]) -> str | None:
        return await self.app.push_screen_wait(ChoiceScreen(question, answers))

    def _triage(self, action: Callable[[], Awaitable[Outcome]]) -> None:
        work = self.triage.perform(action, self.show_outcome)
        self.run_worker(work, group="triage", exit_on_error=False)

    def show_outcome(self, outcome: Outcome) -> None:
        """Show what a triage action did: the store changed, so the list and the counts
        reload now (not when the sync event comes)."""
        for words in outcome.warnings:
            self.notify(words, severity="warning")
        if outcome.acted_on:
            self.message_list.clear_selection()
        if outcome.removed and self.reading:
            self.close_reader()
        if outcome.reload:
            self.message_list.reload()
            self._schedule(folders=True, listing=False)
        if outcome.notice is not None:
            self.status_bar.set_notice(outcome.notice)
        if outcome.go_to is not None:
            self.go_to_folder(outcome.go_to)

    def action_toggle_read(self) -> None:
        self._triage(self.triage.toggle_read)

    def action_toggle_flag(self) -> None:
        self._triage(self.triage.toggle_flag)

    def action_delete(self) -> None:
        self._triage(self.triage.delete)

    def action_archive(self) -> None:
        self._triage(self.triage.archive)

    def action_spam(self) -> None:
        self._triage(self.triage.spam)

    def action_move(self) -> None:
        self._triage(self.triage.move)

    def action_undo(self) -> None:
        self._triage(self.triage.undo)

    def action_goto_folder(self) -> None:
        self._triage(self.triage.goto_folder)

    def action_toggle_threads(self) -> None:
        if self._unified:
            self.status_bar.set_notice("Conversations are per folder: open an account's Inbox")
            return
        if self._folder is None:
            return
        self._end_filter()
        threaded = not self.message_list.threaded
        self.message_list.show_folder(self._folder.id, threaded=threaded)
        self.status_bar.set_notice("Conversations" if threaded else "Flat list")

    def action_next_unread(self) -> None:
        self._run(self._next_unread, "unread")

    def action_jump_date(self) -> None:  # mailtui/ui/jump_date.py
        if self.message_list.source is not None:
            jump = self._date_jump.go
            self.app.push_screen(
                TextPrompt(QUESTION), lambda text: self._run(partial(jump, text), "jump")
            )

    def say(self, words: str, *, wait: bool = False) -> None:
        self.status_bar.set_notice(words, expire=None if wait else NOTICE_SECONDS)

    def on_message_list_pending(self, event: MessageList.Pending) -> None:
        self.status_bar.set_notice(STILL_LOADING)

    async def _next_unread(self) -> None:
        line = await self.message_list.next_unread()
        if line is None:
            self.status_bar.set_notice("No unread messages here")
        elif self.reading:  # reading on: open it, like turning a page
            self._run(partial(self._open, line.row.id), "reader")
