"""The compose screen: header form, body, attachments; send goes through the outbox.

    ┌ From:    Alex Demo <alex@demo…>          ┐  the body is typed in place (a text
    │ To:      ________________________________ │  area); ctrl+e hands it to $VISUAL /
    │ Cc / Bcc / Subject                        │  $EDITOR (the app suspends meanwhile)
    │ ───────────────────────────────────────── │  and takes back what the editor saved
    │ body                                      │
    │ Attachments: report.pdf (12 KB)           │
    └ ctrl+s Send · ctrl+e Editor · ctrl+a Attach · Esc Close ┘

Nothing here talks to a server: ``Send`` builds the message (``mailtui.compose``) and
commits it to the store's outbox in one transaction, then kicks the account's worker.
While the screen is open the draft is autosaved every few seconds to a private file, so a
crash or a lost SSH session does not lose what was written.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.suggester import Suggester
from textual.widgets import Footer, Input, Label, Select, Static, TextArea

from mailtui.compose import (
    AddressError,
    Attachment,
    Draft,
    DraftError,
    Identity,
    build_message,
    format_address,
    parse_addresses,
)
from mailtui.compose.drafts import draft_to_json, save_draft
from mailtui.compose.editor import EditorError, edit_text, editor_command
from mailtui.mime import body_text, clean_line, parse_envelope
from mailtui.models import Flag, Origin
from mailtui.sync import outbox
from mailtui.ui import bidi, keymap
from mailtui.ui.modals.attach_prompt import AttachPrompt
from mailtui.ui.services import MailStore, SyncControl
from mailtui.ui.triage import allowed

AUTOSAVE_SECONDS = 3.0


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


class AddressSuggester(Suggester):
    """Completes the last address of a To/Cc/Bcc field from the cache's addresses."""

    def __init__(self, store: MailStore) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.store = store

    async def get_suggestion(self, value: str) -> str | None:
        head, sep, last = value.rpartition(",")
        typed = last.lstrip()
        if len(typed) < 2:
            return None
        try:
            found = await self.store.address_suggestions(typed, 1)
        except Exception:  # completion is a convenience; never an error for the user
            return None
        if not found:
            return None
        a = found[0]
        folded = typed.casefold()
        if a.name and a.name.casefold().startswith(folded):
            text = format_address(a)
        elif a.addr.casefold().startswith(folded):
            text = a.addr
        else:
            return None  # only a completion of what was typed can be shown inline
        # Accepting replaces what was typed with the address as the cache spells it.
        return value[: len(value) - len(typed)] + text


class ComposeScreen(Screen[bool]):
    """Edits one draft; dismisses with True once the message is queued for sending."""

    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("compose"))
    DEFAULT_CSS = """
    ComposeScreen { layout: vertical; }
    ComposeScreen #headers { height: auto; padding: 0 1; }
    ComposeScreen .row { height: 1; }
    ComposeScreen .row Label { width: 9; color: $text-muted; }
    ComposeScreen .row Input { border: none; height: 1; padding: 0; width: 1fr; }
    ComposeScreen .row Input:focus { background: $boost; }
    ComposeScreen .row Select { width: 1fr; }
    ComposeScreen #body { height: 1fr; border: none; border-top: solid $foreground 20%; }
    ComposeScreen #attachments { height: auto; padding: 0 1; color: $text-muted; }
    ComposeScreen #compose-status { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(
        self,
        draft: Draft,
        *,
        account_id: int,
        store: MailStore,
        manager: SyncControl | None,
        drafts_dir: Path | None = None,
        editor: list[str] | None = None,
        identities: Sequence[Identity] = (),
        account_name: str = "",
        draft_file: Path | None = None,
        replaces: int | None = None,
        server_copy: int | None = None,
        origin: Origin | None = None,
    ) -> None:
        super().__init__()
        self.origin = origin  # the message this answers or forwards, flagged once sent
        self.draft = draft
        # The From choices: the draft's own first, then the account's other identities.
        self.identities = [draft.from_, *(i for i in identities if i != draft.from_)]
        self.account_id = account_id
        self.store = store
        self.manager = manager
        self.editor = editor if editor is not None else editor_command()
        self.drafts_dir = drafts_dir
        self.account_name = account_name
        self.replaces = replaces  # the outbox item this edit takes the place of
        self.server_copy = server_copy  # this draft's copy in the Drafts folder, if any
        # A resumed draft keeps writing to its own file.
        self.draft_file: Path | None = draft_file
        if draft_file is None and drafts_dir is not None:
            self.draft_file = drafts_dir / f"{uuid.uuid4().hex}.json"
        self._saved = ""

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        d = self.draft
        with Vertical(id="headers"):
            with Horizontal(classes="row"):
                yield Label("From:")
                if len(self.identities) > 1:
                    yield Select(
                        [
                            (clean_line(format_address(i.address)), n)
                            for n, i in enumerate(self.identities)
                        ],
                        value=0,
                        allow_blank=False,
                        compact=True,
                        id="from",
                    )
                else:
                    yield Static(clean_line(format_address(d.from_.address)), id="from")
            for field, value in (("to", d.to), ("cc", d.cc), ("bcc", d.bcc)):
                with Horizontal(classes="row"):
                    yield Label(f"{field.capitalize()}:")
                    yield Input(
                        ", ".join(format_address(a) for a in value),
                        id=field,
                        suggester=AddressSuggester(self.store),
                    )
            with Horizontal(classes="row"):
                yield Label("Subject:")
                yield Input(d.subject, id="subject")
        # Always editable, also with an editor configured: a key typed into the body must
        # never be dropped. The editor is the richer option, not the only one.
        yield TextArea(d.body, id="body", soft_wrap=True, show_line_numbers=False)
        yield Static(self._attachment_text(), id="attachments")
        hint = (
            f"Body: type below, or ctrl+e opens {Path(self.editor[0]).name}"
            if self.editor
            else "Body: type below ($VISUAL/$EDITOR not set)"
        )
        yield Static(hint, id="compose-status", markup=False)  # names and errors, not markup
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#to" if not self.draft.to else "#body").focus()
        if self.draft_file is not None:
            self.set_interval(AUTOSAVE_SECONDS, self.autosave)

    def _attachment_text(self) -> Text:
        if not self.draft.attachments:
            return Text("")
        # Each name an isolate: a Persian name shows as one shaped unit before its size.
        items = ", ".join(
            f"{bidi.isolate(clean_line(a.filename))} ({_size(a.size)})"
            for a in self.draft.attachments
        )
        return Text(bidi.visual(f"Attachments: {items}"))

    def _say(self, text: str) -> None:
        self.query_one("#compose-status", Static).update(text)

    # ------------------------------------------------------------------ the draft

    def collect(self) -> Draft:
        """The draft as the form shows it now. Raises AddressError for a bad address."""
        fields = {}
        for name in ("to", "cc", "bcc"):
            text = self.query_one(f"#{name}", Input).value
            try:
                fields[name] = parse_addresses(text)
            except AddressError as exc:
                raise AddressError(f"{name.capitalize()}: {exc}") from None
        from_ = self.draft.from_
        if len(self.identities) > 1:
            choice = self.query_one("#from", Select).value
            if isinstance(choice, int):
                from_ = self.identities[choice]
        return dataclasses.replace(
            self.draft,
            from_=from_,
            to=fields["to"],
            cc=fields["cc"],
            bcc=fields["bcc"],
            subject=self.query_one("#subject", Input).value,
            body=self.query_one("#body", TextArea).text,
        )

    def autosave(self) -> None:
        """Writes the draft to its private file when it changed."""
        if self.draft_file is None:
            return
        try:
            text = draft_to_json(self.collect(), self.account_name)
        except AddressError:
            return  # half-typed address: the next tick saves it
        if text == self._saved:
            return
        try:
            save_draft(self.draft_file, text)
            self._saved = text
        except OSError as exc:
            self._say(f"Could not autosave the draft: {exc.strerror}")

    def _forget_autosave(self) -> None:
        if self.draft_file is not None:
            self.draft_file.unlink(missing_ok=True)

    # ------------------------------------------------------------------ actions

    def action_edit_body(self) -> None:
        if self.editor is None:
            self.query_one("#body", TextArea).focus()
            return
        area = self.query_one("#body", TextArea)
        try:
            with self.app.suspend():
                text = edit_text(area.text, self.editor)
        except EditorError as exc:
            self._say(str(exc))
            return
        except Exception as exc:
            # Headless (tests) or a terminal that cannot hand over: run it anyway, the
            # editor needs no screen of ours.
            if exc.__class__.__name__ != "SuspendNotSupported":
                raise
            try:
                text = edit_text(area.text, self.editor)
            except EditorError as err:
                self._say(str(err))
                return
        if text == area.text:
            self._say("The editor left the body unchanged")
            return
        # One edit rather than load_text: ctrl+z in the body brings back what was there.
        area.replace(text, area.document.start, area.document.end)
        self._say("Body updated from the editor (ctrl+z undoes)")
        self.autosave()

    def action_attach(self) -> None:
        def attach(path: str | None) -> None:
            if not path:
                return
            try:
                attachment = Attachment.from_path(path)
            except OSError as exc:
                self._say(f"Cannot attach {path}: {exc.strerror or exc}")
                return
            self.draft = dataclasses.replace(
                self.draft, attachments=(*self.draft.attachments, attachment)
            )
            self.query_one("#attachments", Static).update(self._attachment_text())
            self._say(bidi.visual(f"Attached {bidi.isolate(clean_line(attachment.filename))}"))

        self.app.push_screen(AttachPrompt(), attach)

    def action_toggle_flowed(self) -> None:
        """RFC 3676 format=flowed: long paragraphs reflow on narrow screens."""
        self.draft = dataclasses.replace(self.draft, flowed=not self.draft.flowed)
        self._say(f"format=flowed {'on' if self.draft.flowed else 'off'}")

    def action_detach(self) -> None:
        if not self.draft.attachments:
            self._say("No attachments to remove")
            return
        *rest, last = self.draft.attachments
        self.draft = dataclasses.replace(self.draft, attachments=tuple(rest))
        self.query_one("#attachments", Static).update(self._attachment_text())
        self._say(bidi.visual(f"Removed {bidi.isolate(clean_line(last.filename))}"))

    async def action_send(self) -> None:
        try:
            draft = self.collect()
            message = build_message(draft)
        except (AddressError, DraftError) as exc:
            self._say(str(exc))
            return
        try:
            if self.replaces is not None:
                await outbox.replace(self.store, self.replaces, message)
            else:
                origin = self.origin
                if origin is None and draft.in_reply_to:  # a resumed reply: by Message-ID
                    origin = Origin(None, draft.in_reply_to, Flag.ANSWERED)
                await outbox.queue(self.store, self.account_id, message, origin)
        except Exception as exc:  # the draft stays open; nothing was queued
            self._say(f"Could not queue the message: {exc}")
            return
        if self.server_copy is not None:
            try:  # sent: the draft leaves the Drafts folder
                await self.store.discard_draft_copy(self.server_copy)
            except Exception as exc:
                self.app.notify(f"The draft copy stays in Drafts: {exc}", severity="warning")
        self._forget_autosave()
        if self.manager is not None:
            self.manager.kick(self.account_id)
        # The status bar says how it went (sent, where the copy is, or why not).
        self.app.notify("Sending… (O shows the outbox)")
        self.dismiss(True)

    def _has_content(self, draft: Draft) -> bool:
        return bool(
            draft.to
            or draft.cc
            or draft.bcc
            or draft.subject.strip()
            or draft.body.strip()
            or draft.attachments
        )

    def _drafts_on_server(self) -> bool:
        """Whether the account's server takes drafts (not ActiveSync: no APPEND)."""
        caps = self.manager.capabilities(self.account_id) if self.manager is not None else None
        return allowed("save_draft", caps)

    async def action_close(self) -> None:
        """Keeps the draft: in the account's Drafts folder (filed on the server by the
        worker), or, where that cannot be, in the private file on this machine."""
        self.autosave()
        try:
            draft = self.collect()
        except AddressError:
            draft = None
        saved_in: str | None = None
        if (draft is not None and self._has_content(draft) and self.replaces is None
                and self._drafts_on_server()):  # fmt: skip
            try:
                raw = build_message(draft, draft_copy=True).raw
                copy = await self.store.save_draft_copy(
                    self.account_id,
                    raw,
                    parse_envelope(raw),
                    body_text(raw),
                    replaces=self.server_copy,
                )
            except Exception as exc:  # the local file still has it
                self._say(f"Could not save to Drafts: {exc}")
                copy = None
            if copy is not None:
                self.server_copy = copy
                self._forget_autosave()  # the cache's Drafts folder holds it now
                saved_in = "Drafts"
                if self.manager is not None:
                    self.manager.kick(self.account_id)
        if saved_in:
            self.app.notify("Draft saved in Drafts")
        elif self.draft_file is not None and self.draft_file.exists():
            self.app.notify(f"Draft kept on this machine (D lists drafts): {self.draft_file}")
        self.dismiss(False)
