"""The real-server harness itself, checked with the standard library's clients."""

from __future__ import annotations

import imaplib
import os
import poplib
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from tests.servers import DovecotServer, MailUser, SMTPServer, TLSFiles
from tests.servers.dovecot import _descendants
from tests.servers.ports import listening_tcp_ports

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

SPECIAL_USE = {"Drafts": "\\Drafts", "Sent": "\\Sent", "Trash": "\\Trash", "Junk": "\\Junk"}
SPECIAL_USE["Archive"] = "\\Archive"


def make_message(subject: str, body: str = "Hello.\r\n", **headers: str) -> bytes:
    lines = [
        "From: Alice Example <alice@elsewhere.test>",
        "To: someone@mailtui.test",
        f"Subject: {subject}",
        "Date: Mon, 06 Jan 2025 10:00:00 +0000",
        f"Message-ID: <{subject.replace(' ', '.')}@harness.test>",
        *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


def imap_login(user: MailUser, mode: str = "imaps") -> imaplib.IMAP4:
    ctx = user.ssl_context()
    client: imaplib.IMAP4
    if mode == "imaps":
        client = imaplib.IMAP4_SSL(user.host, user.imaps_port, ssl_context=ctx, timeout=10)
    else:
        client = imaplib.IMAP4(user.host, user.imap_port, timeout=10)
        if mode == "starttls":
            client.starttls(ssl_context=ctx)
    client.login(user.name, user.password)
    return client


def fetch_one(client: imaplib.IMAP4, uid: bytes | str, item: str) -> bytes:
    typ, data = client.uid("FETCH", uid if isinstance(uid, str) else uid.decode(), item)
    assert typ == "OK", data
    first = data[0]
    assert isinstance(first, tuple), data
    payload = first[1]
    assert isinstance(payload, bytes)
    return payload


# ---------------------------------------------------------------------------- IMAP
@pytest.mark.parametrize("mode", ["plain", "starttls", "imaps"])
def test_imap_login(mail_user: MailUser, mode: str) -> None:
    client = imap_login(mail_user, mode)
    try:
        if mode != "plain":
            sock = client.socket()
            assert isinstance(sock, ssl.SSLSocket)
            cert = sock.getpeercert()
            assert cert is not None
            assert ("DNS", "localhost") in cert["subjectAltName"]
            assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
        typ, data = client.select("INBOX")
        assert typ == "OK" and data == [b"0"]
    finally:
        client.logout()


def test_plain_imap_offers_starttls(mail_user: MailUser) -> None:
    client = imaplib.IMAP4(mail_user.host, mail_user.imap_port, timeout=10)
    try:
        assert "STARTTLS" in client.capabilities
    finally:
        client.shutdown()


def test_certificate_is_not_trusted_without_the_ca_file(mail_user: MailUser) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(
            mail_user.host,
            mail_user.imaps_port,
            ssl_context=ssl.create_default_context(),
            timeout=10,
        )


def test_wrong_imap_password_is_refused(mail_user: MailUser) -> None:
    client = imaplib.IMAP4_SSL(
        mail_user.host, mail_user.imaps_port, ssl_context=mail_user.ssl_context(), timeout=10
    )
    try:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login(mail_user.name, mail_user.password + "x")
    finally:
        client.shutdown()


def test_password_change_while_running(mail_user: MailUser) -> None:
    old = mail_user.password
    mail_user.set_password("n3w password!")
    imap_login(mail_user).logout()
    client = imaplib.IMAP4_SSL(
        mail_user.host, mail_user.imaps_port, ssl_context=mail_user.ssl_context(), timeout=10
    )
    try:
        with pytest.raises(imaplib.IMAP4.error):
            client.login(mail_user.name, old)
    finally:
        client.shutdown()


def test_delivered_message_is_visible_over_imap(
    mail_user: MailUser, dovecot: DovecotServer
) -> None:
    offset = dovecot.log_size()
    raw = make_message("first delivery", "Body line one.\r\nBody line two.\r\n", X_Test="yes")
    mail_user.deliver(raw)
    when = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    mail_user.deliver(
        make_message("flagged one"),
        flags=["\\Seen", "\\Flagged", "$Forwarded", "ProjectX"],
        internaldate=when,
    )
    client = imap_login(mail_user)
    try:
        typ, data = client.select("INBOX")
        assert data == [b"2"]
        assert fetch_one(client, "1", "(BODY.PEEK[])") == raw
        typ, flags = client.uid("FETCH", "1:*", "(FLAGS INTERNALDATE)")
        assert typ == "OK"
        first, second = (f.decode() for f in flags if isinstance(f, bytes))
        assert "\\Recent" in first and "\\Seen" not in first
        for flag in ("\\Seen", "\\Flagged", "$Forwarded", "ProjectX"):
            assert flag in second
        assert 'INTERNALDATE "01-Mar-2024 12:30:00 +0000"' in second
    finally:
        client.logout()
    assert not re.search(r" (Error|Fatal|Panic): ", dovecot.log_text(offset))


def test_imap_idle_sees_a_delivery(mail_user: MailUser) -> None:
    client = imap_login(mail_user)
    try:
        client.select("INBOX")
        tag = client._new_tag().decode()
        client.send(f"{tag} IDLE\r\n".encode())
        assert client.readline().startswith(b"+")
        mail_user.deliver(make_message("pushed"))
        line = client.readline()
        assert line.strip() == b"* 1 EXISTS", line
        client.send(b"DONE\r\n")
        while not (line := client.readline()).startswith(tag.encode()):
            pass
        assert b"OK" in line
    finally:
        client.logout()


def test_list_shows_special_use_and_created_folders(mail_user: MailUser) -> None:
    mail_user.create_folder("Work/Projects", subscribe=True)
    mail_user.create_folder("Été & more")
    mail_user.deliver(make_message("in archive"), folder="Archive")
    client = imap_login(mail_user)
    try:
        typ, data = client.list()
        assert typ == "OK"
        listing = {}
        for line in data:
            assert isinstance(line, bytes)
            m = re.match(rb'\((?P<attrs>[^)]*)\) "/" (?P<name>.+)', line)
            assert m, line
            listing[m["name"].decode().strip('"')] = m["attrs"].decode()
        for folder, attr in SPECIAL_USE.items():
            assert attr in listing[folder], (folder, listing)
        assert "Work/Projects" in listing
        assert "&AMk-t&AOk- &- more" in listing  # modified UTF-7 on the wire
        # RFC 6154 LIST (SPECIAL-USE): imaplib has no method for it.
        typ, special = client._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
        assert typ == "OK"
        typ, special_lines = client._untagged_response(typ, special, "LIST")
        names = {
            line.decode().rsplit(" ", 1)[-1].strip('"')
            for line in special_lines
            if isinstance(line, bytes)
        }
        assert names == set(SPECIAL_USE)
        typ, subscribed = client.lsub()
        assert any(b"Work/Projects" in s for s in subscribed if isinstance(s, bytes))
        typ, selected = client.select("Archive", readonly=True)
        assert selected == [b"1"]
    finally:
        client.logout()


def test_doveadm_save_stores_through_dovecot(mail_user: MailUser, dovecot: DovecotServer) -> None:
    dovecot.save(mail_user.name, make_message("saved via doveadm"), folder="Drafts")
    client = imap_login(mail_user)
    try:
        client.select("Drafts", readonly=True)
        header = fetch_one(client, "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert header.strip() == b"Subject: saved via doveadm"
    finally:
        client.logout()


def test_plaintext_login_can_be_disabled(server_tls: TLSFiles) -> None:
    """The `allow_plaintext_auth=False` variant: LOGINDISABLED until STARTTLS.

    Dovecot treats a client whose address equals the server's as secure, so the client
    connects from 127.0.0.2 (still loopback).
    """

    class FromOtherLoopback(imaplib.IMAP4):
        def _create_socket(self, timeout: float | None) -> socket.socket:
            return socket.create_connection(
                (self.host, self.port), timeout, source_address=("127.0.0.2", 0)
            )

    with DovecotServer(server_tls, allow_plaintext_auth=False) as strict:
        strict.add_user("carol", "pw-carol")
        client = FromOtherLoopback(strict.host, strict.imap_port, timeout=10)
        try:
            assert "LOGINDISABLED" in client.capabilities
            with pytest.raises(imaplib.IMAP4.error):
                client.login("carol", "pw-carol")
            client.starttls(ssl_context=ssl.create_default_context(cafile=str(strict.ca_path)))
            assert "LOGINDISABLED" not in client.capabilities
            client.login("carol", "pw-carol")
        finally:
            client.logout()


@pytest.mark.parametrize("graceful", [True, False], ids=["clean", "crash"])
def test_restart_keeps_ports_users_and_mail(server_tls: TLSFiles, graceful: bool) -> None:
    with DovecotServer(server_tls) as server:
        server.add_user("dave", "pw-dave")
        server.deliver("dave", make_message("before restart"))
        ctx = ssl.create_default_context(cafile=str(server.ca_path))
        client = imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=ctx, timeout=10)
        client.login("dave", "pw-dave")
        client.select("INBOX")
        port, old_pid = server.imaps_port, server.pid

        server.restart(graceful=graceful)

        assert server.imaps_port == port and server.pid != old_pid
        with pytest.raises((imaplib.IMAP4.abort, OSError)):
            client.noop()
        client = imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=ctx, timeout=10)
        client.login("dave", "pw-dave")
        typ, data = client.select("INBOX")
        assert data == [b"1"]
        client.logout()


# ---------------------------------------------------------------------------- POP3
def test_pop3_stls_and_pop3s(mail_user: MailUser) -> None:
    raws = [make_message("pop one"), make_message("pop two")]
    mail_user.deliver_many(raws)
    ctx = mail_user.ssl_context()

    plain = poplib.POP3(mail_user.host, mail_user.pop3_port, timeout=10)
    assert "STLS" in plain.capa()
    plain.stls(context=ctx)
    plain.user(mail_user.name)
    plain.pass_(mail_user.password)
    assert plain.stat()[0] == 2
    _, uidl_stls, _ = plain.uidl()
    _, lines, _ = plain.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == raws[0]
    plain.quit()

    secure = poplib.POP3_SSL(mail_user.host, mail_user.pop3s_port, context=ctx, timeout=10)
    secure.user(mail_user.name)
    secure.pass_(mail_user.password)
    _, uidl_ssl, _ = secure.uidl()
    secure.quit()
    assert uidl_stls == uidl_ssl
    assert len({line.split()[1] for line in uidl_ssl}) == 2


# ---------------------------------------------------------------------------- SMTP
def smtp_starttls(user: MailUser) -> smtplib.SMTP:
    client = smtplib.SMTP(user.host, user.smtp_port, timeout=10)
    client.starttls(context=user.ssl_context())
    client.ehlo()
    return client


def compose(sender: MailUser, to: list[str], subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Sender Person <{sender.email}>"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="harness.test")
    msg["X-Mailtui-Test"] = "kept as is"
    msg.set_content("Hello over SMTP.\nSecond line, ünïcode.\n")
    return msg


def test_smtp_refuses_auth_and_mail_before_starttls(mail_user: MailUser) -> None:
    client = smtplib.SMTP(mail_user.host, mail_user.smtp_port, timeout=10)
    try:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            client.login(mail_user.name, mail_user.password)
        code, _ = client.docmd("AUTH", "PLAIN")
        assert code == 530
        code, _ = client.docmd("MAIL", f"FROM:<{mail_user.email}>")
        assert code == 530
    finally:
        client.quit()


def test_smtp_wrong_password_fails_after_starttls(mail_user: MailUser) -> None:
    client = smtp_starttls(mail_user)
    try:
        assert client.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            client.login(mail_user.name, mail_user.password + "-wrong")
        assert err.value.smtp_code == 535
        code, _ = client.docmd("MAIL", f"FROM:<{mail_user.email}>")
        assert code == 530
    finally:
        client.quit()


def test_smtp_auth_login_mechanism(mail_user: MailUser) -> None:
    with smtp_starttls(mail_user) as client:
        assert set(client.esmtp_features["auth"].split()) >= {"PLAIN", "LOGIN"}
        client.user, client.password = mail_user.name, mail_user.password + "-wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.auth("LOGIN", client.auth_login)
        client.password = mail_user.password
        code, _ = client.auth("LOGIN", client.auth_login)
        assert code == 235


@pytest.mark.parametrize("port_kind", ["starttls", "smtps"])
def test_smtp_send_arrives_over_imap(
    mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer, port_kind: str
) -> None:
    sender = mail_user_factory("sender")
    rcpt = mail_user_factory("rcpt")
    msg = compose(sender, [rcpt.email], f"over {port_kind}")
    if port_kind == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            sender.host, sender.smtps_port, context=sender.ssl_context(), timeout=10
        )
    else:
        client = smtp_starttls(sender)
    with client:
        client.login(sender.name, sender.password)
        refused = client.send_message(msg)
    assert refused == {}

    [accepted] = smtp_server.messages_to(rcpt.email)
    assert accepted.login == sender.name and accepted.tls
    assert accepted.delivered_to == [rcpt.name]
    assert sender.sent_messages() == [accepted]

    client_imap = imap_login(rcpt)
    try:
        typ, data = client_imap.select("INBOX")
        assert data == [b"1"]
        stored = fetch_one(client_imap, "1", "(BODY.PEEK[])")
    finally:
        client_imap.logout()
    # Dovecot adds trace headers (Return-Path, Delivered-To, Received) on top; everything
    # the client sent follows unchanged.
    assert stored.endswith(accepted.data)
    sent = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    assert stored.endswith(sent)
    assert b"Return-Path: <" + sender.email.encode() + b">" in stored


def test_smtp_unknown_recipient_refused_good_one_accepted(
    mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    sender = mail_user_factory("sender")
    rcpt = mail_user_factory("rcpt")
    unknown = f"nobody-{rcpt.name}@{rcpt.email.split('@')[1]}"
    external = f"friend-{rcpt.name}@elsewhere.test"
    msg = compose(sender, [rcpt.email, unknown, external], "partial")
    with smtp_starttls(sender) as client:
        client.login(sender.name, sender.password)
        refused = client.send_message(msg)
    assert set(refused) == {unknown}
    assert refused[unknown][0] == 550
    [accepted] = smtp_server.messages_to(rcpt.email)
    assert accepted.rcpt_tos == [rcpt.email, external]
    assert accepted.delivered_to == [rcpt.name]
    assert len(rcpt.message_files()) == 1


def test_smtp_all_recipients_unknown(mail_user: MailUser) -> None:
    with smtp_starttls(mail_user) as client:
        client.login(mail_user.email, mail_user.password)  # "user@domain" logins work too
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(mail_user.email, ["ghost@mailtui.test"], b"Subject: x\r\n\r\nx\r\n")


def test_smtp_fault_injection(
    mail_user_factory: Callable[..., MailUser], smtp_server: SMTPServer
) -> None:
    sender = mail_user_factory("sender")
    rcpt = mail_user_factory("rcpt")

    def send(subject: str) -> None:
        with smtp_starttls(sender) as client:
            client.login(sender.name, sender.password)
            client.send_message(compose(sender, [rcpt.email], subject))

    with (
        smtp_server.inject(refuse_auth=True),
        smtp_starttls(sender) as client,
        pytest.raises(smtplib.SMTPAuthenticationError),
    ):
        client.login(sender.name, sender.password)

    with smtp_server.inject(drop_in_data=True), pytest.raises(smtplib.SMTPServerDisconnected):
        send("dropped")
    assert rcpt.message_files() == []

    with smtp_server.inject(data_reply="451 4.3.0 Try again later"):
        with pytest.raises(smtplib.SMTPDataError) as err:
            send("deferred")
        assert err.value.smtp_code == 451
    assert rcpt.message_files() == []

    with (
        smtp_server.inject(drop_after_delivery=True),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        send("ambiguous")
    assert len(rcpt.message_files()) == 1

    smtp_server.faults.reject_rcpts = {rcpt.email.lower(): "452 4.2.2 Mailbox full"}
    smtp_server.faults.times = 1
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send("full once")
    send("fine again")  # the fault fired once and cleared itself
    assert len(rcpt.message_files()) == 2
    assert [m.data for m in smtp_server.messages_to(rcpt.email)][-1].find(b"fine again") > 0


# ---------------------------------------------------------------------------- hygiene
def test_system_dovecot_untouched(dovecot: DovecotServer) -> None:
    assert dovecot.pid is not None
    ours = set(_descendants(dovecot.pid))
    # Every Dovecot process of ours runs from our config, none from /etc/dovecot.
    for pid in ours:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        assert b"/etc/dovecot" not in cmdline
    master = Path(f"/proc/{dovecot.pid}/cmdline").read_bytes().split(b"\0")
    assert master[-3:-1] == [b"-c", str(dovecot.conf_path).encode()]
    config = dovecot.doveadm("config", "-n").stdout  # ours, via -c
    assert b"/etc/dovecot" not in config
    # We listen exactly on our free ports, never on the standard ones.
    ports = listening_tcp_ports(ours)
    assert ports == {dovecot.imap_port, dovecot.imaps_port, dovecot.pop3_port, dovecot.pop3s_port}
    assert not ports & {143, 993, 110, 995, 24}
    # The system instance was not started by us: its base_dir has no live master.
    system_pid = Path("/run/dovecot/master.pid")
    if system_pid.exists():
        pid = int(system_pid.read_text().strip() or 0)
        assert pid not in ours


def test_bulk_delivery_of_2000_messages(mail_user: MailUser) -> None:
    raws = [make_message(f"bulk {i:04d}", f"Message number {i}.\r\n") for i in range(2000)]
    started = time.perf_counter()
    mail_user.deliver_many(raws, folder="Bulk")
    elapsed = time.perf_counter() - started
    print(f"\nbulk delivery: 2000 messages in {elapsed:.3f} s")
    client = imap_login(mail_user)
    try:
        started = time.perf_counter()
        typ, data = client.select("Bulk", readonly=True)
        print(f"first SELECT of 2000 new files: {time.perf_counter() - started:.3f} s")
        assert data == [b"2000"]
        for uid, i in (("1", 0), ("1000", 999), ("2000", 1999)):
            subject = fetch_one(client, uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            assert subject.strip() == f"Subject: bulk {i:04d}".encode()
    finally:
        client.logout()


def test_missing_dovecot_fails_instead_of_skipping(tmp_path: Path) -> None:
    """Without Dovecot, a test that needs it errors (with the install hint), never skips."""
    (tmp_path / "hide_dovecot.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "import tests.servers.dovecot as dovecot_module\n"
        "dovecot_module._which = lambda name: None\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "hide_dovecot", "-p", "no:cacheprovider"]
        + [f"{__file__}::test_imap_login"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Dovecot is not installed" in result.stdout
    assert "scripts/install-test-deps.sh" in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("3 errors in"), summary
