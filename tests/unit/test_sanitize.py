"""The terminal sanitizer: hostile input in, inert plain text out."""

from __future__ import annotations

import re

import pytest
from rich.text import Text

from mailtui.mime.sanitize import clean_line, clean_text, escape_markup

# What may never reach the screen. Text keeps \t and \n; a line keeps neither.
_ALWAYS = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_ALWAYS}]")
UNSAFE_LINE = re.compile(f"[\x00-\x1f{_ALWAYS}]")

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"

# (input, clean_text result, clean_line result)
CASES = [
    ("plain text", "plain text", "plain text"),
    ("", "", ""),
    ("Grüße, 日本語, سلام", "Grüße, 日本語, سلام", "Grüße, 日本語, سلام"),
    ("[bold]not markup[/bold]", "[bold]not markup[/bold]", "[bold]not markup[/bold]"),
    # SGR colours and cursor movement
    (f"{ESC}[31mred{ESC}[0m", "red", "red"),
    (f"{ESC}[2J{ESC}[Hcleared", "cleared", "cleared"),
    (f"a{ESC}[?1049hb", "ab", "ab"),  # alternate screen
    (f"a{ESC}[38;2;255;0;0mb", "ab", "ab"),  # truecolour
    (f"a{ESC}[6nb", "ab", "ab"),  # device status report (makes the terminal type)
    (f"a{ESC}[>c", "a", "a"),  # device attributes; final byte consumed
    # 8-bit CSI
    ("a\x9b31mb", "ab", "ab"),
    ("a\x9b6n", "a", "a"),
    # OSC: window title, hyperlink, clipboard write, colour query, with BEL or ST
    (f"a{ESC}]0;pwned{BEL}b", "ab", "ab"),
    (f"a{ESC}]2;title{ST}b", "ab", "ab"),
    (f"{ESC}]8;;http://evil.example{ST}click{ESC}]8;;{ST}", "click", "click"),
    (f"{ESC}]52;c;Y3VybCBldmlsfHNo{BEL}after", "after", "after"),
    (f"{ESC}]52;c;?{BEL}x", "x", "x"),  # clipboard read request
    (f"{ESC}]4;1;?{ST}x", "x", "x"),
    ("a\x9d0;title\x9cb", "ab", "ab"),  # 8-bit OSC and ST
    ("a\x9d0;title\x07b", "ab", "ab"),
    # DCS, SOS, PM, APC, 7- and 8-bit
    (f"a{ESC}P+q544e{ST}b", "ab", "ab"),
    (f"a{ESC}Xsos{ST}b", "ab", "ab"),
    (f"a{ESC}^pm{ST}b", "ab", "ab"),
    (f"a{ESC}_Gf=100;payload{ST}b", "ab", "ab"),  # kitty graphics
    ("a\x90dcs\x9cb", "ab", "ab"),
    ("a\x98sos\x9cb", "ab", "ab"),
    ("a\x9epm\x9cb", "ab", "ab"),
    ("a\x9fapc\x9cb", "ab", "ab"),
    # unterminated strings: the introducer goes, the rest is inert text
    (f"a{ESC}]8;;http://x", "a8;;http://x", "a8;;http://x"),
    (f"a{ESC}]0;title\nnext", "a0;title\nnext", "a0;title next"),
    # other escapes: reset, charset switch (line drawing), save cursor, lone ESC
    (f"a{ESC}cb", "ab", "ab"),
    (f"a{ESC}(0b", "ab", "ab"),
    (f"a{ESC}7b{ESC}8", "ab", "ab"),
    (f"a{ESC}", "a", "a"),
    (f"{ESC}{ESC}[31m{ESC}x", "", ""),
    (f"{ESC}\\", "", ""),
    # C0 controls
    ("a\x00b", "ab", "ab"),
    ("bell\x07", "bell", "bell"),
    ("abc\x08\x08\x08xyz", "abcxyz", "abcxyz"),  # backspace overwrite
    ("Pay Alice\rPay Mallory", "Pay AlicePay Mallory", "Pay Alice Pay Mallory"),
    ("line1\r\nline2", "line1\nline2", "line1  line2"),
    ("a\tb\nc", "a\tb\nc", "a b c"),
    ("a\x0bb\x0cc", "abc", "a b c"),
    ("a\x0e\x0fb", "ab", "ab"),  # shift out/in (charset switching)
    ("a\x1a\x18b", "ab", "ab"),  # SUB, CAN
    ("a\x7fb", "ab", "ab"),
    # C1 controls
    ("a\x85b", "ab", "a b"),  # NEL
    ("a\x80\x84\x8d\x99b", "ab", "ab"),
    # line separators
    ("a\u2028b\u2029c", "a\nb\nc", "a b c"),
    # bidi overrides, embeddings and isolates
    ("invoice\u202efdp.exe", "invoicefdp.exe", "invoicefdp.exe"),
    ("a\u202ab\u202bc\u202cd\u202de", "abcde", "abcde"),
    ("a\u2066b\u2067c\u2068d\u2069e", "abcde", "abcde"),
    # RLM/LRM and ZWNJ are ordinary text marks and stay
    ("a\u200fb\u200ec\u200cd", "a\u200fb\u200ec\u200cd", "a\u200fb\u200ec\u200cd"),
    # lone surrogates (undecodable bytes) become U+FFFD
    ("a\udcffb", "a\ufffdb", "a\ufffdb"),
    # sequences split by other controls do not reassemble
    (f"{ESC}\x00[31m", "[31m", "[31m"),
    (f"\x00{ESC}[31m", "", ""),
    (f"{ESC}[3\x001m", "1m", "1m"),
]


@pytest.mark.parametrize(("raw", "text", "line"), CASES)
def test_clean_text(raw: str, text: str, line: str) -> None:
    assert clean_text(raw) == text


@pytest.mark.parametrize(("raw", "text", "line"), CASES)
def test_clean_line(raw: str, text: str, line: str) -> None:
    assert clean_line(raw) == line


@pytest.mark.parametrize(("raw", "text", "line"), CASES)
def test_results_are_stable(raw: str, text: str, line: str) -> None:
    assert clean_text(clean_text(raw)) == clean_text(raw)
    assert clean_line(clean_line(raw)) == clean_line(raw)


def test_long_unterminated_payload_does_not_swallow_the_body() -> None:
    body = f"{ESC}]52;c;" + "A" * 20000 + f"{BEL}\nthe real body"
    out = clean_text(body)
    assert "the real body" in out
    assert not UNSAFE_TEXT.search(out)


def test_many_introducers_stay_fast() -> None:
    # Each unterminated introducer must not rescan the rest of the input.
    hostile = (f"{ESC}]" + "x" * 50) * 20000
    out = clean_text(hostile)
    assert ESC not in out


@pytest.mark.parametrize(
    "s", ["[bold]x[/bold]", "a [link=http://evil]b[/link]", "\\[red]x", "[/]", "[@click=quit]q[/]"]
)
def test_escape_markup_round_trips_through_rich(s: str) -> None:
    text = Text.from_markup(escape_markup(s))
    assert text.plain == s
    assert not text.spans


def test_escape_markup_protects_what_follows_a_trailing_backslash() -> None:
    # rich doubles a trailing backslash so that it cannot escape the next tag.
    text = Text.from_markup(escape_markup("path\\") + "[bold]x[/bold]")
    assert text.plain.endswith("x")
    assert text.spans
