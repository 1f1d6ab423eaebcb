"""Signing in again from inside the UI (F7, ``app.sign_in``), at 80x24 with the real
sync manager: an OAuth2 account that is not signed in stops with "login refused · F7:
sign in"; F7 runs the device flow (code and page on screen, a QR code on request) or
the loopback flow (the URL and the ``ssh -L`` line; a test plays the browser) against
the local authorization server, stores the tokens and reconnects at once, ending in a
real IMAP login to the harness's Dovecot. Esc stops a flow cleanly (the loopback
listener is closed); a declined sign-in says so and stores nothing."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from textual.pilot import Pilot

from mailtui.accounts import specs_for
from mailtui.app import MailApp
from mailtui.config import AccountConfig
from mailtui.secrets import store as secret_store
from mailtui.store import Store
from mailtui.sync.manager import SyncManager
from mailtui.ui.modals.sign_in import SignInScreen
from tests.integration.test_imap_sync import account, msg
from tests.integration.test_signin_accounts import signed_in_account
from tests.servers import MailUser
from tests.servers.authorization import AuthorizationServer
from tests.ui.conftest import screen_text
from tests.unit.keyrings import MemoryKeyring, keyring_backend

__all__ = ["keyring_backend"]


class Ui:
    def __init__(self, app: MailApp, pilot: Pilot[None]) -> None:
        self.app, self.pilot = app, pilot

    @property
    def text(self) -> str:
        return screen_text(self.app)

    def status(self) -> str:
        return self.text.splitlines()[-2]

    async def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        waited = 0.0
        while not condition():
            notes = [n.message for n in self.app._notifications]
            assert waited < timeout, f"{notes}\n{self.text}"
            await self.pilot.pause(0.05)
            waited += 0.05

    async def esc(self) -> None:
        await self.pilot.press("escape")
        assert not isinstance(self.app.screen, SignInScreen), self.text

    def modal(self) -> SignInScreen:
        screen = self.app.screen
        assert isinstance(screen, SignInScreen), self.text
        return screen


@asynccontextmanager
async def running(store: Store, acc: AccountConfig, what: str = "sign in") -> AsyncIterator[Ui]:
    manager = SyncManager(store, await specs_for(store, [acc]))
    if what == "sign in":
        app = MailApp(store, manager, sign_in_accounts={acc.name: acc})
    else:
        app = MailApp(store, manager, password_accounts=[acc.name])
    app.animation_level = "none"
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            ui = Ui(app, pilot)
            # Not signed in yet: the account stops and the status bar names the key.
            await ui.until(lambda: f"work: login refused · F7: {what}" in ui.status())
            yield ui
    finally:
        await manager.stop()


def dovecot_logins(user: MailUser, offset: int) -> int:
    return user.dovecot.log_text(offset).count(f"Login: user=<{user.name}>, method=OAUTHBEARER")


async def test_f7_signs_in_with_the_device_flow_and_reconnects(
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    oauth_user.deliver(msg(1, "signed in from the ui"))
    acc = signed_in_account(oauth_user, authz)
    authz.user = oauth_user.name
    authz.device_answers = ["authorization_pending", "ok"]
    offset = oauth_user.dovecot.log_size()
    async with running(store, acc) as ui:
        await ui.pilot.press("f7")
        await ui.until(lambda: "WDJB-MJHT" in ui.text)
        screen = ui.text
        assert "Sign in: work" in screen
        assert f"open   {authz.base}/device-page" in screen
        assert "Esc stops" in screen
        assert "Esc: cancel" in screen and "r: QR code" in screen
        await ui.pilot.press("r")  # the page as a QR code, drawn with half blocks
        await ui.until(lambda: "▀" in ui.text or "▄" in ui.text)
        assert "enter  WDJB-MJHT" in ui.text  # the code stays in sight beside the QR code
        assert "▃" not in ui.text and "▆" not in ui.text  # it fits: no scroll bar
        # The user enters the code elsewhere; the poll gets the tokens, the modal
        # closes and the account reconnects at once.
        await ui.until(lambda: "signed in from the ui" in ui.text and "in step" in ui.status())
        assert not isinstance(ui.app.screen, SignInScreen)
        kept = {k: v for (_, k), v in memory_keyring.items.items()}
        assert set(kept) == {"work:oauth2-refresh", "work:oauth2-access"}
        access = json.loads(kept["work:oauth2-access"])["access_token"]
        assert access not in ui.text and kept["work:oauth2-refresh"] not in ui.text
    assert dovecot_logins(oauth_user, offset) >= 1


async def test_f7_signs_in_through_the_browser_with_the_ssh_line(
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    oauth_user.deliver(msg(1, "back through the browser"))
    acc = signed_in_account(oauth_user, authz)
    acc = _loopback_only(acc, authz)
    authz.user = oauth_user.name
    offset = oauth_user.dovecot.log_size()
    async with running(store, acc) as ui:
        await ui.pilot.press("f7")
        await ui.until(lambda: "ssh -L" in ui.text)
        modal = ui.modal()
        port = _port(ui.text)
        assert f"ssh -L {port}:127.0.0.1:{port} THIS-HOST" in ui.text
        assert "QR code" not in ui.text  # no QR for a page only this host can answer
        assert modal.page.startswith(f"{authz.base}/authorize?")
        # The user's browser: the provider's page redirects to the listener.
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as http:
            landing = await http.get(modal.page)
        assert "Signed in" in landing.text
        await ui.until(lambda: "back through the browser" in ui.text and "in step" in ui.status())
    assert dovecot_logins(oauth_user, offset) >= 1


async def test_esc_stops_the_loopback_flow_and_closes_its_listener(
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    acc = _loopback_only(signed_in_account(oauth_user, authz), authz)
    async with running(store, acc) as ui:
        await ui.pilot.press("f7")
        await ui.until(lambda: "ssh -L" in ui.text)
        port = _port(ui.text)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)  # it listens
        writer.close()
        modal = ui.modal()
        await ui.esc()
        task = modal._flow
        assert task is not None
        await ui.until(task.done)
        assert task.cancelled()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
        assert memory_keyring.items == {}
        assert "work: login refused · F7: sign in" in ui.status()


async def test_esc_stops_the_device_flow_and_a_declined_one_says_so(
    oauth_user: MailUser,
    authz: AuthorizationServer,
    memory_keyring: MemoryKeyring,
    store: Store,
) -> None:
    acc = signed_in_account(oauth_user, authz)
    authz.user = oauth_user.name
    authz.device_answers = ["authorization_pending"] * 1000
    async with running(store, acc) as ui:
        await ui.pilot.press("f7")
        await ui.until(lambda: "WDJB-MJHT" in ui.text)
        modal = ui.modal()
        await ui.esc()
        task = modal._flow
        assert task is not None
        await ui.until(task.done)  # no poll goes on
        assert task.cancelled()
        assert memory_keyring.items == {}

        authz.device_answers = ["access_denied"]
        await ui.pilot.press("f7")
        # The outcome wraps onto a second row; wait for the whole of it on screen.
        await ui.until(lambda: "Not signed in" in ui.text and "nothing was stored" in ui.text)
        modal = ui.modal()
        assert "the sign-in was declined on the provider's page" in modal.failed
        assert "Esc: close" in ui.text
        await ui.esc()
        assert memory_keyring.items == {}
        assert "work: login refused · F7: sign in" in ui.status()


def _loopback_only(acc: AccountConfig, authz: AuthorizationServer) -> AccountConfig:
    from dataclasses import replace

    from mailtui.config.oauth import client as oauth_client

    table = authz.oauth_table(device=False)
    return replace(acc, oauth=oauth_client("[accounts.work.oauth]", table, ("imap", "smtp")))


def _port(text: str) -> int:
    found = re.search(r"ssh -L (\d+):127\.0\.0\.1:", text)
    assert found is not None, text
    return int(found.group(1))


async def test_f7_asks_for_the_password_on_a_host_without_a_keyring(
    mail_user: MailUser,
    keyring_backend: Callable[[KeyringBackend], None],
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
) -> None:
    """Over SSH without a keyring, an account whose login was refused for want of a
    password gets it typed in the UI (masked), kept in memory, and reconnects."""
    keyring_backend(fail.Keyring())
    monkeypatch.setattr(secret_store, "_typed", {})  # nothing typed in before
    mail_user.deliver(msg(1, "typed in the ui"))
    acc = account(mail_user, "tls", password_command=None)
    async with running(store, acc, "password") as ui:
        assert "no keyring" in ui.app.manager.status()["work"][1]  # type: ignore[union-attr]
        await ui.pilot.press("f7")
        await ui.until(lambda: "Password for work" in ui.text)
        await ui.pilot.press(*mail_user.password)
        assert mail_user.password not in ui.text  # masked
        await ui.pilot.press("enter")
        await ui.until(lambda: "typed in the ui" in ui.text and "in step" in ui.status())
        assert mail_user.password not in ui.text
