"""Signing an account in again from inside the UI (the sign-in key, ``app.sign_in``).

The modal runs ``mailtui.login.login`` (the flow the account's provider allows: the
device code, else the browser with a loopback redirect) and shows what it says: the page
and the code, or the browser URL and the ``ssh -L`` line. ``r`` draws the device flow's
page as a QR code (a phone's camera opens it); ``y`` copies the page to the clipboard
(OSC 52, so it reaches the terminal's own machine over SSH). Esc closes the screen and
stops the flow (its polling ends, the loopback listener is closed).

It is dismissed with True once the tokens are stored (the caller reconnects the account),
None when cancelled or closed after a failure, which it shows in one line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mailtui.config import AccountConfig
from mailtui.errors import MailtuiError
from mailtui.login import login
from mailtui.mime import clean_line
from mailtui.ui import keymap

log = logging.getLogger(__name__)

#: Flows stopped with Esc whose cleanup has not finished yet (a strong reference).
STOPPING: set[asyncio.Task[None]] = set()


class SignInScreen(ModalScreen[bool | None]):
    """Runs one sign-in of ``account`` and shows its steps (module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [*keymap.bindings("signin")]
    DEFAULT_CSS = """
    SignInScreen {
        align: center middle;
        & > #signin-box {
            width: 78;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: round $accent;
            background: $panel;
            padding: 0 1;
        }
        & #signin-qr { display: none; }
        & .qr-shown #signin-qr { display: block; }
        & .qr-shown #signin-steps { display: none; }
        & #signin-outcome { color: $error; text-style: bold; }
    }
    """

    def __init__(self, account: AccountConfig) -> None:
        super().__init__()
        self.account = account
        self.lines: list[str] = []
        self.flow = ""  # "device" or "loopback", once the page is known
        self.page = ""  # the page the user opens
        self.failed = ""  # why the sign-in failed, once it has
        self._flow: asyncio.Task[None] | None = None

    def compose(self) -> ComposeResult:
        box = VerticalScroll(id="signin-box")
        box.border_title = f"Sign in: {clean_line(self.account.name)}"
        box.border_subtitle = self._keys_hint()
        with box:
            yield Static(Text("Asking the provider…"), id="signin-steps")
            yield Static(Text(""), id="signin-qr")
            yield Static(Text(""), id="signin-outcome")

    def on_mount(self) -> None:
        self._flow = asyncio.create_task(self._run())

    def _keys_hint(self) -> str:
        overrides = getattr(self.app, "keymap_overrides", {}) if self.is_attached else {}
        parts = []
        for binding_id, what in (
            ("signin.close", "cancel" if not self.failed else "close"),
            ("signin.copy", "copy the page"),
            ("signin.qr", "QR code"),
        ):
            if binding_id == "signin.qr" and self.flow != "device":
                continue
            if binding_id == "signin.copy" and not self.page:
                continue
            keys = keymap.effective_keys(binding_id, overrides)
            if keys:
                parts.append(f"{keymap.key_label(keys[0])}: {what}")
        return " · ".join(parts)

    async def _run(self) -> None:
        try:
            await login(self.account, None, self._say, in_app=True, on_page=self._page)
        except MailtuiError as exc:  # LoginError: one line for the user
            self._fail(str(exc))
            return
        except Exception as exc:  # a bug: to the log, never a traceback on screen
            log.exception("sign-in of %s failed", self.account.name)
            self._fail(f"the sign-in failed ({exc.__class__.__name__}); details in the log")
            return
        self.dismiss(True)

    def _say(self, line: str) -> None:
        self.lines.append(line)
        self.query_one("#signin-steps", Static).update(Text("\n".join(self.lines)))

    def _page(self, flow: str, url: str) -> None:
        self.flow, self.page = flow, url
        self.query_one("#signin-box").border_subtitle = self._keys_hint()

    def _fail(self, why: str) -> None:
        self.failed = why
        outcome = self.query_one("#signin-outcome", Static)
        outcome.update(Text(f"Not signed in: {why}"))
        self.query_one("#signin-box").border_subtitle = self._keys_hint()
        # Below a long list of steps the outcome could sit under the box's last row.
        self.call_after_refresh(outcome.scroll_visible, animate=False)

    def action_qr(self) -> None:
        if self.flow != "device" or not self.page:
            return
        from mailtui.auth.qr import lines

        box = self.query_one("#signin-box")
        if box.has_class("qr-shown"):
            box.remove_class("qr-shown")
            return
        # In place of the steps (at 24 rows both do not fit), with the code to enter.
        code = [line.strip() for line in self.lines if line.startswith("  enter  ")]
        caption = "Scan it with a phone's camera" + (f"; {code[0]}" if code else "")
        qr = "\n".join([*lines(self.page), caption])
        self.query_one("#signin-qr", Static).update(Text(qr))
        box.add_class("qr-shown")

    def action_copy(self) -> None:
        if self.page:
            self.app.copy_to_clipboard(self.page)
            self.notify("The sign-in page is on the clipboard.", timeout=3)

    def action_close(self) -> None:
        """Esc: stop the flow and close. The flow stops within a few turns of the event
        loop (its poll ends, its listener closes); ``STOPPING`` holds it until then."""
        task = self._flow
        if task is not None and not task.done():
            STOPPING.add(task)
            task.add_done_callback(STOPPING.discard)
            task.cancel()
        self.dismiss(None)
