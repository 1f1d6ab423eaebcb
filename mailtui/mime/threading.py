"""Subject normalisation for threading and grouping, and who replies to whom.

``normalize_subject("Re: AW: [dev] Fwd: Plan")`` is ``"Plan"``: reply and forward
prefixes in the languages mail clients commonly emit, with their counters (``Re[2]:``,
``Re^3:``, ``Re(4):``), and mailing-list tags in brackets are stripped from the front,
repeatedly and case-insensitively; a trailing ``(fwd)`` goes too. Case is kept so the
result can be shown; callers that compare use ``.casefold()``.

``reply_tree`` orders the messages of one conversation as a tree (each reply under the
message it answers, by In-Reply-To, else the nearest References entry present) and gives
each its depth, so the list can indent a reply deeper than its parent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["normalize_subject", "reply_tree"]

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


def reply_tree(messages: Sequence[tuple[str, str, Sequence[str]]]) -> list[tuple[int, int]]:
    """(index, depth) of every message, in tree order.

    ``messages`` are (Message-ID, In-Reply-To, References) in the order siblings are shown
    (oldest first). A message whose parent is not among them is a root (depth 0); a loop
    of parents (forged headers) is broken where it closes.
    """
    first: dict[str, int] = {}
    for index, (message_id, _, _) in enumerate(messages):
        if message_id:
            first.setdefault(message_id, index)
    parent: list[int | None] = []
    for index, (_, in_reply_to, references) in enumerate(messages):
        found = first.get(in_reply_to) if in_reply_to else None
        if found is None:
            found = next((first[r] for r in reversed(references) if r in first), None)
        parent.append(found if found != index else None)
    for index in range(len(messages)):  # break loops: a -> b -> a
        seen = {index}
        at = parent[index]
        while at is not None:
            if at in seen:
                parent[index] = None
                break
            seen.add(at)
            at = parent[at]
    children: dict[int | None, list[int]] = {}
    for index, up in enumerate(parent):
        children.setdefault(up, []).append(index)
    out: list[tuple[int, int]] = []
    stack = [(index, 0) for index in reversed(children.get(None, []))]
    while stack:
        index, depth = stack.pop()
        out.append((index, depth))
        stack.extend((kid, depth + 1) for kid in reversed(children.get(index, [])))
    return out
