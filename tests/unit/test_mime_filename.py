"""Safe names for attachments."""

from __future__ import annotations

import pytest

from mailtui.mime.safe_filename import MAX_BYTES, safe_filename


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("report.pdf", "application/pdf", "report.pdf"),
        ("Grüße aus München.txt", "text/plain", "Grüße aus München.txt"),
        ("会議資料.pdf", "", "会議資料.pdf"),
        ("../../etc/passwd", "", "passwd"),
        ("..\\..\\Windows\\win.ini", "", "win.ini"),
        ("C:\\Users\\x\\doc.docx", "", "doc.docx"),
        ("/absolute/path.sh", "", "path.sh"),
        ("..", "application/pdf", "attachment-3.pdf"),
        ("../", "", "attachment-3.bin"),
        (".bashrc", "", "bashrc"),
        ("...hidden", "", "hidden"),
        ("-rf", "", "rf"),
        ("--help.txt", "", "help.txt"),
        (" - .x", "", "x"),
        ("trailing dots...", "", "trailing dots"),
        ("CON", "", "_CON"),
        ("nul.txt", "", "_nul.txt"),
        ("com1", "", "_com1"),
        ("console.txt", "", "console.txt"),
        ('a<b>c:d"e|f?g*h.txt', "", "a_b_c_d_e_f_g_h.txt"),
        ("invoice\u202etxt.exe", "", "invoicetxt.exe"),
        ("a\u2066b\u2069.pdf", "", "ab.pdf"),
        ("zero\u200bwidth\ufeff.pdf", "", "zerowidth.pdf"),
        ("tab\tand\nnewline.txt", "", "tab and newline.txt"),
        ("\x1b]0;title\x07evil\x1b[31m.sh", "", "evil.sh"),
        ("nul\x00byte.txt", "", "nulbyte.txt"),
        ("", "image/png", "attachment-3.png"),
        (None, "message/rfc822", "attachment-3.eml"),
        ("   ", "application/x-unknown", "attachment-3.bin"),
        ("\x1b[31m", "TEXT/PLAIN", "attachment-3.txt"),
    ],
)
def test_safe_filename(name: str | None, content_type: str, expected: str) -> None:
    assert safe_filename(name, 3, content_type) == expected


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("x" * 1000 + ".pdf", ".pdf"),
        ("ü" * 1000 + ".tar.gz", ".tar.gz"),
        ("日" * 1000, "日"),
        ("a" * 1000 + ".thisisnotanextension", "a"),
    ],
)
def test_long_names_are_capped_keeping_the_extension(name: str, suffix: str) -> None:
    out = safe_filename(name, 1)
    assert len(out.encode()) <= MAX_BYTES
    assert out.endswith(suffix)
    assert len(out) > 40
