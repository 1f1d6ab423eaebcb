"""One widget per module, re-exported here."""

from mailtui.ui.widgets.folder_list import FolderList
from mailtui.ui.widgets.message_list import MessageList
from mailtui.ui.widgets.message_view import MessageView
from mailtui.ui.widgets.status_bar import StatusBar

__all__ = ["FolderList", "MessageList", "MessageView", "StatusBar"]
