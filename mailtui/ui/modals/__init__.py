"""Dialogs: a folder picker, a yes/no question, a question with a few answers, prompts
for a folder name, a file to attach and a folder to save into, and the reader's lists of
attachments and links and its view of the message source."""

from mailtui.ui.modals.folder_picker import FolderChoice, FolderPicker

__all__ = ["FolderChoice", "FolderPicker"]
