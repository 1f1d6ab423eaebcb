"""Right-to-left text for terminals that neither reorder nor join letters (most of them).

A terminal draws characters left to right in the order they are written to it. Persian,
Arabic and Hebrew text is stored in *logical* order (the order it is read), so drawn as-is
a Persian subject comes out backwards, and Arabic-script letters come out in their
isolated forms, unjoined. Here text is *shaped* (``arabic_reshaper``: the joined
presentation forms) and put in *visual* order by the Unicode bidi algorithm (UAX #9),
so the terminal's left-to-right drawing shows it right.

    logical  "تفاوت پروتکل‌های ایمیل POP3 و IMAP چیست؟"
    visual   "؟ﺖﺴﯿﭼ IMAP ﻭ POP3 ﻞﯿﻤﯾﺍ ﯼﺎﻫ‌ﻞﮑﺗﻭﺮﭘ ﺕﻭﺎﻔﺗ"   (read right to left on screen)

The unit is the *paragraph*, as UAX #9 says: its base direction comes from its first
strong letter (rule P2) unless the caller knows better (HTML ``dir``); the embedding
levels are resolved once for the whole paragraph; the paragraph is then broken into
lines on its logical text at the width, and each line is reordered on its own with the
paragraph's levels (rules L1, L2) and its mirrored characters swapped (L4: ``(`` drawn as
``)`` in a right-to-left run). A wrapped Persian line that starts with "POP" is still
part of a right-to-left paragraph, and every line of such a paragraph is right-aligned.

Mail-derived names shown inside mailtui's own left-to-right decoration (an attachment
name before its size, a display name before its address) are wrapped in Unicode
isolates (``isolate``): the name is laid out as its own little paragraph, and the
decoration around it stays where it belongs.

The levels come from python-bidi's Rust implementation of UAX #9 (isolates and paired
brackets included), which reorders but does not mirror; the line rules are applied here.

The setting is ``[ui] bidi``: ``"on"``, ``"off"`` (the terminal does it itself: mlterm,
VTE-based terminals since 0.58 in their default implicit mode), or ``"auto"`` (on, unless
the environment names such a terminal). Pure functions over ``str``, no Textual; the mode
is one process-wide switch (``configure``) because one process runs one app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len

from mailtui.mime.direction import LRM, RLM, Direction, base_direction

__all__ = [
    "FSI",
    "LRM",
    "MODES",
    "PDI",
    "RLM",
    "Direction",
    "Paragraph",
    "base_direction",
    "configure",
    "enabled",
    "fit",
    "has_rtl",
    "is_rtl_paragraph",
    "isolate",
    "layout",
    "resolve",
    "visual",
    "wrap",
]

MODES = ("auto", "on", "off")

# Strong right-to-left scripts and their presentation forms: Hebrew, Arabic, Syriac,
# Thaana, NKo, Samaritan, Mandaic, Arabic Extended, Hebrew/Arabic presentation forms.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)

FSI = "\u2068"  # first strong isolate: the text inside takes its own direction
PDI = "\u2069"  # pop directional isolate
# Explicit formatting characters: they steer the algorithm and are never drawn (rule X9).
_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")

# Bidi_Mirrored characters and their mirror glyphs (BidiMirroring.txt), for rule L4.
_MIRROR: dict[str, str] = {}
for _pair in (
    "()",
    "<>",
    "[]",
    "{}",
    "«»",
    "‹›",
    "⁅⁆",
    "⁽⁾",
    "₍₎",
    "≤≥",
    "≦≧",
    "⊂⊃",
    "⊆⊇",
    "⟨⟩",
    "⟪⟫",
    "⟦⟧",
    "⦃⦄",
    "⦅⦆",
    "〈〉",
    "《》",
    "「」",
    "『』",
    "【】",
    "〔〕",
    "〖〗",
    "〘〙",
    "〚〛",
    "﹙﹚",
    "﹛﹜",
    "﹝﹞",
    "﹤﹥",
    "（）",
    "＜＞",
    "［］",
    "｛｝",
    "｟｠",
    "｢｣",
    "⌈⌉",
    "⌊⌋",
    "❨❩",
    "❪❫",
    "❬❭",
    "❮❯",
    "❰❱",
    "❲❳",
    "❴❵",
    "⟅⟆",
    "⟮⟯",
    "⦇⦈",
    "⦉⦊",
    "⦋⦌",
    "⦑⦒",
    "⧼⧽",
    "∈∋",
    "∉∌",
    "≺≻",
):
    _MIRROR[_pair[0]], _MIRROR[_pair[1]] = _pair[1], _pair[0]

_MIRRORED = re.compile("[" + re.escape("".join(_MIRROR)) + "]")
_LEVEL = re.compile(r"Level\(\s*(\d+)")
_WHOLE_PARAGRAPH = 5000  # characters

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


def is_rtl_paragraph(text: str) -> bool:
    """Whether the paragraph's first strong letter is right-to-left (rule P2 of the
    bidi algorithm): such a paragraph is aligned to the right."""
    return base_direction(text) == "rtl"


def isolate(text: str) -> str:
    """``text`` marked as an isolate (FSI … PDI) when it holds right-to-left letters and
    reordering is on: inside a longer line it is then laid out on its own, with its own
    direction, and neither pulls the text around it along nor is split by it."""
    if not _enabled or not has_rtl(text):
        return text
    return FSI + text + PDI


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph laid out: its screen lines in visual order, left to right as the
    terminal draws them, and whether it reads right to left (then right-aligned)."""

    lines: tuple[str, ...]
    rtl: bool

    def aligned(self, width: int) -> list[str]:
        """The lines, each right-aligned in ``width`` cells if the paragraph is RTL."""
        if not self.rtl:
            return list(self.lines)
        return [" " * max(0, width - cell_len(line)) + line for line in self.lines]


def layout(paragraph: str, width: int, direction: Direction | None = None) -> Paragraph:
    """``paragraph`` (no line break in it) wrapped to ``width`` cells and put in visual
    order, one string per screen line.

    ``direction`` is the base direction when the source states it (HTML ``dir``); else
    the first strong letter decides (left to right when there is none). With reordering
    off, or nothing right-to-left in sight, the lines are the logical wrapped lines.
    """
    rtl = _enabled and (direction or base_direction(paragraph)) == "rtl"
    if not _enabled or not (rtl or has_rtl(paragraph)):
        return Paragraph(tuple(_CONTROLS.sub("", line) for line in wrap(paragraph, width)), rtl)
    shaped = _shape(paragraph)
    pieces = wrap(shaped, width)
    # python-bidi's report of the levels takes some fifty bytes a character: a paragraph
    # past _WHOLE_PARAGRAPH has them resolved line by line (the paragraph's direction
    # kept; only the neutrals at the line ends may come out otherwise).
    whole = _levels(shaped, rtl) if len(pieces) > 1 and len(shaped) <= _WHOLE_PARAGRAPH else None
    lines: list[str] = []
    start = 0
    for line in pieces:
        # ``wrap`` only drops the blank space between lines: find each line again.
        start = shaped.index(line, start) if line else start
        if whole is not None:
            levels: list[int] | None = whole[start : start + len(line)]
        elif len(pieces) == 1 and not _MIRRORED.search(line):
            levels = None  # python-bidi's own display is the same here, and cheaper
        else:
            levels = _levels(line, rtl)
        if levels is not None:
            lines.append(_reorder(line, levels, rtl))
        else:
            # Also when another python-bidi words its report otherwise: its own display,
            # unmirrored, is still far better than logical order.
            shown = _display(line, rtl)
            lines.append(_CONTROLS.sub("", shown))
        start += len(line)
    return Paragraph(tuple(lines), rtl)


def _shape(text: str) -> str:
    """Arabic-script letters joined (``arabic_reshaper``, imported at the first text
    that needs it: most mailboxes never do, and the app's memory is smaller without)."""
    import arabic_reshaper

    return str(arabic_reshaper.reshape(text))


def _display(text: str, rtl: bool, debug: bool = False) -> str:
    """python-bidi's visual order of ``text`` (or its report, ``debug``); imported at
    the first right-to-left text, as ``_shape``."""
    from bidi import get_display

    return str(get_display(text, base_dir="R" if rtl else "L", debug=debug))


def visual(line: str, direction: Direction | None = None) -> str:
    """One line in visual order, Arabic-script letters joined, never wrapped.

    ``line`` must not hold a line break (``layout`` wraps). Text without right-to-left
    letters, and any text while reordering is off, comes back without change (bar the
    isolate marks of ``isolate``, which are never drawn).
    """
    if not _enabled or not has_rtl(line) and direction != "rtl":
        return _CONTROLS.sub("", line)
    return _visual(line, direction)


@lru_cache(maxsize=4096)
def _visual(line: str, direction: Direction | None) -> str:
    # The list draws the same senders and subjects on every scroll and redraw.
    return layout(line, 1 << 30, direction).lines[0]


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells (``…`` marks a cut) on its logical order, then
    made visual: a long Persian subject loses its *end*, as it would in a Latin one."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        text = _cut(text, width - 1) + "…"
    return visual(text)


def get_display(text: str, base_dir: str | None = None, debug: bool = False) -> str:
    """python-bidi's visual order of ``text``; python-bidi loads on first use (as the
    shaping in ``layout``)."""
    from bidi import get_display as display

    return str(display(text, base_dir=base_dir, debug=debug))


def _levels(text: str, rtl: bool) -> list[int] | None:
    """The resolved embedding level of each character of one paragraph (UAX #9 up to
    rule I2) from python-bidi, which reports them per UTF-8 byte in its debug output;
    ``None`` if the report is not understood."""
    report = _display(text, rtl, debug=True)
    begin = report.find("levels: [")
    end = report.find("paragraphs: [", begin)
    if begin < 0 or end < 0:
        return None
    per_byte = [int(level) for level in _LEVEL.findall(report, begin, end)]
    levels: list[int] = []
    offset = 0
    for char in text:
        if offset >= len(per_byte):
            return None
        levels.append(per_byte[offset])
        offset += len(char.encode("utf-8"))
    return levels if offset == len(per_byte) else None


def _reorder(line: str, levels: list[int], rtl: bool) -> str:
    """Rules L1, L2 and L4 on one line of a paragraph whose levels are known."""
    base = 1 if rtl else 0
    levels = list(levels)
    # L1: blank space (and the never-drawn controls) at the end of the line or before a
    # tab, and the tab itself, go back to the paragraph level.
    resetting = True
    for index in range(len(line) - 1, -1, -1):
        char = line[index]
        if char == "\t":
            levels[index] = base
            resetting = True
        elif resetting and (char.isspace() or _CONTROLS.match(char)):
            levels[index] = base
        else:
            resetting = False
    # L2: from the highest level on the line down to its lowest odd level, reverse every
    # run of characters at that level or above.
    order = list(range(len(line)))
    highest = max(levels, default=0)
    lowest_odd = min(levels, default=0) | 1
    for level in range(highest, lowest_odd - 1, -1):
        index = 0
        while index < len(order):
            if levels[order[index]] >= level:
                run_end = index
                while run_end < len(order) and levels[order[run_end]] >= level:
                    run_end += 1
                order[index:run_end] = order[index:run_end][::-1]
                index = run_end
            else:
                index += 1
    # L4: a mirrored character in a right-to-left run is drawn as its mirror image.
    shown = [_MIRROR.get(line[i], line[i]) if levels[i] % 2 else line[i] for i in order]
    return _CONTROLS.sub("", "".join(shown))


def _cut(text: str, width: int) -> str:
    used = 0
    for index, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return text[:index]
    return text


def wrap(paragraph: str, width: int) -> list[str]:
    """Word-wrap one logical paragraph to ``width`` cells (words longer than a line are
    split), returning logical lines (``layout`` puts them in visual order)."""
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
