"""MailApp: the Textual application, kept thin.

It owns the lifecycle only: the main screen, the theme, the keymap, and the sync manager
(started after the first paint, stopped on quit). Screens and widgets live in
``mailtui/ui``; the store is opened and closed by the caller (``mailtui.cli``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.css.query import NoMatches
from textual.theme import Theme

from mailtui import memory, pacing
from mailtui.config import AccountConfig, Config
from mailtui.models import OutboxState
from mailtui.sync.contract import SyncEvent
from mailtui.ui import compat, keymap, keymap_check, themes
from mailtui.ui.account_actions import AccountActions
from mailtui.ui.bidi import configure as configure_bidi
from mailtui.ui.commands import MailCommands
from mailtui.ui.dates import Clock, local_clock
from mailtui.ui.gc_pacer import GcPacer
from mailtui.ui.messages import SyncUpdate
from mailtui.ui.modals.confirm import ConfirmScreen
from mailtui.ui.screens.help import HelpScreen
from mailtui.ui.screens.main import MainScreen
from mailtui.ui.services import MailStore, SyncControl
from mailtui.ui.sign_in import SignInKey

if TYPE_CHECKING:
    from mailtui.compose import Identity  # annotations only: composing loads on use

GC_PACER_AFTER = 2.0  # seconds after the mount: the pacer's first collection, off the first screen


@compat.quiet_fatal_errors  # a crash's traceback to the log, not the terminal
class MailApp(App[None]):
    """The mail client.

    Args:
        store: An open store (the app reads and writes it, never closes it).
        manager: The sync manager, or None to run offline (tests, no accounts).
        theme: A Textual theme name; None keeps the default.
        title: The terminal title.
        keymap: User key overrides, binding id -> keys (``[ui.keys]`` in the config);
            one that cannot be applied whole raises ``keymap_check.KeymapError``.
        clock: "now" for relative dates; tests fix it.
        user_themes: A folder of the user's theme files (``themes/`` beside the config).
        state_dir: Where the runtime theme choice is saved; None saves nothing.
        bidi: Reorder and join right-to-left text (``[ui] bidi`` resolved).
        bell: Ring the terminal bell when new mail arrives.
        notify_new_mail: Say so in a notice when new mail arrives.
        sign_in_accounts: The accounts mailtui signs in itself (OAuth2 with an ``oauth``
            table), by name: the sign-in key runs their flow (``ui/modals/sign_in.py``).
        password_accounts: On a host without a keyring, the accounts whose password the
            sign-in key asks for (masked, kept in memory for the run).
        config: The configuration read at start (its file is where the account
            commands write); None in the demo.
    """

    CSS_PATH = "app.tcss"
    # The palette lists every action with its key (mailtui/ui/commands.py); it opens
    # with the keymap's app.palette keys, not Textual's default binding.
    ENABLE_COMMAND_PALETTE = True
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {MailCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("global"),
        *keymap.bindings("appearance"),
    ]

    def __init__(
        self,
        store: MailStore,
        manager: SyncControl | None,
        *,
        theme: str | None = None,
        title: str = "mailtui",
        keymap: Mapping[str, str] | None = None,
        clock: Clock = local_clock,
        user_themes: Path | None = None,
        state_dir: Path | None = None,
        bidi: bool = True,
        bell: bool = False,
        notify_new_mail: bool = True,
        identities: Mapping[str, Sequence[Identity]] | None = None,
        mailto: str | None = None,
        sign_in_accounts: Mapping[str, AccountConfig] | None = None,
        password_accounts: Sequence[str] = (),
        config: Config | None = None,
    ) -> None:
        super().__init__()
        configure_bidi(bidi)
        self.bell_on_new_mail = bell
        self.notify_new_mail = notify_new_mail
        self._state_dir = state_dir
        self._config_theme = theme or ""
        loaded, self._theme_problems = themes.load_all(user_themes)
        for data_theme in loaded:
            self.register_theme(data_theme)
        self.data_themes: list[str] = list(dict.fromkeys(t.name for t in loaded))
        self._mailto = mailto  # `mailtui mailto:…`: open the composer once painted
        # account name -> the From addresses it sends as (first: the account's own)
        self.identities: dict[str, list[Identity]] = {
            name: list(ids) for name, ids in (identities or {}).items()
        }
        self.sign_in_accounts = dict(sign_in_accounts or {})
        self.password_accounts = frozenset(password_accounts)
        self._sign_in_key = SignInKey(
            self,
            manager,
            self.sign_in_accounts,
            self.password_accounts,
            lambda text: self.main_screen.status_bar.set_notice(text),
        )
        self.store = store
        self.manager = manager
        self.config = config  # where accounts are added, changed, removed (None: the demo)
        self.account_actions = AccountActions(self)
        self.title = title
        self.clock = clock
        # Applied whole or refused (KeymapError, a ConfigError): never half a keymap.
        self.keymap_overrides: dict[str, str] = keymap_check.check(keymap or {})
        self._theme_name = theme
        self._sync_started = False
        self.main_screen: MainScreen = MainScreen(store, manager, clock)
        self.set_keymap(self.keymap_overrides)
        self.gc_pacer = GcPacer()  # full collections off the key path (ui/gc_pacer.py)
        self.last_input = float("-inf")  # time.monotonic() of the last key or click

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def get_key_display(self, binding: Binding) -> str:
        return binding.key_display or keymap.key_label(binding.key)

    def on_mount(self) -> None:
        compat.hold_sync_for_keys(self)  # from the terminal's input thread (ui/compat.py)
        saved = themes.read_choice(self._state_dir) if self._state_dir else None
        wanted = themes.starting_theme(self._config_theme, saved) or self._theme_name
        if wanted:
            if wanted in self.available_themes:
                self.theme = wanted
            else:
                self.notify(f"Unknown theme {wanted!r}; using the default.")
        for problem in self._theme_problems:
            self.notify(f"Theme skipped: {problem}", severity="warning", timeout=8)
        self.theme_changed_signal.subscribe(self, self._save_theme)
        # Collections paused at start (``mailtui.__main__``) resume after the first paint.
        self.call_after_refresh(memory.resume_collections)
        # The screen paints from the store first; the network starts after that paint.
        self.call_after_refresh(self._start_sync)
        # Its one full collection (30-90 ms) not between the first paint and the sync's
        # first commands: a new account's first rows wait for those. Its threshold from
        # now: CPython's own full collections would come every ≈ 0.35 s of a first sync.
        self.gc_pacer.start(first_pause_after=GC_PACER_AFTER)
        self.set_interval(0.5, self.gc_pacer.tick, name="gc-pacer")
        if self._mailto:
            self.call_after_refresh(self.main_screen.compose_mailto, self._mailto)

    async def on_event(self, event: events.Event) -> None:
        bubbled = event.is_forwarded  # (forwarding a key to the screen sets it)
        if isinstance(event, (events.Key, events.MouseDown)) and not bubbled:
            self.last_input = time.monotonic()  # background work yields to the user
            self.gc_pacer.input()
            pacing.KEYS.pressed()  # the sync's paced work waits for the key's frame
        await super().on_event(event)
        if isinstance(event, events.Key) and bubbled:
            # Back from the focused widget: the bindings (the key's action) ran just now.
            pacing.KEYS.handled()

    def on_unmount(self) -> None:
        self.gc_pacer.stop()

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
        self._new_mail(event)

    def _new_mail(self, event: SyncEvent) -> None:
        """Count new mail in the status bar; bell and notice as ``[ui]`` says."""
        try:
            bar = self.main_screen.status_bar
        except NoMatches:  # not composed yet
            return
        added = bar.note_event(event)
        if not added:
            return
        if self.bell_on_new_mail:
            self.bell()
        if self.notify_new_mail:
            what = "1 new message" if added == 1 else f"{added:,} new messages"
            self.notify(f"{what} for {event.account}", title="New mail", timeout=4)

    def action_reconnect(self) -> None:
        """"Reconnect now": every account out of its backoff or its refused login at once,
        with credentials and config.toml read again."""
        if self.manager is None:
            self.notify("No account to connect: mailtui runs offline.", timeout=3)
            return
        self.manager.reconnect()
        self.main_screen.status_bar.set_notice("Reconnecting…")

    def action_sign_in(self) -> None:
        """Sign an account in again (``ui/sign_in.py``); it reconnects on success."""
        self._sign_in_key.pressed()

    def action_check_now(self) -> None:
        """"Check now": every account looks for new mail at once (every folder pulled,
        or the server tried again out of a backoff); the status bar shows the sync."""
        if self.manager is None:
            self.notify("No account to check: mailtui runs offline.", timeout=3)
            return
        self.manager.check_now()
        self.main_screen.status_bar.set_notice("Checking for new mail…")

    def action_add_account(self) -> None:
        """The setup wizard; the account it saves starts syncing at once."""
        self.account_actions.add()

    @work(exclusive=True, group="accounts")
    async def action_edit_account(self) -> None:
        await self.account_actions.edit()

    @work(exclusive=True, group="accounts")
    async def action_remove_account(self) -> None:
        await self.account_actions.remove()

    def action_next_theme(self) -> None:
        """Switch to the next of the data themes (``themes/`` and the user's)."""
        names = self.data_themes or sorted(self.available_themes)
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def _save_theme(self, theme: Theme) -> None:
        """Remember the choice for the next start (not in the user's config.toml)."""
        if self._state_dir is None:
            return
        try:
            themes.save_choice(self._state_dir, themes.ThemeChoice(theme.name, self._config_theme))
        except OSError as error:
            self.notify(f"Could not save the theme choice: {error}", severity="warning")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap_overrides))

    async def _unsent(self) -> int:
        """Messages in any account's outbox that have not gone out."""
        try:
            accounts = await self.store.accounts()
            items = [i for a in accounts for i in await self.store.outbox(a.id)]
        except Exception:  # a broken store must not keep the user from quitting
            return 0
        return sum(i.state is not OutboxState.SENT for i in items)

    async def action_quit(self) -> None:
        unsent = await self._unsent()
        if unsent and not isinstance(self.screen, ConfirmScreen):
            what = "1 message has" if unsent == 1 else f"{unsent} messages have"

            async def answered(yes: bool | None) -> None:
                if yes:
                    await self._quit_now()

            self.push_screen(
                ConfirmScreen(
                    f"{what} not been sent yet (O shows the outbox). Quit anyway? They "
                    "stay in the outbox and go out the next time mailtui runs, or with "
                    "`mailtui send --outbox`."
                ),
                answered,
            )
            return
        await self._quit_now()

    async def _quit_now(self) -> None:
        if self.manager is not None and self._sync_started:
            self._sync_started = False
            try:
                await self.manager.stop()
            except Exception as error:  # quitting must not fail
                self.log.error(f"stopping sync: {error}")
        self.exit()
