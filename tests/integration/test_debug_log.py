"""`mailtui --debug-log FILE`: the real program syncs and sends (password accounts over
IMAP, POP3 and SMTP, and an OAuth2 account signed in with `mailtui login` whose token is
refreshed on the way), and the debug log is searched for every password and token, plain
and in the base64 of the SASL exchanges; for the password, so are the config, the store,
mailtui.log and what the runs printed. The log must hold each exchange, or the search
would prove nothing."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from tests.integration.cli_support import mailtui, queue_one
from tests.integration.test_login_cli import setup_home
from tests.servers import MailUser, OAuthTokenServer
from tests.servers.authorization import AuthorizationServer


def forms(user: str, secret: str) -> list[str]:
    """The secret, and the base64 of the SASL answers that carry it."""
    sasl = [
        f"\0{user}\0{secret}",  # PLAIN
        f"n,a={user},\x01auth=Bearer {secret}\x01\x01",  # OAUTHBEARER
        f"user={user}\x01auth=Bearer {secret}\x01\x01",  # XOAUTH2
        secret,  # AUTH LOGIN's second answer
    ]
    return [secret, *(base64.b64encode(s.encode()).decode() for s in sasl)]


def run_logged(env: dict[str, str], log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mailtui(env, "--debug-log", str(log), *args)


def stored_files(home: Path) -> dict[str, bytes]:
    """Everything a run leaves on disk for the user: config, store, logs."""
    found = {}
    for sub in ("data", "state"):
        for path in sorted((home / sub).rglob("*")):
            if path.is_file():
                found[str(path.relative_to(home))] = path.read_bytes()
    found["config.toml"] = (home / "config.toml").read_bytes()
    return found


def test_a_password_sync_and_send_leaves_the_password_nowhere(
    tmp_path: Path, mail_user: MailUser
) -> None:
    """IMAP, POP3 and SMTP with --debug-log: the password is in none of the debug log,
    the config, the store, mailtui.log or what the runs printed."""
    pw_script = tmp_path / "pw.sh"  # the password lives outside config.toml
    pw_script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{mail_user.password}'\n")
    pw_script.chmod(0o700)
    (tmp_path / "config.toml").write_text(
        f"""[accounts.work]
kind = "imap"
email = "{mail_user.email}"
username = "{mail_user.name}"
host = "{mail_user.host}"
port = {mail_user.imaps_port}
ca_file = "{mail_user.ca_path}"
password_command = ["{pw_script}"]
[accounts.work.smtp]
host = "{mail_user.host}"
port = {mail_user.smtp_port}
security = "starttls"

[accounts.home]
kind = "pop3"
email = "{mail_user.email}"
username = "{mail_user.name}"
host = "{mail_user.host}"
port = {mail_user.pop3s_port}
ca_file = "{mail_user.ca_path}"
leave_on_server = true
password_command = ["{pw_script}"]
"""
    )
    env = setup_home(tmp_path, mail_user, None, None, write_config=False)
    mail_user.deliver(b"Subject: in\r\nMessage-ID: <in@x>\r\n\r\nbody\r\n")
    queue_one(tmp_path, mail_user, mail_user.email, "logged send")
    log = tmp_path / "debug.log"
    sent = run_logged(env, log, "send", "--outbox")
    assert sent.returncode == 0, sent.stderr
    synced = run_logged(env, log, "sync", "--once")
    assert synced.returncode == 0, synced.stderr
    text = log.read_text()
    host = mail_user.host
    # The exchanges are there, or the search would prove nothing.
    assert f"{host} C: m1 " in text and f"{host} S: * " in text
    assert "AUTHENTICATE PLAIN <authentication data>" in text
    assert "UID FETCH" in text
    assert f"mailtui.wire.pop3: {host} S: +OK" in text
    assert f"mailtui.wire.pop3: {host} C: AUTH PLAIN <authentication data>" in text
    assert f"mailtui.wire.pop3: {host} C: UIDL" in text
    assert f"mailtui.wire.pop3: {host} C: RETR 1" in text
    assert f"{host} C: AUTH PLAIN <authentication data>" in text  # SMTP
    assert f"C: RCPT TO:<{mail_user.email}> accepted" in text
    places = {"debug.log": text.encode(), **stored_files(tmp_path)}
    assert "state/mailtui.log" in places and "data/mail.sqlite" in places
    for run in (sent, synced):
        places[f"output of {run.args[-2:]}"] = (run.stdout + run.stderr).encode()
    for secret in forms(mail_user.name, mail_user.password):
        for where, data in places.items():
            assert secret.encode() not in data, f"{where} holds a secret"
    assert log.stat().st_mode & 0o777 == 0o600


def test_debug_log_of_a_signed_in_account_holds_no_token(
    tmp_path: Path,
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
) -> None:
    env = setup_home(tmp_path, oauth_user, authz, None)
    authz.user = oauth_user.name
    authz.expires_in = 0  # every use refreshes: the token endpoint is in the log too
    log = tmp_path / "debug.log"
    signed = run_logged(env, log, "login", "work")
    assert signed.returncode == 0, signed.stderr
    oauth_user.deliver(b"Subject: in\r\nMessage-ID: <in@x>\r\n\r\nbody\r\n")
    queue_one(tmp_path, oauth_user, oauth_user.email, "logged send")
    sent = run_logged(env, log, "send", "--outbox")
    assert sent.returncode == 0, sent.stderr
    synced = run_logged(env, log, "sync", "--once")
    assert synced.returncode == 0, synced.stderr
    text = log.read_text()
    assert "AUTHENTICATE OAUTHBEARER <authentication data>" in text
    assert "C: AUTH OAUTHBEARER <authentication data>" in text  # SMTP
    assert f"POST {authz.base}/token" in text  # httpx's line: the refresh happened
    assert sum(r["grant_type"] == "refresh_token" for r in authz.token_requests) >= 2
    issued = [*authz.refresh_tokens(), *oauth_tokens.issued()]
    assert len(issued) >= 3
    # The keyring (here a test file keyring outside these places) holds the sign-in.
    places = {"debug.log": text.encode(), **stored_files(tmp_path)}
    for run in (signed, sent, synced):
        places[f"output of {run.args[-2:]}"] = (run.stdout + run.stderr).encode()
    for secret in issued:
        for form in forms(oauth_user.name, secret):
            for where, data in places.items():
                assert form.encode() not in data, f"{where} holds a token"
