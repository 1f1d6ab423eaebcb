"""Right-to-left text made visual for terminals that neither reorder nor join letters."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest
from rich.cells import cell_len
from wcwidth import wcswidth

from mailtui.ui import bidi

PERSIAN = "تفاوت پروتکل‌های ایمیل POP3 و IMAP چیست؟"
# Read from the right: the question's first word is the rightmost, joined; the English
# names and digits stay left-to-right; the question mark ends the line on the left.
PERSIAN_VISUAL = "؟ﺖﺴﯿﭼ IMAP ﻭ POP3 ﻞﯿﻤﯾﺍ ﯼﺎﻫ\u200cﻞﮑﺗﻭﺮﭘ ﺕﻭﺎﻔﺗ"


@pytest.fixture(autouse=True)
def reordering_on() -> Iterator[None]:
    bidi.configure(True)
    yield
    bidi.configure(True)


def shaped_word(word: str) -> str:
    """A Persian word as the terminal must receive it: joined forms, reversed."""
    return bidi.visual(word)


def test_the_persian_subject_reads_in_the_right_order_with_joined_letters() -> None:
    shown = bidi.visual(PERSIAN)
    assert shown == PERSIAN_VISUAL
    assert shown.endswith(shaped_word("تفاوت"))  # the first word is on the right
    assert shown.startswith("؟")
    assert shown.index("IMAP") < shown.index("POP3")  # "POP3 و IMAP" read right to left
    # Every Arabic-script letter is in a joined presentation form, none left isolated
    # in the base block (which a terminal would draw unjoined).
    letters = [c for c in shown if unicodedata.category(c) == "Lo"]
    assert letters and all("FORM" in unicodedata.name(c) for c in letters)
    assert "\u200c" in shown  # the zero-width non-joiner of پروتکل‌های is kept


def test_shaped_text_keeps_its_cell_width() -> None:
    shown = bidi.visual(PERSIAN)
    assert cell_len(shown) == wcswidth(shown) == cell_len(PERSIAN)
    arabic = "السلام عليكم"  # lam-alef joins into one cell
    assert cell_len(bidi.visual(arabic)) == wcswidth(bidi.visual(arabic)) <= cell_len(arabic)


@pytest.mark.parametrize(
    ("logical", "visual"),
    [
        ("שלום עולם 123 abc", "abc 123 םלוע םולש"),
        ("Re: שלום", "Re: םולש"),
        ("Hello, world", "Hello, world"),
        ("", ""),
        ("日本語のメール", "日本語のメール"),
    ],
)
def test_hebrew_mixed_and_untouched_text(logical: str, visual: str) -> None:
    assert bidi.visual(logical) == visual


def test_off_leaves_text_to_the_terminal() -> None:
    bidi.configure(False)
    assert bidi.visual(PERSIAN) == PERSIAN
    assert bidi.fit(PERSIAN, 100) == PERSIAN


def test_wrapping_happens_on_logical_text_before_reordering() -> None:
    lines = bidi.wrap(PERSIAN, 20)
    assert len(lines) > 1
    assert "".join(lines).replace(" ", "") == PERSIAN.replace(" ", "")
    assert all(cell_len(line) <= 20 for line in lines)
    assert lines[0].startswith("تفاوت")  # the first screen line holds the start
    shown = [bidi.visual(line) for line in lines]
    assert shown[0].endswith(shaped_word("تفاوت"))
    assert "چیست" not in lines[0] and shown[-1].startswith("؟")


def test_wrap_splits_words_longer_than_the_line() -> None:
    assert bidi.wrap("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    assert bidi.wrap("日本語", 1) == ["日", "本", "語"]
    assert bidi.wrap("short", 10) == ["short"]


def test_fit_cuts_the_end_of_the_logical_text() -> None:
    cut = bidi.fit(PERSIAN, 12)
    assert cell_len(cut) <= 12
    assert cut.startswith("…")  # the cut end of a right-to-left line is on the left
    assert cut.endswith(shaped_word("تفاوت"))
    assert bidi.fit("Hello world", 8) == "Hello w…"
    assert bidi.fit("anything", 0) == ""


def test_paragraph_direction() -> None:
    assert bidi.is_rtl_paragraph(PERSIAN)
    assert bidi.is_rtl_paragraph("  123 שלום")
    assert not bidi.is_rtl_paragraph("IMAP و POP3")
    assert not bidi.is_rtl_paragraph("1234")


@pytest.mark.parametrize(
    ("setting", "environ", "on"),
    [
        ("on", {"TERM": "mlterm"}, True),
        ("off", {}, False),
        ("auto", {"TERM": "xterm-256color"}, True),
        ("auto", {"TERM": "tmux-256color"}, True),
        ("auto", {"TERM": "mlterm"}, False),
        ("auto", {"VTE_VERSION": "7600"}, False),
        ("auto", {"VTE_VERSION": "5202"}, True),
    ],
)
def test_auto_leaves_it_to_terminals_that_reorder(
    setting: str, environ: dict[str, str], on: bool
) -> None:
    assert bidi.resolve(setting, environ) is on


# -- paragraphs (UAX #9: levels per paragraph, reordering per line) --------------------

# The case from the issue: a Persian paragraph whose second screen line starts with the
# Latin words "Post Office Protocol". Wrapped at 28 cells it makes five lines.
POP_PARAGRAPH = (
    "ساده‌ترین روش دریافت ایمیل Post Office Protocol یا POP است؛ در این روش پیام‌ها"
    " از سرور (صندوق پستی) بارگیری و سپس پاک می‌شوند."
)


def r(word: str) -> str:
    """A right-to-left word as a left-to-right screen shows it: last letter first."""
    return word[::-1]


def base_letters(shown: str) -> str:
    """Presentation forms back to the letters they join (the order is untouched; words
    here avoid lam-alef, whose one ligature would come back as two letters)."""
    return unicodedata.normalize("NFKC", shown)


def test_a_persian_paragraph_is_reordered_per_line_with_its_own_direction() -> None:
    laid_out = bidi.layout(POP_PARAGRAPH, 28)
    assert laid_out.rtl
    # Written by hand, left to right as on screen: each line reads from the right, and
    # the Latin words keep their order inside it.
    expected = [
        f"{r('ایمیل')} {r('دریافت')} {r('روش')} {r('ساده‌ترین')}",
        f"POP {r('یا')} Post Office Protocol",
        f"{r('از')} {r('پیام‌ها')} {r('روش')} {r('این')} {r('در')} {r('است؛')}",
        f"{r('و')} {r('بارگیری')} ({r('پستی')} {r('صندوق')}) {r('سرور')}",
        f".{r('می‌شوند')} {r('پاک')} {r('سپس')}",
    ]
    assert [base_letters(line) for line in laid_out.lines] == expected
    # Shaped: no Arabic-script letter is left in its unjoined base form.
    assert not any("\u0600" <= c <= "\u06ff" and c.isalpha() and c not in "۰۱۲۳۴۵۶۷۸۹"
                   for line in laid_out.lines for c in line)
    # Every line of the paragraph, the last included, ends at the right edge.
    aligned = laid_out.aligned(28)
    assert all(cell_len(line) == 28 for line in aligned)
    assert aligned[-1].startswith(" " * (28 - cell_len(laid_out.lines[-1])) + ".")


def test_a_paragraph_that_starts_in_latin_reads_left_to_right() -> None:
    laid_out = bidi.layout("IMAP و POP3 هر دو", 80)
    assert not laid_out.rtl
    assert base_letters(laid_out.lines[0]) == f"IMAP {r('و')} POP3 {r('دو')} {r('هر')}"
    assert laid_out.aligned(30) == list(laid_out.lines)


def test_a_stated_direction_beats_the_first_letter() -> None:
    # HTML dir="rtl" arrives as a right-to-left mark in front of the paragraph.
    marked = bidi.layout("\u200fIMAP یا POP؟", 80)
    stated = bidi.layout("IMAP یا POP؟", 80, "rtl")
    assert marked.rtl and stated.rtl
    assert base_letters(marked.lines[0]) == base_letters(stated.lines[0])
    assert base_letters(stated.lines[0]) == f"؟POP {r('یا')} IMAP"
    assert "\u200f" not in marked.lines[0]  # the mark steers, it is never drawn
    # A right-to-left paragraph of Latin text only: its full stop is on the left.
    assert bidi.layout("Hello world.", 80, "rtl").lines == (".Hello world",)


@pytest.mark.parametrize(
    ("logical", "shown"),
    [
        ("درود (دنیا)", f"({r('دنیا')}) {r('درود')}"),
        ("«درود» [۱]", f"[۱] «{r('درود')}»"),
        ("‹درود›", f"‹{r('درود')}›"),
        ("زومیت <newsletter@zoomit.example>", f"<newsletter@zoomit.example> {r('زومیت')}"),
        ("שלום (עולם) <a@b.c>", "<a@b.c> (םלוע) םולש"),
    ],
)
def test_mirrored_characters_are_mirrored_in_right_to_left_runs(
    logical: str, shown: str
) -> None:
    assert base_letters(bidi.visual(logical)) == shown


def test_a_name_in_an_isolate_stays_one_unit_before_its_decoration() -> None:
    name = "عکس تیم ۱۴۰۳.png"
    label = f"{bidi.isolate(name)} (80 B, image/png)"
    shown = bidi.visual(label)
    assert base_letters(shown) == f"png.۱۴۰۳ {r('تیم')} {r('عکس')} (80 B, image/png)"
    assert bidi.FSI not in shown and bidi.PDI not in shown
    sender = bidi.visual(f"{bidi.isolate('زومیت')} <newsletter@zoomit.example>")
    assert base_letters(sender) == f"{r('زومیت')} <newsletter@zoomit.example>"
    assert bidi.isolate("report.pdf") == "report.pdf"  # nothing to isolate


def test_isolates_are_not_added_while_the_terminal_reorders() -> None:
    bidi.configure(False)
    assert bidi.isolate("عکس.png") == "عکس.png"
    assert bidi.layout("\u200fسلام", 80).lines == ("سلام",)


def test_a_very_long_paragraph_is_reordered_line_by_line_with_its_direction() -> None:
    paragraph = "درود (دنیا) Post Office " * 300  # past the whole-paragraph limit
    laid_out = bidi.layout(paragraph.strip(), 40)
    assert laid_out.rtl
    assert base_letters(laid_out.lines[0]) == (
        f"Post ({r('دنیا')}) {r('درود')} Post Office ({r('دنیا')}) {r('درود')}"
    )


def test_an_unreadable_level_report_still_reorders(monkeypatch: pytest.MonkeyPatch) -> None:
    import bidi as python_bidi  # imported by mailtui.ui.bidi when first needed

    real = python_bidi.get_display

    def terse(text: str, base_dir: str | None = None, debug: bool = False) -> str:
        return "no levels here" if debug else str(real(text, base_dir=base_dir))

    monkeypatch.setattr(python_bidi, "get_display", terse)
    # Reordered by python-bidi's own display; only the mirroring is lost.
    shown = bidi.layout("درود (دنیا)", 80).lines[0]
    assert base_letters(shown) == f"){r('دنیا')}( {r('درود')}"


def test_the_app_imports_the_shaping_libraries_only_for_right_to_left_text() -> None:
    """arabic_reshaper and python-bidi (1.2 MB of a new account's peak) are imported at
    the first right-to-left text, not with the app."""
    import subprocess
    import sys

    code = (
        "import sys, mailtui.app, mailtui.ui.bidi as b; "
        "print('arabic_reshaper' in sys.modules, 'bidi' in sys.modules); "
        "b.layout('درود', 20); "
        "print('arabic_reshaper' in sys.modules, 'bidi' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["False False", "True True"]
