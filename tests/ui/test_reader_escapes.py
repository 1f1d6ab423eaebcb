"""A message whose subject, sender and body carry ANSI/OSC escape sequences and control
characters reaches the terminal without any of them: checked on the exact bytes the
driver would write for a full repaint (list and reader), not only on the text."""

from __future__ import annotations

import re

from textual.app import App

from mailtui.mime import parse_envelope
from mailtui.models import Flag, NewMessage
from mailtui.ui.widgets import MessageView

from .conftest import FIXED_NOW, MailFixture, make_app, screen_text
from .test_main_screen import wait_until

HOSTILE = (
    "\x1b]0;owned-title\x07",  # OSC: window title
    "\x1b]52;c;cHduZWQ=\x07",  # OSC 52: clipboard write
    "\x1b]8;;https://evil.test\x1b\\",  # OSC 8 hyperlink
    "\x1bP+q544e\x1b\\",  # DCS
    "\x1b[5i",  # CSI: printer on
    "\x1b[2J\x1b[H",  # CSI: clear screen, home
    "\x9b6n",  # C1 CSI: device status report
    "\x07\x08\x0d\x7f\x85",  # BEL, BS, CR, DEL, NEL
    "\u202e",  # right-to-left override
)


def hostile_message() -> bytes:
    """Raw bytes as a hostile sender writes them (no library would build this)."""
    payload = "".join(HOSTILE).replace("\x0d", "")  # a bare CR would end the header line
    text = (
        f'From: "Eve{payload}Evil" <eve@evil.test>\r\n'
        "To: me@example.test\r\n"
        f"Subject: Invoice{payload}due\r\n"
        "Message-ID: <hostile@evil.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"Dear user{''.join(HOSTILE)}\r\nplease pay\x1b[31m now\x1b[0m\r\n"
    )
    return text.encode("utf-8")


def driver_output(app: App[object]) -> str:
    """What the app would write to the terminal for a full repaint of the screen."""
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens
    )
    return update.render_segments(app.console)


def assert_inert(output: str) -> None:
    assert "\x1b]" not in output and "\x9d" not in output  # no OSC of any kind
    assert "\x1bP" not in output and "\x07" not in output  # no DCS, no bell
    assert not re.search("[\x80-\x9f]", output)  # no C1 controls
    assert "\x1b[5i" not in output and "\x1b[2J" not in output
    assert "\u202e" not in output
    # Every escape left is one of the renderer's own: SGR colours and cursor moves.
    for sequence in re.findall(r"\x1b[^\[]|\x1b\[[0-?]*[ -/]*[@-~]", output):
        assert sequence[-1] in "mHABCDfl" or sequence in ("\x1b[?25l",), repr(sequence)


async def test_escapes_in_subject_sender_and_body_never_reach_the_terminal(
    mail: MailFixture,
) -> None:
    raw = hostile_message()
    envelope = parse_envelope(raw)
    envelope.date = int(FIXED_NOW.timestamp()) + 60
    await mail.add("INBOX", [NewMessage("evil", envelope, Flag.NONE, raw=raw)])
    app = make_app(mail.store)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: "Invoice" in screen_text(app))
        assert_inert(driver_output(app))
        await wait_until(pilot, lambda: "Message 000001" in screen_text(app))
        await pilot.press("enter")
        reader = app.query_one(MessageView)
        await wait_until(pilot, lambda: reader.parsed is not None)
        await wait_until(pilot, lambda: "please pay" in reader.body_plain)
        text = screen_text(app)
        assert "Invoice" in text and "Eve" in text and "Dear user" in text
        assert_inert(driver_output(app))
        for key in ("h", "escape", "ctrl+u"):
            await pilot.press(key)
            await pilot.pause()
            assert_inert(driver_output(app))
