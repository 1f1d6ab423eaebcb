"""The sign-in key (``app.sign_in``, F7): which account, and how it signs in again.

An account mailtui signs in itself (OAuth2 with an ``oauth`` table) runs its flow in
``SignInScreen``; on a host without a keyring, a password account gets a masked prompt,
the password kept in memory for the run (as the terminal asks before the UI starts).
Either way the account reconnects at once. The refused account is taken (asked which
when several); with none refused, any OAuth2 account can sign in again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from textual.app import App

from mailtui.config import AccountConfig
from mailtui.sync.contract import AccountStatus
from mailtui.ui.modals.choice import Answer, ChoiceScreen
from mailtui.ui.modals.sign_in import SignInScreen
from mailtui.ui.modals.text_prompt import TextPrompt
from mailtui.ui.services import SyncControl


class SignInKey:
    def __init__(
        self,
        app: App[Any],
        manager: SyncControl | None,
        oauth: Mapping[str, AccountConfig],
        passwords: Collection[str],
        notice: Callable[[str], None],
    ) -> None:
        self.app = app
        self.manager = manager
        self.oauth = oauth  # the app's own mapping: accounts added while it runs count
        self.passwords = frozenset(passwords)
        self.notice = notice  # the status bar's notice

    def pressed(self) -> None:
        states = self.manager.status() if self.manager is not None else {}
        refused = [
            name
            for name in sorted({*self.oauth, *self.passwords})
            if states.get(name, (None, ""))[0] is AccountStatus.AUTH_FAILED
        ]
        names = refused or sorted(self.oauth)
        if not names:
            self.app.notify("No account here signs in with OAuth2 (an [oauth] table).", timeout=4)
            return
        if len(names) == 1:
            self.sign_in(names[0])
            return
        answers = [Answer(str(n), name, name) for n, name in enumerate(names[:9], 1)]

        def chosen(name: str | None) -> None:
            if name is not None:
                self.sign_in(name)

        self.app.push_screen(ChoiceScreen("Sign in again: which account?", answers), chosen)

    def sign_in(self, name: str) -> None:
        if name not in self.oauth:
            self._ask_password(name)
            return

        def done(signed_in: bool | None) -> None:
            if signed_in and self.manager is not None:
                self.manager.reconnect()
                self.notice(f"Signed in to {name}; reconnecting…")

        self.app.push_screen(SignInScreen(self.oauth[name]), done)

    def _ask_password(self, name: str) -> None:
        from mailtui import secrets

        def typed(password: str | None) -> None:
            if password and self.manager is not None:
                secrets.remember_for_this_run(name, password)
                self.manager.reconnect()
                self.notice(f"Password for {name} kept in memory for this run; reconnecting…")

        question = f"Password for {name} (this host has no keyring: kept in memory until quit):"
        self.app.push_screen(TextPrompt(question, password=True), typed)
