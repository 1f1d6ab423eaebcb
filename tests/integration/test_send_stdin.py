"""`mailtui send [--account A] [-t] [-f FROM] [RECIPIENT…] < message`, the real binary
against the suite's SMTP server (and SOGo for an Exchange account): sent (exit 0),
not queued (a clear line, exit 1 or 2, nothing in the outbox), queued but not sent
(exit 3, it waits in the outbox and the message says so)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mailtui.commands.common import EXIT_QUEUED
from mailtui.models import OutboxItem, OutboxState
from mailtui.store import Store
from tests.servers import EASUser, MailUser, SOGoServer
from tests.servers.cli import ROOT, run_mailtui
from tests.servers.ports import wait_until

pytestmark = pytest.mark.integration


def smtp_home(where: Path, user: MailUser, smtp_port: int | None = None) -> dict[str, str]:
    env = user.cli_home(where)
    with open(env["MAILTUI_CONFIG"], "a", encoding="utf-8") as config:
        config.write(
            "[accounts.work.smtp]\n"
            f'host = "{user.host}"\n'
            f"port = {smtp_port or user.smtp_port}\n"
            'security = "starttls"\n'
        )
    return env


def outbox_items(env: dict[str, str]) -> list[OutboxItem]:
    async def read() -> list[OutboxItem]:
        async with await Store.open(Path(env["MAILTUI_DATA_DIR"]) / "mail.sqlite") as store:
            return [i for a in await store.accounts() for i in await store.outbox(a.id)]

    return asyncio.run(read())


def message(to: str, subject: str, extra: str = "") -> str:
    # LF line ends and no Date or Message-ID, as a script writes it.
    return f"To: {to}\n{extra}Subject: {subject}\n\nHello from a script.\n"


def test_sent_with_recipients_from_the_header_and_bcc_not_in_the_bytes(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser]
) -> None:
    me, to, hidden = mail_user_factory("me"), mail_user_factory("to"), mail_user_factory("bcc")
    env = smtp_home(tmp_path, me)
    done = run_mailtui(
        env, "send", "-t", input=message(to.email, "Cron report", f"Bcc: {hidden.email}\n")
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "sent to" in done.stdout
    [accepted] = me.smtp.messages_to(to.email)
    assert sorted(accepted.rcpt_tos) == sorted([to.email, hidden.email])
    assert accepted.mail_from == me.email
    sent = email.message_from_bytes(accepted.data, policy=email.policy.default)
    assert sent["Bcc"] is None and sent["Subject"] == "Cron report"
    assert sent["From"] == me.email and sent["Date"] and sent["Message-ID"]
    assert b"\r\n" in accepted.data and b"\n\n" not in accepted.data.replace(b"\r\n", b"")


def test_recipients_as_arguments_and_an_envelope_sender(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser]
) -> None:
    """sendmail-style (git send-email): the arguments are the recipients, the header is
    left as it is; -f is the envelope sender."""
    me, to, other = mail_user_factory("me2"), mail_user_factory("to2"), mail_user_factory("cc2")
    env = smtp_home(tmp_path, me)
    raw = message(f"list@example.invalid, {to.email}", "[PATCH] fix")
    raw += ".\nThe dot above is part of the message.\n"
    # What git send-email runs: sendmail's -i, then -f and the recipients.
    done = run_mailtui(env, "send", "-i", "-f", me.email, to.email, other.email, input=raw)
    assert done.returncode == 0, done.stderr
    [accepted] = me.smtp.messages_to(other.email)
    assert sorted(accepted.rcpt_tos) == sorted([to.email, other.email])
    assert accepted.data.endswith(b"\r\n.\r\nThe dot above is part of the message.\r\n")


def test_not_queued_says_why_and_leaves_nothing(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser]
) -> None:
    me = mail_user_factory("me3")
    env = smtp_home(tmp_path, me)
    cases = [
        (("send",), message(me.email, "no recipients"), "no recipients: give them as arguments"),
        (("send", "-t"), "", "the message on standard input is empty"),
        (("send", "not an address"), message(me.email, "x"), "is not an email address"),
        (("send", "--account", "nope", me.email), message(me.email, "x"), "no account named"),
        (("send", "--outbox", me.email), "", "takes no message or recipients"),
    ]
    for args, text, words in cases:
        done = run_mailtui(env, *args, input=text)
        assert done.returncode in (1, 2), (args, done.stderr)
        assert words in done.stderr, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    if (tmp_path / "data" / "mail.sqlite").exists():  # the store may not even be made
        assert outbox_items(env) == []
    assert me.smtp.messages_from(me.name) == []


def test_queued_not_sent_waits_in_the_outbox_and_goes_later(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser]
) -> None:
    me, to = mail_user_factory("me4"), mail_user_factory("to4")
    down = smtp_home(tmp_path, me, smtp_port=1)  # nothing listens there
    done = run_mailtui(down, "send", to.email, input=message(to.email, "Later"))
    assert done.returncode == EXIT_QUEUED, done.stderr
    assert "queued, not sent" in done.stderr and "it waits in the outbox" in done.stderr
    assert "mailtui send --outbox" in done.stderr
    [item] = outbox_items(down)
    assert item.state is OutboxState.QUEUED
    up = smtp_home(tmp_path, me)  # the server is back
    again = run_mailtui(up, "send", "--outbox")
    assert again.returncode == 0, again.stderr
    assert [m.rcpt_tos for m in me.smtp.messages_to(to.email)] == [[to.email]]


def test_refused_waits_for_the_user(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser]
) -> None:
    me = mail_user_factory("me5")
    env = smtp_home(tmp_path, me)
    nobody = me.email.replace("me5", "nobody-here")
    done = run_mailtui(env, "send", nobody, input=message(nobody, "Refused"))
    assert done.returncode == EXIT_QUEUED, done.stderr
    assert "refused" in done.stderr and "retry or discard it" in done.stderr
    [item] = outbox_items(env)
    assert item.state is OutboxState.FAILED


def exchange_home(where: Path, user: EASUser) -> dict[str, str]:
    config = where / "config.toml"
    config.write_text(
        "[accounts.exchange]\n"
        'kind = "exchange"\n'
        f'email = "{user.email}"\n'
        f'username = "{user.name}"\n'
        'host = "127.0.0.1"\n'
        'security = "none"\n'
        f'url = "{user.url}"\n'
        f"password_command = \"printf '%s' '{user.password}'\"\n",
        encoding="utf-8",
    )
    return {
        **os.environ,
        "MAILTUI_DATA_DIR": str(where / "data"),
        "MAILTUI_STATE_DIR": str(where / "state"),
        "MAILTUI_CONFIG": str(config),
    }


def test_killed_while_sogo_has_the_message_it_becomes_uncertain(
    tmp_path: Path, eas_user: EASUser, sogo: SOGoServer
) -> None:
    """SIGKILL while the SendMail is with SOGo (its SMTP server holds the answer): the
    next run finds the item cut off in `sending`, makes it uncertain and sends nothing;
    SOGo did deliver it, so a resend would have been a duplicate."""
    env = exchange_home(tmp_path, eas_user)
    db = tmp_path / "data" / "mail.sqlite"
    with sogo.smtp.inject(data_delay=4.0, times=1):
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailtui", "send", "-t"], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(message(eas_user.email, "Killed on the way").encode())
        proc.stdin.close()
        deadline = time.monotonic() + 60
        while not (db.exists() and _states(db) == ["sending"]):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # "sending" is committed just before the request leaves: a kill can land on
        # either side of it, so SOGo holds the message at most once (usually once).
        wait_until(lambda: len(eas_user.sent_messages()) == 1, timeout=30)
        delivered = len(eas_user.sent_messages())
        assert delivered <= 1
    again = run_mailtui(env, "send", "--outbox")
    assert again.returncode == 1, again.stderr
    assert "it may or may not have been sent" in again.stderr
    assert _states(db) == ["uncertain"]
    assert len(eas_user.sent_messages()) == delivered  # not sent again


def _states(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT state FROM outbox ORDER BY id")]
    except sqlite3.OperationalError:  # not made yet
        return []
    finally:
        con.close()


def test_an_exchange_account_sends_through_sogo(
    tmp_path: Path, eas_user: EASUser, sogo: SOGoServer
) -> None:
    sogo.add_user(f"{eas_user.name}_to", "secret2")
    to = sogo.email(f"{eas_user.name}_to")
    env = exchange_home(tmp_path, eas_user)
    done = run_mailtui(env, "send", "-t", input=message(to, "Through ActiveSync"))
    assert done.returncode == 0, done.stderr
    assert "(SendMail)" in done.stdout
    [accepted] = eas_user.sent_messages()
    assert accepted.delivered_to == [f"{eas_user.name}_to"]
    assert outbox_items(env) == []



def test_an_account_without_smtp_settings_queues_nothing(
    tmp_path: Path, mail_user_factory: Callable[..., MailUser]
) -> None:
    me = mail_user_factory("me6")
    env = me.cli_home(tmp_path)  # IMAP only, no [smtp] table
    done = run_mailtui(env, "send", me.email, input=message(me.email, "Nowhere"))
    assert done.returncode == 1, done.stderr
    assert "not queued: account 'work' has no [accounts.work.smtp] settings" in done.stderr
    assert outbox_items(env) == []
