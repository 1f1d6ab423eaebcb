"""Right-to-left mail at 80×24: a Persian HTML newsletter (``dir="rtl"``) with a Persian
attachment name, read in the reader, its attachments modal and a forward's composer.

Screen text is compared after NFKC, which turns the joined presentation forms back into
the letters they stand for without changing their order; ``r`` writes a right-to-left
word as a left-to-right screen shows it."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from rich.cells import cell_len

from mailtui.ui.modals.attachments import AttachmentsScreen
from mailtui.ui.modals.links import LinksScreen
from mailtui.ui.modals.save_prompt import SaveScreen
from mailtui.ui.modals.source import SourceScreen

from .conftest import MailFixture, make_app, screen_text
from .test_compose import open_composer, settle
from .test_reader import add_top, open_top

NEWSLETTER = Path(__file__).resolve().parents[1] / "data" / "valid" / "persian-newsletter.eml"


def r(word: str) -> str:
    return word[::-1]


def screen(app: object) -> list[str]:
    return unicodedata.normalize("NFKC", screen_text(app)).splitlines()  # type: ignore[arg-type]


def line_with(lines: list[str], part: str) -> str:
    found = [line for line in lines if part in line]
    assert found, f"{part!r} is not on screen:\n" + "\n".join(lines)
    return found[0]


async def test_newsletter_header_and_paragraphs_read_right_to_left(mail: MailFixture) -> None:
    await add_top(mail, NEWSLETTER.read_bytes(), "zoomit")
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_top(pilot)
        lines = screen(app)
        # The display name as one unit, the address after it with its brackets facing
        # the right way.
        assert line_with(lines, "From:").strip() == (
            f"From: {r('زومیت')} <newsletter@zoomit.example>"
        )
        # The attachment name as one unit (its ".png" on its left, as the name reads
        # from the right), then the size and type.
        assert line_with(lines, "Attachment:").strip() == (
            f"Attachment: png.۱۴۰۳ {r('تیم')} {r('عکس')} (67 B, image/png)"
        )
        # The paragraph of the issue: its second line starts, in reading order, with
        # "Post Office Protocol", and still reads from the right like the rest of the
        # paragraph; every line of it ends at the right edge, the last one included.
        first = line_with(lines, r("قدیمی‌ترین"))
        start = lines.index(first)
        paragraph = lines[start : start + 3]
        assert first.rstrip().endswith(r("قدیمی‌ترین"))
        assert first.strip().startswith(r("می‌شود،"))
        assert paragraph[1].strip() == (
            f"({r('پستی')} {r('صندوق')}) {r('سرور')} {r('از')} {r('پیام‌ها')} {r('روش')} "
            f"{r('این')} {r('در')} {r('است؛')} POP {r('یا')} Post Office Protocol"
        )
        assert paragraph[2].strip() == (
            f".{r('می‌شوند')} {r('پاک')} {r('سپس')} {r('و')} {r('بارگیری')}"
        )
        right_edges = {cell_len(line.rstrip()) for line in paragraph}
        assert len(right_edges) == 1
        assert paragraph[2].startswith(" " * 40)
        # dir="rtl" on the HTML: a paragraph that starts with a Latin word reads from the
        # right too, its question mark on the left.
        question = line_with(lines[start:], "IMAP")
        assert question.strip() == f"؟POP {r('یا')} IMAP"
        assert cell_len(question.rstrip()) in right_edges
        # dir="ltr" inside it: the unsubscribe line stays on the left.
        assert line_with(lines, "Unsubscribe").strip() == "Unsubscribe: https://zoomit.example/u"


async def test_attachments_links_save_prompt_and_composer_show_names_as_one_unit(
    mail: MailFixture,
) -> None:
    await add_top(mail, NEWSLETTER.read_bytes(), "zoomit")
    app = make_app(mail.store)
    name = f"png.۱۴۰۳ {r('تیم')} {r('عکس')}"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_top(pilot)
        await pilot.press("v")
        await settle(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
        listed = line_with(screen(app), "image/png")
        assert f"{name} (67 B, image/png)" in listed
        assert "\u2068" not in listed and "\u2069" not in listed
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, SaveScreen))
        assert f"Save {name} into the folder:" in line_with(screen(app), "into the folder")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, AttachmentsScreen))
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, AttachmentsScreen))
        await pilot.press("l")
        await settle(pilot, lambda: isinstance(app.screen, LinksScreen))
        assert f"[1] {r('مطلب')} {r('ادامه')}" in line_with(screen(app), "[1]")
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, LinksScreen))
        await open_composer(pilot, "f")
        await settle(pilot, lambda: "Attachments:" in screen_text(app))
        assert f"Attachments: {name} (67 B)" in line_with(screen(app), "Attachments:")
        await pilot.press("ctrl+d")
        await settle(pilot, lambda: "Removed" in screen_text(app))
        assert f"Removed {name}" in line_with(screen(app), "Removed")


async def test_all_header_fields_show_a_persian_sender_as_the_reader_does(
    mail: MailFixture,
) -> None:
    await add_top(mail, NEWSLETTER.read_bytes(), "zoomit")
    app = make_app(mail.store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_top(pilot)
        await pilot.press("h")
        await settle(pilot, lambda: isinstance(app.screen, SourceScreen))
        # The display name reads from the right and the address keeps its brackets the
        # right way round, as in the reader's own header block.
        assert f"From: {r('زومیت')} <newsletter@zoomit.example>" in line_with(
            screen(app), "From:"
        )
