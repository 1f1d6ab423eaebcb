"""The POP3 tap of the harness (tests/servers/pop3_tap.py) between a real POP3 client (a
child process using the standard library's poplib) and the real Dovecot: what it records
is what went over the wire, and it kills the client at the point it is armed for. Also
the server fact the kill tests stand on: Dovecot applies no DELE of a session that ends
without QUIT."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.servers import MailUser
from tests.servers.pop3_tap import KillAt, Pop3Tap, sessions_ended

#: A client that downloads and deletes everything, as a delete-after-download POP3 client.
CLIENT = """
import poplib, sys
pop = poplib.POP3(sys.argv[1], int(sys.argv[2]), timeout=30)
pop.user(sys.argv[3]); pop.pass_(sys.argv[4])
numbers = [int(line.split()[0]) for line in pop.uidl()[1]]
for n in numbers:
    pop.retr(n)
for n in numbers:
    pop.dele(n)
pop.quit()
"""


def message(i: int, body: str = "hello\r\n") -> bytes:
    return (
        f"From: s{i}@example.org\r\nTo: me@mailtui.test\r\nSubject: tap {i}\r\n"
        f"Message-ID: <tap{i}@example.org>\r\n\r\n{body}"
    ).encode()


RAWS = [
    message(1),
    message(2, ".\r\n..\r\n.leading dot\r\nmiddle . dot\r\n"),  # dot-stuffed on the wire
    *(message(i, f"line {i}\r\n" * 300) for i in range(3, 9)),
]


def run_client(user: MailUser, tap: Pop3Tap, kill_at: KillAt | None) -> int:
    log_start = user.dovecot.log_size()
    tap.arm(kill_at)
    proc = subprocess.Popen(
        [sys.executable, "-c", CLIENT, user.host, str(tap.port), user.name, user.password],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    tap.attach(proc.pid)
    proc.wait(timeout=60)
    sessions_ended(user.dovecot, user.name, log_start)  # before its Maildir is read
    return proc.returncode


def server_messages(user: MailUser) -> list[bytes]:
    return sorted(f.read_bytes() for f in user.message_files())


def test_a_whole_session_is_recorded_as_it_went(mail_user: MailUser) -> None:
    mail_user.deliver_many(RAWS)
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        assert run_client(mail_user, tap, None) == 0
    assert tap.killed is None and not tap.errors
    assert [r.message for r in tap.retrieved] == RAWS  # unstuffed, byte for byte
    uidls = [r.uidl for r in tap.retrieved]
    assert None not in uidls and len(set(uidls)) == len(RAWS)
    assert tap.deleted == uidls
    assert tap.commands[:2] == ["USER " + mail_user.name, "PASS ***"]
    assert tap.commands[-1] == "QUIT"
    assert server_messages(mail_user) == []  # QUIT made the DELEs final


def test_killed_at_quit_the_server_keeps_every_message(mail_user: MailUser) -> None:
    mail_user.deliver_many(RAWS)
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        assert run_client(mail_user, tap, KillAt(verb="QUIT")) == -9
    assert tap.killed is not None and "QUIT" in tap.killed
    assert len(tap.deleted) == len(RAWS) and "QUIT" not in tap.commands
    assert server_messages(mail_user) == sorted(RAWS)  # no QUIT, no deletion


def test_killed_at_the_first_dele_which_counts_as_meant(mail_user: MailUser) -> None:
    mail_user.deliver_many(RAWS)
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        assert run_client(mail_user, tap, KillAt(verb="DELE", after="RETR")) == -9
    assert tap.killed is not None and tap.killed.startswith("first DELE after a RETR (DELE 1)")
    assert tap.deleted == [tap.retrieved[0].uidl]  # never seen by the server, but meant
    assert not any(c.startswith("DELE") for c in tap.commands)
    assert server_messages(mail_user) == sorted(RAWS)


def test_killed_at_the_nth_retr(mail_user: MailUser) -> None:
    mail_user.deliver_many(RAWS)
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        assert run_client(mail_user, tap, KillAt(verb="RETR", nth=3)) == -9
    assert tap.killed is not None and tap.killed.startswith("#3 RETR (RETR 3)")
    assert [r.message for r in tap.retrieved] == RAWS[:2]


@pytest.mark.parametrize("k", [1, 3, 9, 12])
def test_killed_at_the_kth_command_which_never_reaches_the_server(
    mail_user: MailUser, k: int
) -> None:
    mail_user.deliver_many(RAWS)
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        assert run_client(mail_user, tap, KillAt(command=k)) == -9
    assert tap.killed is not None and tap.killed.startswith(f"command #{k} ")
    assert len(tap.commands) == k - 1  # the k-th was held back
    assert server_messages(mail_user) == sorted(RAWS)


@pytest.mark.parametrize("budget", [1, 200, 5000])
def test_killed_after_so_many_bytes_of_the_servers_answers(
    mail_user: MailUser, budget: int
) -> None:
    mail_user.deliver_many(RAWS)
    with Pop3Tap(mail_user.host, mail_user.pop3_port) as tap:
        assert run_client(mail_user, tap, KillAt(server_bytes=budget)) == -9
    assert tap.killed == f"after {budget} server bytes"
    got = sum(len(r.message) for r in tap.retrieved)
    assert got < budget  # only answers that arrived whole within the budget count
    assert server_messages(mail_user) == sorted(RAWS)
