"""Real servers for integration tests: a private Dovecot and an SMTP server, on loopback.

    tls = make_self_signed_cert(directory)           # once per session
    with DovecotServer(tls) as dovecot, SMTPServer(dovecot, tls) as smtp:
        dovecot.add_user("alice", "secret")
        dovecot.deliver("alice", raw_bytes)          # straight into the Maildir
        ...                                          # IMAP/POP3/SMTP on 127.0.0.1

    with SOGoServer(tls) as sogo:                    # ActiveSync (+ its own Dovecot,
        sogo.add_user("bob", "secret")               #  SMTP server, PostgreSQL, memcached)
        sogo.append("bob", raw_bytes)                # over IMAP; EAS at sogo.url

tests/integration/conftest.py wraps these in fixtures (`dovecot`, `smtp_server`,
`mail_user`, `mail_user_factory`, `sogo`, `eas_user`).
"""

from .accounts import EASUser, MailUser
from .dovecot import DovecotNotInstalled, DovecotServer, DovecotStartError, find_dovecot
from .maildir import Maildir, imap_utf7_encode
from .oauth import OAuthTokenServer
from .postgres import PostgresNotInstalled, PostgresServer, PostgresStartError
from .smtp import AcceptedMessage, SMTPFaults, SMTPServer
from .sogo import SOGoNotInstalled, SOGoServer, SOGoStartError
from .tls import TLSFiles, make_self_signed_cert

__all__ = [
    "AcceptedMessage",
    "DovecotNotInstalled",
    "DovecotServer",
    "DovecotStartError",
    "EASUser",
    "MailUser",
    "Maildir",
    "OAuthTokenServer",
    "PostgresNotInstalled",
    "PostgresServer",
    "PostgresStartError",
    "SMTPFaults",
    "SMTPServer",
    "SOGoNotInstalled",
    "SOGoServer",
    "SOGoStartError",
    "TLSFiles",
    "find_dovecot",
    "imap_utf7_encode",
    "make_self_signed_cert",
]
