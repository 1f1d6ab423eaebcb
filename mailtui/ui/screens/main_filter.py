"""The main screen's filter: search as you type in the open folder or "All inboxes".

``/`` opens the filter box over the list; the list shows what matches once typing pauses
for ``FILTER_DEBOUNCE`` seconds (Enter: at once); Esc or an empty box shows the whole
folder again.
"""

from __future__ import annotations

from mailtui.ui.list_sources import FilterSource, InboxFilterSource
from mailtui.ui.screens.main_view import MainView
from mailtui.ui.widgets.filter_box import FilterBox

FILTER_DEBOUNCE = 0.15  # seconds of no typing before the filter asks the store


class ListFilter(MainView):
    """The filter box and the filtered list."""

    @property
    def filter_box(self) -> FilterBox:
        return self.query_one(FilterBox)

    def action_filter(self) -> None:
        if self._folder is None and not self._unified:
            return
        self.close_reader()
        self.add_class("-filtering")
        self.filter_box.focus()

    def on_input_changed(self, event: FilterBox.Changed) -> None:
        if event.input is not self.filter_box:
            return
        event.stop()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE, self._apply_filter)

    def _apply_filter(self) -> None:
        self._filter_timer = None
        if not self.has_class("-filtering"):
            return
        query = self.filter_box.value.strip()
        if query and self._unified:
            self.message_list.show_source(InboxFilterSource(self._store, query, self._manager))
        elif query and self._folder is not None:
            found = FilterSource(self._store, self._folder.id, query, self._manager)
            self.message_list.show_source(found)
        elif isinstance(self.message_list.source, (FilterSource, InboxFilterSource)):
            self._show_whole()

    def on_filter_box_done(self, event: FilterBox.Done) -> None:
        event.stop()
        if self._filter_timer is not None:  # Enter before the pause: filter now
            self._filter_timer.stop()
            self._apply_filter()
        if not self.filter_box.value.strip():
            self._end_filter()
        self.message_list.focus()

    def on_filter_box_cleared(self, event: FilterBox.Cleared) -> None:
        event.stop()
        self._end_filter()
        self.message_list.focus()

    def _end_filter(self) -> None:
        """Drop the filter and show the whole folder again (if it was filtered)."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if not self.has_class("-filtering"):
            return
        self.remove_class("-filtering")
        with self.filter_box.prevent(FilterBox.Changed):
            self.filter_box.value = ""
        if isinstance(self.message_list.source, (FilterSource, InboxFilterSource)):
            self._show_whole()
