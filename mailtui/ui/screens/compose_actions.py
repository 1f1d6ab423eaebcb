"""New message, reply, reply-all, forward: the main screen's way into the compose screen.

Kept apart from ``MainScreen`` so that screen stays about reading and triage; it calls
``Composer.start`` from its ``write.*`` actions with the message open in the reader, else
the one under the list's cursor. That message's account is the one that sends.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import Any

from textual.screen import Screen

from mailtui.compose import (
    Draft,
    Identity,
    MailtoError,
    draft_from_mailto,
    forward,
    read_original,
    reopen,
    reply,
)
from mailtui.compose.drafts import SavedDraft, list_drafts
from mailtui.models import Flag, FolderRole, Origin, OutboxItem
from mailtui.ui.jobs import run_job
from mailtui.ui.screens.drafts import DraftsScreen
from mailtui.ui.screens.outbox import OutboxScreen
from mailtui.ui.services import MailStore, SyncControl


class Composer:
    """Opens the compose screen for a new message, a reply or a forward."""

    def __init__(self, screen: Screen[Any], store: MailStore, manager: SyncControl | None) -> None:
        self._screen = screen
        self._store = store
        self._manager = manager
        self._account_names: dict[int, str] = {}

    def _drafts_dir(self) -> Path | None:
        path = getattr(self._store, "path", None)
        return Path(path).parent / "drafts" if path is not None else None

    async def _identities(self, account_id: int | None) -> tuple[int, list[Identity]] | None:
        accounts = await self._store.accounts()
        if not accounts:
            return None
        self._account_names = {a.id: a.name for a in accounts}
        chosen = next((a for a in accounts if a.id == account_id), accounts[0])
        configured: dict[str, list[Identity]] = getattr(self._screen.app, "identities", {})
        return chosen.id, configured.get(chosen.name) or [Identity(chosen.email)]

    def _open_compose(
        self,
        draft: Draft,
        account_id: int,
        identities: list[Identity],
        draft_file: Path | None = None,
        replaces: int | None = None,
        server_copy: int | None = None,
        origin: Origin | None = None,
    ) -> None:
        # Imported at the first compose: its module and Textual's TextArea are about
        # 1 MB the app does not need until then (docs/decisions.md, "The TUI's memory
        # during a first sync").
        from mailtui.ui.screens.compose import ComposeScreen

        account_name = self._account_names.get(account_id, "")
        screen = ComposeScreen(
            draft,
            account_id=account_id,
            store=self._store,
            manager=self._manager,
            drafts_dir=self._drafts_dir(),
            identities=identities,
            account_name=account_name,
            draft_file=draft_file,
            replaces=replaces,
            server_copy=server_copy,
            origin=origin,
        )

        def closed(_sent: bool | None) -> None:
            # Drafts and outbox changed in the store without a sync event: show it.
            refresh = getattr(self._screen, "refresh_views", None)
            if callable(refresh):
                refresh()

        self._screen.app.push_screen(screen, closed)

    async def start_mailto(self, url: str) -> None:
        found = await self._identities(None)
        if found is None:
            self._screen.notify("There is no account to send from", severity="warning")
            return
        try:
            draft = draft_from_mailto(url, found[1][0])
        except MailtoError as exc:
            self._screen.notify(f"Cannot use that mailto: link: {exc}", severity="error")
            return
        self._open_compose(draft, found[0], found[1])

    async def show_outbox(self) -> None:
        """The outbox of every account: retry, edit, discard, mark as sent."""
        accounts = await self._store.accounts()
        manager = self._manager

        def kick(account_id: int) -> None:
            if manager is not None:
                manager.kick(account_id)

        def edit(item: OutboxItem) -> None:
            run_job(self._screen, partial(self._edit, item), group="compose", exclusive=True)

        self._screen.app.push_screen(
            OutboxScreen(self._store, [a.id for a in accounts], kick=kick, edit=edit)
        )

    async def _edit(self, item: OutboxItem) -> None:
        found = await self._identities(item.account_id)
        identities = found[1] if found else []
        draft = reopen(item.raw, identities, item.recipients)
        self._open_compose(draft, item.account_id, identities or [draft.from_], replaces=item.id)

    async def resume(self) -> None:
        """Lists the drafts kept on this machine; the chosen one reopens where it was."""
        directory = self._drafts_dir()
        saved = list_drafts(directory) if directory is not None else []
        if not saved:
            self._screen.notify("No drafts on this machine")
            return
        accounts = await self._store.accounts()

        async def chosen(choice: SavedDraft | None) -> None:
            if choice is None:
                return
            account = next((a for a in accounts if a.name == choice.account), None)
            if account is None:
                self._screen.notify(
                    f"The draft's account {choice.account!r} is not configured any more; "
                    f"the draft is kept in {choice.path}",
                    severity="warning",
                )
                return
            found = await self._identities(account.id)
            identities = found[1] if found else [choice.draft.from_]
            self._open_compose(choice.draft, account.id, identities, draft_file=choice.path)

        self._screen.app.push_screen(DraftsScreen(saved), chosen)

    async def start(self, kind: str, message_id: int | None) -> None:
        """``kind``: new, reply, reply_all, forward, forward_attached, edit. ``message_id``: the
        message open in the reader, else the one under the cursor (None when none)."""
        notify = self._screen.notify
        if kind == "new":
            account_id = None
            if message_id is not None:
                detail = await self._store.message(message_id)
                account_id = detail.account_id if detail is not None else None
            found = await self._identities(account_id)
            if found is None:
                notify("There is no account to send from", severity="warning")
                return
            self._open_compose(Draft(from_=found[1][0]), found[0], found[1])
            return
        if message_id is None:
            notify("No message selected", severity="warning")
            return
        detail = await self._store.message(message_id)
        if detail is None:
            notify("That message is gone", severity="warning")
            return
        raw = detail.raw
        if raw is None and self._manager is not None:
            raw = await self._manager.fetch_body(message_id)
        if raw is None:
            notify(
                "The message has not been downloaded and its account is offline",
                severity="warning",
            )
            return
        found = await self._identities(detail.account_id)
        if found is None:
            return
        account_id, identities = found
        if kind == "edit":
            folders = await self._store.folders(detail.account_id)
            role = next((f.role for f in folders if f.id == detail.row.folder_id), None)
            draft = reopen(raw, identities)
            if role is FolderRole.DRAFTS:  # resume it; saving replaces this copy
                self._open_compose(draft, account_id, identities, server_copy=message_id)
            else:  # a new message with the same content
                self._open_compose(
                    dataclasses.replace(draft, message_id=""), account_id, identities
                )
            return
        original = read_original(raw)
        answering = kind in ("reply", "reply_all")
        if answering:
            draft = reply(original, identities, reply_all=kind == "reply_all")
        else:
            draft = forward(original, identities, as_attachment=kind == "forward_attached")
        # Once sent, the original gets \Answered or $Forwarded (found again by its
        # Message-ID should it have moved meanwhile).
        origin = Origin(
            message_id,
            detail.envelope.message_id or original.message_id,
            Flag.ANSWERED if answering else Flag.FORWARDED,
        )
        self._open_compose(draft, account_id, identities, origin=origin)
