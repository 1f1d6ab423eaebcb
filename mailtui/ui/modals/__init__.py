"""Modal screens of the main screen's actions (folder picker)."""

from mailtui.ui.modals.folder_picker import FolderChoice, FolderPicker

__all__ = ["FolderChoice", "FolderPicker"]
