"""``l`` in the reader lists the links of a multipart/alternative message's HTML part
(the text part is the one shown), and flags a link whose text shows another host."""

from __future__ import annotations

from pathlib import Path

from mailtui.ui.modals.links import LinksScreen

from .conftest import MailFixture, make_app, screen_text
from .test_main_screen import wait_until
from .test_reader import add_top, open_top

DATA = Path(__file__).resolve().parents[1] / "data" / "links"


async def test_links_of_the_html_alternative_with_a_warning_at_80x24(
    mail: MailFixture,
) -> None:
    await add_top(mail, (DATA / "alternative-links.eml").read_bytes())
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_top(pilot)
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LinksScreen))
        await wait_until(pilot, lambda: "Links (" in screen_text(app))  # its list is up
        text = screen_text(app)
        assert "Links (5)" in text
        assert "https://evil.example/login?u=1" in text
        assert "⚠ text shows paypal.com, goes to evil.example" in text
        assert "⚠ text shows www.paypal.com, goes to paypal.com.evil.example" in text
        assert "no links" not in text
