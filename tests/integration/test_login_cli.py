"""`mailtui login ACCOUNT`, the real program in a subprocess, against the local
authorization server: the device flow and the loopback flow (this test plays the
browser on the printed URL), the tokens in a keyring (a file, loaded by keyring from
PYTHON_KEYRING_BACKEND), then `mailtui sync --once` logging in to the real Dovecot with
them. No token is ever printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.integration.cli_support import ROOT, home_env, imap_account_toml, mailtui
from tests.servers import MailUser, OAuthTokenServer
from tests.servers.authorization import AuthorizationServer


def toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)


def setup_home(
    home: Path,
    user: MailUser,
    authz: AuthorizationServer | None,
    oauth: dict[str, object] | None,
    write_config: bool = True,
) -> dict[str, str]:
    """The environment of a `mailtui` run in ``home`` (config, data, state, a file
    keyring); its config is the account `work` signing in at ``authz`` unless
    ``write_config`` is false."""
    if write_config:
        assert authz is not None
        write_oauth_config(home, user, oauth if oauth is not None else authz.oauth_table())
    return home_env(
        home,
        PYTHON_KEYRING_BACKEND="tests.unit.keyrings.FileKeyring",
        MAILTUI_TEST_KEYRING_FILE=str(home / "keyring.json"),
        PYTHONPATH=str(ROOT),
    )


def write_oauth_config(home: Path, user: MailUser, table: dict[str, object]) -> None:
    lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in table.items())
    (home / "config.toml").write_text(
        imap_account_toml(user)
        + f"""auth = "oauth2"
[accounts.work.smtp]
host = "{user.host}"
port = {user.smtp_port}
security = "starttls"
[accounts.work.oauth]
{lines}
""",
        encoding="utf-8",
    )


def keyring_file(home: Path) -> dict[str, str]:
    path = home / "keyring.json"
    return json.loads(path.read_text()) if path.exists() else {}


def no_token_in(text: str, authz: AuthorizationServer, oauth_tokens: OAuthTokenServer) -> None:
    for token in (*authz.refresh_tokens(), *oauth_tokens.issued()):
        assert token not in text


def test_login_with_a_device_code_then_sync(
    tmp_path: Path,
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
) -> None:
    env = setup_home(tmp_path, oauth_user, authz, None)
    authz.user = oauth_user.name
    authz.device_answers = ["authorization_pending", "ok"]
    done = mailtui(env, "login", "work", "--qr")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    from mailtui.auth.qr import lines

    assert "\n".join(lines(f"{authz.base}/device-page?user_code=WDJB-MJHT")) in out
    assert f"open   {authz.base}/device-page\n" in out
    assert "enter  WDJB-MJHT\n" in out
    assert "Signed in: account 'work' keeps its sign-in in the keyring." in out
    assert done.stderr == ""
    no_token_in(out, authz, oauth_tokens)
    stored = set(keyring_file(tmp_path))
    assert stored == {"mailtui/work:oauth2-refresh", "mailtui/work:oauth2-access"}

    oauth_user.deliver(b"Subject: hello\r\nMessage-ID: <h@x>\r\n\r\nbody\r\n")
    offset = oauth_user.dovecot.log_size()
    synced = mailtui(env, "sync", "--once")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert f"Login: user=<{oauth_user.name}>, method=OAUTHBEARER" in oauth_user.dovecot.log_text(
        offset
    )
    no_token_in(synced.stdout + synced.stderr, authz, oauth_tokens)
    log = (tmp_path / "state" / "mailtui.log").read_text()
    no_token_in(log, authz, oauth_tokens)


def test_login_in_a_browser_through_the_loopback_redirect(
    tmp_path: Path,
    oauth_user: MailUser,
    oauth_tokens: OAuthTokenServer,
    authz: AuthorizationServer,
) -> None:
    env = setup_home(tmp_path, oauth_user, authz, None)
    authz.user = oauth_user.name
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "login", "work", "--flow", "loopback"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        seen: list[str] = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("  ssh -L "):
                break
        url = next(s.strip() for s in seen if s.startswith(f"  {authz.base}/authorize?"))
        port = httpx.URL(url).params["redirect_uri"].rsplit(":", 1)[1].rstrip("/")
        assert seen[-1] == f"  ssh -L {port}:127.0.0.1:{port} THIS-HOST\n"
        with httpx.Client(follow_redirects=True, timeout=10) as browser:
            landing = browser.get(url)
        assert landing.status_code == 200 and "Signed in" in landing.text
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Signed in: account 'work'" in rest
    no_token_in("".join(seen) + rest + err, authz, oauth_tokens)
    assert "mailtui/work:oauth2-refresh" in keyring_file(tmp_path)
    synced = mailtui(env, "sync", "--once")
    assert synced.returncode == 0, synced.stdout + synced.stderr


def test_login_says_what_is_wrong_in_one_line(
    tmp_path: Path, oauth_user: MailUser, authz: AuthorizationServer
) -> None:
    env = setup_home(tmp_path, oauth_user, authz, authz.oauth_table(device=False))
    asked = mailtui(env, "login", "work", "--flow", "device")
    assert asked.returncode == 1
    assert asked.stderr == (
        f"mailtui: {authz.base.removeprefix('http://')} offers no sign-in with a device code "
        "here; use --flow loopback\n"
    )
    env = setup_home(tmp_path, oauth_user, authz, None)
    authz.device_answers = ["access_denied"]
    denied = mailtui(env, "login", "work")
    assert denied.returncode == 1
    assert denied.stderr.endswith(
        "mailtui: work: the sign-in was declined on the provider's page; nothing was stored\n"
    )
    assert keyring_file(tmp_path) == {}
    unknown = mailtui(env, "login", "home")
    assert unknown.returncode == 2 and "no account named 'home'" in unknown.stderr
