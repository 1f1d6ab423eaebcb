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
