"""Real servers for integration tests: a private Dovecot and an SMTP server, on loopback.

    tls = make_self_signed_cert(directory)           # once per session
    with DovecotServer(tls) as dovecot, SMTPServer(dovecot, tls) as smtp:
        dovecot.add_user("alice", "secret")
        dovecot.deliver("alice", raw_bytes)          # straight into the Maildir
        ...                                          # IMAP/POP3/SMTP on 127.0.0.1

tests/integration/conftest.py wraps these in fixtures (`dovecot`, `smtp_server`,
`mail_user`, `mail_user_factory`).
"""

from .accounts import MailUser
from .dovecot import DovecotNotInstalled, DovecotServer, DovecotStartError, find_dovecot
from .maildir import Maildir, imap_utf7_encode
from .oauth import OAuthTokenServer
from .smtp import AcceptedMessage, SMTPFaults, SMTPServer
from .tls import TLSFiles, make_self_signed_cert

__all__ = [
    "AcceptedMessage",
    "DovecotNotInstalled",
    "DovecotServer",
    "DovecotStartError",
    "MailUser",
    "Maildir",
    "OAuthTokenServer",
    "SMTPFaults",
    "SMTPServer",
    "TLSFiles",
    "find_dovecot",
    "imap_utf7_encode",
    "make_self_signed_cert",
]
