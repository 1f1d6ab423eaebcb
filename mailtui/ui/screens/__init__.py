"""Screens of the app, one per module.

Nothing is re-exported here: widgets open screens (the reader opens the attachments
screen), and a re-export of the main screen would make importing any screen import
every widget first, a cycle."""
