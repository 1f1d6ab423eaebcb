"""The errors of ``mailtui.secrets`` (each one line for the user)."""

from __future__ import annotations

from mailtui.errors import MailtuiError


class SecretError(MailtuiError):
    """No secret could be had; the text says why in plain words."""


class SignInAgain(SecretError):
    """The stored OAuth2 sign-in is gone or no longer accepted: ``mailtui login``."""


class SecretUnavailable(SecretError):
    """The OAuth2 provider could not be asked for a token now (network, server error);
    the same request may work later."""
