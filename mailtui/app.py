"""MailApp: the Textual application, kept thin.

It owns the lifecycle only: the main screen, the theme, the keymap, and the sync manager
(started after the first paint, stopped on quit). Screens and widgets live in
``mailtui/ui``; the store is opened and closed by the caller (``mailtui.cli``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from mailtui.compose import Identity
from mailtui.sync.base import SyncEvent
from mailtui.ui import keymap
from mailtui.ui.dates import Clock, local_clock
from mailtui.ui.messages import SyncUpdate
from mailtui.ui.screens.help import HelpScreen
from mailtui.ui.screens.main import MainScreen
from mailtui.ui.services import MailStore, SyncControl


class MailApp(App[None]):
    """The mail client.

    Args:
        store: An open store (the app reads and writes it, never closes it).
        manager: The sync manager, or None to run offline (tests, no accounts).
        theme: A Textual theme name; None keeps the default.
        title: The terminal title.
        keymap: User key overrides, binding id -> keys (``[ui.keys]`` in the config).
        clock: "now" for relative dates; tests fix it.
    """

    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("global"))

    def __init__(
        self,
        store: MailStore,
        manager: SyncControl | None,
        *,
        theme: str | None = None,
        title: str = "mailtui",
        keymap: Mapping[str, str] | None = None,
        clock: Clock = local_clock,
        identities: Mapping[str, Sequence[Identity]] | None = None,
    ) -> None:
        super().__init__()
        # account name -> the From addresses it sends as (first: the account's own)
        self.identities: dict[str, list[Identity]] = {
            name: list(ids) for name, ids in (identities or {}).items()
        }
        self.store = store
        self.manager = manager
        self.title = title
        self.clock = clock
        self.keymap_overrides: dict[str, str] = dict(keymap or {})
        self._theme_name = theme
        self._sync_started = False
        self.main_screen = MainScreen(store, manager, clock)
        self.set_keymap(self.keymap_overrides)

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def get_key_display(self, binding: Binding) -> str:
        return binding.key_display or keymap.key_label(binding.key)

    def on_mount(self) -> None:
        if self._theme_name:
            if self._theme_name in self.available_themes:
                self.theme = self._theme_name
            else:
                self.notify(f"Unknown theme {self._theme_name!r}; using the default.")
        unknown = keymap.unknown_ids(self.keymap_overrides)
        if unknown:
            self.notify(f"Unknown key binding ids in the config: {', '.join(unknown)}")
        # The screen paints from the store first; the network starts after that paint.
        self.call_after_refresh(self._start_sync)

    async def _start_sync(self) -> None:
        if self.manager is None or self._sync_started:
            return
        self._sync_started = True
        self.manager.add_listener(self._on_sync_event)
        try:
            await self.manager.start()
        except Exception as error:  # shown to the user; the UI keeps working offline
            self.notify(f"Could not start syncing: {error}", severity="error", timeout=10)

    def _on_sync_event(self, event: SyncEvent) -> None:
        self.main_screen.post_message(SyncUpdate(event))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap_overrides))

    async def action_quit(self) -> None:
        if self.manager is not None and self._sync_started:
            self._sync_started = False
            try:
                await self.manager.stop()
            except Exception as error:  # quitting must not fail
                self.log.error(f"stopping sync: {error}")
        self.exit()
