"""The user's keymap (``[ui.keys]``) checked whole before any of it is applied.

A keymap is applied in full or refused with one line that says what to change: an id
that names no command ("unknown binding triage.flagg; did you mean triage.flag?"), a key
Textual does not know (``ctrl+dd``), or a key that another command already answers to
where the rebound one works. Textual looks a key up from the focused widget outwards, so
``"triage.flag" = "j"`` alone would leave ``j`` moving the list's cursor and ``F`` dead:
that is refused, naming both ids and the fix (rebind the other one too).

Where a command works is the node that binds its context; the nodes nest like this, and
two contexts collide when one's node is the other's or encloses it:

| node                    | contexts                                | inside  |
| ----------------------- | --------------------------------------- | ------- |
| app                     | global, appearance                      |         |
| main screen             | panes, triage, writing, folder_admin    | app     |
| message list            | list                                    | main    |
| folder list             | folders                                 | main    |
| reader                  | reader                                  | main    |
| filter box              | filter                                  | main    |
| each modal screen       | links, attachments, source, confirm,    | app     |
|                         | picker, help, compose, drafts, outbox,  |         |
|                         | setup                                   |         |
|                         | signin                                  |         |

Collisions the defaults already have (``q`` quits, and closes the reader first) are
meant; only collisions a user's keymap brings in are refused.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping

from mailtui.errors import ConfigError
from mailtui.ui import keymap

__all__ = ["KeymapError", "check", "key_problem"]

_NODE_OF_CONTEXT: dict[str, str] = {
    "global": "app",
    "appearance": "app",
    "panes": "main",
    "triage": "main",
    "writing": "main",
    "folder_admin": "main",
    "list": "list",
    "folders": "folders",
    "reader": "reader",
    "filter": "filter",
}
_PARENT: dict[str, str] = {
    "main": "app", "list": "main", "folders": "main", "reader": "main", "filter": "main",
}  # fmt: skip
#: Contexts bound by a modal screen: each is a node of its own, inside the app only. A new
#: context must be placed here or in ``_NODE_OF_CONTEXT`` (a test checks).
MODAL_CONTEXTS = frozenset({
    "links", "attachments", "source", "confirm", "picker", "help", "compose", "drafts",
    "outbox", "setup", "signin",
})  # fmt: skip
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")


class KeymapError(ConfigError):
    """A ``[ui.keys]`` entry that cannot be applied, worded for the user."""


def _node(context: str) -> str:
    return _NODE_OF_CONTEXT.get(context, context)  # a modal screen is a node of its own


def _enclosing(node: str) -> list[str]:
    """``node`` and every node around it, the app last."""
    chain = [node]
    while chain[-1] in _PARENT:
        chain.append(_PARENT[chain[-1]])
    if chain[-1] != "app":
        chain.append("app")
    return chain


def collide(context_a: str, context_b: str) -> bool:
    """Whether a key bound in both contexts reaches only one of them somewhere."""
    a, b = _node(context_a), _node(context_b)
    return a in _enclosing(b) or b in _enclosing(a)


def _named_keys() -> set[str]:
    """Key names Textual uses: ``Keys`` (f2, pagedown, space) and the names it gives
    punctuation (question_mark, slash, minus, full_stop)."""
    from textual.keys import KEY_NAME_REPLACEMENTS, Keys

    names = {key.value.rsplit("+", 1)[-1] for key in Keys}
    for code in range(0x21, 0x7F):
        char = chr(code)
        if not char.isalnum():
            name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
            names.add(KEY_NAME_REPLACEMENTS.get(name, name))
    return {n for n in names if n and not n.startswith("<") and "-" not in n}


_NAMED = _named_keys()


def _is_key_name(name: str) -> bool:
    if len(name) == 1:
        return name.isprintable() and name not in (" ", ",")
    return name in _NAMED


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a key Textual can bind; None if it is one."""
    *modifiers, name = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            return f"{modifier!r} is not a modifier (use {', '.join(MODIFIERS)})"
    if not _is_key_name(name):
        if _is_key_name(name.lower()):
            close = [name.lower()]  # named keys are lower case: f1, pagedown
        else:
            close = difflib.get_close_matches(name, sorted(_NAMED), n=1)
        if not close and name[:1].isalnum():
            close = [name[:1]]
        hint = f'; did you mean "{"+".join([*modifiers, close[0]])}"?' if close else ""
        return (
            f'{name!r} is not a key name (a single character such as "d", or a name '
            f'such as "f2", "pagedown", "question_mark"){hint}'
        )
    return None


def _split(keys: str) -> list[str]:
    return [key.strip() for key in keys.split(",") if key.strip()]


def _conflict(
    binding_id: str, key: str, others: list[str], effective: Mapping[str, list[str]]
) -> str:
    spec = keymap.spec(binding_id)
    taken = ", ".join(f"{o} ({keymap.spec(o).description})" for o in others)
    examples = []
    for other in others:
        rest = [k for k in effective[other] if k != key]
        if rest:
            examples.append(f'"{other}" = "{",".join(rest)}"')
    example = f" (e.g. {'; '.join(examples)})" if examples else ""
    return (
        f'[ui.keys] "{binding_id}" = "{key}": {keymap.key_label(key)} already does {taken} '
        f"where {binding_id} ({spec.description}) works; rebind "
        f"{'it' if len(others) == 1 else 'them'} too{example}, or choose another key"
    )


def check(overrides: Mapping[str, str]) -> dict[str, str]:
    """The keymap to apply (keys tidied: ``"j, down"`` -> ``"j,down"``), or KeymapError
    for the first entry that cannot be applied as a whole."""
    known = [spec.id for spec in keymap.KEYS]
    tidy: dict[str, str] = {}
    for binding_id, keys in overrides.items():
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else " (`?` lists every id)"
            raise KeymapError(f"[ui.keys] unknown binding {binding_id}{hint}")
        split = _split(keys)
        if not split:
            raise KeymapError(f'[ui.keys] "{binding_id}": expected a key name such as "ctrl+r"')
        for key in split:
            problem = key_problem(key)
            if problem is not None:
                raise KeymapError(f'[ui.keys] "{binding_id}" = "{keys}": invalid key: {problem}')
        tidy[binding_id] = ",".join(dict.fromkeys(split))
    effective = {spec.id: _split(tidy.get(spec.id, spec.keys)) for spec in keymap.KEYS}
    default = {spec.id: _split(spec.keys) for spec in keymap.KEYS}
    for binding_id in tidy:
        context = keymap.spec(binding_id).context
        for key in effective[binding_id]:
            others = [
                other.id
                for other in keymap.KEYS
                if other.id != binding_id
                and key in effective[other.id]
                and collide(context, other.context)
                # a collision the defaults have on purpose (q quits, and closes first)
                and not (key in default[binding_id] and key in default[other.id])
            ]
            if others:
                raise KeymapError(_conflict(binding_id, key, others, effective))
    return tidy
