"""Errors shared by modules that the command line reports without importing them all
(each import is start-up time; docs/decisions.md, "IMAP: resync start-up")."""


class ExportError(Exception):
    """An export cannot be written (target exists and is not empty, bad folder name…)."""
