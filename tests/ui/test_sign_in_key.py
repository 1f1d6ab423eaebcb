"""F7 with several OAuth2 accounts refused: the app asks which (ChoiceScreen), Esc asks
nothing more; the one chosen opens its sign-in, and a provider that cannot be reached
ends it with one line on screen, nothing stored and no reconnect. (The sign-in against a
real authorization server and Dovecot: tests/integration/test_signin_ui.py.)"""

from __future__ import annotations

import dataclasses

from mailtui.config import AccountConfig, parse
from mailtui.sync.contract import AccountStatus, EventKind, SyncEvent
from mailtui.ui.modals.choice import ChoiceScreen
from mailtui.ui.modals.sign_in import SignInScreen
from tests.servers.ports import free_ports
from tests.unit.keyrings import MemoryKeyring, memory_keyring

from .conftest import FakeManager, MailFixture, make_app, screen_text
from .test_main_screen import rows_loaded, wait_until

__all__ = ["memory_keyring"]


def oauth_accounts(port: int) -> dict[str, AccountConfig]:
    doc = "".join(
        f"""
[accounts.{name}]
kind = "imap"
email = "me@{name}.example"
host = "imap.{name}.example"
auth = "oauth2"
[accounts.{name}.oauth]
provider = "custom"
client_id = "c"
token_url = "http://127.0.0.1:{port}/token"
device_authorization_url = "http://127.0.0.1:{port}/device"
scopes = ["mail"]
"""
        for name in ("alpha", "beta")
    )
    config = parse(doc)
    return {acc.name: acc for acc in config.accounts}


async def test_several_refused_accounts_are_asked_for(
    mail: MailFixture, memory_keyring: MemoryKeyring
) -> None:
    (closed_port,) = free_ports(1)  # nothing listens there: the provider is unreachable
    manager = FakeManager()
    manager.statuses = {
        "alpha": (AccountStatus.AUTH_FAILED, "login refused: not signed in"),
        "beta": (AccountStatus.AUTH_FAILED, "login refused: not signed in"),
    }
    app = make_app(mail.store, manager, sign_in_accounts=oauth_accounts(closed_port))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        for name in ("alpha", "beta"):
            manager.emit(
                SyncEvent(name, EventKind.STATUS, status=AccountStatus.AUTH_FAILED,
                          text="login refused: not signed in")
            )
        await wait_until(pilot, lambda: "alpha: login refused · F7: sign in" in screen_text(app))
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await wait_until(pilot, lambda: "2: beta" in screen_text(app))  # painted
        text = screen_text(app)
        assert "Sign in again: which account?" in text
        assert "1: alpha" in text and "2: beta" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, ChoiceScreen)

        await pilot.press("f7", "2")
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen))
        screen = app.screen
        assert isinstance(screen, SignInScreen) and screen.account.name == "beta"
        await wait_until(pilot, lambda: "Not signed in" in screen_text(app), timeout=30)
        assert "beta: could not reach" in screen.failed
        assert "Esc: close" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, SignInScreen)
        assert manager.reconnects == 0
        assert memory_keyring.items == {}


async def test_an_account_saved_while_the_app_runs_can_be_signed_in_again(
    mail: MailFixture, memory_keyring: MemoryKeyring
) -> None:
    """The wizard's save (F4, F8) tells the sign-in key about the account: its refused
    login then shows "F7: sign in", and F7 opens its sign-in. Its removal forgets it."""
    (closed_port,) = free_ports(1)
    manager = FakeManager()
    manager.statuses = {"alpha": (AccountStatus.AUTH_FAILED, "login refused: not signed in")}
    app = make_app(mail.store, manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: rows_loaded(pilot) and manager.started)
        app.account_actions._signs_in(oauth_accounts(closed_port)["alpha"])  # as saved
        manager.emit(
            SyncEvent("alpha", EventKind.STATUS, status=AccountStatus.AUTH_FAILED,
                      text="login refused: not signed in")
        )  # fmt: skip
        await wait_until(pilot, lambda: "not signed in · F7: sign in" in screen_text(app))
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, SignInScreen))
        screen = app.screen
        assert isinstance(screen, SignInScreen) and screen.account.name == "alpha"
        await wait_until(pilot, lambda: "Not signed in" in screen_text(app), timeout=30)
        await pilot.press("escape")
        plain = oauth_accounts(closed_port)["beta"]
        app.account_actions._signs_in(dataclasses.replace(plain, name="alpha", oauth=None))
        assert "alpha" not in app.sign_in_accounts  # edited to a password account
