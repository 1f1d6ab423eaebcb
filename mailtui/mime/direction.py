"""The direction of a paragraph of mail text, by the Unicode bidi algorithm's rule P2.

A paragraph reads right to left when its first strong letter (skipping what stands
inside isolates) is right-to-left: Hebrew, Arabic, Persian, or the invisible RIGHT-TO-LEFT
MARK that the HTML layout puts in front of a ``dir="rtl"`` paragraph. Used by the reader
to lay paragraphs out and by the reply quoting to keep each wrapped line's direction.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

__all__ = ["LRM", "RLM", "Direction", "base_direction"]

Direction = Literal["ltr", "rtl"]

RLM = "\u200f"  # right-to-left mark: a strong letter never drawn (how HTML dir="rtl" comes)
LRM = "\u200e"  # left-to-right mark: the same for dir="ltr"

_ISOLATE_OPEN = frozenset({"LRI", "RLI", "FSI"})


def base_direction(text: str) -> Direction | None:
    """The direction of the paragraph's first strong letter, skipping what stands inside
    isolates (rule P2), or ``None`` when it has none (digits and punctuation only)."""
    depth = 0
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in _ISOLATE_OPEN:
            depth += 1
        elif kind == "PDI":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif kind == "L":
            return "ltr"
        elif kind in ("R", "AL"):
            return "rtl"
    return None
