"""The main screen's reader pane: opening a message (parsed off the event loop, its body
fetched when it is not downloaded yet), marking it read, and closing the pane.
"""

from __future__ import annotations

import asyncio
import dataclasses
from functools import partial
from typing import Any

from rich.text import Text

from mailtui.mime import parse_message
from mailtui.models import Flag, MessageDetail
from mailtui.ui.folder_tree import UNIFIED_LABEL, folder_label
from mailtui.ui.list_sources import InboxSource
from mailtui.ui.location import location
from mailtui.ui.reading import AttachmentLine, body_text, header_text
from mailtui.ui.screens.main_view import MainView
from mailtui.ui.widgets.message_list import MessageList
from mailtui.ui.widgets.message_view import MessageView

NOT_DOWNLOADED = (
    "This message has not been downloaded yet and its account is offline.\n"
    "It will show here once the account is back online."
)


class ReaderPane(MainView):
    """The message open in the reader pane."""

    def on_message_list_opened(self, event: MessageList.Opened) -> None:
        event.stop()
        self._run(partial(self._open, event.message_id), "reader")

    def _reveal(self, message_id: int, headers: Any, body: Any, **more: Any) -> None:
        """Show a message in the reader, opening the pane if it is closed: the pane and
        its content come in the same frame (no empty reader first)."""
        self.reader.show(message_id, headers, body, **more)
        if not self.reading:
            self._set_reading(True)
            self.reader.focus()

    async def _open(self, message_id: int, mark_read: bool = True) -> None:
        detail = await self._store.message(message_id)
        if detail is None:
            self.close_reader()
            self.notify("That message is gone (moved or deleted elsewhere).")
            return
        self._reader_account = detail.account_id  # its capabilities decide the keys
        now = self._clock()
        raw = detail.raw
        if raw is not None:
            # A message can be megabytes of MIME: parse it off the event loop, keys stay live.
            parsed = await asyncio.to_thread(parse_message, raw)
        if mark_read and detail.row.unread:
            # After the message is on screen, in its own worker: the write may wait for a
            # sync batch, and closing the reader must not cancel it.
            self.call_after_refresh(
                self.run_worker, self._mark_read(detail), group="mark-read", exit_on_error=False
            )
        if raw is None:
            self._reveal(message_id, header_text(detail, now), Text("Loading…"))
            if self._manager is not None:
                self.status_bar.set_notice("Loading…", expire=None)
                try:
                    raw = await self._manager.fetch_body(message_id)
                finally:
                    self.status_bar.set_notice("")
            if raw is None:
                self._reveal(message_id, header_text(detail, now), Text(NOT_DOWNLOADED))
                return
            parsed = await asyncio.to_thread(parse_message, raw)
        attachments = [
            AttachmentLine(a.filename, a.content_type, a.size)
            for a in parsed.attachments
            if not a.is_inline  # pictures inside an HTML body are not attachments to list
        ]
        self._reveal(
            message_id,
            header_text(detail, now, attachments, parsed.problems),
            body_text(parsed.text),
            parsed=parsed,
            raw=raw,
        )

    async def _mark_read(self, detail: MessageDetail) -> None:
        row = detail.row
        self.status_bar.clear_new_mail()  # "2 new" was news until a message was read
        await self._store.set_flags([row.id], add=Flag.SEEN, remove=Flag.NONE)
        if self._manager is not None:
            self._manager.kick(detail.account_id)
        self.message_list.update_row(dataclasses.replace(row, flags=row.flags | Flag.SEEN))
        self._schedule(folders=True, listing=False)
        if self._folder is not None and self._folder.id == row.folder_id:
            total, unread = await self._store.count(row.folder_id)
            self.status_bar.set_location(location(folder_label(self._folder), total, unread))
        elif self._unified and type(self.message_list.source) is InboxSource:
            total, unread = await self._store.inbox_count()
            self.status_bar.set_location(location(UNIFIED_LABEL, total, unread))

    def close_reader(self) -> None:
        self.workers.cancel_group(self, "reader")  # also a message still being opened
        if not self.reading:
            return
        self._set_reading(False)
        self.reader.clear()
        self.status_bar.set_notice("")
        self.message_list.focus()

    def on_message_view_closed(self, event: MessageView.Closed) -> None:
        event.stop()
        self.close_reader()
