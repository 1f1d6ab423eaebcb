"""Every error mailtui raises on purpose, in one hierarchy; ``str()`` of each is one line
meant for the user.

The lowest layer: every other module may import it, it imports nothing of mailtui's (and
the command line reports these without importing the modules that raise them: each import
is start-up time; docs/decisions.md, "IMAP: resync start-up").

    MailtuiError
    ├── ConfigError        the settings cannot work: config.toml, or what a server demands
    ├── StoreError         the cache cannot be used (StoreVersionError, NotFound)
    ├── SyncError          a backend's trouble (AuthError, TransientError, OpRejected;
    │                      protocols.smtp.SmtpError and its kinds)
    ├── ExportError        an export cannot be written
    └── defined where they are raised, each one line for the user: secrets.SecretError
        (SignInAgain, SecretUnavailable), auth.client.OAuthError (OAuthRefused,
        SignInRequired, OAuthUnreachable), login.LoginError, sync.outbox.OutboxError,
        compose's AddressError / DraftError / MailtoError (also ValueErrors) and
        EditorError, ui's ThemeError and SaveError, cli's UserError

Exceptions that never leave the module raising them (a protocol reader's control flow)
are listed, with where they are turned into one of these, in tests/unit/test_errors.py.
"""

from __future__ import annotations


class MailtuiError(Exception):
    """Base of every error mailtui raises on purpose."""


class ConfigError(MailtuiError):
    """The settings cannot work: a problem in config.toml (naming the file, the key and
    what was expected), or one the server shows (STARTTLS required but not offered, a
    certificate not trusted). Nothing retries until the user changes something."""


class StoreError(MailtuiError):
    """The cache database cannot be used (not a database, damaged, disk trouble)."""


class StoreVersionError(StoreError):
    """The database was written by a newer mailtui whose schema this one doesn't know."""


class NotFound(StoreError, KeyError):
    """An id (folder, message, outbox item) that is not (or no longer) in the store.

    Also a ``KeyError`` so callers can treat the store like a mapping.
    """

    def __str__(self) -> str:
        # KeyError quotes its argument; this message is for people.
        return str(self.args[0]) if self.args else "not found"


class SyncError(MailtuiError):
    """Base of every error a backend raises on purpose."""


class AuthError(SyncError):
    """Credentials refused. The worker stops retrying until the user acts."""


class TransientError(SyncError):
    """Network trouble, server busy, connection dropped: retry with backoff."""


class OpRejected(SyncError):
    """The server refused one op for good (folder gone, no permission)."""


class ExportError(MailtuiError):
    """An export cannot be written (target exists and is not empty, bad folder name…)."""
