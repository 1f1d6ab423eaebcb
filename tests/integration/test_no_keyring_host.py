"""A host without a keyring (keyring's `fail` backend, as over SSH), the real program:
in a terminal, `mailtui sync` asks once for the password (not echoed), keeps it in
memory, and logs in to the real Dovecot; without a terminal it asks nothing and says
what to do instead."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.test_login_cli import ROOT
from tests.servers import MailUser


def home_for(home: Path, user: MailUser) -> dict[str, str]:
    (home / "config.toml").write_text(
        f"""[accounts.work]
kind = "imap"
email = "{user.email}"
username = "{user.name}"
host = "{user.host}"
port = {user.imaps_port}
ca_file = "{user.ca_path}"
"""
    )
    return {
        **os.environ,
        "MAILTUI_DATA_DIR": str(home / "data"),
        "MAILTUI_STATE_DIR": str(home / "state"),
        "MAILTUI_CONFIG": str(home / "config.toml"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONPATH": str(ROOT),
    }


def read_until(fd: int, wanted: bytes, seen: bytearray, limit: float = 30.0) -> None:
    """Reads the terminal into ``seen`` until ``wanted`` shows (or EOF / the limit,
    which the caller's assertion then reports)."""
    end = time.monotonic() + limit
    while wanted not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            seen += chunk


def test_a_terminal_is_asked_once_and_nothing_is_kept(tmp_path: Path, mail_user: MailUser) -> None:
    env = home_for(tmp_path, mail_user)
    mail_user.deliver(b"Subject: asked\r\nMessage-ID: <a@x>\r\n\r\nbody\r\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "sync", "--once"],
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        read_until(master, b"Password for work", seen)
        assert b"this host has no keyring" in seen, seen.decode(errors="replace")
        assert b"kept in memory for this run only" in seen
        assert f"Password for work ({mail_user.name} at {mail_user.host}): ".encode() in seen
        os.write(master, mail_user.password.encode() + b"\n")
        read_until(master, b"work: online", seen)
        assert proc.wait(timeout=60) == 0, seen.decode(errors="replace")
        read_until(master, b"\0", seen, limit=1)  # whatever is left
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert mail_user.password.encode() not in seen  # not echoed
    assert b"online" in seen
    # Nothing was written anywhere: a second run without a terminal has no password.
    again = subprocess.run(
        [sys.executable, "-m", "mailtui", "sync", "--once"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert again.returncode == 1
    assert "Password for" not in again.stdout + again.stderr
    assert (
        "account 'work': this host has no keyring (no Secret Service, KWallet, macOS Keychain "
        "or Windows Credential Manager answers); set password_command"
    ) in again.stdout
