"""Dialogs: a folder picker, a yes/no question, and prompts for a folder name, a file to
attach and a folder to save into."""

from mailtui.ui.modals.folder_picker import FolderChoice, FolderPicker

__all__ = ["FolderChoice", "FolderPicker"]
