"""A QR code for the terminal: the device flow's page (with the code in it, where the
provider gives ``verification_uri_complete``) for a phone to scan.

Two rows of modules per text line with half blocks, a quiet zone of 2 modules. Light
modules are drawn (``█``) and dark ones left blank, which reads right on the usual dark
terminal background; scanners also read the inverse on a light one. segno (pure Python)
makes the matrix.
"""

from __future__ import annotations

_QUIET = 2
# (upper module light, lower module light) -> character
_CELLS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def lines(text: str) -> list[str]:
    """The QR code of ``text`` as lines of text (error correction L: smallest)."""
    import segno

    matrix = [[bool(m) for m in row] for row in segno.make(text, error="l").matrix]
    width = len(matrix[0]) + 2 * _QUIET
    light = [False] * width  # True = dark module; the quiet zone is light
    rows = [light] * _QUIET + [[False] * _QUIET + r + [False] * _QUIET for r in matrix]
    rows += [light] * _QUIET
    if len(rows) % 2:
        rows.append(light)
    out = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        out.append("".join(_CELLS[(not a, not b)] for a, b in zip(top, bottom, strict=True)))
    return out
