"""The raw source (``Ctrl+u`` in the reader) shows what the message really contains:
escape sequences and control characters written out visibly, never sent to the terminal
and never silently dropped; tabs and line breaks kept."""

from __future__ import annotations

from mailtui.ui.modals.source import ESCAPE_STYLE, SourceScreen, source_text

from .conftest import MailFixture, make_app, screen_lines, screen_text
from .test_main_screen import wait_until
from .test_reader import add_top, open_top
from .test_reader_escapes import assert_inert, driver_output


def coloured_message() -> bytes:
    return (
        b"From: Eve <eve@evil.test>\r\n"
        b"To: me@example.test\r\n"
        b"Subject: Colours\r\n"
        b"Message-ID: <colours@evil.test>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"pay \x1b[31mnow\x1b[0m\x07\r\n"
        b"csi \xc2\x9b6n and \xff raw\r\n"
        b"col1\tcol2\r\n"
    )


async def test_raw_source_shows_escapes_visibly_at_80x24(mail: MailFixture) -> None:
    await add_top(mail, coloured_message())
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_top(pilot)
        await pilot.press("ctrl+u")
        await wait_until(pilot, lambda: isinstance(app.screen, SourceScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "Raw source" in text
        assert r"pay \x1b[31mnow\x1b[0m\x07" in text
        assert r"csi \x9b6n and \xff raw" in text
        assert any("col1" in line and line.split("col1", 1)[1].lstrip().startswith("col2")
                   for line in screen_lines(app))
        assert_inert(driver_output(app))


def test_source_text_keeps_line_breaks_and_tabs_and_styles_escapes() -> None:
    text = source_text(b"a\x1bb\r\nc\td\re\xe2\x80\xaef\n")
    assert text.plain == "a\\x1bb\nc\td\\x0de\\u202ef\n"
    escaped = [text.plain[span.start : span.end] for span in text.spans]
    assert escaped == ["\\x1b", "\\x0d", "\\u202e"]
    assert all(span.style == ESCAPE_STYLE for span in text.spans)
