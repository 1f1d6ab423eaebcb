"""text/plain; format=flowed (RFC 3676) for outgoing mail.

Each logical line (a paragraph, or a quoted paragraph) is wrapped at spaces into
physical lines of at most ``width`` characters; every line but the last of a paragraph
ends with a space (a *soft* break the reader may re-flow), and the last has its trailing
spaces removed (a *hard* break). Lines that start with a space, ``>`` (outside the quote
marks) or ``From `` are *space-stuffed* with one extra leading space. Quoted lines keep
their quote depth as a run of ``>`` followed by a stuffing space on every physical line.
The signature separator ``-- `` stays as it is (RFC 3676 section 4.3).
"""

from __future__ import annotations

import re

__all__ = ["to_flowed"]

WIDTH = 76
_QUOTE = re.compile(r"^((?:> ?)*>) ?")  # "> > x" and ">> x" are both depth 2


def _stuff(text: str) -> str:
    if text.startswith((" ", ">", "From ")):
        return " " + text
    return text


def _wrap(text: str, width: int) -> list[str]:
    """Split at spaces into chunks of at most ``width``; each chunk but the last keeps
    its trailing space (the soft break). A word longer than ``width`` stays whole."""
    if len(text) <= width:
        return [text]
    chunks: list[str] = []
    pos = 0
    while len(text) - pos > width:
        cut = text.rfind(" ", pos, pos + width)
        if cut <= pos:  # no space within reach: break after the long word
            cut = text.find(" ", pos + width)
            if cut == -1:
                break
        chunks.append(text[pos : cut + 1])
        pos = cut + 1
    chunks.append(text[pos:])
    return chunks


def to_flowed(text: str, width: int = WIDTH) -> str:
    """``text`` (lines separated by ``\\n``) encoded as format=flowed, ``\\n``-separated."""
    out: list[str] = []
    for line in text.split("\n"):
        if line == "-- ":
            out.append(line)
            continue
        m = _QUOTE.match(line)
        if m is not None:
            depth = m.group(1).count(">")
            prefix = ">" * depth + " "
            content = line[m.end() :]
        else:
            prefix = ""
            content = line
        content = content.rstrip(" ")
        chunks = _wrap(content, max(20, width - len(prefix)))
        for chunk in chunks:
            out.append(prefix + (chunk if prefix else _stuff(chunk)))
    return "\n".join(out)
