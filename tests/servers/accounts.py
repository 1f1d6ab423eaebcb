"""Test mail accounts on the harness servers: what a test needs to log in and check."""

from __future__ import annotations

import imaplib
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from .dovecot import DovecotServer
from .maildir import Flags
from .smtp import AcceptedMessage, SMTPServer
from .sogo import SOGoServer


@dataclass
class MailUser:
    """One user of the session's Dovecot (IMAP/POP3 login) and SMTP server (AUTH login).

    `name` is the login for IMAP, POP3 and SMTP ("name@domain" works as well).
    """

    name: str
    password: str
    email: str
    home: Path
    maildir: Path
    """Root of the user's Maildir++ tree (INBOX); folders are `.Name` directories."""
    host: str
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    smtp_port: int
    """Submission with STARTTLS required."""
    smtps_port: int
    """Implicit TLS (465-style)."""
    ca_path: Path
    """The self-signed certificate every listener presents: trust exactly this file."""
    dovecot: DovecotServer
    smtp: SMTPServer

    @property
    def cafile(self) -> str:
        return str(self.ca_path)

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts the test certificate only."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def cli_home(self, where: Path, trust: str | None = None) -> dict[str, str]:
        """A `config.toml` in `where` with this user as IMAP account "work" over implicit
        TLS, and the environment that points `mailtui` at it (cache and logs under
        `where` too). `trust` replaces the `ca_file` line (say, a `tls_fingerprint`)."""
        trust_line = trust if trust is not None else f'ca_file = "{self.ca_path}"'
        config = where / "config.toml"
        config.write_text(
            "[accounts.work]\n"
            'kind = "imap"\n'
            f'email = "{self.email}"\n'
            f'username = "{self.name}"\n'
            f'host = "{self.host}"\n'
            f"port = {self.imaps_port}\n"
            'security = "tls"\n'
            f"{trust_line}\n"
            f"password_command = \"printf '%s' '{self.password}'\"\n"
        )
        return {
            **os.environ,
            "MAILTUI_DATA_DIR": str(where / "data"),
            "MAILTUI_STATE_DIR": str(where / "state"),
            "MAILTUI_CONFIG": str(config),
        }

    def deliver(
        self,
        raw: bytes,
        folder: str = "INBOX",
        flags: Flags = "",
        *,
        internaldate: datetime | float | None = None,
    ) -> Path:
        """Put a message straight into this user's `folder` (created when missing)."""
        return self.dovecot.deliver(self.name, raw, folder, flags, internaldate=internaldate)

    def deliver_many(
        self,
        raws: list[bytes],
        folder: str = "INBOX",
        flags: Flags = "",
        *,
        internaldate: datetime | float | None = None,
    ) -> list[Path]:
        """Put many messages into `folder`, in order (UIDs follow the list order)."""
        return self.dovecot.deliver_many(self.name, raws, folder, flags, internaldate=internaldate)

    def create_folder(self, folder: str, *, subscribe: bool = False) -> Path:
        """Create an IMAP folder ("Work/Projects"); see maildir.py for the layout."""
        return self.dovecot.create_folder(self.name, folder, subscribe=subscribe)

    def message_files(self, folder: str = "INBOX") -> list[Path]:
        """The message files in `folder` right now (new/ and cur/), in delivery order."""
        return self.dovecot.maildir(self.name).message_files(folder)

    def set_password(self, password: str) -> None:
        """Change the password on the servers (tests of a rejected login)."""
        self.dovecot.set_password(self.name, password)
        self.password = password

    def sent_messages(self) -> list[AcceptedMessage]:
        """What the SMTP server accepted from this user (AUTH login or envelope sender)."""
        return self.smtp.messages_from(self.name, self.email)

    def received_messages(self) -> list[AcceptedMessage]:
        """What the SMTP server accepted for this user's address."""
        return self.smtp.messages_to(self.email)


@dataclass
class EASUser:
    """One user of the session's SOGo: an ActiveSync login, the same on its Dovecot (IMAP).

    `device_id` is fresh for every user: SOGo keeps sync state per user and DeviceId, so
    a reused one would continue another test's sync.
    """

    name: str
    password: str
    email: str
    url: str
    """The ActiveSync endpoint (`http://127.0.0.1:PORT/SOGo/Microsoft-Server-ActiveSync`)."""
    device_id: str
    server: SOGoServer

    @property
    def auth(self) -> tuple[str, str]:
        """(user, password) for HTTP Basic auth."""
        return (self.name, self.password)

    def command_url(self, command: str, device_type: str = "mailtui") -> str:
        """The URL of one ActiveSync command (plain query form, MS-ASHTTP 2.2.1.1.1.1)."""
        query = urlencode(
            {
                "Cmd": command,
                "User": self.name,
                "DeviceId": self.device_id,
                "DeviceType": device_type,
            }
        )
        return f"{self.url}?{query}"

    def append(self, raw: bytes, folder: str = "INBOX", flags: Sequence[str] = ()) -> int:
        """Put a message into `folder` over IMAP, as another client would; its UID."""
        return self.server.append(self.name, raw, folder, flags)

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: Flags = "") -> Path:
        """Write a message straight into `folder`'s Maildir (fast; folder must be primed)."""
        return self.server.deliver(self.name, raw, folder, flags)

    def imap(self) -> imaplib.IMAP4:
        """A logged-in IMAP connection to SOGo's Dovecot (plain, loopback)."""
        return self.server.imap(self.name)

    def prime_modseq(self) -> None:
        """Prime folders created after the user was (see SOGoServer.prime_modseq)."""
        self.server.prime_modseq(self.name)

    def sent_messages(self) -> list[AcceptedMessage]:
        """What SOGo handed to the SMTP server for this user (SendMail & co.)."""
        return self.server.smtp.messages_from(self.name, self.email)
