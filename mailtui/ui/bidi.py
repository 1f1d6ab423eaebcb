"""Right-to-left text for terminals that neither reorder nor join letters (most of them).

A terminal draws characters left to right in the order they are written to it. Persian,
Arabic and Hebrew text is stored in *logical* order (the order it is read), so drawn as-is
a Persian subject comes out backwards, and Arabic-script letters come out in their
isolated forms, unjoined. Here each line is *shaped* (``arabic_reshaper``: the joined
presentation forms) and put in *visual* order by the Unicode bidi algorithm
(``python-bidi``), so the terminal's left-to-right drawing shows it right.

    logical  "تفاوت پروتکل‌های ایمیل POP3 و IMAP چیست؟"
    visual   "؟ﺖﺴﯿﭼ IMAP ﻭ POP3 ﻞﯿﻤﯾﺍ ﯼﺎﻫ‌ﻞﮑﺗﻭﺮﭘ ﺕﻭﺎﻔﺗ"   (read right to left on screen)

Reordering is per *display line*: a paragraph is wrapped (or cut to a column) on its
logical text first, then each resulting line is reordered on its own. Reordering first
and wrapping after would put the end of a sentence on the first screen line.

The setting is ``[ui] bidi``: ``"on"``, ``"off"`` (the terminal does it itself: mlterm,
VTE-based terminals since 0.58 in their default implicit mode), or ``"auto"`` (on, unless
the environment names such a terminal). Pure functions over ``str``, no Textual; the mode
is one process-wide switch (``configure``) because one process runs one app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import arabic_reshaper
from bidi import get_display
from rich.cells import cell_len

MODES = ("auto", "on", "off")

# Strong right-to-left scripts and their presentation forms: Hebrew, Arabic, Syriac,
# Thaana, NKo, Samaritan, Mandaic, Arabic Extended, Hebrew/Arabic presentation forms.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)

_enabled = True


def resolve(setting: str, environ: Mapping[str, str]) -> bool:
    """Whether mailtui should reorder and shape, for ``[ui] bidi`` = ``setting``."""
    if setting == "on":
        return True
    if setting == "off":
        return False
    term = environ.get("TERM", "")
    if term.startswith("mlterm") or "MLTERM" in environ:
        return False
    vte = environ.get("VTE_VERSION", "")
    return not (vte.isdigit() and int(vte) >= 5800)


def configure(enabled: bool) -> None:
    """Switch reordering on or off for the whole process (the app does it at start)."""
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds any right-to-left letter (the fast path skips the rest)."""
    return not text.isascii() and _RTL.search(text) is not None


def visual(line: str) -> str:
    """One display line in visual order, Arabic-script letters joined.

    ``line`` must not hold a line break (wrap first, see ``wrap``). Text without
    right-to-left letters, and any text while reordering is off, comes back unchanged.
    """
    if not _enabled or not has_rtl(line):
        return line
    return str(get_display(arabic_reshaper.reshape(line)))


def is_rtl_paragraph(text: str) -> bool:
    """Whether the paragraph's first strong letter is right-to-left (rule P2 of the
    bidi algorithm): such a paragraph is aligned to the right."""
    for char in text:
        if _RTL.match(char):
            return True
        if char.isalpha():
            return False
    return False


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells (``…`` marks a cut) on its logical order, then
    made visual: a long Persian subject loses its *end*, as it would in a Latin one."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        text = _cut(text, width - 1) + "…"
    return visual(text)


def _cut(text: str, width: int) -> str:
    used = 0
    for index, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return text[:index]
    return text


def wrap(paragraph: str, width: int) -> list[str]:
    """Word-wrap one logical paragraph to ``width`` cells (words longer than a line are
    split), returning logical lines; apply ``visual`` to each line afterwards."""
    width = max(1, width)
    if cell_len(paragraph) <= width:
        return [paragraph]
    lines: list[str] = []
    current = ""
    for word in re.findall(r"\S+\s*|\s+", paragraph):
        if cell_len(current) + cell_len(word.rstrip()) <= width:
            current += word
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = ""
        while cell_len(word.rstrip()) > width:
            head = _cut(word, width) or word[0]  # a wide character in a 1-cell column
            lines.append(head)
            word = word[len(head) :]
        current = word
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines
