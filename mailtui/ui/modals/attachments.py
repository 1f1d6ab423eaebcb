"""The attachments of a message (``v`` in the reader): save one, or open it.

    AttachmentsScreen ─s─▶ SaveScreen (folder) ─▶ save_path ─▶ write_new
                                             └ exists ─▶ ConfirmScreen ─y─▶ write_replace
                      ─o─▶ private_copy (0700 dir) ─▶ xdg-open / open, no shell

A folder that does not exist is offered for creation first (ConfirmScreen ─y─▶
make_folder, then the save goes on). File work lives in ``mailtui.ui.attachment_files``;
these screens only ask and report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import platformdirs
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mailtui.mime import Attachment, attachment_bytes, clean_line
from mailtui.ui import attachment_files, bidi, keymap
from mailtui.ui.attachment_files import SaveError, save_path, write_new, write_replace
from mailtui.ui.modals.confirm import ConfirmScreen
from mailtui.ui.modals.save_prompt import SaveScreen
from mailtui.ui.reading import AttachmentLine, attachment_label


def _name(name: str) -> str:
    """A file name or path from the mail, isolated for ``_shown``."""
    return bidi.isolate(clean_line(name))


def _shown(message: str) -> str:
    """A message that names files, as the screen must show it (``mailtui.ui.bidi``)."""
    return bidi.visual(message)


def default_directory() -> Path:
    """The user's downloads folder if it exists, else their home."""
    downloads = Path(platformdirs.user_downloads_dir())
    return downloads if downloads.is_dir() else Path.home()


class AttachmentsScreen(ModalScreen[None]):
    """The message's attachments with size and type."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("attachments"))

    DEFAULT_CSS = """
    AttachmentsScreen {
        align: center middle;
        & > #attachments-box {
            width: 90%;
            max-width: 100;
            height: auto;
            max-height: 90%;
            border: round $accent;
            background: $panel;
            & > OptionList { height: auto; max-height: 100%; border: none; }
            & > #attachments-empty { padding: 1 2; }
        }
    }
    """

    def __init__(
        self, raw: bytes, attachments: Sequence[Attachment], directory: Path | None = None
    ) -> None:
        super().__init__()
        self.raw = raw
        self.attachments = list(attachments)
        self.directory = directory

    def compose(self) -> ComposeResult:
        box = Vertical(id="attachments-box")
        box.border_title = f"Attachments ({len(self.attachments)})"
        box.border_subtitle = "s: save · o: open · Esc: close"
        with box:
            if self.attachments:
                yield OptionList(
                    *(Option(Text(self._label(a), no_wrap=True)) for a in self.attachments),
                    id="attachments-list",
                )
            else:
                yield Static("This message has no attachments.", id="attachments-empty")

    @staticmethod
    def _label(attachment: Attachment) -> str:
        # The name is an isolate inside the label: one unit, shaped, before its size.
        line = AttachmentLine(attachment.filename, attachment.content_type, attachment.size)
        return bidi.visual(attachment_label(line))

    def on_mount(self) -> None:
        if self.attachments:
            self.query_one(OptionList).focus()

    @property
    def highlighted(self) -> Attachment | None:
        if not self.attachments:
            return None
        index = self.query_one(OptionList).highlighted
        return self.attachments[index] if index is not None else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_save()

    # -- saving ----------------------------------------------------------------------------

    def action_save(self) -> None:
        attachment = self.highlighted
        if attachment is None:
            return
        directory = self.directory or default_directory()

        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self.directory = folder
                self._save(attachment, folder)

        self.app.push_screen(SaveScreen(attachment.filename, directory), chosen)

    def _data(self, attachment: Attachment) -> bytes | None:
        try:
            return attachment_bytes(self.raw, attachment.part_index)
        except IndexError:
            self.notify("That attachment could not be found in the message.", severity="error")
            return None

    def _save(self, attachment: Attachment, folder: Path) -> None:
        folder = folder.expanduser()
        if not folder.exists() and not folder.is_symlink():
            self._offer_folder(attachment, folder)
            return
        try:
            target = save_path(
                folder, attachment.filename, attachment.part_index, attachment.content_type
            )
        except (SaveError, OSError) as error:
            self.notify(f"Not saved: {error}", severity="error")
            return
        data = self._data(attachment)
        if data is None:
            return
        try:
            write_new(target, data)
        except FileExistsError:
            where = _name(str(target.parent))
            question = _shown(f"{_name(target.name)} is already in {where}. Replace it?")

            def answered(yes: bool | None) -> None:
                if yes:
                    self._replace(target, data)
                else:
                    self.notify("Not saved; the existing file is untouched.")

            self.app.push_screen(ConfirmScreen(question), answered)
        except OSError as error:
            self.notify(f"Not saved: {error.strerror or error}", severity="error")
        else:
            self.notify(_shown(f"Saved {_name(str(target))}"), timeout=4)

    def _offer_folder(self, attachment: Attachment, folder: Path) -> None:
        """Ask, then create the missing folder, then save into it."""

        def answered(yes: bool | None) -> None:
            if not yes:
                self.notify("Not saved; no folder was created.")
                return
            try:
                attachment_files.make_folder(folder)
            except SaveError as error:
                self.notify(f"Not saved: {error}", severity="error")
                return
            self._save(attachment, folder)

        question = _shown(
            f"There is no folder {_name(str(folder))}. "
            f"Create it and save {_name(attachment.filename)} there?"
        )
        self.app.push_screen(ConfirmScreen(question), answered)

    def _replace(self, target: Path, data: bytes) -> None:
        try:
            write_replace(target, data)
        except OSError as error:
            self.notify(f"Not saved: {error.strerror or error}", severity="error")
        else:
            self.notify(_shown(f"Replaced {_name(str(target))}"), timeout=4)

    # -- opening ---------------------------------------------------------------------------

    def action_open(self) -> None:
        attachment = self.highlighted
        if attachment is None:
            return
        data = self._data(attachment)
        if data is None:
            return
        try:
            copy = attachment_files.private_copy(
                data, attachment.filename, attachment.part_index, attachment.content_type
            )
        except OSError as error:
            self.notify(f"Could not open it: {error.strerror or error}", severity="error")
            return
        command = attachment_files.opener_command(copy)
        if command is None:
            where = _name(str(copy))
            self.notify(
                _shown(f"No program to open files here (xdg-open); a copy is at {where}"),
                timeout=8,
            )
            return
        try:
            attachment_files.start_opener(command)
        except OSError as error:
            self.notify(f"Could not open it: {error.strerror or error}", severity="error")
        else:
            self.notify(_shown(f"Opening {_name(copy.name)}…"), timeout=3)

    def action_cursor_down(self) -> None:
        if self.attachments:
            self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.attachments:
            self.query_one(OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
