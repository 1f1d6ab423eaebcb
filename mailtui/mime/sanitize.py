"""Make text from mail safe to put on a terminal.

Everything a message carries (subjects, names, filenames, bodies, link targets) is
attacker-controlled. A terminal interprets escape sequences (colours, cursor moves, window
titles, OSC 8 hyperlinks, OSC 52 clipboard writes, DCS/APC payloads) and a handful of
control characters (BS, CR, BEL, the C1 set), so none of those may reach the screen.

``clean_text`` (bodies) keeps ``\\n`` and ``\\t``. ``clean_line`` (subjects, names,
filenames) turns tabs, line breaks, NEL, U+2028 and U+2029 into spaces. Both remove escape
sequences, every other C0 control (``\\r`` included), DEL, the C1 controls U+0080-U+009F
and the bidi embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069) that can
make text display in an order other than the one it is stored in.

Escape sequences are removed whole, payload included (``ESC ] 8 ; ; url ESC \\`` vanishes),
so no half of a sequence is left to be completed by what follows. An introducer whose
payload is unterminated or absurdly long loses only the introducer; the payload that stays
is plain printable text. Lone surrogates (undecodable bytes smuggled through
``surrogateescape``) become U+FFFD so that writing the result can never raise.

The output is plain text. The UI renders it with ``rich.text.Text`` (which does not parse
markup); a caller that builds markup strings must pass the text through ``escape_markup``.
"""

from __future__ import annotations

import re

__all__ = ["clean_line", "clean_text", "escape_markup"]

# Longest payload of an OSC/DCS/SOS/PM/APC string that is removed as a whole. A longer one
# (an OSC 52 clipboard write of a big blob, say) loses its introducer and stays as inert
# text; bounding it keeps a stray introducer from swallowing a whole body.
_MAX_STRING_PAYLOAD = 8192

_ESCAPE_SEQUENCE = re.compile(
    # Control strings: OSC (ESC ] / U+009D), DCS (ESC P / U+0090), SOS (ESC X / U+0098),
    # PM (ESC ^ / U+009E), APC (ESC _ / U+009F), terminated by BEL or ST (ESC \ / U+009C).
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])"
    rf"[^\x07\x1b\x9c\n]{{0,{_MAX_STRING_PAYLOAD}}}(?:\x07|\x1b\\|\x9c)"
    # CSI (ESC [ / U+009B): parameter bytes, intermediate bytes, final byte (if any).
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    # Any other escape (nF, Fp, Fe, Fs: charset switches, RIS, DECSC...) or a lone ESC.
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)

# Characters that make a string need work at all; one scan of this decides the fast path.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_TEXT_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_LINE_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")

_TEXT_DROP = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_TEXT_NEWLINE = re.compile("[\u2028\u2029]")
_LINE_SPACE = re.compile("[\t\n\r\x0b\x0c\x85\u2028\u2029]")
_LINE_DROP = _TEXT_DROP
_SURROGATE = re.compile("[\ud800-\udfff]")


def _strip_sequences(s: str) -> str:
    if "\x1b" in s or any(c in s for c in "\x90\x98\x9b\x9d\x9e\x9f"):
        s = _ESCAPE_SEQUENCE.sub("", s)
    return s


def clean_text(s: str) -> str:
    """Return ``s`` safe for a terminal, keeping line structure (for bodies).

    Keeps ``\\n`` and ``\\t``; ``\\r\\n`` becomes ``\\n`` and a lone ``\\r`` is dropped;
    U+2028/U+2029 become ``\\n``; escape sequences, every other C0 control, DEL, C1
    controls and bidi embedding/override/isolate controls are removed.
    """
    if not _TEXT_UNSAFE.search(s):
        return s
    s = _strip_sequences(s)
    s = _TEXT_DROP.sub("", s)  # \r is among them: CRLF -> LF, lone CR dropped
    if "\u2028" in s or "\u2029" in s:
        s = _TEXT_NEWLINE.sub("\n", s)
    return _SURROGATE.sub("\ufffd", s)


def clean_line(s: str) -> str:
    """Return ``s`` safe for a terminal as one line (subjects, names, filenames).

    Tabs, line breaks, NEL and U+2028/U+2029 become spaces; everything else that
    ``clean_text`` removes is removed too.
    """
    if s.isascii() and s.isprintable():
        return s
    if not _LINE_UNSAFE.search(s):
        return s
    s = _strip_sequences(s)
    s = _LINE_SPACE.sub(" ", s)
    s = _LINE_DROP.sub("", s)
    return _SURROGATE.sub("\ufffd", s)


def escape_markup(s: str) -> str:
    """Escape ``s`` for inclusion in a rich markup string (``[bold]`` stays literal).

    Only needed where a caller formats markup strings; ``rich.text.Text(s)`` never
    interprets markup.
    """
    from rich.markup import escape  # imported lazily: parsing never needs rich

    return escape(s)
