"""``mailtui.log`` against the real Dovecot and SMTP servers: it keeps what a bug report
needs (a refused login, an offline spell, a failed send), with no password in it."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from mailtui.models import AccountKind
from mailtui.store import Store
from tests.servers import MailUser
from tests.servers.cli import run_mailtui as mailtui
from tests.servers.ports import free_ports


def log_of(home: Path) -> str:
    return (home / "state" / "mailtui.log").read_text(encoding="utf-8")


def no_secrets(log: str, *passwords: str) -> None:
    for password in passwords:
        assert password not in log
    upper = log.upper()
    for command in ("AUTHENTICATE PLAIN", "AUTH PLAIN", " LOGIN \"", "A1 LOGIN"):
        assert command not in upper


def test_log_keeps_a_refused_login_and_an_offline_spell_without_the_password(
    mail_user: MailUser, tmp_path: Path
) -> None:
    env = mail_user.cli_home(tmp_path)  # the config keeps the password it has now
    old_password = mail_user.password
    mail_user.set_password("a-new-password-4711")

    p = mailtui(env, "sync", "--once")
    assert p.returncode == 1, p.stdout + p.stderr
    log = log_of(tmp_path)
    assert "WARNING mailtui.account: work: login refused: Authentication failed" in log
    no_secrets(log, old_password, "a-new-password-4711")

    # The server goes away (a port nobody listens on): one offline line with the reason.
    config = Path(env["MAILTUI_CONFIG"])
    (closed,) = free_ports(1)
    config.write_text(
        config.read_text().replace(f"port = {mail_user.imaps_port}", f"port = {closed}")
    )
    p = mailtui(env, "sync", "--once")
    assert p.returncode == 1
    log = log_of(tmp_path)
    offline = [line for line in log.splitlines() if "work: offline since" in line]
    assert len(offline) == 1 and f"cannot connect to 127.0.0.1:{closed}" in offline[0], log

    # Fixed: the log says the account is in step.
    config.write_text(
        config.read_text()
        .replace(f"port = {closed}", f"port = {mail_user.imaps_port}")
        .replace(old_password, "a-new-password-4711")
    )
    p = mailtui(env, "sync", "--once")
    assert p.returncode == 0, p.stderr
    log = log_of(tmp_path)
    assert "work: online: in step" in log
    no_secrets(log, old_password, "a-new-password-4711")
    assert stat.S_IMODE((tmp_path / "state" / "mailtui.log").stat().st_mode) == 0o600


def test_log_keeps_a_failed_send_without_the_password(
    mail_user: MailUser, tmp_path: Path
) -> None:
    env = mail_user.cli_home(tmp_path)
    config = Path(env["MAILTUI_CONFIG"])
    config.write_text(
        config.read_text()
        + "\n[accounts.work.smtp]\n"
        f'host = "{mail_user.host}"\n'
        f"port = {mail_user.smtp_port}\n"
        'security = "starttls"\n'
        f'username = "{mail_user.name}"\n'
        "password_command = \"printf '%s' 'wrong-smtp-password-99'\"\n"
    )

    async def queue_one() -> None:
        store = await Store.open(tmp_path / "data" / "mail.sqlite")
        try:
            account = await store.ensure_account("work", AccountKind.IMAP, mail_user.email)
            raw = (
                f"From: {mail_user.email}\r\nTo: bob@example.org\r\nSubject: hello\r\n"
                "Message-ID: <queued@mailtui.test>\r\n\r\nhi\r\n"
            ).encode()
            await store.outbox_add(account.id, raw, mail_user.email, ("bob@example.org",))
        finally:
            await store.close()

    asyncio.run(queue_one())
    p = mailtui(env, "send", "--outbox")
    assert p.returncode == 1, p.stdout + p.stderr
    log = log_of(tmp_path)
    assert "work: cannot send:" in log, log
    no_secrets(log, "wrong-smtp-password-99", mail_user.password)
