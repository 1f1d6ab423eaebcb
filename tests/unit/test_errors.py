"""One error hierarchy: every error mailtui raises for a person to read is a MailtuiError.

Errors that never leave the module that raises them (control flow inside a protocol
reader, a pack writer, the indexer's helper) are listed by name; anything new must
either derive from ``mailtui.errors.MailtuiError`` or be added here with a reason.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import mailtui
from mailtui.errors import MailtuiError, SyncError

INTERNAL = {
    "mailtui.protocols.imap.commands.CommandFailed",  # a tagged NO/BAD, judged by the backend
    "mailtui.protocols.imap.wire.ProtocolError",  # becomes TransientError at the connection
    "mailtui.protocols.net.linereader.BlockTooLong",  # becomes MessageTooLarge in POP3
    "mailtui.protocols.net.linereader.LineTooLong",  # becomes TransientError at the reader
    "mailtui.protocols.net.linereader.StreamClosed",  # an OSError: TransientError, like EOF
    "mailtui.protocols.net.tls.PinMismatch",  # becomes ConfigError at connect
    # A keyring error (the backend's contract): secrets.store turns it into SecretError,
    # the command line asks for the passphrase again.
    "mailtui.secrets.filestore.WrongPassphrase",
    "mailtui.store.packs.PackBusy",  # another writer holds a pack: the store takes another
    "mailtui.sync.indexer.HelperGone",  # the indexing helper died: indexing goes on in-process
}


def _error_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(mailtui.__path__, "mailtui."):
        if info.name == "mailtui.__main__":
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == info.name
                and not name.startswith("_")
            ):
                found[f"{info.name}.{name}"] = obj
    return found


def test_every_error_for_people_is_a_mailtui_error() -> None:
    errors = _error_classes()
    assert "mailtui.errors.ConfigError" in errors  # the walk found the package
    outside = sorted(
        name for name, cls in errors.items() if not issubclass(cls, MailtuiError)
    )
    assert outside == sorted(INTERNAL)


def test_protocol_errors_are_sync_errors() -> None:
    from mailtui.protocols.smtp import SmtpAuthError, SmtpError, SmtpTransientError

    assert issubclass(SmtpError, SyncError)
    assert issubclass(SmtpAuthError, SmtpError) and issubclass(SmtpTransientError, SmtpError)


def test_a_damaged_activesync_response_is_retried() -> None:
    from mailtui.errors import TransientError
    from mailtui.protocols.eas.wbxml import WbxmlError

    assert issubclass(WbxmlError, TransientError)
