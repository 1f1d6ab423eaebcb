"""Subject normalisation for threading and grouping, and who replies to whom.

``normalize_subject("Re: AW: [dev] Fwd: Plan")`` is ``"Plan"`` (``models/subjects.py``,
where it lives so that plain data can use it).

``reply_tree`` orders the messages of one conversation as a tree (each reply under the
message it answers, by In-Reply-To, else the nearest References entry present) and gives
each its depth, so the list can indent a reply deeper than its parent.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailtui.models.subjects import normalize_subject

__all__ = ["normalize_subject", "reply_tree"]

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
