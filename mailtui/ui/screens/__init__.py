"""Screens of the app."""

from mailtui.ui.screens.help import HelpScreen
from mailtui.ui.screens.main import MainScreen

__all__ = ["HelpScreen", "MainScreen"]
