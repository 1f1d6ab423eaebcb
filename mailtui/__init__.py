"""mailtui: a keyboard-driven terminal email client."""

__version__ = "0.1.0"
