"""Accounts added and removed from the running app (80x24, Textual's Pilot), against the
real Dovecot: F4 opens the setup wizard over the main screen, and the account it saves
appears in the folder pane and fills up while the app runs; Shift+F8 asks which account
and what goes with it, then the account leaves config.toml, the keyring, the sync
manager and the store; F8 edits an account in place, keeping the file's comments."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from mailtui.accounts import load_config, specs
from mailtui.app import MailApp
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from mailtui.ui.screens.setup import SetupScreen
from tests.integration.discovery_servers import local_options
from tests.servers import MailUser
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer
from tests.ui.conftest import screen_text
from tests.unit.keyrings import MemoryKeyring, memory_keyring  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration


@pytest.fixture
def found(mail_user: MailUser) -> Iterator[DnsServer]:
    server = DnsServer(
        srv=[
            f"_imaps._tcp.check.test,localhost,{mail_user.imaps_port},0,0",
            f"_submission._tcp.check.test,localhost,{mail_user.smtp_port},0,0",
        ],
        hosts=["localhost,127.0.0.1"],
    )
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


def _folder_pane(app: MailApp) -> str:
    """The folder pane's rows as text (the left columns of the screen it covers)."""
    pane = app.main_screen.folder_list.region
    rows = screen_text(app).splitlines()[pane.y : pane.y + pane.height]
    return "\n".join(row[pane.x : pane.x + pane.width] for row in rows)


async def _until(pilot: Pilot[object], what: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for ``what`` (a key's effect through the app's messages, workers, the store
    and the real servers): 30 s of wall-clock time, generous for two busy cores."""
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("never got there:\n" + screen_text(pilot.app))
        await pilot.pause(0.02)


def _message(subject: str) -> bytes:
    return (
        f"From: Bo <bo@check.test>\r\nTo: ann@check.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@check.test>\r\n\r\nHello.\r\n"
    ).encode()


async def test_add_edit_and_remove_an_account_while_the_app_runs(
    tmp_path: Path,
    found: DnsServer,
    web: WebServer,
    mail_user: MailUser,
    mail_user_factory: Callable[..., MailUser],
    memory_keyring: MemoryKeyring,  # noqa: F811
) -> None:
    first = mail_user_factory("first")
    first.deliver(_message("first mail"))
    mail_user.deliver(_message("Welcome aboard"))
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        "# my accounts\n"
        "[accounts.first]  # the first one\n"
        'kind = "imap"\n'
        f'email = "{first.email}"\n'
        f'username = "{first.name}"\n'
        'host = "localhost"\n'
        f"port = {first.imaps_port}\n"
        'security = "tls"\n'
        f'ca_file = "{first.ca_path}"\n'
        f"password_command = \"printf %s '{first.password}'\"\n"
    )
    config = load_config(config_path)
    store = await Store.open(tmp_path / "mail.sqlite")
    manager = SyncManager(store, await specs(store, config))
    app = MailApp(store, manager, config=config)
    app.account_actions.options = local_options(found, web)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: "first" in screen_text(app))
            await pilot.press("f4")  # the key opens the wizard; Esc on its first step leaves
            await _until(pilot, lambda: isinstance(app.screen, SetupScreen))
            await pilot.press("f4")  # no wizard over the wizard
            await pilot.pause()
            assert len(app.screen_stack) == 2
            await pilot.press("escape")
            await _until(pilot, lambda: app.screen is app.main_screen)
            await pilot.press("ctrl+p", *"add an account")  # and so does the palette
            await _until(pilot, lambda: "Add an account (the setup wizard)" in screen_text(app))
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, SetupScreen))
            wizard = app.screen
            assert isinstance(wizard, SetupScreen)
            # Keys typed before the wizard has mounted and focused its first field are lost.
            await _until(pilot, lambda: app.focused is not None and app.focused.screen is wizard)
            await pilot.press(*list("Ann"), "enter", *list("ann@check.test"), "enter")
            await _until(pilot, lambda: wizard.discovered)
            await pilot.press("enter")
            await _until(pilot, lambda: wizard.step == "servers")
            wizard.query_one("#f-username", Input).value = mail_user.name
            wizard.query_one("#f-ca_file", Input).value = str(mail_user.ca_path)
            # Each step before the next keys: a key pressed early lands in the wrong field.
            await pilot.press("enter")
            await _until(pilot, lambda: wizard.step == "signin")
            await pilot.press(*list(mail_user.password), "enter")
            await _until(pilot, lambda: wizard.step == "check")
            await pilot.press("enter")  # yes, localhost is the provider's
            await _until(pilot, lambda: wizard.checked is not None)
            assert wizard.checked is not None and all(c.ok for c in wizard.checked)
            await _until(pilot, lambda: not wizard.query_one("#check-button").has_class("-active"))
            await pilot.press("enter")
            await _until(pilot, lambda: wizard.step == "save")
            await pilot.press("enter")  # save
            await _until(pilot, lambda: app.screen is app.main_screen)

            # The new account is in the folder pane and its mail arrives while we watch.
            await pilot.press("shift+tab")  # at 80 columns the folder pane shows on focus
            await _until(pilot, lambda: app.focused is app.main_screen.folder_list)
            await _until(pilot, lambda: "check" in _folder_pane(app))
            assert "check" in manager.status()
            async def arrived() -> list[str]:
                ids = {a.name: a.id for a in await store.accounts()}
                for folder in await store.folders(ids["check"]):
                    if folder.name == "INBOX":
                        return [r.subject for r in await store.window(folder.id, 0, 10)]
                return []

            deadline = time.monotonic() + 30  # a first sync on the real Dovecot
            while not (subjects := await arrived()) and time.monotonic() < deadline:
                await pilot.pause(0.02)
            assert subjects == ["Welcome aboard"]
            assert memory_keyring.items == {("mailtui", "check"): mail_user.password}

            # Edit: F8, which account (1 or 2), the servers step pre-filled; a change saved.
            await pilot.press("f8")
            await _until(pilot, lambda: "Edit which account?" in screen_text(app))
            await pilot.press("2")
            await _until(pilot, lambda: isinstance(app.screen, SetupScreen))
            editor = app.screen
            assert isinstance(editor, SetupScreen) and editor.step == "servers"
            await _until(pilot, lambda: app.focused is not None and app.focused.screen is editor)
            assert editor.query_one("#f-username", Input).value == mail_user.name
            editor.query_one("#f-tls_fingerprint", Input).value = ""
            await pilot.press("enter")
            await _until(pilot, lambda: editor.step == "signin")
            await pilot.press("enter")  # the password kept
            await _until(pilot, lambda: editor.checked is not None)
            assert editor.checked is not None and all(c.ok for c in editor.checked)
            await _until(pilot, lambda: not editor.query_one("#check-button").has_class("-active"))
            await pilot.press("enter")
            await _until(pilot, lambda: editor.step == "save")
            await pilot.press("enter")
            await _until(pilot, lambda: app.screen is app.main_screen)
            assert config_path.read_text().startswith("# my accounts\n[accounts.first]  # the")

            # Remove: which account, then what goes; then gone everywhere.
            await pilot.press("shift+f8")
            await _until(pilot, lambda: "Remove which account?" in screen_text(app))
            await pilot.press("2")
            # The question comes after the store is read (its accounts, the unsent mail).
            await _until(pilot, lambda: "The server keeps the mail" in screen_text(app))
            await pilot.press("r")
            await _until(pilot, lambda: "check" not in manager.status())
            await _until(pilot, lambda: "check" not in screen_text(app))  # status bar too
            assert "first" in _folder_pane(app)
        assert [a.name for a in await store.accounts()] == ["first"]
    finally:
        await manager.stop()
        await store.close()
    assert [a.name for a in load_config(config_path).accounts] == ["first"]
    assert config_path.read_text().startswith("# my accounts\n[accounts.first]  # the first one")
    assert memory_keyring.items == {}
