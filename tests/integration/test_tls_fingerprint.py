"""tls_fingerprint (certificate pinning) against the harness servers, whose self-signed
certificate is in no trust store: the right fingerprint connects (IMAP and SMTP, implicit
TLS and STARTTLS), any other is refused before a password is sent, with an error that
shows the fingerprint the server presented."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mailtui.config import AccountConfig, parse_fingerprint
from mailtui.models import AccountKind
from mailtui.protocols.net import tls
from mailtui.protocols.smtp import SmtpConfigError
from mailtui.store import Store
from mailtui.sync import outbox
from mailtui.sync.contract import AccountStatus
from tests.integration.smtp_support import account_config
from tests.integration.test_imap_sync import account, msg, sync
from tests.servers import DovecotServer, MailUser, make_self_signed_cert

WRONG = hashlib.sha256(b"not the server's certificate").hexdigest()


def server_fingerprint(user: MailUser) -> str:
    der = ssl.PEM_cert_to_DER_cert(user.ca_path.read_text())
    return hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_right_fingerprint_syncs_without_any_trusted_ca(
    mail_user: MailUser, store: Store, security: str
) -> None:
    mail_user.deliver(msg(1, "pinned"))
    acc = account(mail_user, security, ca_file=None, tls_fingerprint=server_fingerprint(mail_user))
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ONLINE, worker.status_text
    rows = await store.window((await store.folders())[0].id, 0, 10)
    assert [r.subject for r in rows] == ["pinned"]


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_wrong_fingerprint_is_refused_showing_the_presented_one(
    mail_user: MailUser, store: Store, security: str
) -> None:
    offset = mail_user.dovecot.log_size()
    acc = account(mail_user, security, ca_file=None, tls_fingerprint=WRONG)
    status, worker = await sync(store, acc)
    assert status is AccountStatus.ERROR  # stops: retrying cannot help
    presented = tls.show_fingerprint(server_fingerprint(mail_user))
    assert worker.status_text == (
        f"the certificate of {mail_user.host} does not match tls_fingerprint: the server "
        f"presented {presented}; if the server's certificate was renewed, check the new "
        "one and put its fingerprint in tls_fingerprint"
    )
    # Refused before any login was tried: Dovecot saw a client go without a word.
    deadline = time.monotonic() + 5
    while "Disconnected" not in (log := mail_user.dovecot.log_text(offset)):
        assert time.monotonic() < deadline, log
        time.sleep(0.05)
    assert "user=<>" in log and f"user=<{mail_user.name}>" not in log
    assert "auth failed" not in log and "method=" not in log


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_untrusted_certificate_error_shows_what_the_server_presented(
    mail_user: MailUser, store: Store, security: str
) -> None:
    """Without ca_file or a pin the system store refuses the harness certificate; the
    error says which one the server presented, in the form tls_fingerprint takes, and
    that value then works as the pin."""
    status, worker = await sync(store, account(mail_user, security, ca_file=None))
    assert status is AccountStatus.ERROR
    presented = tls.show_fingerprint(server_fingerprint(mail_user))
    text = worker.status_text
    assert "is not trusted" in text and "ca_file" in text and "tls_fingerprint" in text
    assert f"the server presented {presented}: check that this is your server's" in text
    pin = parse_fingerprint(presented)  # what the config makes of the pasted text
    pinned = account(mail_user, security, ca_file=None, tls_fingerprint=pin)
    assert (await sync(store, pinned))[0] is AccountStatus.ONLINE


async def test_pin_needs_neither_ca_nor_host_name(
    tmp_path: Path,
    store: Store,
) -> None:
    """A Dovecot whose certificate names another host: trusted as a CA it is still
    refused (wrong name); pinned it is accepted."""
    elsewhere = make_self_signed_cert(
        tmp_path / "tls", common_name="mail.elsewhere.example",
        subject_alt_name="DNS:mail.elsewhere.example",
    )
    with DovecotServer(elsewhere) as dovecot:
        dovecot.add_user("pinned", "pw-pinned")
        dovecot.deliver("pinned", msg(1, "from elsewhere"))
        der = ssl.PEM_cert_to_DER_cert(elsewhere.cert_path.read_text())
        base = AccountConfig(
            name="p",
            kind=AccountKind.IMAP,
            email=dovecot.email("pinned"),
            username="pinned",
            host=dovecot.host,
            port=dovecot.imaps_port,
            security="tls",
            password_command="printf pw-pinned",
        )

        def acc(**kw: Any) -> AccountConfig:
            return replace(base, **kw)

        status, worker = await sync(store, acc(ca_file=elsewhere.cert_path))
        assert status is AccountStatus.ERROR
        assert "not trusted" in worker.status_text and "mismatch" in worker.status_text
        status, worker = await sync(store, acc(tls_fingerprint=hashlib.sha256(der).hexdigest()))
        assert status is AccountStatus.ONLINE, worker.status_text


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_smtp_right_fingerprint_logs_in_wrong_one_is_refused(
    mail_user: MailUser, security: str
) -> None:
    acc = account_config(mail_user, security=security, ca=False)
    pinned = replace(acc, tls_fingerprint=server_fingerprint(mail_user))
    conn = await outbox.connector(pinned)()  # TLS, EHLO, AUTH with the password
    try:
        await conn.send(mail_user.email, [mail_user.email], msg(1, f"pinned {security}"))
    finally:
        await conn.close()
    [accepted] = mail_user.smtp.messages_to(mail_user.email)
    assert accepted.tls and accepted.login == mail_user.name

    wrong = replace(acc, tls_fingerprint=WRONG)
    with pytest.raises(SmtpConfigError) as info:
        await outbox.connector(wrong)()
    presented = tls.show_fingerprint(server_fingerprint(mail_user))
    assert f"the server presented {presented}" in str(info.value)
    assert "does not match tls_fingerprint" in str(info.value)

    unpinned = replace(acc, ca_file=None)  # the system store does not know this cert
    with pytest.raises(SmtpConfigError, match="could not be verified.*tls_fingerprint") as err:
        await outbox.connector(unpinned)()
    assert f"the server presented {presented}: check that this is your server" in str(err.value)


def test_cli_says_one_line_for_a_wrong_fingerprint(mail_user: MailUser, tmp_path: Path) -> None:
    env = mail_user.cli_home(tmp_path, trust=f'tls_fingerprint = "sha256:{WRONG.upper()}"')
    p = subprocess.run(
        [sys.executable, "-m", "mailtui", "sync", "--once"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "does not match tls_fingerprint: the server presented sha256:" in out
    assert tls.show_fingerprint(server_fingerprint(mail_user)) in out
    assert "Traceback" not in out
