"""Turning one line of rich ``Text`` into a Line-API ``Strip``, for the list widgets."""

from __future__ import annotations

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip


def text_strip(text: Text, width: int, style: Style, console: Console) -> Strip:
    """``text`` cut or padded to ``width`` cells, over ``style`` (the widget's colours plus
    row state). The base style goes *under* the text's own spans, and is a span itself:
    ``Text.render`` ignores ``Text.style`` on a line without spans."""
    line = text.copy()
    line.no_wrap = True
    line.end = ""
    line.truncate(width, overflow="ellipsis", pad=True)
    line.stylize_before(style)
    return Strip(line.render(console), width)
