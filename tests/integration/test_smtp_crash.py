"""Crash safety of the outbox: a real ``mailtui send --outbox`` process is SIGKILLed at
the moments that matter, then run again; the SMTP server's record and the store say
that nothing was lost and nothing was sent twice unless the server never had it."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailtui.models import AccountKind, FolderRole, OpKind, OutboxState, RemoteFolder
from mailtui.store import Store
from mailtui.sync import outbox
from tests.integration.smtp_support import account_config, draft
from tests.servers import MailUser, SMTPServer
from tests.servers.smtp import AcceptedMessage, SMTPFaults

ROOT = Path(__file__).resolve().parents[2]


def write_config(home: Path, user: MailUser, smtp_port: int) -> None:
    command = f"printf %s {shlex.quote(user.password)}".replace("\\", "\\\\")
    (home / "config.toml").write_text(
        f"""
[accounts.{user.name}]
kind = "imap"
email = "{user.email}"
username = "{user.name}"
host = "{user.host}"
port = {user.imaps_port}
security = "tls"
ca_file = "{user.ca_path}"
password_command = "{command}"
[accounts.{user.name}.smtp]
host = "{user.host}"
port = {smtp_port}
security = "starttls"
""",
        encoding="utf-8",
    )


def env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MAILTUI_DATA_DIR": str(home / "data"),
        "MAILTUI_STATE_DIR": str(home / "state"),
        "MAILTUI_CONFIG": str(home / "config.toml"),
    }


def start_send(home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mailtui", "send", "--outbox"],
        cwd=ROOT,
        env=env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_send(home: Path) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(
        [sys.executable, "-m", "mailtui", "send", "--outbox"],
        cwd=ROOT,
        env=env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in p.stdout + p.stderr
    return p


def queue_messages(home: Path, user: MailUser, rcpt: str, subjects: list[str]) -> list[int]:
    async def go() -> list[int]:
        acc = account_config(user)
        async with await Store.open(home / "data" / "mail.sqlite") as store:
            account = await store.ensure_account(user.name, AccountKind.IMAP, user.email)
            await store.sync_folders(
                account.id,
                [
                    RemoteFolder("INBOX", "INBOX", FolderRole.INBOX),
                    RemoteFolder("Sent", "Sent", FolderRole.SENT),
                ],
            )
            ids = []
            for s in subjects:
                from mailtui.compose import build_message

                msg = build_message(draft(acc, rcpt, subject=s, attachments=()))
                ids.append(await outbox.queue(store, account.id, msg))
            return ids

    return asyncio.run(go())


def outbox_rows(home: Path) -> list[tuple[int, str, int, str]]:
    con = sqlite3.connect(home / "data" / "mail.sqlite")
    try:
        return con.execute(
            "SELECT id, state, attempts, last_error FROM outbox ORDER BY id"
        ).fetchall()
    finally:
        con.close()


def append_ops(home: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(home / "data" / "mail.sqlite")
    try:
        return con.execute(
            "SELECT kind, payload FROM pending_ops WHERE kind = ? ORDER BY id",
            (OpKind.APPEND.value,),
        ).fetchall()
    finally:
        con.close()


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL


def with_subject(messages: list[AcceptedMessage], subject: str) -> list[AcceptedMessage]:
    return [m for m in messages if f"Subject: {subject}\r\n".encode() in m.data]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir(mode=0o700)
    (tmp_path / "state").mkdir(mode=0o700)
    return tmp_path


def test_killed_after_queuing_before_sending_sends_once_on_restart(
    home: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    [item] = queue_messages(home, me, rcpt.email, ["queued then killed"])
    # A server that takes the connection and never greets holds mailtui before MAIL FROM.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        write_config(home, me, silent.getsockname()[1])
        proc = start_send(home)
        silent.settimeout(20)
        conn, _ = silent.accept()
        try:
            kill(proc)
        finally:
            conn.close()
    assert outbox_rows(home) == [(item, OutboxState.QUEUED.value, 0, "")]
    assert rcpt.received_messages() == []

    write_config(home, me, me.smtp_port)
    p = run_send(home)
    assert p.returncode == 0, p.stderr
    assert "'queued then killed': sent to" in p.stdout
    assert len(rcpt.received_messages()) == 1
    assert [r[:2] for r in outbox_rows(home)] == [(item, OutboxState.SENT.value)]
    assert len(append_ops(home)) == 1
    again = run_send(home)  # nothing left: nothing sent twice
    assert again.returncode == 0 and again.stdout == ""
    assert len(rcpt.received_messages()) == 1


@pytest.mark.parametrize("server_accepts", [True, False], ids=["accepted", "never-accepted"])
def test_killed_between_accept_and_filing_and_during_data(
    home: Path,
    mail_user_factory: Callable[..., MailUser],
    smtp_server: SMTPServer,
    server_accepts: bool,
) -> None:
    """First message: accepted, SENT committed with its APPEND op, not yet filed, when
    the process dies. Second: on the wire, and either delivered by the server just
    before the kill (its 250 never read), or held in DATA and never delivered."""
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    first, second = queue_messages(home, me, rcpt.email, ["first", "second"])
    write_config(home, me, me.smtp_port)
    procs: list[subprocess.Popen[str]] = []

    class Hook(list[AcceptedMessage]):
        """Runs in the server's thread, as it records a delivered message."""

        def append(self, m: AcceptedMessage) -> None:
            super().append(m)
            if b"Subject: second\r\n" in m.data and server_accepts:
                os.kill(procs[0].pid, signal.SIGKILL)  # delivered; the 250 is never read
            if b"Subject: first\r\n" in m.data and not server_accepts:
                smtp_server.faults = SMTPFaults(data_delay=30.0, drop_in_data=True)

    original: Any = smtp_server.messages
    smtp_server.messages = Hook(original)
    try:
        procs.append(start_send(home))
        if server_accepts:
            procs[0].wait(20)
        else:
            wait_for(
                lambda: (
                    [r[1] for r in outbox_rows(home)]
                    == [OutboxState.SENT.value, OutboxState.SENDING.value]
                )
            )
            kill(procs[0])
        assert procs[0].returncode == -signal.SIGKILL
        smtp_server.reset()
    finally:
        with smtp_server._lock:
            smtp_server.messages = list(smtp_server.messages)

    assert [r[:2] for r in outbox_rows(home)] == [
        (first, OutboxState.SENT.value),
        (second, OutboxState.SENDING.value),
    ]
    assert len(append_ops(home)) == 1

    p = run_send(home)
    # The first is not sent again and keeps its one APPEND op; the second may have gone:
    # it waits for the user instead of being sent a second time.
    assert p.returncode == 1
    assert "'second'" in p.stderr and "may or may not have been sent" in p.stderr
    assert len(with_subject(rcpt.received_messages(), "first")) == 1
    assert len(with_subject(rcpt.received_messages(), "second")) == (1 if server_accepts else 0)
    rows = outbox_rows(home)
    assert [r[:2] for r in rows] == [
        (first, OutboxState.SENT.value),
        (second, OutboxState.UNCERTAIN.value),
    ]
    assert len(append_ops(home)) == 1

    # The user decides: it went (file it) or it did not (send it).
    async def decide() -> None:
        async with await Store.open(home / "data" / "mail.sqlite") as store:
            if server_accepts:
                await outbox.mark_sent(store, second)
            else:
                await outbox.retry(store, second)

    asyncio.run(decide())
    p = run_send(home)
    assert p.returncode == 0, p.stderr
    assert len(with_subject(rcpt.received_messages(), "first")) == 1
    assert len(with_subject(rcpt.received_messages(), "second")) == 1
    assert [r[1] for r in outbox_rows(home)] == [OutboxState.SENT.value] * 2
    assert len(append_ops(home)) == 2


def test_send_outbox_exit_codes_and_one_line_errors(
    home: Path, mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    me, rcpt = mail_user_factory("me"), mail_user_factory("rcpt")
    write_config(home, me, me.smtp_port)
    p = run_send(home)  # an empty outbox: everything went
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    queue_messages(home, me, rcpt.email, ["refused"])
    with smtp_server.inject(refuse_auth=True):
        p = run_send(home)
    assert p.returncode == 1
    assert p.stderr.strip() == (
        f"{me.name}: not sending: 127.0.0.1 refused the login for '{me.name}': "
        "535 5.7.8 Authentication credentials invalid"
    )
