"""A host without a keyring (keyring's `fail` backend, as over SSH), the real program:
in a terminal, `mailtui sync` asks once for the password (not echoed), keeps it in
memory, and logs in to the real Dovecot; without a terminal it asks nothing and says
what to do instead. And mailtui's encrypted secrets file named as the backend: a
sign-in kept there, the passphrase asked once per run."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.cli_support import ROOT, home_env, imap_account_toml, mailtui
from tests.integration.test_login_cli import setup_home
from tests.servers import MailUser, OAuthTokenServer
from tests.servers.authorization import AuthorizationServer


def home_for(home: Path, user: MailUser) -> dict[str, str]:
    (home / "config.toml").write_text(imap_account_toml(user))
    return home_env(
        home, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", PYTHONPATH=str(ROOT)
    )


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


def in_terminal(
    env: dict[str, str], args: list[str], answers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    """Runs `mailtui ARGS` on a terminal, answering each prompt; (exit code, screen)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", *args],
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
        for prompt, answer in answers:
            read_until(master, prompt, seen)
            assert prompt in seen, seen.decode(errors="replace")
            os.write(master, answer + b"\n")
        code = proc.wait(timeout=60)
        read_until(master, b"\0", seen, limit=1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, bytes(seen)


def test_a_terminal_is_asked_once_and_nothing_is_kept(tmp_path: Path, mail_user: MailUser) -> None:
    env = home_for(tmp_path, mail_user)
    mail_user.deliver(b"Subject: asked\r\nMessage-ID: <a@x>\r\n\r\nbody\r\n")
    prompt = f"Password for work ({mail_user.name} at {mail_user.host}): ".encode()
    code, seen = in_terminal(env, ["sync", "--once"], [(prompt, mail_user.password.encode())])
    assert code == 0, seen.decode(errors="replace")
    assert b"this host has no keyring" in seen
    assert b"kept in memory for this run only" in seen
    assert mail_user.password.encode() not in seen  # not echoed
    assert b"online" in seen
    # Nothing was written anywhere: a second run without a terminal has no password.
    again = mailtui(env, "sync", "--once")
    assert again.returncode == 1
    assert "Password for" not in again.stdout + again.stderr
    assert (
        "account 'work': this host has no keyring (no Secret Service, KWallet, macOS Keychain "
        "or Windows Credential Manager answers); set password_command"
    ) in again.stdout


def test_signed_in_on_a_host_without_keyring_with_the_encrypted_file(
    tmp_path: Path,
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
) -> None:
    """The whole SSH story for OAuth2: no keyring, mailtui's encrypted file named as the
    backend, `mailtui login` (a new passphrase, the device flow), then `mailtui sync`
    (the passphrase once) logs in to Dovecot with the stored sign-in."""
    env = setup_home(tmp_path, oauth_user, authz, None)
    env["PYTHON_KEYRING_BACKEND"] = "mailtui.secrets.filestore.EncryptedFileKeyring"
    authz.user = oauth_user.name
    passphrase = b"a long passphrase"
    code, screen = in_terminal(
        env,
        ["login", "work"],
        [
            (b"New passphrase for mailtui's secrets file", passphrase),
            (b"The same passphrase again: ", passphrase),
        ],
    )
    assert code == 0, screen.decode(errors="replace")
    assert b"enter  WDJB-MJHT" in screen and b"Signed in: account 'work'" in screen
    assert passphrase not in screen
    stored = (tmp_path / "data" / "secrets.enc").read_text()
    assert all(token not in stored for token in authz.refresh_tokens())

    offset = oauth_user.dovecot.log_size()
    code, screen = in_terminal(
        env, ["sync", "--once"], [(b"Passphrase of mailtui's secrets file", passphrase)]
    )
    assert code == 0, screen.decode(errors="replace")
    log = oauth_user.dovecot.log_text(offset)
    assert f"Login: user=<{oauth_user.name}>, method=OAUTHBEARER" in log
    # Without a terminal the file stays locked, and the account says so.
    locked = mailtui(env, "sync", "--once")
    assert locked.returncode == 1
    assert "secrets.enc is locked (mailtui asks for its passphrase" in locked.stdout
