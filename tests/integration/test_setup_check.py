"""`mailtui setup … --check`: the servers discovery found are tried for real (the suite's
Dovecot and SMTP server, found through SRV records of a dnsmasq started here), and each
failure comes from a real failing server: a wrong password, a closed port, a
certificate not trusted. A failed check writes nothing; a server outside the address's
domain gets no password unless the user confirms it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.accounts import load_config
from tests.servers import MailUser
from tests.servers.dnsmasq import DnsServer
from tests.servers.ports import free_ports

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def found(mail_user: MailUser) -> Iterator[DnsServer]:
    """SRV records of check.test pointing at the real servers (as localhost, the name
    their certificate has); closed.test points at a port nothing listens on."""
    closed = free_ports(1)[0]
    server = DnsServer(
        srv=[
            f"_imaps._tcp.check.test,localhost,{mail_user.imaps_port},0,0",
            f"_submission._tcp.check.test,localhost,{mail_user.smtp_port},0,0",
            f"_imaps._tcp.closed.test,localhost,{closed},0,0",
        ],
        hosts=["localhost,127.0.0.1"],
    )
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


def setup(
    tmp_path: Path, dns: DnsServer, email: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MAILTUI_DATA_DIR": str(tmp_path / "data"),
        "MAILTUI_STATE_DIR": str(tmp_path / "state"),
        "MAILTUI_CONFIG": str(tmp_path / "config.toml"),
    }
    command = [sys.executable, "-m", "mailtui", "setup", "--email", email, "--dns", dns.address]
    command += ["--autoconfig-url", "http://127.0.0.1:9/none", "--ispdb-url"]
    command += ["http://127.0.0.1:9/{domain}", "--autodiscover-url"]
    command += ["http://127.0.0.1:9/{domain}", "--check", "--non-interactive", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )


def _login(user: MailUser, password: str) -> list[str]:
    """The login as a password manager hands it over: a command reading a file."""
    secret = user.home / "setup-password"
    secret.write_text(password)
    return ["--username", user.name, "--password-command", f"cat {shlex.quote(str(secret))}"]


def _one_line(p: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in p.stdout + p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_a_host_outside_the_domain_gets_no_password_unasked(
    tmp_path: Path, found: DnsServer, mail_user: MailUser
) -> None:
    p = setup(tmp_path, found, "ann@check.test", *_login(mail_user, mail_user.password))
    assert p.returncode == 1
    assert _one_line(p) == (
        "mailtui: localhost: not in check.test, where discovery found it; no password "
        "goes there unless you confirm with --trust-hosts (nothing written)"
    )
    assert "Checking" not in p.stdout
    assert not (tmp_path / "config.toml").exists()


def test_both_servers_checked_then_written(
    tmp_path: Path, found: DnsServer, mail_user: MailUser
) -> None:
    p = setup(
        tmp_path,
        found,
        "ann@check.test",
        "--trust-hosts",
        "--ca-file",
        str(mail_user.ca_path),
        *_login(mail_user, mail_user.password),
    )
    assert p.returncode == 0, p.stderr
    assert f"incoming imap localhost:{mail_user.imaps_port}: logged in" in p.stdout
    assert f"outgoing smtp localhost:{mail_user.smtp_port}: logged in" in p.stdout
    acc = load_config(tmp_path / "config.toml").account("check")
    assert (acc.host, acc.port, acc.username) == ("localhost", mail_user.imaps_port, mail_user.name)
    assert mail_user.password not in (tmp_path / "config.toml").read_text()


def test_a_wrong_password_is_refused_and_nothing_written(
    tmp_path: Path, found: DnsServer, mail_user: MailUser
) -> None:
    p = setup(
        tmp_path,
        found,
        "ann@check.test",
        "--trust-hosts",
        "--ca-file",
        str(mail_user.ca_path),
        *_login(mail_user, "not-the-password"),
    )
    assert p.returncode == 1
    line = _one_line(p)
    assert line.startswith(f"mailtui: incoming imap localhost:{mail_user.imaps_port}: ")
    assert "nothing written" in line
    assert "login" in line.lower() or "authentication" in line.lower()
    assert not (tmp_path / "config.toml").exists()


def test_a_certificate_not_trusted_shows_its_fingerprint(
    tmp_path: Path, found: DnsServer, mail_user: MailUser
) -> None:
    p = setup(
        tmp_path, found, "ann@check.test", "--trust-hosts", *_login(mail_user, mail_user.password)
    )
    assert p.returncode == 1
    line = _one_line(p)
    assert "certificate" in line.lower()
    assert "sha256:" in line.lower() or "SHA-256" in line
    assert not (tmp_path / "config.toml").exists()


def test_a_closed_port_is_said(tmp_path: Path, found: DnsServer, mail_user: MailUser) -> None:
    p = setup(tmp_path, found, "ann@closed.test", "--trust-hosts", *_login(mail_user, "x"))
    assert p.returncode == 1
    line = _one_line(p)
    assert f"cannot connect to localhost:{_port(line)}: Connection refused" in line
    assert not (tmp_path / "config.toml").exists()


def _port(line: str) -> str:
    return line.split("cannot connect to localhost:")[1].split(":")[0]


@pytest.mark.parametrize(
    ("protocol", "port"), [("imap", "imap_port"), ("pop3", "pop3_port"), ("smtp", "smtp_port")]
)
async def test_the_subject_of_a_certificate_is_read_after_starttls(
    mail_user: MailUser, protocol: str, port: str
) -> None:
    """The check shows the subject of a certificate not trusted over STARTTLS (STLS for
    POP3, after EHLO for SMTP) as well as over implicit TLS: the harness's own."""
    from mailtui.account_setup import certificate_subject

    subject = await certificate_subject(
        mail_user.host, getattr(mail_user, port), "starttls", protocol
    )
    assert subject == "CN=localhost"
    assert await certificate_subject(mail_user.host, mail_user.imaps_port, "tls") == subject
    assert await certificate_subject(mail_user.host, mail_user.imap_port, "none") == ""


async def test_an_outgoing_server_not_trusted_offers_its_own_pin(
    tmp_path: Path, mail_user: MailUser
) -> None:
    """The SMTP server's certificate not trusted (its table names another CA) while the
    incoming one is: the check names the SMTP server's certificate (SHA-256 and
    subject), to be pinned as smtp.tls_fingerprint."""
    import dataclasses
    import hashlib
    import ssl

    from mailtui.account_setup import check
    from mailtui.config import AccountConfig, SmtpConfig
    from mailtui.models import AccountKind, Security
    from tests.servers.tls import make_self_signed_cert

    other = make_self_signed_cert(tmp_path / "other-ca")
    acc = AccountConfig(
        name="check", kind=AccountKind.IMAP, email=mail_user.email, username=mail_user.name,
        host=mail_user.host, port=mail_user.imaps_port, security=Security.TLS,
        password_command=f"printf '%s\\n' {shlex.quote(mail_user.password)}",
        ca_file=mail_user.ca_path,
        smtp=SmtpConfig(host=mail_user.host, port=mail_user.smtp_port,
                        security=Security.STARTTLS, username=mail_user.name,
                        password_command=f"printf '%s\\n' {shlex.quote(mail_user.password)}",
                        ca_file=other.cert_path),
    )  # fmt: skip
    incoming, outgoing = await check(acc, timeout=20)
    assert incoming.ok, incoming
    assert not outgoing.ok and "could not be verified" in outgoing.text
    der = ssl.PEM_cert_to_DER_cert(mail_user.ca_path.read_text())
    assert (outgoing.pin_key, outgoing.fingerprint) == (
        "smtp.tls_fingerprint", hashlib.sha256(der).hexdigest()
    )
    assert outgoing.subject == "CN=localhost"
    pinned = dataclasses.replace(
        acc,
        smtp=dataclasses.replace(acc.smtp, ca_file=None, tls_fingerprint=outgoing.fingerprint),
    )
    assert all(c.ok for c in await check(pinned, timeout=20))
