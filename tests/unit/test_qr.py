"""The device sign-in's QR code (mailtui/auth/qr.py): the half-block drawing holds
exactly segno's matrix, in a light quiet zone, dark modules blank."""

from __future__ import annotations

import segno

from mailtui.auth.qr import lines

UPPER = {"█": True, "▀": True, "▄": False, " ": False}  # upper half light?
LOWER = {"█": True, "▀": False, "▄": True, " ": False}


def test_the_drawing_is_the_matrix() -> None:
    text = "https://microsoft.com/devicelogin?otc=WDJBMJHT"
    drawn = lines(text)
    assert len({len(line) for line in drawn}) == 1
    light = []  # rows of "light" modules, read back from the characters
    for line in drawn:
        light.append([UPPER[c] for c in line])
        light.append([LOWER[c] for c in line])
    matrix = segno.make(text, error="l").matrix
    size = len(matrix)
    assert len(drawn[0]) == size + 4
    # The quiet zone (2 modules) is light all round.
    for row in light[:2] + light[size + 2 :]:
        assert all(row)
    for y, row in enumerate(matrix):
        read = light[y + 2]
        assert read[:2] == [True, True] and read[-2:] == [True, True]
        assert [not m for m in read[2:-2]] == [bool(m) for m in row]
