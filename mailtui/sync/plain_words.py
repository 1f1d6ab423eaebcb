"""Exceptions in plain words, for the status bar and the user's error lines."""

from __future__ import annotations

from mailtui.errors import MailtuiError


def plain(exc: BaseException) -> str:
    """An exception in plain words for the status bar: never a traceback."""
    if isinstance(exc, MailtuiError) and str(exc):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or exc.__class__.__name__
