"""docs/keys.md, written from the keymap: every binding id with its default keys.

Run ``python -m mailtui.ui.keymap_doc > docs/keys.md`` after changing ``keymap.KEYS``; a
unit test compares the file with this output, so the document cannot go stale.
"""

from __future__ import annotations

from mailtui.ui import keymap

_INTRO = """\
# Keys and binding ids

Every key mailtui answers to has a binding id. Change a key in the config file under
`[ui.keys]`, by id; the value is one key or several separated by commas, with Textual's
key names (`j`, `G`, `ctrl+r`, `f2`, `pagedown`, `question_mark`):

```toml
[ui.keys]
"triage.delete" = "ctrl+d"
"triage.flag" = "j"        # j moves the cursor in the list, the folders and the reader:
"list.down" = "down"       # so rebind those too, or mailtui refuses the keymap
"folders.down" = "down"
"reader.down" = "down"
```

A keymap is applied whole or not at all: an unknown id, a key name that does not exist, or
a key another command already answers to where this one works stops mailtui with one
line that names both ids. The new keys replace the defaults (the old key no longer runs
the command). `?` shows the keys in use with their ids, and so does the command palette
(`:` or `Ctrl+p`).

This file is generated from `mailtui/ui/keymap.py` by
`python -m mailtui.ui.keymap_doc > docs/keys.md`.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The whole document."""
    out = [_INTRO.rstrip("\n")]
    for context, title in keymap.CONTEXT_TITLES.items():
        specs = [spec for spec in keymap.KEYS if spec.context == context]
        if not specs:
            continue
        out.append(f"\n## {title}\n")
        out.append("| binding id | default keys (as written in `[ui.keys]`) | what it does |")
        out.append("| --- | --- | --- |")
        for spec in specs:
            keys = ", ".join(f"`{key}`" for key in keymap.effective_keys(spec.id, {}))
            out.append(f"| `{spec.id}` | {keys} | {_cell(spec.description)} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
