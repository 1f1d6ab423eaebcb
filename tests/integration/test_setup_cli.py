"""`mailtui setup --email … --non-interactive`, the real entry point in a subprocess,
with every discovery source pointed at the suite's dnsmasq and HTTP servers: what it
prints, what it writes to config.toml (and that it writes nothing when it fails), and
its one-line failures."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from mailtui.accounts import load_config
from tests.servers.dnsmasq import DnsServer
from tests.servers.web import WebServer

ROOT = Path(__file__).resolve().parents[2]

EXISTING = """# my mail
[accounts.work]   # the office
kind = "imap"
email = "me@work.example"
host = "imap.work.example"

[ui]
theme = "mailtui-light"
"""


def setup(
    tmp_path: Path, dns: DnsServer, web: WebServer, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
    }
    command = [sys.executable, "-m", "mailtui", "setup", "--dns", dns.address]
    command += ["--autoconfig-url", web.url("/missing/{domain}")]
    command += ["--autodiscover-url", web.url("/missing/autodiscover")]
    command += ["--ispdb-url", web.url("/ispdb/{domain}"), "--non-interactive", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _one_line(p: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in p.stdout + p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_srv_records_become_an_account(
    tmp_path: Path, dns_server: DnsServer, web: WebServer
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(EXISTING)
    config.chmod(0o600)
    p = setup(tmp_path, dns_server, web, "--email", "ann@srv.test")
    assert p.returncode == 0, p.stderr
    assert "SRV records: found" in p.stdout
    assert "provider table: nothing" in p.stdout
    assert "Chose imap from the SRV records." in p.stdout
    assert "Wrote account 'srv' (imap)" in p.stdout
    assert "keyring set mailtui srv" in p.stdout
    text = config.read_text()
    assert text.startswith(EXISTING.split("[ui]")[0].rstrip())  # the user's part untouched
    assert "# the office" in text and 'theme = "mailtui-light"' in text
    acc = load_config(config).account("srv")
    assert (acc.host, acc.port, acc.security, acc.username) == (
        "imaps.srv.test",
        10993,
        "tls",
        "ann@srv.test",
    )
    assert acc.smtp is not None
    assert (acc.smtp.host, acc.smtp.port, acc.smtp.security) == ("smtp.srv.test", 10587, "starttls")
    assert "password" not in text.replace("password_command", "")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    again = setup(tmp_path, dns_server, web, "--email", "bo@srv.test", "--name", "srv")
    assert again.returncode == 2
    assert "an account of that name exists already" in _one_line(again)
    assert load_config(config).account("srv").email == "ann@srv.test"


def test_autoconfig_values_and_the_users_own_win(
    tmp_path: Path, dns_server: DnsServer, web: WebServer
) -> None:
    p = setup(
        tmp_path,
        dns_server,
        web,
        "--email",
        "fay@ac.test",
        "--autoconfig-url",
        web.url("/good"),
        "--password-command",
        "pass show mail/ac",
        "--name",
        "home",
    )
    assert p.returncode == 0, p.stderr
    assert "Chose imap from the provider's autoconfig (Autoconfig Test Mail)." in p.stdout
    assert "keyring" not in p.stdout
    acc = load_config(tmp_path / "config.toml").account("home")
    assert (acc.host, acc.username, acc.password_command) == (
        "imap.ac.test",
        "fay",
        "pass show mail/ac",
    )
    assert acc.smtp is not None and acc.smtp.auth == "oauth2"

    p = setup(
        tmp_path,
        dns_server,
        web,
        "--email",
        "fay@ac.test",
        "--autoconfig-url",
        web.url("/good"),
        "--kind",
        "pop3",
        "--host",
        "pop3.elsewhere.test",
        "--security",
        "starttls",
    )
    assert p.returncode == 0, p.stderr
    acc = load_config(tmp_path / "config.toml").account("ac")
    assert (acc.kind.value, acc.host, acc.port, acc.security) == (
        "pop3",
        "pop3.elsewhere.test",
        110,  # the usual port of STARTTLS, not the proposal's 995
        "starttls",
    )
    assert "cannot sync" not in p.stdout  # POP3 accounts sync

    p = setup(
        tmp_path,
        dns_server,
        web,
        "--email",
        "fay@ac.test",
        "--autoconfig-url",
        web.url("/good"),
        "--kind",
        "exchange",
        "--host",
        "eas.elsewhere.test",
        "--name",
        "eas",
    )
    assert p.returncode == 0, p.stderr
    assert "cannot sync" not in p.stdout  # Exchange accounts sync
    acc = load_config(tmp_path / "config.toml").account("eas")
    assert (acc.kind.value, acc.host, acc.smtp) == ("exchange", "eas.elsewhere.test", None)


def test_nothing_found_is_one_line_and_writes_nothing(
    tmp_path: Path, dns_server: DnsServer, web: WebServer
) -> None:
    p = setup(tmp_path, dns_server, web, "--email", "eve@nowhere.test")
    assert p.returncode == 1
    assert _one_line(p) == (
        "mailtui: no mail server found for nowhere.test; give --host (and --kind, --port, "
        "--security) to set the account up by hand"
    )
    assert "MX records: nothing: no MX records for nowhere.test" in p.stdout
    assert not (tmp_path / "config.toml").exists()

    p = setup(tmp_path, dns_server, web, "--email", "eve@nowhere.test", "--host", "mail.x.test")
    assert p.returncode == 0, p.stderr
    assert "no SMTP server found" in p.stdout
    acc = load_config(tmp_path / "config.toml").account("nowhere")
    assert (acc.host, acc.port) == ("mail.x.test", 993)


def test_a_kind_not_found_is_said(tmp_path: Path, dns_server: DnsServer, web: WebServer) -> None:
    p = setup(tmp_path, dns_server, web, "--email", "ann@srv.test", "--kind", "pop3")
    assert p.returncode == 1
    assert _one_line(p) == (
        "mailtui: no pop3 server found for srv.test (found: imap); give --host to set one up anyway"
    )


def test_bad_input_is_one_line(tmp_path: Path, dns_server: DnsServer, web: WebServer) -> None:
    p = setup(tmp_path, dns_server, web, "--email", "not-an-address")
    assert p.returncode == 1
    assert "is not an email address" in _one_line(p)
    p = setup(tmp_path, dns_server, web, "--email", "a@srv.test", "--dns", "127.0.0.1:dns")
    assert p.returncode == 1
    assert "expected HOST:PORT" in _one_line(p)
    p = setup(tmp_path, dns_server, web, "--email", "a@srv.test", "--ca-file", "nope.pem")
    assert p.returncode == 1
    assert _one_line(p) == f"mailtui: --ca-file {ROOT / 'nope.pem'}: no such file"
    assert "Looking for" not in p.stdout  # said before anything runs
    p = setup(tmp_path, dns_server, web)
    assert p.returncode == 1
    assert _one_line(p) == "mailtui: --email ADDRESS is needed with --non-interactive"
    assert not (tmp_path / "config.toml").exists()
