"""Subject normalisation for threading and grouping.

``normalize_subject("Re: AW: [dev] Fwd: Plan")`` is ``"Plan"``: reply and forward
prefixes in the languages mail clients commonly emit, with their counters (``Re[2]:``,
``Re^3:``, ``Re(4):``), and mailing-list tags in brackets are stripped from the front,
repeatedly and case-insensitively; a trailing ``(fwd)`` goes too. Case is kept so the
result can be shown; callers that compare use ``.casefold()``.

Plain data, no MIME: here so that a new message's values for the store can be made
where its envelope is parsed (``models/envelope_values.py``); ``mime.threading`` offers
it as before.
"""

from __future__ import annotations

import re

# Reply/forward markers: English, German (AW, WG), Nordic (SV, VS, VB), Dutch (Antw, Doorst),
# French (TR), Italian (R, RIF, I), Spanish (RV), Portuguese (ENC), Polish (Odp, PD),
# Turkish (YNT), Chinese (回复, 转发, 回覆, 轉寄), Japanese (返信, 転送), Greek (ΑΠ, ΣΧΕΤ).
# Single letters ("R:", "I:") are left out on purpose: they collide with real subjects.
_MARKER = (
    r"re|fwd?|aw|wg|sv|vs|vb|antw|doorst|tr|rif|rv|enc|odp|pd|ynt"
    r"|回复|回覆|转发|轉寄|返信|転送|ΑΠ|ΣΧΕΤ"
)
_PREFIXES = re.compile(
    rf"(?:\s*(?:(?:{_MARKER})\s*(?:\[\d{{1,6}}\]|\(\d{{1,6}}\)|\^\d{{1,6}})?\s*[:：]"
    r"|\[[^\[\]]{0,100}\]))*\s*",
    re.IGNORECASE,
)
_TRAILER = re.compile(r"\s*\((?:fwd?)\)\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def normalize_subject(subject: str) -> str:
    """Return ``subject`` without reply/forward prefixes and list tags, spaces collapsed."""
    s = subject[_PREFIXES.match(subject).end() :]  # type: ignore[union-attr]  # always matches
    s = _TRAILER.sub("", s)
    return _SPACES.sub(" ", s).strip()
