"""Adding, editing and removing accounts while mailtui runs (the keys and palette
commands ``app.add_account``, ``app.edit_account``, ``app.remove_account``).

- Add: the setup wizard as a screen of the running app; on Save the account is in
  config.toml, and its worker starts at once (``SyncManager.add_account``): the
  account appears in the folder pane and fills up while the user watches.
- Edit: the wizard again, its steps pre-filled from the account; Save changes the
  account in place (``accounts.change_account``: the user's comments and order kept)
  and its worker reads the new settings at its next connection attempt (now: it is
  told to reconnect).
- Remove: asked first, saying what goes: the account leaves config.toml, its keyring
  entries (password, SMTP password, token, sign-in) are deleted, its worker stops and
  the mail cached here is removed from the store. For IMAP and Exchange the server
  keeps the mail; for POP3 what was downloaded may be the only copy, and unsent
  outbox mail is lost with the account: both are said, and answered with a key of
  their own (``D``), never the habitual one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from mailtui import accounts, secrets
from mailtui.config import AccountConfig, Config
from mailtui.errors import MailtuiError
from mailtui.login import signs_in
from mailtui.store import Store
from mailtui.ui.modals.choice import Answer, ChoiceScreen
from mailtui.ui.services import MailStore, SyncControl

if TYPE_CHECKING:  # the wizard's modules (discovery: httpx, DNS) load when it opens
    from mailtui.account_setup import Plan
    from mailtui.compose import Identity
    from mailtui.discovery import Options


class _App(Protocol):
    """What these commands need of ``MailApp`` (a Protocol: the app imports this)."""

    config: Config | None
    manager: SyncControl | None
    store: MailStore
    identities: dict[str, list[Identity]]
    #: The accounts the sign-in key can sign in again, by name (``login.signs_in``).
    sign_in_accounts: dict[str, AccountConfig]

    @property
    def main_screen(self) -> Any: ...

    @property
    def screen(self) -> Any: ...

    def notify(self, message: str, *, severity: Any = ..., timeout: float | None = ...) -> None: ...

    def push_screen(self, screen: Any, callback: Any = ...) -> Any: ...

    async def push_screen_wait(self, screen: Any) -> Any: ...


def identities(acc: AccountConfig) -> list[Identity]:
    """The account's From addresses: its own first, then ``identities`` (as at start)."""
    from mailtui.compose import Identity  # composing's modules load on use, not at start

    own = Identity(acc.email, acc.display_name)
    return [own, *(Identity(a, n) for n, a in acc.identities if a != acc.email)]


class AccountActions:
    """The app's account commands; ``app.config`` is where accounts are written."""

    def __init__(self, app: _App) -> None:
        self.app = app
        #: Where the wizard's discovery asks (None: the real sources); tests point it
        #: at their own servers.
        self.options: Options | None = None

    # ------------------------------------------------------------------ helpers

    def _signs_in(self, acc: AccountConfig) -> None:
        """The sign-in key knows an account saved while the app runs (F7 then signs it
        in again when its login is refused), and forgets one that no longer signs in."""
        if signs_in(acc):
            self.app.sign_in_accounts[acc.name] = acc
        else:
            self.app.sign_in_accounts.pop(acc.name, None)

    def _config(self) -> Config | None:
        if self.app.screen is not self.app.main_screen:
            return None  # from the main screen only (not a wizard over a wizard)
        config = self.app.config
        if config is None or config.path is None:
            self.app.notify("Accounts can be changed only with a config file (not in the demo).")
            return None
        try:
            return accounts.load_config(config.path)
        except MailtuiError as exc:
            self.app.notify(f"config.toml: {exc}", severity="error", timeout=10)
            return None

    def _wizard(self, config: Config, edit: AccountConfig | None = None) -> Any:
        from mailtui.autodiscover_source import with_autodiscover
        from mailtui.discovery import Options
        from mailtui.ui.screens.setup import SetupScreen

        options = self.options or with_autodiscover(Options())
        return SetupScreen(config, options, edit=edit)

    async def _pick(self, config: Config, question: str) -> AccountConfig | None:
        names = [a.name for a in config.accounts]
        if not names:
            self.app.notify("There is no account yet: F4 adds one.")
            return None
        if len(names) == 1:
            return config.account(names[0])
        answers = [Answer(str(i + 1), name, name) for i, name in enumerate(names[:9])]
        chosen = await self.app.push_screen_wait(ChoiceScreen(question, answers))
        return config.account(chosen) if chosen else None

    # ------------------------------------------------------------------ add, edit

    def add(self) -> None:
        config = self._config()
        if config is not None:
            self.app.push_screen(self._wizard(config), self._added)

    async def _added(self, result: Plan | str | None) -> None:
        from mailtui.account_setup import Plan

        if not isinstance(result, Plan):
            return
        config = self._config()
        manager = self.app.manager
        if config is None:
            return
        if manager is None:
            self.app.notify(f"Account {result.name!r} saved; it syncs at the next start.")
            return
        store = self.app.store
        if not isinstance(store, Store):  # pragma: no cover - the app runs on a Store
            return
        try:
            (spec,) = await accounts.specs(store, config, only=result.name)
            await manager.add_account(spec)
        except (MailtuiError, ValueError) as exc:
            self.app.notify(f"Account {result.name!r} saved, not syncing: {exc}", timeout=10)
            return
        self.app.identities[result.name] = identities(config.account(result.name))
        self._signs_in(config.account(result.name))
        self.app.notify(f"Account {result.name!r} added: its mail is on its way.")
        self.app.main_screen.accounts_changed(added=result.name)

    async def edit(self) -> None:
        config = self._config()
        if config is None:
            return
        acc = await self._pick(config, "Edit which account?")
        if acc is not None:
            self.app.push_screen(self._wizard(config, acc), self._edited)

    def _edited(self, result: Plan | str | None) -> None:
        from mailtui.account_setup import Plan

        if isinstance(result, Plan):
            config = self._config()
            if config is not None:
                self._signs_in(config.account(result.name))
            if self.app.manager is not None:
                self.app.manager.reconnect()  # the new settings, now
            self.app.notify(f"Account {result.name!r} changed.")
            self.app.main_screen.accounts_changed()

    # ------------------------------------------------------------------ remove

    async def remove(self) -> None:
        config = self._config()
        if config is None:
            return
        acc = await self._pick(config, "Remove which account?")
        if acc is None:
            return
        store = self.app.store
        known = {a.name: a for a in await store.accounts()}
        account = known.get(acc.name)
        unsent = await store.unsent_count(account.id) if account else 0
        only_copy = acc.kind.value == "pop3"
        lines = [f"Remove account {acc.name!r} ({acc.email})?",
                 "It leaves config.toml, its password and sign-in leave the keyring, and "
                 "the mail cached here is removed."]  # fmt: skip
        if only_copy:
            lines.append("POP3: the mail it downloaded may be the only copy (`mailtui export "
                         "--mbox FILE` saves it first).")  # fmt: skip
        else:
            lines.append("The server keeps the mail: adding the account again brings it back.")
        if unsent:
            lines.append(f"{unsent} message(s) in its outbox are not sent and would be lost.")
        key, label = ("D", "remove it and that mail") if only_copy or unsent else (
            "r", "remove it")  # fmt: skip
        answer = await self.app.push_screen_wait(
            ChoiceScreen("\n".join(lines), [Answer(key, label, "remove")])
        )
        if answer != "remove":
            return
        await self._remove(acc, config, account.id if account else None)

    async def _remove(self, acc: AccountConfig, config: Config, account_id: int | None) -> None:
        assert config.path is not None
        try:
            accounts.remove_account(config.path, acc.name)
        except MailtuiError as exc:
            self.app.notify(f"Not removed: {exc}", severity="error", timeout=10)
            return
        if account_id is not None and self.app.manager is not None:
            await self.app.manager.remove_account(account_id)
        problem = ""
        try:
            for purpose in ("", "smtp", "oauth2"):
                secrets.delete_from_keyring(acc.name, purpose)
            secrets.forget_sign_in(acc.name)
        except secrets.SecretError as exc:
            problem = f" (the keyring: {exc})"
        if account_id is not None:
            await self.app.store.remove_account(account_id)
        self.app.identities.pop(acc.name, None)
        self.app.sign_in_accounts.pop(acc.name, None)
        self.app.main_screen.accounts_changed(removed=acc.name)
        self.app.notify(f"Account {acc.name!r} removed{problem}.")
