"""The key hints at the bottom: Textual's compact ``Footer`` drawn as one line.

Textual's ``Footer`` recomposes whenever the screen's bindings change: opening or closing
the reader moves the focus, so it removed and mounted a dozen ``FooterKey`` widgets and
relaid out the screen twice per toggle, frames that landed on the next key. ``HintLine``
is one widget of fixed height: a change of bindings redraws its line (no layout), and
only when what it shows changed. It looks like the compact footer (same theme
variables), and a click on a key presses it, as on the footer. It draws with the Line API
from a cached strip: opening or closing the reader changes the hints and back again, and
drawing the line through ``render`` cost ≈ 0.4 ms each time.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from mailtui.ui.strips import text_strip

Hint = tuple[str, str, str, bool]  # key, key as shown, description, enabled


class HintLine(Widget, can_focus=False):
    """One line of ``key description`` hints for the screen's active bindings."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "hint-line--key",
        "hint-line--description",
    }
    DEFAULT_CSS = """
    HintLine {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .hint-line--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .hint-line--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._hints: tuple[Hint, ...] = ()
        self._spans: list[tuple[int, int, str]] = []  # x from, x to, key (for clicks)
        self._strips: dict[tuple[object, ...], tuple[Strip, list[tuple[int, int, str]]]] = {}

    @property
    def hints(self) -> tuple[Hint, ...]:
        return self._hints

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        shown: dict[str, Hint] = {}  # one key per action, the first, as Footer does
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if binding.show and binding.action not in shown:
                display = self.app.get_key_display(binding)
                shown[binding.action] = (binding.key, display, binding.description, enabled)
        hints = tuple(shown.values())
        if hints != self._hints:
            self._hints = hints
            self.refresh()

    def render(self) -> Text:
        return self._line()[0]

    def _line(self) -> tuple[Text, list[tuple[int, int, str]]]:
        """The hints as one line of text, and where each key is on it."""
        key_style = self.get_component_rich_style("hint-line--key")
        description_style = self.get_component_rich_style("hint-line--description")
        line = Text(no_wrap=True, end="")
        spans = []
        for key, display, description, enabled in self._hints:
            dim = Style() if enabled else Style(dim=True)
            start = line.cell_len
            line.append(display, key_style + dim)
            if description:
                line.append(" " + description, description_style + dim)
            spans.append((start, line.cell_len, key))
            line.append(" ")
        return line, spans

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y:
            return Strip.blank(width, base)
        # The component styles are part of the key: a theme change draws anew.
        key = (
            self._hints,
            width,
            base,
            self.get_component_rich_style("hint-line--key"),
            self.get_component_rich_style("hint-line--description"),
        )
        found = self._strips.get(key)
        if found is None:
            text, spans = self._line()
            if len(self._strips) >= 16:
                self._strips.clear()
            found = self._strips[key] = (text_strip(text, width, base, self.app.console), spans)
        strip, self._spans = found
        return strip

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                enabled = next((h[3] for h in self._hints if h[0] == key), False)
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
