"""Property tests of the sanitizer (hypothesis): nothing unsafe survives any input."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mailtui.mime.sanitize import clean_line, clean_text

_ALWAYS = "\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_ALWAYS}]")
UNSAFE_LINE = re.compile(f"[\x00-\x1f{_ALWAYS}]")
ESC = "\x1b"

hostile_alphabet = st.sampled_from(
    [ESC, "[", "]", ";", "\\", "\x07", "\x9b", "\x9c", "\x9d", "\x90", "P", "_", "^", "X", "0",
     "8", "m", "\r", "\n", "\t", "\x00", "\x7f", "\x85", "\u202e", "\u2066", "\u2028", "a",
     "é", "\udcff", " "]
)  # fmt: skip


@given(st.text(hostile_alphabet, max_size=60) | st.text(max_size=60))
def test_nothing_unsafe_survives(s: str) -> None:
    text = clean_text(s)
    line = clean_line(s)
    assert not UNSAFE_TEXT.search(text)
    assert not UNSAFE_LINE.search(line)
    assert clean_text(text) == text
    assert clean_line(line) == line
