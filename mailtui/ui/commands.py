"""The command palette's provider: every bindable action, with the keys that run it.

Built from ``keymap.KEYS`` (with the user's keymap applied), so the palette, the help
screen and the bindings never disagree; each entry shows its binding id, the name to use
in ``[ui.keys]``. An action shows when the node that owns it is
on screen (the reader's only while reading) and its ``check_action`` allows it (actions
an account's Capabilities rule out are left out here too).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from mailtui.ui import keymap

#: Contexts the palette offers on the main screen; the others belong to modal screens.
MAIN_CONTEXTS = (
    "global",
    "appearance",
    "panes",
    "triage",
    "list",
    "writing",
    "reader",
    "folders",
    "folder_admin",
)


def keys_text(binding_id: str, overrides: Mapping[str, str]) -> str:
    return ", ".join(keymap.key_label(k) for k in keymap.effective_keys(binding_id, overrides))


class MailCommands(Provider):
    """Every action of the main screen and the app, searchable by its description."""

    def _owner(self, context: str) -> DOMNode | None:
        from mailtui.ui.screens.main import MainScreen  # the screen imports this module

        screen = self.screen
        if context in ("global", "appearance"):
            return self.app
        if not isinstance(screen, MainScreen):
            return None
        if context in ("panes", "triage", "writing", "folder_admin"):
            return screen
        if context == "list":
            return screen.message_list
        if context == "reader":
            return screen.reader if screen.reading else None
        if context == "folders":
            return screen.folder_list
        return None

    def _commands(self) -> list[tuple[str, str, DOMNode, str]]:
        """(description, keys and binding id, owner, action) of what can run now."""
        overrides: Mapping[str, str] = getattr(self.app, "keymap_overrides", {})
        out: list[tuple[str, str, DOMNode, str]] = []
        seen: set[tuple[int, str]] = set()
        for spec in keymap.KEYS:
            if spec.context not in MAIN_CONTEXTS:
                continue
            owner = self._owner(spec.context)
            if owner is None or (id(owner), spec.action) in seen:
                continue
            name = spec.action.split("(", 1)[0]
            if not hasattr(owner, f"action_{name}"):
                continue
            if owner.check_action(name, ()) is False:
                continue
            seen.add((id(owner), spec.action))
            keys = f"{keys_text(spec.id, overrides)} · {spec.id}"
            out.append((spec.description, keys, owner, spec.action))
        return out

    @staticmethod
    def _display(description: str, keys: str) -> Text:
        text = Text(description)
        text.append(f"  ({keys})", style="dim")
        return text

    async def discover(self) -> Hits:
        for description, keys, owner, action in self._commands():
            yield DiscoveryHit(
                self._display(description, keys),
                partial(self.app.run_action, action, owner),
                text=description,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, keys, owner, action in self._commands():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(f"{description}  ({keys})"),
                    partial(self.app.run_action, action, owner),
                    text=description,
                    help=f"Key and binding id: {keys}",
                )
