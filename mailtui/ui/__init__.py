"""The Textual user interface: screens, widgets and the keymap.

Only this package and ``mailtui/app.py`` import Textual.
"""
